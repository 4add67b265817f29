// OnnxGraphBuilder: writes an ONNX graph node by node (inputs, initializers, nodes, outputs) and
// encodes the model. Names are made unique per graph; tensors are copied into the model, so the
// caller's buffers stay its own. Shared by this package's exporter and @rxrnn/bidirectional/onnx.
import {
  AttrType,
  DataType,
  encodeModel,
  floatTensor,
  type IAttributeProto,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
  int64Tensor,
} from './proto.js';

/** An attribute value: `{ i }` int, `{ f }` float, `{ s }` string, `{ ints }`, `{ floats }`, `{ strings }`. */
export type OnnxAttribute =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { strings: readonly string[] };

/** A dimension of a graph input or output: a size, or a name for a dynamic one ('T', 'B'). */
export type OnnxDim = number | string;

/** The opset the exporter writes: ONNX 1.9's default domain (LSTM/GRU/RNN-14, Squeeze-13). */
export const EXPORT_OPSET = 14;
/** IR version 7 is the lowest that carries opset 14. */
export const EXPORT_IR_VERSION = 7;

const encoder = new TextEncoder();

function attribute(name: string, a: OnnxAttribute): IAttributeProto {
  if ('i' in a) return { name, type: AttrType.INT, i: a.i };
  if ('f' in a) return { name, type: AttrType.FLOAT, f: a.f };
  if ('s' in a) return { name, type: AttrType.STRING, s: encoder.encode(a.s) };
  if ('ints' in a) return { name, type: AttrType.INTS, ints: [...a.ints] };
  if ('floats' in a) return { name, type: AttrType.FLOATS, floats: [...a.floats] };
  return { name, type: AttrType.STRINGS, strings: a.strings.map((s) => encoder.encode(s)) };
}

function valueInfo(name: string, elemType: number, dims: readonly OnnxDim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Builds one ONNX graph. Every method returns the tensor names it created, so nodes chain:
 * `const [y] = g.node('Squeeze', [x, g.ints('axes', [1])])`.
 */
export class OnnxGraphBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: ITensorProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly used = new Set<string>();

  /** A name not used yet in this graph: `base`, else `base_1`, `base_2`, ... */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** A graph input: FLOAT (default) or INT64 with its dims. Returns its name. */
  input(name: string, dims: readonly OnnxDim[], elemType: number = DataType.FLOAT): string {
    if (this.used.has(name)) throw new RangeError(`OnnxGraphBuilder.input: name "${name}" is already used`);
    this.used.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares tensor `name` (made by a node) a graph output. */
  output(name: string, dims: readonly OnnxDim[], elemType: number = DataType.FLOAT): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** A float32 initializer (copied). Returns its (unique) name. */
  floats(base: string, dims: readonly number[], data: ArrayLike<number>): string {
    const name = this.unique(base);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes, indices). Returns its (unique) name. */
  ints(base: string, data: readonly number[]): string {
    const name = this.unique(base);
    this.initializers.push(int64Tensor(name, [data.length], data));
    return name;
  }

  /**
   * A node of the default domain. `outputs`: names, or a count of fresh names derived from the op.
   * Returns the output names.
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, OnnxAttribute> = {},
    outputs: number | readonly string[] = 1,
  ): string[] {
    const name = this.unique(`/${opType}`);
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => this.unique(`${name}_output_${i}`))
        : outputs.map((o) => {
            if (this.used.has(o)) throw new RangeError(`OnnxGraphBuilder.node: name "${o}" is already used`);
            this.used.add(o);
            return o;
          });
    this.nodes.push({
      name,
      opType,
      domain: '',
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Renames the graph's tensor `from` to a graph-level name by an Identity node. */
  alias(from: string, to: string): string {
    return this.node('Identity', [from], {}, [to])[0]!;
  }

  /** The encoded model: opset 14, IR 7, producer "rxrnn", `metadata` as metadata_props. */
  encode(graphName: string, metadata: Record<string, string> = {}, docString = ''): Uint8Array {
    return encodeModel({
      irVersion: EXPORT_IR_VERSION,
      opsetImport: [{ domain: '', version: EXPORT_OPSET }],
      producerName: 'rxrnn',
      docString,
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
  }
}

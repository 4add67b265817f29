// readOnnxRecurrent: follows an ONNX graph from its input to its output and returns the recurrent
// model it computes: an optional embedding (Gather) or one-hot (OneHot), a chain of LSTM/GRU/RNN
// nodes, an optional linear head (MatMul [+ Add] or Gemm). The shape plumbing in between
// (Transpose, Squeeze, Unsqueeze, Reshape, Flatten, no-op Slice, Identity, Cast) is evaluated on
// symbolic axes, so any arrangement that hands each node its predecessor's [T, B, D·H] is
// accepted and anything else is refused, naming the node and the attribute.
import type { CellKind, GruVariant } from '../types.js';
import { cellParamsOf, GATE_COUNT } from './gates.js';
import {
  DataType,
  decodeModel,
  type IGraphProto,
  type INodeProto,
  type ITensorProto,
  int64,
  NodeAttributes,
  readFloatTensor,
  readIntTensor,
  typeName,
} from './proto.js';

/** One recurrent layer of an ONNX graph, its weights converted to rxrnn's layouts. */
export interface OnnxRecurrentLayer {
  /** The node's name (or its first output's name when unnamed), for messages. */
  node: string;
  kind: CellKind;
  /** GRU: 'reset-after' for linear_before_reset = 1, 'reset-before' for 0. */
  gruVariant: GruVariant;
  /** 1 (forward) or 2 (bidirectional). */
  directions: 1 | 2;
  /** n_x of this layer. */
  inputSize: number;
  /** H per direction. */
  hiddenSize: number;
  /** Per direction (forward, then reverse): the cell's params in cellLayout order. */
  params: Float32Array[];
}

/** Where the first layer's input comes from. */
export type OnnxRecurrentInput =
  | { kind: 'embedding'; name: string; vocabSize: number; dim: number; weight: Float32Array }
  | { kind: 'onehot'; name: string; vocabSize: number }
  | { kind: 'features'; name: string; size: number };

/** What readOnnxRecurrent found. */
export interface OnnxRecurrentGraph {
  input: OnnxRecurrentInput;
  layers: OnnxRecurrentLayer[];
  /** The linear head: weight [n_y × n_a] (rxrnn's Dense layout), bias [n_y]. */
  head: { inSize: number; outSize: number; weight: Float32Array; bias: Float32Array } | null;
  /** The graph output carrying the per-step results. */
  output: string;
  /** How the top bidirectional layer's directions combine: 'concat' (PyTorch), or a ReduceSum/Mean/Prod. */
  merge: 'concat' | 'sum' | 'ave' | 'mul';
  /** Graph inputs feeding the initial states (rows [k·D, (k+1)·D) to layer k), or null for zeros. */
  states: { h: string | null; c: string | null };
  /** metadata_props of the model. */
  metadata: Record<string, string>;
  /** Default-domain opset and producer, as the file states them. */
  opset: number;
  producer: string;
}

// A symbolic dimension: one logical axis (time, batch, directions, features) with its size when known.
interface Sym {
  id: number;
  size: number | null;
  role: string;
}

// What flows along the data path: axes as row-major products of symbols, and what the features are.
interface Value {
  axes: Sym[][];
  elem: 'int' | 'float';
  /** -1: the graph input (before any embedding); 0..L-1: a layer's output; 'head': after the head. */
  stage: 'source' | 'embedded' | number | 'head';
  /** The symbols that make up one step's feature vector, in row-major order. */
  features: Sym[];
  /** Set when a bidirectional layer's two directions were reduced to one vector. */
  merged?: 'sum' | 'ave' | 'mul';
}

const RECURRENT: Record<string, CellKind> = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' };
const DEFAULT_ACTIVATIONS: Record<CellKind, string[]> = {
  lstm: ['Sigmoid', 'Tanh', 'Tanh'],
  gru: ['Sigmoid', 'Tanh'],
  rnn: ['Tanh'],
};
const RECURRENT_ATTRS: Record<CellKind, string[]> = {
  lstm: [
    'activation_alpha',
    'activation_beta',
    'activations',
    'clip',
    'direction',
    'hidden_size',
    'input_forget',
    'layout',
  ],
  gru: [
    'activation_alpha',
    'activation_beta',
    'activations',
    'clip',
    'direction',
    'hidden_size',
    'layout',
    'linear_before_reset',
  ],
  rnn: ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'],
};
const REDUCE: Record<string, 'sum' | 'ave' | 'mul'> = { ReduceSum: 'sum', ReduceMean: 'ave', ReduceProd: 'mul' };
const PLUMBING = ['Identity', 'Transpose', 'Squeeze', 'Unsqueeze', 'Reshape', 'Flatten', 'Slice', 'Concat', 'Cast'];
const SUPPORTED = [
  'Gather',
  'OneHot',
  'LSTM',
  'GRU',
  'RNN',
  'MatMul',
  'Add',
  'Gemm',
  ...PLUMBING,
  ...Object.keys(REDUCE),
].join(', ');

const nonUnit = (axis: readonly Sym[]): Sym[] => axis.filter((s) => s.size !== 1);
const sameSyms = (a: readonly Sym[], b: readonly Sym[]): boolean =>
  a.length === b.length && a.every((s, i) => s.id === b[i]!.id);
const sizeOf = (syms: readonly Sym[]): number | null =>
  syms.reduce<number | null>((p, s) => (p === null || s.size === null ? null : p * s.size), 1);
const symsText = (syms: readonly Sym[]): string => `[${syms.map((s) => s.role).join('·')}]`;
const axesText = (axes: readonly Sym[][]): string =>
  `[${axes.map((a) => a.map((s) => s.role).join('·') || '1').join(', ')}]`;

class Reader {
  private readonly graph: IGraphProto;
  private readonly producers = new Map<string, INodeProto>();
  private readonly initializers = new Map<string, ITensorProto>();
  private readonly graphInputs = new Set<string>();
  private readonly memo = new Map<string, Value>();
  private nextSym = 0;
  private readonly visiting = new Set<string>();
  readonly layers: (OnnxRecurrentLayer & { x: Value })[] = [];
  private readonly layerNodes = new Map<INodeProto, number>();
  input: OnnxRecurrentInput | null = null;
  head: OnnxRecurrentGraph['head'] = null;
  private headBias: Float32Array | null = null;
  /** The merge of the value the head reads. */
  topMerge: 'concat' | 'sum' | 'ave' | 'mul' = 'concat';
  private time: Sym | null = null;
  private batch: Sym | null = null;
  readonly stateRefs: { node: string; k: number; D: number; h: StateRef; c: StateRef }[] = [];

  constructor(
    readonly where: string,
    graph: IGraphProto,
    readonly opset: number,
  ) {
    this.graph = graph;
    for (const t of graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    if ((graph.sparseInitializer?.length ?? 0) > 0)
      throw new RangeError(`${where}: the graph has sparse initializers; not supported`);
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) if (o !== '') this.producers.set(o, n);
    }
    for (const i of graph.input ?? []) if (!this.initializers.has(i.name ?? '')) this.graphInputs.add(i.name ?? '');
  }

  label(n: INodeProto): string {
    return `node "${n.name || n.output?.[0] || '?'}" (${n.opType})`;
  }

  private sym(size: number | null, role: string): Sym {
    return { id: this.nextSym++, size, role };
  }

  refuse(n: INodeProto, what: string): never {
    throw new RangeError(`${this.where}: ${this.label(n)} ${what}`);
  }

  /** The value of a constant tensor: an initializer or a Constant node's output. */
  constant(name: string): ITensorProto | null {
    const init = this.initializers.get(name);
    if (init) return init;
    const n = this.producers.get(name);
    if (n?.opType === 'Constant') {
      const a = new NodeAttributes(this.where, this.label(n), n);
      const t = a.tensor('value');
      if (t) return { ...t, name: t.name || name };
      const ints = a.ints('value_ints');
      if (ints) return { name, dims: [ints.length], dataType: DataType.INT64, int64Data: ints };
      if (a.has('value_int')) return { name, dims: [], dataType: DataType.INT64, int64Data: [a.int('value_int', 0)] };
      const floats = a.floats('value_floats');
      if (floats) return { name, dims: [floats.length], dataType: DataType.FLOAT, floatData: floats };
      const f = a.float('value_float');
      if (f !== undefined) return { name, dims: [], dataType: DataType.FLOAT, floatData: [f] };
      this.refuse(n, 'holds a kind of constant this reader does not take (sparse or string)');
    }
    return null;
  }

  private floatConst(n: INodeProto, index: number, what: string): { dims: number[]; data: Float32Array } {
    const name = n.input?.[index] ?? '';
    const t = name === '' ? null : this.constant(name);
    if (!t) this.refuse(n, `input ${index} (${what}) must be a constant tensor (an initializer), got "${name}"`);
    return readFloatTensor(`${this.where}: ${this.label(n)} ${what}`, t);
  }

  private intConst(n: INodeProto, index: number, what: string, clamp = false): number[] {
    const name = n.input?.[index] ?? '';
    const t = name === '' ? null : this.constant(name);
    if (!t) this.refuse(n, `input ${index} (${what}) must be a constant int tensor, got "${name}"`);
    return readIntTensor(`${this.where}: ${this.label(n)} ${what}`, t, 64, clamp).data;
  }

  private checkDomain(n: INodeProto): void {
    if (n.domain && n.domain !== 'ai.onnx')
      this.refuse(n, `is in domain "${n.domain}"; only the default ONNX domain is supported`);
  }

  /** The symbolic value of tensor `name` on the data path. */
  value(name: string): Value {
    const known = this.memo.get(name);
    if (known) return known;
    if (this.visiting.has(name)) throw new RangeError(`${this.where}: the graph has a cycle through "${name}"`);
    if (this.visiting.size >= 10_000)
      throw new RangeError(`${this.where}: the path to "${name}" is longer than 10000 nodes`);
    this.visiting.add(name);
    const v = this.compute(name);
    this.visiting.delete(name);
    this.memo.set(name, v);
    return v;
  }

  private compute(name: string): Value {
    if (this.graphInputs.has(name)) return this.source(name);
    if (this.constant(name) !== null)
      throw new RangeError(`${this.where}: the constant "${name}" is used where the recurrent path expects the input`);
    const n = this.producers.get(name);
    if (!n) throw new RangeError(`${this.where}: tensor "${name}" is neither a graph input nor made by a node`);
    this.checkDomain(n);
    const op = n.opType ?? '';
    if (op in RECURRENT) {
      if (n.output?.[0] !== name)
        this.refuse(n, `output "${name}" (a final state) feeds the per-step path; only output Y (per-step) can`);
      return this.recurrent(n, RECURRENT[op]!);
    }
    switch (op) {
      case 'Gather':
        return this.gather(n);
      case 'OneHot':
        return this.oneHot(n);
      case 'MatMul':
        return this.matMul(n);
      case 'Gemm':
        return this.gemm(n);
      case 'Add':
        return this.add(n);
      default:
        if (PLUMBING.includes(op)) return this.plumbing(n, op);
        if (op in REDUCE) return this.reduce(n, REDUCE[op]!);
        this.refuse(n, `is not supported on the path from the input to the output (supported: ${SUPPORTED})`);
    }
  }

  private source(name: string): Value {
    const info = (this.graph.input ?? []).find((i) => i.name === name)!;
    const tt = info.type?.tensorType;
    if (!tt) throw new RangeError(`${this.where}: graph input "${name}" must be a tensor`);
    const elemType = tt.elemType ?? 0;
    const elem =
      elemType === DataType.INT64 || elemType === DataType.INT32 ? 'int' : elemType === DataType.FLOAT ? 'float' : null;
    if (elem === null)
      throw new RangeError(
        `${this.where}: graph input "${name}" must be FLOAT or INT64/INT32, got ${typeName(elemType)}`,
      );
    const dims = tt.shape?.dim;
    if (!dims) throw new RangeError(`${this.where}: graph input "${name}" must declare its rank (a shape)`);
    const axes = dims.map((d, i) => {
      const size =
        d.dimValue !== null && d.dimValue !== undefined && !d.dimParam
          ? int64(this.where, `${name} dim ${i}`, d.dimValue)
          : null;
      return [this.sym(size === 0 ? null : size, `${name}[${i}]`)];
    });
    if (elem === 'float') {
      if (axes.length < 1) throw new RangeError(`${this.where}: graph input "${name}" must have a feature axis`);
      const f = axes.at(-1)![0]!;
      if (f.size === null)
        throw new RangeError(`${this.where}: graph input "${name}" must declare its last (feature) dimension`);
      if (this.input)
        throw new RangeError(`${this.where}: graph inputs "${this.input.name}" and "${name}" both feed the model`);
      this.input = { kind: 'features', name, size: f.size };
      return { axes, elem, stage: 'embedded', features: [f] };
    }
    return { axes, elem, stage: 'source', features: [] };
  }

  private gather(n: INodeProto): Value {
    const a = new NodeAttributes(this.where, this.label(n), n);
    if (a.int('axis', 0) !== 0)
      this.refuse(n, `attribute axis must be 0 (an embedding lookup), got ${a.int('axis', 0)}`);
    const w = this.floatConst(n, 0, 'embedding weight');
    if (w.dims.length !== 2) this.refuse(n, `embedding weight must be 2-D [V, E], got [${w.dims.join(', ')}]`);
    const ids = this.value(n.input?.[1] ?? '');
    if (ids.elem !== 'int' || ids.stage !== 'source')
      this.refuse(n, 'must look up token ids that come straight from a graph input');
    const [V, E] = w.dims as [number, number];
    if (V < 1 || E < 1) this.refuse(n, `embedding weight must be [V, E] with V, E >= 1, got [${V}, ${E}]`);
    this.setTokenInput(n, {
      kind: 'embedding',
      name: this.sourceName(n.input![1]!),
      vocabSize: V,
      dim: E,
      weight: w.data,
    });
    const e = this.sym(E, 'E');
    return { axes: [...ids.axes, [e]], elem: 'float', stage: 'embedded', features: [e] };
  }

  private oneHot(n: INodeProto): Value {
    const a = new NodeAttributes(this.where, this.label(n), n);
    const ids = this.value(n.input?.[0] ?? '');
    if (ids.elem !== 'int' || ids.stage !== 'source')
      this.refuse(n, 'must encode token ids that come straight from a graph input');
    const axis = a.int('axis', -1);
    if (axis !== -1 && axis !== ids.axes.length)
      this.refuse(n, `attribute axis must be -1 (the last axis), got ${axis}`);
    const depth = this.intConst(n, 1, 'depth');
    if (depth.length !== 1 || depth[0]! < 1)
      this.refuse(n, `depth must be one positive integer, got [${depth.join(', ')}]`);
    const values = this.floatConst(n, 2, 'values');
    if (values.data.length !== 2 || values.data[0] !== 0 || values.data[1] !== 1)
      this.refuse(n, `values must be [0, 1] (off, on), got [${[...values.data].join(', ')}]`);
    const V = depth[0]!;
    this.setTokenInput(n, { kind: 'onehot', name: this.sourceName(n.input![0]!), vocabSize: V });
    const v = this.sym(V, 'V');
    return { axes: [...ids.axes, [v]], elem: 'float', stage: 'embedded', features: [v] };
  }

  private sourceName(name: string): string {
    let cur = name;
    for (let i = 0; i < 64 && !this.graphInputs.has(cur); i++) cur = this.producers.get(cur)?.input?.[0] ?? cur;
    return cur;
  }

  private setTokenInput(n: INodeProto, input: OnnxRecurrentInput): void {
    if (this.input) this.refuse(n, `is a second input stage (the model already reads "${this.input.name}")`);
    this.input = input;
  }

  private recurrent(n: INodeProto, kind: CellKind): Value {
    const where = this.where;
    const a = new NodeAttributes(where, this.label(n), n);
    for (const name of a.names()) {
      if (!RECURRENT_ATTRS[kind].includes(name))
        this.refuse(n, `attribute ${name} is not a ${n.opType} attribute this reader knows`);
    }
    const clip = a.float('clip');
    if (clip !== undefined)
      this.refuse(n, `attribute clip must be absent (rxrnn's cells never clip their pre-activations), got ${clip}`);
    for (const name of ['activation_alpha', 'activation_beta']) {
      const v = a.floats(name);
      if (v !== undefined && v.length > 0) this.refuse(n, `attribute ${name} must be absent, got [${v.join(', ')}]`);
    }
    if (kind === 'lstm' && a.int('input_forget', 0) !== 0)
      this.refuse(
        n,
        `attribute input_forget must be 0 (coupled input and forget gates are not an rxrnn cell), got ${a.int('input_forget', 0)}`,
      );
    const direction = a.string('direction') ?? 'forward';
    if (direction !== 'forward' && direction !== 'bidirectional') {
      this.refuse(
        n,
        `attribute direction must be "forward" or "bidirectional" (a reverse-only layer cannot run on a stream), got ${JSON.stringify(direction)}`,
      );
    }
    const D = direction === 'bidirectional' ? 2 : 1;
    const acts = a.strings('activations');
    if (acts !== undefined) {
      const want = Array.from({ length: D }, () => DEFAULT_ACTIVATIONS[kind]).flat();
      if (acts.length !== want.length || acts.some((s, i) => s.toLowerCase() !== want[i]!.toLowerCase()))
        this.refuse(
          n,
          `attribute activations must be [${want.join(', ')}] (the ${n.opType} defaults), got [${acts.join(', ')}]`,
        );
    }
    const layout = a.int('layout', 0);
    if (layout !== 0 && layout !== 1) this.refuse(n, `attribute layout must be 0 or 1, got ${layout}`);
    let gruVariant: GruVariant = 'reset-after';
    if (kind === 'gru') {
      const lbr = a.int('linear_before_reset', 0);
      if (lbr !== 0 && lbr !== 1) this.refuse(n, `attribute linear_before_reset must be 0 or 1, got ${lbr}`);
      gruVariant = lbr === 1 ? 'reset-after' : 'reset-before';
    }
    const inputs = n.input ?? [];
    if ((inputs[4] ?? '') !== '')
      this.refuse(n, `input sequence_lens must be absent (every sequence runs the whole window), got "${inputs[4]}"`);
    if (kind === 'lstm' && (inputs[7] ?? '') !== '') {
      const p = this.floatConst(n, 7, 'P (peepholes)');
      if (p.data.some((v) => v !== 0))
        this.refuse(n, "input P (peephole weights) must be absent or zero: rxrnn's LSTM has no peepholes");
    }
    if (inputs.length > (kind === 'lstm' ? 8 : 6))
      this.refuse(n, `has ${inputs.length} inputs, expected at most ${kind === 'lstm' ? 8 : 6}`);
    const G = GATE_COUNT[kind];
    const W = this.floatConst(n, 1, 'W');
    const R = this.floatConst(n, 2, 'R');
    if (W.dims.length !== 3 || W.dims[0] !== D || W.dims[1]! % G !== 0 || W.dims[1]! < G)
      this.refuse(n, `W must be [${D}, ${G}·H, n_x], got [${W.dims.join(', ')}]`);
    const H = W.dims[1]! / G;
    const nX = W.dims[2]!;
    if (nX < 1) this.refuse(n, `W must have n_x >= 1, got [${W.dims.join(', ')}]`);
    const hs = a.int('hidden_size', H);
    if (hs !== H) this.refuse(n, `attribute hidden_size is ${hs}, but W [${W.dims.join(', ')}] holds H = ${H}`);
    if (R.dims.length !== 3 || R.dims[0] !== D || R.dims[1] !== G * H || R.dims[2] !== H)
      this.refuse(n, `R must be [${D}, ${G * H}, ${H}], got [${R.dims.join(', ')}]`);
    let Bias: Float32Array = new Float32Array(D * 2 * G * H);
    if ((inputs[3] ?? '') !== '') {
      const b = this.floatConst(n, 3, 'B');
      if (b.dims.length !== 2 || b.dims[0] !== D || b.dims[1] !== 2 * G * H)
        this.refuse(n, `B must be [${D}, ${2 * G * H}], got [${b.dims.join(', ')}]`);
      Bias = b.data;
    }
    // The input: [T, B, n_x] (layout 0) or [B, T, n_x] (layout 1), features = the previous stage's.
    const x = this.value(inputs[0] ?? '');
    if (x.elem !== 'float') this.refuse(n, 'input X must be float features (an embedding or a float input)');
    if (x.stage === 'head') this.refuse(n, 'reads the output of a linear head; a head may only come last');
    if (x.merged)
      this.refuse(n, 'reads merged directions (a Reduce over the direction axis); only the top layer may merge');
    if (x.stage === 'source') this.refuse(n, 'input X must be float features');
    if (x.axes.length !== 3) this.refuse(n, `input X must be 3-D, got ${x.axes.length}-D ${axesText(x.axes)}`);
    const one = (axis: Sym[]): Sym | null => {
      const core = nonUnit(axis);
      return core.length === 1 ? core[0]! : axis.length === 1 ? axis[0]! : null;
    };
    const tSym = one(x.axes[layout === 0 ? 0 : 1]!);
    const bSym = one(x.axes[layout === 0 ? 1 : 0]!);
    if (!tSym || !bSym || tSym.id === bSym.id)
      this.refuse(
        n,
        `input X must be ${layout === 0 ? '[T, B, n_x]' : '[B, T, n_x]'} (layout ${layout}), got ${axesText(x.axes)}`,
      );
    if (!sameSyms(nonUnit(x.axes[2]!), nonUnit(x.features)))
      this.refuse(
        n,
        `input X must hold the previous stage's features ${symsText(x.features)} on its last axis, got ${axesText(x.axes)}`,
      );
    if (sizeOf(x.features) !== nX)
      this.refuse(n, `W has n_x = ${nX}, but its input X has ${String(sizeOf(x.features))} features`);
    if (this.time === null) {
      this.time = tSym;
      this.batch = bSym;
    } else if (tSym.id !== this.time.id || bSym.id !== this.batch!.id) {
      this.refuse(n, `input X swaps or replaces the time and batch axes of the first layer, got ${axesText(x.axes)}`);
    }
    const k = x.stage === 'embedded' ? 0 : (x.stage as number) + 1;
    if (this.layers[k] !== undefined)
      this.refuse(n, `reads the same input as ${this.layers[k]!.node}; only a chain of layers is supported`);
    const params: Float32Array[] = [];
    for (let d = 0; d < D; d++) {
      const gh = G * H;
      params.push(
        cellParamsOf(kind, gruVariant, nX, H, {
          W: W.data.subarray(d * gh * nX, (d + 1) * gh * nX),
          R: R.data.subarray(d * gh * H, (d + 1) * gh * H),
          Wb: Bias.subarray(d * 2 * gh, d * 2 * gh + gh),
          Rb: Bias.subarray(d * 2 * gh + gh, (d + 1) * 2 * gh),
        }),
      );
    }
    const label = n.name || n.output?.[0] || '?';
    this.layers[k] = { node: label, kind, gruVariant, directions: D as 1 | 2, inputSize: nX, hiddenSize: H, params, x };
    this.layerNodes.set(n, k);
    this.stateRefs.push({
      node: this.label(n),
      k,
      D,
      h: this.stateSource(n, 5, 'initial_h', layout),
      c: kind === 'lstm' ? this.stateSource(n, 6, 'initial_c', layout) : { kind: 'zero' },
    });
    const dSym = this.sym(D, 'D');
    const hSym = this.sym(H, 'H');
    const axes = layout === 0 ? [[tSym], [dSym], [bSym], [hSym]] : [[bSym], [tSym], [dSym], [hSym]];
    return { axes, elem: 'float', stage: k, features: D === 2 ? [dSym, hSym] : [hSym] };
  }

  /** Where a layer's initial state comes from: zeros, or rows [start, end) of a graph input. */
  private stateSource(n: INodeProto, index: number, what: string, layout: number): StateRef {
    const name = n.input?.[index] ?? '';
    if (name === '') return { kind: 'zero' };
    let cur = name;
    for (let hops = 0; hops < 64; hops++) {
      const c = this.constant(cur);
      if (c !== null) {
        const t = readFloatTensor(`${this.where}: ${this.label(n)} ${what}`, c);
        if (t.data.some((v) => v !== 0))
          this.refuse(n, `input ${what} must be a graph input or zeros, got a nonzero constant`);
        return { kind: 'zero' };
      }
      if (this.graphInputs.has(cur)) {
        if (layout !== 0) this.refuse(n, `input ${what} must be zeros with layout 1, got graph input "${cur}"`);
        const info = (this.graph.input ?? []).find((i) => i.name === cur)!;
        const d0 = info.type?.tensorType?.shape?.dim?.[0];
        const rows = d0?.dimValue && !d0.dimParam ? int64(this.where, `${cur} dim 0`, d0.dimValue) : null;
        return { kind: 'input', name: cur, start: 0, end: rows, via: this.label(n) };
      }
      const p = this.producers.get(cur);
      if (!p) break;
      if (p.opType === 'Identity') {
        cur = p.input?.[0] ?? '';
        continue;
      }
      if (p.opType === 'ConstantOfShape') {
        const v = new NodeAttributes(this.where, this.label(p), p).tensor('value');
        if (v && readFloatTensor(`${this.where}: ${this.label(p)} value`, v).data.some((x) => x !== 0))
          this.refuse(p, `feeds ${what} of ${this.label(n)} with a nonzero value`);
        return { kind: 'zero' };
      }
      if (p.opType === 'Slice' && this.graphInputs.has(p.input?.[0] ?? '')) {
        const starts = this.intConst(p, 1, 'starts', true);
        const ends = this.intConst(p, 2, 'ends', true);
        const axes = (p.input?.[3] ?? '') === '' ? [0] : this.intConst(p, 3, 'axes');
        const steps = (p.input?.[4] ?? '') === '' ? [1] : this.intConst(p, 4, 'steps');
        if (
          starts.length !== 1 ||
          ends.length !== 1 ||
          axes[0] !== 0 ||
          steps[0] !== 1 ||
          starts[0]! < 0 ||
          ends[0]! < 0
        )
          this.refuse(p, `must slice rows of ${what} along axis 0 with step 1 (feeding ${this.label(n)})`);
        if (layout !== 0) this.refuse(n, `input ${what} must be zeros with layout 1`);
        return { kind: 'input', name: p.input![0]!, start: starts[0]!, end: ends[0]!, via: this.label(n) };
      }
      this.refuse(
        p,
        `feeds ${what} of ${this.label(n)}; expected a graph input (optionally a Slice of its rows) or zeros`,
      );
    }
    this.refuse(n, `input ${what} "${name}" does not come from a graph input or zeros`);
  }

  private headInput(n: INodeProto, x: Value): void {
    if (x.elem !== 'float' || typeof x.stage !== 'number')
      this.refuse(n, 'must read the output of the last recurrent layer (a linear head)');
    if (this.head)
      this.refuse(n, 'is a second linear head; only one dense layer after the recurrent layers is supported');
    this.topMerge = x.merged ?? 'concat';
    const last = nonUnit(x.axes.at(-1) ?? []);
    if (!sameSyms(last, nonUnit(x.features)))
      this.refuse(n, `must contract the feature axis ${symsText(x.features)} (the last axis), got ${axesText(x.axes)}`);
  }

  private matMul(n: INodeProto): Value {
    const x = this.value(n.input?.[0] ?? '');
    this.headInput(n, x);
    const w = this.floatConst(n, 1, 'weight');
    const F = sizeOf(x.features)!;
    if (w.dims.length !== 2 || w.dims[0] !== F)
      this.refuse(n, `weight must be [${F}, n_y], got [${w.dims.join(', ')}]`);
    const N = w.dims[1]!;
    const weight = new Float32Array(N * F);
    for (let i = 0; i < F; i++) for (let o = 0; o < N; o++) weight[o * F + i] = w.data[i * N + o]!;
    this.head = { inSize: F, outSize: N, weight, bias: new Float32Array(N) };
    const y = this.sym(N, 'N');
    return { axes: [...x.axes.slice(0, -1), [y]], elem: 'float', stage: 'head', features: [y] };
  }

  private gemm(n: INodeProto): Value {
    const a = new NodeAttributes(this.where, this.label(n), n);
    const x = this.value(n.input?.[0] ?? '');
    this.headInput(n, x);
    if (x.axes.length !== 2) this.refuse(n, `input A must be 2-D, got ${axesText(x.axes)}`);
    for (const [name, want] of [
      ['alpha', 1],
      ['beta', 1],
    ] as const) {
      const v = a.float(name);
      if (v !== undefined && v !== want) this.refuse(n, `attribute ${name} must be ${want}, got ${v}`);
    }
    if (a.int('transA', 0) !== 0) this.refuse(n, `attribute transA must be 0, got ${a.int('transA', 0)}`);
    const transB = a.int('transB', 0);
    const w = this.floatConst(n, 1, 'B (weight)');
    const F = sizeOf(x.features)!;
    if (w.dims.length !== 2 || w.dims[transB ? 1 : 0] !== F)
      this.refuse(n, `B must be ${transB ? `[n_y, ${F}]` : `[${F}, n_y]`}, got [${w.dims.join(', ')}]`);
    const N = w.dims[transB ? 0 : 1]!;
    let weight: Float32Array;
    if (transB) weight = w.data;
    else {
      weight = new Float32Array(N * F);
      for (let i = 0; i < F; i++) for (let o = 0; o < N; o++) weight[o * F + i] = w.data[i * N + o]!;
    }
    const bias = new Float32Array(N);
    if ((n.input?.[2] ?? '') !== '') bias.set(this.biasOf(n, 2, N));
    this.head = { inSize: F, outSize: N, weight, bias };
    const y = this.sym(N, 'N');
    return { axes: [x.axes[0]!, [y]], elem: 'float', stage: 'head', features: [y] };
  }

  private biasOf(n: INodeProto, index: number, N: number): Float32Array {
    const b = this.floatConst(n, index, 'bias');
    if (b.data.length !== N || b.dims.slice(0, -1).some((d) => d !== 1) || b.dims.at(-1) !== N)
      this.refuse(n, `bias must be [${N}] (broadcast on the last axis), got [${b.dims.join(', ')}]`);
    return b.data;
  }

  private add(n: INodeProto): Value {
    const [a0, a1] = [n.input?.[0] ?? '', n.input?.[1] ?? ''];
    const c0 = this.constant(a0) !== null;
    const c1 = this.constant(a1) !== null;
    if (c0 === c1) this.refuse(n, 'must add a constant bias to the output of a linear head');
    const x = this.value(c0 ? a1 : a0);
    if (x.stage !== 'head' || !this.head || this.headBias)
      this.refuse(n, 'must add a bias right after a MatMul head (another Add is not supported)');
    this.headBias = this.biasOf(n, c0 ? 0 : 1, this.head.outSize);
    for (let i = 0; i < this.head.outSize; i++) this.head.bias[i] = this.head.bias[i]! + this.headBias[i]!;
    return x;
  }

  /** ReduceSum/Mean/Prod over the direction axis of a bidirectional layer's Y: a merge mode. */
  private reduce(n: INodeProto, merge: 'sum' | 'ave' | 'mul'): Value {
    const a = new NodeAttributes(this.where, this.label(n), n);
    const x = this.value(n.input?.[0] ?? '');
    if (typeof x.stage !== 'number' || x.merged || x.features.length !== 2)
      this.refuse(n, "must reduce a bidirectional layer's output over its direction axis");
    const given = a.ints('axes') ?? ((n.input?.[1] ?? '') !== '' ? this.intConst(n, 1, 'axes') : null);
    if (given === null || given.length !== 1) this.refuse(n, 'must name one axis (the direction axis)');
    const rank = x.axes.length;
    const axis = given[0]! < 0 ? given[0]! + rank : given[0]!;
    const dSym = x.features[0]!;
    if (axis < 0 || axis >= rank || !sameSyms(x.axes[axis]!, [dSym]))
      this.refuse(n, `must reduce the direction axis D, got axis ${given[0]} of ${axesText(x.axes)}`);
    if (a.int('keepdims', 1) !== 0) this.refuse(n, 'attribute keepdims must be 0');
    if (a.int('noop_with_empty_axes', 0) !== 0) this.refuse(n, 'attribute noop_with_empty_axes must be 0');
    return { ...x, axes: x.axes.filter((_, i) => i !== axis), features: [x.features[1]!], merged: merge };
  }

  private plumbing(n: INodeProto, op: string): Value {
    const a = new NodeAttributes(this.where, this.label(n), n);
    const x = this.value(n.input?.[0] ?? '');
    const rank = x.axes.length;
    const axisOf = (v: number, r: number, what: string): number => {
      const i = v < 0 ? v + r : v;
      if (i < 0 || i >= r) this.refuse(n, `${what} ${v} is out of range for rank ${r}`);
      return i;
    };
    const keep = (axes: Sym[][]): Value => ({ ...x, axes });
    switch (op) {
      case 'Identity':
        return x;
      case 'Cast': {
        const to = a.int('to', 0);
        const ok = x.elem === 'int' ? to === DataType.INT64 || to === DataType.INT32 : to === DataType.FLOAT;
        if (!ok)
          this.refuse(
            n,
            `attribute to must keep the ${x.elem === 'int' ? 'ids integers' : 'features FLOAT'}, got ${typeName(to)}`,
          );
        return x;
      }
      case 'Transpose': {
        const perm = a.ints('perm') ?? x.axes.map((_, i) => rank - 1 - i);
        if (perm.length !== rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i))
          this.refuse(n, `attribute perm must be a permutation of ${rank} axes, got [${perm.join(', ')}]`);
        return keep(perm.map((p) => x.axes[p]!));
      }
      case 'Squeeze': {
        const given = a.ints('axes') ?? ((n.input?.[1] ?? '') !== '' ? this.intConst(n, 1, 'axes') : null);
        if (given === null) this.refuse(n, 'must name its axes (a Squeeze of every size-1 axis is ambiguous here)');
        const drop = new Set(given.map((v) => axisOf(v, rank, 'axis')));
        for (const i of drop) {
          if (x.axes[i]!.some((s) => s.size !== 1))
            this.refuse(n, `squeezes axis ${i} ${symsText(x.axes[i]!)}, which is not of size 1`);
        }
        return keep(x.axes.filter((_, i) => !drop.has(i)));
      }
      case 'Unsqueeze': {
        const given = a.ints('axes') ?? ((n.input?.[1] ?? '') !== '' ? this.intConst(n, 1, 'axes') : null);
        if (given === null) this.refuse(n, 'must name its axes');
        const outRank = rank + given.length;
        const add = new Set(given.map((v) => axisOf(v, outRank, 'axis')));
        const axes: Sym[][] = [];
        let j = 0;
        for (let i = 0; i < outRank; i++) axes.push(add.has(i) ? [] : x.axes[j++]!);
        return keep(axes);
      }
      case 'Flatten': {
        const axis = a.int('axis', 1);
        const i = axis < 0 ? axis + rank : axis;
        if (i < 0 || i > rank) this.refuse(n, `attribute axis ${axis} is out of range for rank ${rank}`);
        return keep([x.axes.slice(0, i).flat(), x.axes.slice(i).flat()]);
      }
      case 'Reshape':
        return keep(this.reshape(n, a, x));
      case 'Slice': {
        if (a.has('starts')) {
          this.sliceWhole(n, x, a.ints('starts') ?? [], a.ints('ends') ?? [], a.ints('axes'), undefined);
        } else {
          const opt = (i: number, what: string) =>
            (n.input?.[i] ?? '') === '' ? undefined : this.intConst(n, i, what, true);
          this.sliceWhole(
            n,
            x,
            this.intConst(n, 1, 'starts', true),
            this.intConst(n, 2, 'ends', true),
            opt(3, 'axes'),
            opt(4, 'steps'),
          );
        }
        return x;
      }
      case 'Concat': {
        const parts = (n.input ?? []).filter((s) => s !== '');
        if (parts.length !== 1)
          this.refuse(
            n,
            `concatenates ${parts.length} tensors on the path from the input to the output; only a chain of whole layers is supported`,
          );
        return x;
      }
    }
    this.refuse(n, 'is not supported');
  }

  private sliceWhole(
    n: INodeProto,
    x: Value,
    starts: number[],
    ends: number[],
    axes: number[] | undefined,
    steps: number[] | undefined,
  ): void {
    const rank = x.axes.length;
    const ax = axes ?? starts.map((_, i) => i);
    if (starts.length !== ends.length || ax.length !== starts.length || (steps && steps.length !== starts.length))
      this.refuse(n, 'starts, ends, axes and steps must have the same length');
    ax.forEach((v, i) => {
      const axis = v < 0 ? v + rank : v;
      if (axis < 0 || axis >= rank) this.refuse(n, `axis ${v} is out of range for rank ${rank}`);
      const size = sizeOf(x.axes[axis]!);
      const step = steps?.[i] ?? 1;
      const whole =
        step === 1 &&
        (starts[i] === 0 || (size !== null && starts[i]! <= -size)) &&
        (ends[i]! >= 2 ** 31 - 1 || (size !== null && ends[i]! >= size));
      if (!whole)
        this.refuse(
          n,
          `selects part of axis ${axis} ${symsText(x.axes[axis]!)} (starts ${starts[i]}, ends ${ends[i]}, step ${step}); only whole-axis slices are followed`,
        );
    });
  }

  private reshape(n: INodeProto, a: NodeAttributes, x: Value): Sym[][] {
    const shape = this.intConst(n, 1, 'shape');
    if (a.int('allowzero', 0) !== 0 && shape.includes(0))
      this.refuse(n, 'attribute allowzero = 1 with a 0 in the shape makes an empty tensor');
    if (shape.filter((d) => d === -1).length > 1 || shape.some((d) => d < -1))
      this.refuse(n, `shape [${shape.join(', ')}] must have at most one -1 and no other negative value`);
    // The output takes the input's non-unit symbols in order; each dim claims a run of them.
    const flat = x.axes.flat().filter((s) => s.size !== 1);
    const out: Sym[][] = shape.map(() => []);
    const claim = (from: number, d: number, i: number): number => {
      if (d === 0) {
        if (i >= x.axes.length) this.refuse(n, `shape[${i}] = 0 copies an input axis that does not exist`);
        const want = nonUnit(x.axes[i]!);
        if (!sameSyms(flat.slice(from, from + want.length), want))
          this.refuse(n, `shape[${i}] = 0 copies axis ${i} ${symsText(want)}, which is not where the reshape puts it`);
        out[i] = want;
        return from + want.length;
      }
      let p = 1;
      let j = from;
      while (p < d && j < flat.length) {
        const s = flat[j]!;
        if (s.size === null) this.refuse(n, `shape[${i}] = ${d} fixes the size of the dynamic axis ${s.role}`);
        p *= s.size;
        j++;
      }
      if (p !== d)
        this.refuse(n, `shape[${i}] = ${d} splits a logical axis ${symsText(flat.slice(from, j))} of the input`);
      out[i] = flat.slice(from, j);
      return j;
    };
    const minus = shape.indexOf(-1);
    let left = 0;
    for (let i = 0; i < (minus === -1 ? shape.length : minus); i++) left = claim(left, shape[i]!, i);
    if (minus === -1) {
      if (left !== flat.length)
        this.refuse(n, `shape [${shape.join(', ')}] drops part of the input ${axesText(x.axes)}`);
      return out;
    }
    // Dims after the -1 claim from the right: run the same claim on the reversed tail.
    let right = flat.length;
    for (let i = shape.length - 1; i > minus; i--) {
      const d = shape[i]!;
      if (d === 0) {
        const want = nonUnit(x.axes[i] ?? []);
        if (i >= x.axes.length || !sameSyms(flat.slice(right - want.length, right), want))
          this.refuse(n, `shape[${i}] = 0 copies axis ${i}, which is not where the reshape puts it`);
        out[i] = want;
        right -= want.length;
        continue;
      }
      let p = 1;
      let j = right;
      while (p < d && j > left) {
        const s = flat[j - 1]!;
        if (s.size === null) this.refuse(n, `shape[${i}] = ${d} fixes the size of the dynamic axis ${s.role}`);
        p *= s.size;
        j--;
      }
      if (p !== d) this.refuse(n, `shape[${i}] = ${d} splits a logical axis of the input`);
      out[i] = flat.slice(j, right);
      right = j;
    }
    if (right < left) this.refuse(n, `shape [${shape.join(', ')}] does not fit the input ${axesText(x.axes)}`);
    out[minus] = flat.slice(left, right);
    return out;
  }

  /** Graph outputs whose value depends on some recurrent node's per-step output Y. */
  dataOutputs(): string[] {
    const reaches = new Map<string, boolean>();
    const visit = (name: string, depth: number): boolean => {
      const known = reaches.get(name);
      if (known !== undefined) return known;
      if (depth > 10_000) throw new RangeError(`${this.where}: the graph is deeper than 10000 nodes`);
      reaches.set(name, false);
      const n = this.producers.get(name);
      let r = false;
      if (n) {
        // A recurrent node's Y is per-step data; its Y_h / Y_c are final states.
        if (n.opType && n.opType in RECURRENT) r = n.output?.[0] === name;
        else r = (n.input ?? []).some((i) => i !== '' && visit(i, depth + 1));
      }
      reaches.set(name, r);
      return r;
    };
    return (this.graph.output ?? []).map((o) => o.name ?? '').filter((o) => visit(o, 0));
  }

  /** Every recurrent node of the graph was reached from the output. */
  checkAllLayersUsed(): void {
    for (const n of this.graph.node ?? []) {
      if (n.opType && n.opType in RECURRENT && !this.layerNodes.has(n))
        this.refuse(n, 'is not on the path from the input to the output');
    }
  }

  checkOutput(name: string, v: Value): void {
    const last = nonUnit(v.axes.at(-1) ?? []);
    if (!sameSyms(last, nonUnit(v.features)))
      throw new RangeError(
        `${this.where}: graph output "${name}" must end with the feature axis ${symsText(v.features)}, got ${axesText(v.axes)}`,
      );
    const rest = v.axes
      .slice(0, -1)
      .flat()
      .filter((s) => s.size !== 1)
      .map((s) => s.id)
      .sort((p, q) => p - q);
    const want = [this.time!.id, this.batch!.id]
      .filter((id) => {
        const s = id === this.time!.id ? this.time! : this.batch!;
        return s.size !== 1;
      })
      .sort((p, q) => p - q);
    if (rest.length !== want.length || rest.some((id, i) => id !== want[i]))
      throw new RangeError(
        `${this.where}: graph output "${name}" must keep the time and batch axes, got ${axesText(v.axes)}`,
      );
  }
}

type StateRef = { kind: 'zero' } | { kind: 'input'; name: string; start: number; end: number | null; via: string };

/**
 * Reads an ONNX model's recurrent structure: the input stage, the layers (weights converted to
 * rxrnn's layouts: gate orders iofc → ifgo and zrh → rzn, biases Wb + Rb folded except a
 * reset-after GRU's b_hn), the linear head, and where the initial states come from.
 * Refuses, with a RangeError naming the node and the attribute, anything rxrnn cannot compute
 * exactly: peepholes, clip, non-default activations, input_forget, a reverse-only direction,
 * sequence_lens, other ops on the path, weights that are not float32 constants.
 *
 * @param bytes the .onnx file's bytes
 * @param where the name errors start with; default 'readOnnxRecurrent'
 * @throws TypeError when bytes is not a Uint8Array; RangeError for anything the graph cannot be
 *   read as (the message names the node, the attribute or the tensor)
 */
export function readOnnxRecurrent(bytes: Uint8Array, where = 'readOnnxRecurrent'): OnnxRecurrentGraph {
  const model = decodeModel(where, bytes);
  const graph = model.graph!;
  let opset = 0;
  for (const o of model.opsetImport ?? []) {
    if (!o.domain || o.domain === 'ai.onnx') opset = int64(where, 'opset_import version', o.version);
  }
  if (opset < 7) throw new RangeError(`${where}: the default-domain opset must be >= 7, got ${opset}`);
  const r = new Reader(where, graph, opset);
  const outputs = r.dataOutputs();
  if (outputs.length === 0)
    throw new RangeError(`${where}: no graph output depends on an LSTM, GRU or RNN node's per-step output Y`);
  if (outputs.length > 1)
    throw new RangeError(
      `${where}: graph outputs ${outputs.map((o) => `"${o}"`).join(', ')} all depend on the per-step outputs; expected one`,
    );
  const out = outputs[0]!;
  const v = r.value(out);
  if (v.stage === 'source' || v.stage === 'embedded')
    throw new RangeError(`${where}: graph output "${out}" does not go through a recurrent layer`);
  r.checkAllLayersUsed();
  const layers = r.layers;
  for (let k = 0; k < layers.length; k++) {
    if (!layers[k]) throw new RangeError(`${where}: layer ${k} of the chain is missing`);
  }
  r.checkOutput(out, v);
  const top = layers.length - 1;
  if (v.stage !== 'head' && v.stage !== top)
    throw new RangeError(`${where}: graph output "${out}" reads layer ${String(v.stage)}, not the last layer ${top}`);
  // The initial states: zeros everywhere, or layer k reads rows [k·D, (k+1)·D) of one input.
  const states: { h: string | null; c: string | null } = { h: null, c: null };
  for (const which of ['h', 'c'] as const) {
    const refs = r.stateRefs.map((s) => ({ ...s, ref: s[which] }));
    const inputs = refs.filter((s) => s.ref.kind === 'input');
    if (inputs.length === 0) continue;
    const first = inputs[0]!.ref as Extract<StateRef, { kind: 'input' }>;
    const L = layers.length;
    for (const s of refs) {
      const ref = s.ref;
      if (ref.kind !== 'input' || ref.name !== first.name)
        throw new RangeError(
          `${where}: ${s.node} takes its initial ${which} from elsewhere than "${first.name}"; every layer must read rows of one input or all zeros`,
        );
      const want = [s.k * s.D, (s.k + 1) * s.D];
      const end = ref.end ?? L * s.D;
      if (ref.start !== want[0] || Math.min(end, L * s.D) !== want[1] || (ref.end === null && L > 1))
        throw new RangeError(
          `${where}: ${s.node} (layer ${s.k}) reads rows [${ref.start}, ${ref.end ?? '?'}) of "${ref.name}", expected [${want[0]}, ${want[1]})`,
        );
    }
    states[which] = first.name;
  }
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) metadata[p.key ?? ''] = p.value ?? '';
  return {
    input: r.input!,
    layers: layers.map(({ x: _x, ...l }) => l),
    head: r.head,
    output: out,
    merge: v.stage === 'head' ? r.topMerge : (v.merged ?? 'concat'),
    states,
    metadata,
    opset,
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
  };
}

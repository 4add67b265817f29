// The ONNX schema (onnx-proto: protobufjs code generated from the official onnx.proto) and the
// checked readers of what a decoded model holds: int64 values, tensors, attributes, constants.
// Everything read here comes from a file: sizes are checked against the bytes present before any
// allocation, so a corrupt or hostile file fails with a message, never a huge buffer.

import type { onnx as OnnxTypes } from 'onnx-proto';
import onnxProto from 'onnx-proto';
import { describe } from '../internal/checks.js';

/** The protobufjs message classes of the ONNX schema (ModelProto, GraphProto, NodeProto, ...). */
export const onnx = onnxProto.onnx;
/** An ONNX ModelProto as a plain object (onnx.proto field names in camelCase). */
export type IModelProto = OnnxTypes.IModelProto;
/** An ONNX GraphProto: nodes, initializers, inputs, outputs. */
export type IGraphProto = OnnxTypes.IGraphProto;
/** An ONNX NodeProto: op_type, inputs, outputs, attributes. */
export type INodeProto = OnnxTypes.INodeProto;
/** An ONNX TensorProto: dims, data type and raw or typed data. */
export type ITensorProto = OnnxTypes.ITensorProto;
/** An ONNX AttributeProto. */
export type IAttributeProto = OnnxTypes.IAttributeProto;
/** An ONNX ValueInfoProto: a graph input's or output's name and type. */
export type IValueInfoProto = OnnxTypes.IValueInfoProto;

/** TensorProto.DataType codes this package reads or writes. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType codes. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

const TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  16: 'BFLOAT16',
};

/** The name of a TensorProto data type code ("FLOAT", "INT64", ...). */
export function typeName(code: number | null | undefined): string {
  return TYPE_NAMES[code ?? 0] ?? `type ${String(code)}`;
}

/** A protobufjs int64: a number, or a Long-like {low, high} when the long package is present. */
export type Int64 = number | { low: number; high: number; unsigned?: boolean } | null | undefined;

const TWO_32 = 4294967296;

/**
 * An int64 as a JS number. `clamp` maps values beyond ±2^53 to ±Number.MAX_SAFE_INTEGER (what
 * Slice's "to the end" sentinels need); otherwise such a value throws a RangeError.
 */
export function int64(where: string, name: string, v: Int64, clamp = false): number {
  if (v === null || v === undefined) return 0;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'object' && typeof v.low === 'number' && typeof v.high === 'number') {
    n = v.unsigned ? (v.high >>> 0) * TWO_32 + (v.low >>> 0) : v.high * TWO_32 + (v.low >>> 0);
  } else throw new TypeError(`${where}: ${name} must be an int64, got ${describe(v)}`);
  if (!Number.isInteger(n)) throw new RangeError(`${where}: ${name} must be an integer, got ${describe(n)}`);
  if (!Number.isSafeInteger(n)) {
    if (clamp) return n > 0 ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
    throw new RangeError(`${where}: ${name} must be an integer within ±2^53, got ${n}`);
  }
  return n;
}

/** Decodes ONNX model bytes; a RangeError names what is wrong when they are not a ModelProto. */
export function decodeModel(where: string, bytes: Uint8Array): OnnxTypes.ModelProto {
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`${where}: bytes must be a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length === 0) throw new RangeError(`${where}: bytes must be an ONNX model, got 0 bytes`);
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new RangeError(`${where}: bytes must be an ONNX model (protobuf ModelProto), got ${(e as Error).message}`);
  }
  if (!model.graph) throw new RangeError(`${where}: the model has no graph (not an ONNX model file?)`);
  return model;
}

/** Encodes a ModelProto to bytes. */
export function encodeModel(model: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** The dims of a tensor as safe non-negative integers, with their product (at most 2^31). */
export function tensorDims(where: string, t: ITensorProto): { dims: number[]; size: number } {
  const name = `tensor "${t.name ?? ''}"`;
  const dims = (t.dims ?? []).map((d, i) => {
    const n = int64(where, `${name} dims[${i}]`, d as Int64);
    if (n < 0) throw new RangeError(`${where}: ${name} dims[${i}] must be >= 0, got ${n}`);
    return n;
  });
  let size = 1;
  for (const d of dims) size *= d;
  if (size > 2 ** 31) throw new RangeError(`${where}: ${name} has ${size} elements, expected at most 2^31`);
  return { dims, size };
}

function checkInternal(where: string, t: ITensorProto): void {
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    throw new RangeError(
      `${where}: tensor "${t.name ?? ''}" keeps its data in an external file; save the model with every tensor inside it`,
    );
  }
  if (t.segment)
    throw new RangeError(`${where}: tensor "${t.name ?? ''}" is segmented; segmented tensors are not supported`);
}

/** A FLOAT tensor's values (a fresh Float32Array), every one finite; dims as stored. */
export function readFloatTensor(where: string, t: ITensorProto): { dims: number[]; data: Float32Array } {
  checkInternal(where, t);
  const name = `tensor "${t.name ?? ''}"`;
  if (t.dataType !== DataType.FLOAT) {
    throw new RangeError(`${where}: ${name} must have data type FLOAT (float32), got ${typeName(t.dataType)}`);
  }
  const { dims, size } = tensorDims(where, t);
  let data: Float32Array;
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== size * 4)
      throw new RangeError(`${where}: ${name} raw data length ${raw.length}, expected 4*${size} = ${size * 4}`);
    data = new Float32Array(size);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(4 * i, true);
  } else {
    const values = t.floatData ?? [];
    if (values.length !== size)
      throw new RangeError(`${where}: ${name} float data length ${values.length}, expected ${size}`);
    data = Float32Array.from(values);
  }
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(data[i]))
      throw new RangeError(`${where}: ${name} element ${i} must be a finite number, got ${describe(data[i])}`);
  }
  return { dims, data };
}

/** An INT64 or INT32 tensor of at most `maxSize` values (shapes, axes, indices) as numbers. */
export function readIntTensor(
  where: string,
  t: ITensorProto,
  maxSize = 64,
  clamp = false,
): { dims: number[]; data: number[] } {
  checkInternal(where, t);
  const name = `tensor "${t.name ?? ''}"`;
  if (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32) {
    throw new RangeError(`${where}: ${name} must have data type INT64 or INT32, got ${typeName(t.dataType)}`);
  }
  const { dims, size } = tensorDims(where, t);
  if (size > maxSize) throw new RangeError(`${where}: ${name} has ${size} values, expected at most ${maxSize}`);
  const wide = t.dataType === DataType.INT64;
  const raw = t.rawData;
  const data: number[] = [];
  if (raw && raw.length > 0) {
    const w = wide ? 8 : 4;
    if (raw.length !== size * w)
      throw new RangeError(`${where}: ${name} raw data length ${raw.length}, expected ${w}*${size} = ${size * w}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < size; i++) {
      data.push(
        wide
          ? int64(
              where,
              `${name}[${i}]`,
              { low: view.getUint32(8 * i, true), high: view.getInt32(8 * i + 4, true) },
              clamp,
            )
          : view.getInt32(4 * i, true),
      );
    }
  } else {
    const values = (wide ? t.int64Data : t.int32Data) ?? [];
    if (values.length !== size)
      throw new RangeError(`${where}: ${name} data length ${values.length}, expected ${size}`);
    values.forEach((v, i) => {
      data.push(int64(where, `${name}[${i}]`, v as Int64, clamp));
    });
  }
  return { dims, data };
}

/** A float32 tensor for an initializer: raw little-endian bytes. */
export function floatTensor(name: string, dims: readonly number[], data: ArrayLike<number>): ITensorProto {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytes };
}

/** An int64 tensor (shapes, axes, indices). */
export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): ITensorProto {
  return { name, dims: [...dims], dataType: DataType.INT64, int64Data: [...data] };
}

/** One attribute of a node as a plain value, with its declared type checked. */
export class NodeAttributes {
  private readonly map = new Map<string, IAttributeProto>();

  constructor(
    private readonly where: string,
    private readonly label: string,
    node: INodeProto,
  ) {
    for (const a of node.attribute ?? []) {
      if (a.refAttrName)
        throw new RangeError(
          `${where}: ${label} attribute ${a.name ?? ''} refers to a function attribute; not supported`,
        );
      this.map.set(a.name ?? '', a);
    }
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  private get(name: string, type: number, typeLabel: string): IAttributeProto | undefined {
    const a = this.map.get(name);
    if (a === undefined) return undefined;
    // Files written before attribute types existed leave type 0: trust the filled field then.
    if (a.type !== type && a.type !== 0 && a.type !== null && a.type !== undefined) {
      throw new RangeError(`${this.where}: ${this.label} attribute ${name} must be ${typeLabel}, got type ${a.type}`);
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.get(name, AttrType.INT, 'an int');
    return a === undefined ? fallback : int64(this.where, `${this.label} attribute ${name}`, a.i as Int64);
  }

  float(name: string): number | undefined {
    const a = this.get(name, AttrType.FLOAT, 'a float');
    return a === undefined ? undefined : (a.f ?? 0);
  }

  string(name: string): string | undefined {
    const a = this.get(name, AttrType.STRING, 'a string');
    return a === undefined ? undefined : new TextDecoder().decode(a.s ?? new Uint8Array(0));
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, AttrType.INTS, 'a list of ints');
    return a?.ints?.map((v, i) => int64(this.where, `${this.label} attribute ${name}[${i}]`, v as Int64, true));
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, AttrType.FLOATS, 'a list of floats');
    return a === undefined ? undefined : [...(a.floats ?? [])];
  }

  strings(name: string): string[] | undefined {
    const a = this.get(name, AttrType.STRINGS, 'a list of strings');
    return a?.strings?.map((s) => new TextDecoder().decode(s));
  }

  tensor(name: string): ITensorProto | undefined {
    const a = this.get(name, AttrType.TENSOR, 'a tensor');
    return a === undefined ? undefined : (a.t ?? undefined);
  }
}

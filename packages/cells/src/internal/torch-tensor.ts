// Reading and writing PyTorch-layout tensors ({shape, data}) with shape checks; data is copied,
// never aliased, so a caller's dict can be reused or mutated afterwards.

import type { TorchStateDict, TorchTensor, TorchTensorF32 } from '../types.js';
import { describe } from './checks.js';
import { sizeOf } from './layout.js';

/** The tensor `name` of `dict`, checked against `shape`, as Float64 values. */
export function readTensor(
  where: string,
  dict: TorchStateDict,
  name: string,
  shape: readonly number[],
): ArrayLike<number> {
  const t: TorchTensor | undefined = dict[name];
  if (t === undefined || t === null || typeof t !== 'object') {
    throw new TypeError(`${where}: missing tensor "${name}" [${shape.join(', ')}]`);
  }
  if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${where}: tensor "${name}" has shape [${String(t.shape)}], expected [${shape.join(', ')}]`);
  }
  const n = sizeOf(shape);
  if (t.data === undefined || t.data === null || typeof t.data.length !== 'number' || t.data.length !== n) {
    throw new RangeError(`${where}: tensor "${name}" data length ${String(t.data?.length)}, expected ${n}`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(t.data[i])) {
      throw new RangeError(`${where}: tensor "${name}" data[${i}] must be a finite number, got ${describe(t.data[i])}`);
    }
  }
  return t.data;
}

/** A fresh tensor holding a copy of `data`. */
export function makeTensor(shape: number[], data: ArrayLike<number>): TorchTensorF32 {
  const out = new Float32Array(sizeOf(shape));
  out.set(data);
  return { shape: [...shape], data: out };
}

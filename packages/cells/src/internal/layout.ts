// Named views into one flat Float32Array: a model lays its tensors out back to back once, then
// reads params and grads through the same offsets. The caller owns both buffers.
import type { ParamView } from '../types.js';

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Appends tensors in order and hands out their offsets. */
export class LayoutBuilder {
  readonly views: ParamView[] = [];
  size = 0;

  add(name: string, shape: number[]): ParamView {
    const view = { name, offset: this.size, shape };
    this.views.push(view);
    this.size += sizeOf(shape);
    return view;
  }
}

/** The slice of `buffer` that `view` names (a view, not a copy). */
export function slice(buffer: Float32Array, view: ParamView): Float32Array {
  return buffer.subarray(view.offset, view.offset + sizeOf(view.shape));
}

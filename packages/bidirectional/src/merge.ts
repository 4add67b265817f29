// Merge modes: how the forward and reverse outputs of one step become one vector. Rows are
// [T·B] time-major; `both` holds [forward H | reverse H] per row (the concat layout PyTorch emits).
import { describe } from '@rxrnn/kernels/internal';

/** 'concat' → [fwd | rev] (2H, PyTorch's layout); 'sum', 'mul', 'ave' → H, elementwise. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

/** Every {@link MergeMode}, in the order the docs list them. */
export const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave'];

/** Throws unless `mode` is a merge mode; returns it. */
export function checkMerge(where: string, mode: unknown): MergeMode {
  if (!MERGE_MODES.includes(mode as MergeMode)) {
    throw new RangeError(
      `${where}: merge must be one of ${MERGE_MODES.map((m) => `'${m}'`).join(', ')}, got ${describe(mode)}`,
    );
  }
  return mode as MergeMode;
}

/** Width of a merged step for hidden size H. */
export function mergedSize(mode: MergeMode, H: number): number {
  return mode === 'concat' ? 2 * H : H;
}

/** out [rows × mergedSize] from both [rows × 2H]. */
export function mergeForward(out: Float32Array, both: Float32Array, rows: number, H: number, mode: MergeMode): void {
  if (mode === 'concat') {
    out.set(both.subarray(0, rows * 2 * H));
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * H;
    const f = 2 * r * H;
    const b = f + H;
    for (let j = 0; j < H; j++) {
      const x = both[f + j]!;
      const y = both[b + j]!;
      out[o + j] = mode === 'sum' ? x + y : mode === 'mul' ? x * y : 0.5 * (x + y);
    }
  }
}

/** dBoth [rows × 2H] (overwritten) from dOut [rows × mergedSize]; 'mul' reads the forward values in both. */
export function mergeBackward(
  dBoth: Float32Array,
  dOut: Float32Array,
  both: Float32Array,
  rows: number,
  H: number,
  mode: MergeMode,
): void {
  if (mode === 'concat') {
    dBoth.set(dOut.subarray(0, rows * 2 * H));
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * H;
    const f = 2 * r * H;
    const b = f + H;
    for (let j = 0; j < H; j++) {
      const d = dOut[o + j]!;
      if (mode === 'mul') {
        dBoth[f + j] = d * both[b + j]!;
        dBoth[b + j] = d * both[f + j]!;
      } else {
        const s = mode === 'sum' ? d : 0.5 * d;
        dBoth[f + j] = s;
        dBoth[b + j] = s;
      }
    }
  }
}

// The onnxruntime-node oracle of the ONNX specs: runs a model's bytes on named inputs (float32
// arrays, or int ids given as Int32Array and fed as int64) and returns the outputs as Float32Arrays.
import * as ort from 'onnxruntime-node';

/** One input: float32 data, or token ids (fed as int64), with its dims. */
export interface OrtInput {
  data: Float32Array | Int32Array;
  dims: number[];
}

/** A session on `bytes` (onnxruntime's CPU provider, one thread so runs are repeatable). */
export async function ortSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Runs `session` on `inputs`; returns every output as a Float32Array. */
export async function ortRun(
  session: ort.InferenceSession,
  inputs: Record<string, OrtInput>,
): Promise<Record<string, Float32Array>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, { data, dims }] of Object.entries(inputs)) {
    feeds[name] =
      data instanceof Int32Array
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(data, (v) => BigInt(v)),
            dims,
          )
        : new ort.Tensor('float32', data, dims);
  }
  const out = await session.run(feeds);
  const result: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(out)) result[name] = Float32Array.from(t.data as Float32Array);
  return result;
}

/** max |a − b| over equal-length arrays (Infinity when the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? Number.POSITIVE_INFINITY : m;
}

/** Deterministic values in [−scale, scale) (a sine hash, no RNG state). */
export function seededValues(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
    out[i] = (2 * (s - Math.floor(s)) - 1) * scale;
  }
  return out;
}

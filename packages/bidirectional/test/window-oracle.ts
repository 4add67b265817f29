// Test-only oracle for bidirectional(): the windows are given explicitly, and both directions are
// stepped one element at a time with Cell.step (a different code path from the operator's
// window forward), the forward state carried to each next window's start.
import type { Cell } from '@rxrnn/cells';
import { Rng } from '@rxrnn/kernels';

export interface OracleOptions {
  merge?: 'concat' | 'sum' | 'mul' | 'ave';
  carry?: boolean;
  B?: number;
  /** Per layer, the forward start state and the reverse start state of every window; default zeros. */
  init?: { forward: Float32Array; reverse: Float32Array }[];
}

/** Per window, per step, the merged output [B × width]. `hops[i]`: steps from window i's start to the next's. */
export function oracleWindows(
  pairs: { forward: Cell; reverse: Cell }[],
  windows: Float32Array[][],
  hops: number[],
  o: OracleOptions = {},
): Float32Array[][] {
  const B = o.B ?? 1;
  const merge = o.merge ?? 'concat';
  const carry = o.carry ?? true;
  let carried = pairs.map((p, k) => o.init?.[k]?.forward.slice() ?? p.forward.createState(B));
  return windows.map((w, i) => {
    const T = w.length;
    const hop = Math.min(hops[i] ?? T, T);
    let layerIn = w;
    const next: Float32Array[] = [];
    pairs.forEach(({ forward, reverse }, k) => {
      const H = forward.hiddenSize;
      const s = carried[k]!.slice();
      let atHop = s.slice();
      const f = layerIn.map((x, t) => {
        const h = forward.step(s, x, B).slice();
        if (t + 1 === hop) atHop = s.slice();
        return h;
      });
      next.push(hop < T ? atHop : s);
      const rs = o.init?.[k]?.reverse.slice() ?? reverse.createState(B);
      const r: Float32Array[] = new Array(T);
      for (let t = T - 1; t >= 0; t--) r[t] = reverse.step(rs, layerIn[t]!, B).slice();
      layerIn = f.map((ft, t) => {
        const row = new Float32Array(B * 2 * H);
        for (let b = 0; b < B; b++) {
          row.set(ft.subarray(b * H, (b + 1) * H), b * 2 * H);
          row.set(r[t]!.subarray(b * H, (b + 1) * H), b * 2 * H + H);
        }
        return row;
      });
    });
    if (carry) carried = next;
    const H = pairs[0]!.forward.hiddenSize;
    return layerIn.map((row) => {
      if (merge === 'concat') return row;
      const out = new Float32Array(B * H);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const x = row[b * 2 * H + j]!;
          const y = row[b * 2 * H + H + j]!;
          out[b * H + j] = merge === 'sum' ? x + y : merge === 'mul' ? x * y : (x + y) / 2;
        }
      }
      return out;
    });
  });
}

/** `count` vectors of length n, uniform in [-1, 1), from a fixed seed (fresh arrays). */
export function randomVectors(count: number, n: number, seed = 1): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1));
}

/** Windows of emitted steps equal within `tol` (step-by-step vs window GEMMs round differently). */
export function closeWindows(a: Float32Array[], b: Float32Array[], tol = 1e-5): boolean {
  if (a.length !== b.length) return false;
  return a.every((v, t) => v.length === b[t]!.length && v.every((x, i) => Math.abs(x - b[t]![i]!) <= tol));
}

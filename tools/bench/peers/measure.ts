// Timing for the peer benchmark: warm up, pick an iteration count that fills the target
// duration, then time several runs. Pure timing; no knowledge of any implementation.
import type { Budget } from './workloads.js';

export interface Timing {
  /** milliseconds per iteration, one entry per run */
  perIter: number[];
  iters: number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Times `body(n)`, which performs about n iterations and may return how many it really did (for
 * bodies whose work comes in uneven pieces). The warm-up also calibrates n so that one run lasts
 * about `budget.targetMs` (at least one iteration, at most `maxIters`).
 */
/** What a timed body returns: nothing, or the work units it did (e.g. characters). */
export type BodyResult = number | undefined;

export async function timeRuns(
  // biome-ignore lint/suspicious/noConfusingVoidType: bodies that return nothing are typed `void`.
  body: (n: number) => void | BodyResult | Promise<void | BodyResult>,
  budget: Budget,
  maxIters = 1e6,
): Promise<Timing> {
  // Warm up (JIT, allocations, lazily compiled kernels); the fastest call estimates one iteration.
  let est = Infinity;
  const warmEnd = nowMs() + budget.warmupMs;
  do {
    const t0 = nowMs();
    const done = await body(1);
    est = Math.min(est, (nowMs() - t0) / (done || 1));
  } while (nowMs() < warmEnd);
  let iters = Math.max(1, Math.min(maxIters, Math.ceil(budget.targetMs / Math.max(est, 1e-3))));
  // The single-iteration estimate is coarse for tiny bodies: refine it once with a real batch.
  if (iters > 8) {
    const probe = Math.ceil(iters / 8);
    const t0 = nowMs();
    const done = await body(probe);
    est = (nowMs() - t0) / (done || probe);
    iters = Math.max(1, Math.min(maxIters, Math.ceil(budget.targetMs / Math.max(est, 1e-3))));
  }
  const perIter: number[] = [];
  for (let r = 0; r < budget.runs; r++) {
    const t0 = nowMs();
    const done = await body(iters);
    perIter.push((nowMs() - t0) / (done || iters));
  }
  return { perIter, iters };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Turns per-iteration times into a record's value fields, for `workPerIter` units per iteration. */
export function summarize(
  t: Timing,
  unit: 'us/step' | 'chars/s' | 'steps*batch/s',
  workPerIter: number,
): { unit: typeof unit; value: number; min: number; max: number; runs: number; work: number; samples: number[] } {
  const vals = t.perIter.map((ms) => (unit === 'us/step' ? (ms * 1000) / workPerIter : (workPerIter * 1000) / ms));
  return {
    unit,
    value: round(median(vals)),
    min: round(Math.min(...vals)),
    max: round(Math.max(...vals)),
    runs: vals.length,
    work: t.iters * workPerIter,
    samples: vals.map(round),
  };
}

export const round = (x: number): number => Number(x.toPrecision(4));

/** A small seeded generator for inputs (mulberry32), so every implementation sees the same data. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomIds(n: number, V: number, seed: number): Int32Array {
  const rnd = seeded(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * V);
  return out;
}

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const rnd = seeded(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rnd() * 2 - 1) * scale;
  return out;
}

import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { type SampleOptions, sample } from '../../src/operators/sample.js';
import { randomVectors } from '../support/test-inputs.js';

const argmax = (x: Float32Array): number => x.reduce((best, v, i) => (v > x[best]! ? i : best), 0);

/** Token counts of `n` draws from the same logits. */
async function counts(logits: Float32Array, n: number, options: Omit<SampleOptions, 'batch'>): Promise<number[]> {
  const ids = await lastValueFrom(from(Array.from({ length: n }, () => logits)).pipe(sample(options), toArray()));
  const c = new Array<number>(logits.length).fill(0);
  for (const id of ids) c[id]!++;
  return c;
}

/** Every count within 5 standard deviations of n·p (p from a float64 oracle); zero where p = 0. */
function expectFrequencies(c: number[], p: number[]): void {
  const n = c.reduce((a, b) => a + b, 0);
  p.forEach((pi, i) => {
    if (pi === 0) expect(c[i], `token ${i} must never be drawn`).toBe(0);
    else
      expect(Math.abs(c[i]! - n * pi), `token ${i}: ${c[i]} of ${n}, p ${pi}`).toBeLessThanOrEqual(
        5 * Math.sqrt(n * pi * (1 - pi)) + 1,
      );
  });
}

function softmax64(x: number[], T: number): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp((v - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('sample()', () => {
  const xs = randomVectors(4, 9, 12);
  // Greedy decoding (topK 1) has an oracle that shares nothing with the sampler: argmax.
  const checks = rxChecklist({
    make: () => sample({ topK: 1, seed: 3 }),
    inputs: xs,
    expected: xs.map(argmax),
    bad: {
      input: new Float32Array(9).fill(-Infinity),
      message: /^sample: logits\[0\] must be a finite number, got -Infinity at step 1$/,
    },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);

  it('draws B rows at once into an Int32Array when given a batch', async () => {
    const batched = randomVectors(3, 2 * 9, 13);
    const checks2 = rxChecklist({
      make: () => sample({ topK: 1, batch: 2 }),
      inputs: batched,
      expected: batched.map((x) => Int32Array.of(argmax(x.subarray(0, 9)), argmax(x.subarray(9)))),
      bad: { input: new Float32Array(9), message: /^sample: logits length 9, expected 18 at step 1$/ },
    });
    for (const check of Object.values(checks2)) await check();
  });

  const logits = [2, 1, 0.5, 0, -1];
  const L = Float32Array.from(logits);

  it('draws from softmax(logits / temperature)', async () => {
    expectFrequencies(await counts(L, 4000, { seed: 1 }), softmax64(logits, 1));
    expectFrequencies(await counts(L, 4000, { seed: 2, temperature: 0.5 }), softmax64(logits, 0.5));
    expectFrequencies(await counts(L, 4000, { seed: 3, temperature: 3 }), softmax64(logits, 3));
  });

  it('keeps only the topK most probable tokens, renormalized', async () => {
    const p = softmax64(logits, 1);
    const kept = p[0]! + p[1]! + p[2]!;
    expectFrequencies(await counts(L, 4000, { seed: 4, topK: 3 }), [p[0]! / kept, p[1]! / kept, p[2]! / kept, 0, 0]);
  });

  it('keeps the smallest set reaching topP of the mass (nucleus), renormalized', async () => {
    const probs = [0.05, 0.5, 0.15, 0.3];
    const P = Float32Array.from(probs, Math.log);
    // 0.5 < 0.75 ≤ 0.5 + 0.3: tokens 1 and 3.
    expectFrequencies(await counts(P, 3000, { seed: 5, topP: 0.75 }), [0, 0.5 / 0.8, 0, 0.3 / 0.8]);
    // 0.8 < 0.9 ≤ 0.95: tokens 1, 3 and 2.
    expectFrequencies(await counts(P, 3000, { seed: 6, topP: 0.9 }), [0, 0.5 / 0.95, 0.15 / 0.95, 0.3 / 0.95]);
    // A tiny topP still keeps the most probable token; topK applies first.
    expect(await counts(P, 50, { seed: 7, topP: 1e-6 })).toEqual([0, 50, 0, 0]);
    expectFrequencies(await counts(P, 3000, { seed: 8, topK: 2, topP: 0.99 }), [0, 0.5 / 0.8, 0, 0.3 / 0.8]);
  });

  it('repeats itself for a fixed seed on every subscription, and not across seeds', async () => {
    const run = (seed: number) => lastValueFrom(from(randomVectors(40, 6, 14)).pipe(sample({ seed }), toArray()));
    const a = await run(21);
    expect(await run(21)).toEqual(a);
    expect(await run(22)).not.toEqual(a);
  });

  it.each([
    [{ temperature: 0 }, 'temperature must be a finite number > 0, got 0'],
    [{ temperature: -1 }, 'temperature must be a finite number > 0, got -1'],
    [{ topK: 0 }, 'topK must be a positive integer, got 0'],
    [{ topK: 2.5 }, 'topK must be a positive integer, got 2.5'],
    [{ topP: 0 }, 'topP must be a number in (0, 1], got 0'],
    [{ topP: 1.5 }, 'topP must be a number in (0, 1], got 1.5'],
    [{ seed: 0.5 }, 'seed must be an integer, got 0.5'],
    [{ vocabSize: 0 }, 'vocabSize must be a positive integer, got 0'],
  ])('refuses %o', (options, message) => {
    expect(() => sample(options)).toThrow(new RangeError(`sample: ${message}`));
  });
});

import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rxChecklist } from '../../../../test/support/rx-checklist.js';
import { Embedding } from '../../src/embedding.js';
import { embed } from '../../src/operators/embed.js';
import { randomVectors } from '../support/test-inputs.js';

describe('embed()', () => {
  // A hand-made table: row i of `weight` is token i's vector, so the expected output is that row.
  const V = 5;
  const E = 3;
  const weight = randomVectors(1, V * E, 9)[0]!;
  const table = {
    vocabSize: V,
    dim: E,
    lookup(out: Float32Array, ids: Int32Array, B: number) {
      for (let b = 0; b < B; b++) out.set(weight.subarray(ids[b]! * E, ids[b]! * E + E), b * E);
    },
  };
  const row = (...ids: number[]): Float32Array =>
    Float32Array.from(ids.flatMap((id) => Array.from(weight.slice(id * E, id * E + E))));

  const checks = rxChecklist<number | Int32Array, Float32Array>({
    make: () => embed(table),
    inputs: [4, 0, 2, 2],
    expected: [row(4), row(0), row(2), row(2)],
    bad: { input: 5, message: /^embed: token id must be an integer in \[0, 5\), got 5 at step 1$/ },
  });
  for (const [name, check] of Object.entries(checks)) it(name, check);

  it('takes B ids at once as an Int32Array', () => {
    const batched = rxChecklist<number | Int32Array, Float32Array>({
      make: () => embed(table, { batch: 2 }),
      inputs: [Int32Array.of(1, 3), Int32Array.of(0, 0)],
      expected: [row(1, 3), row(0, 0)],
      bad: { input: Int32Array.of(1), message: /^embed: token length 1, expected 2 at step 1$/ },
    });
    for (const check of Object.values(batched)) check();
  });

  it.each([
    [-1, 'token id must be an integer in [0, 5), got -1 at step 0'],
    [1.5, 'token id must be an integer in [0, 5), got 1.5 at step 0'],
    [NaN, 'token id must be an integer in [0, 5), got NaN at step 0'],
    ['a', 'token must be a number or an Int32Array of 1 ids, got "a" at step 0'],
  ])('rejects %s', (bad, message) => {
    let error: unknown;
    embed(table)(of(bad as number)).subscribe({ error: (e) => (error = e) });
    expect((error as Error).message).toBe(`embed: ${message}`);
  });

  it('refuses a bad batch or embedding', () => {
    expect(() => embed(table, { batch: 0 })).toThrow(/embed: batch must be a positive integer, got 0/);
    expect(() => embed({} as typeof table)).toThrow(/embed: embedding must be an Embedding, got an Object/);
  });

  it('drives the real Embedding: each vector is its weight row', async () => {
    const real = new Embedding({ vocabSize: 7, dim: 4, seed: 3 });
    const rows = (...ids: number[]): Float32Array =>
      Float32Array.from(ids.flatMap((id) => Array.from(real.weight.slice(id * 4, id * 4 + 4))));
    const checks2 = rxChecklist<number | Int32Array, Float32Array>({
      make: () => embed(real, { batch: 3 }),
      inputs: [Int32Array.of(6, 0, 3), Int32Array.of(1, 1, 5)],
      expected: [rows(6, 0, 3), rows(1, 1, 5)],
      bad: {
        input: Int32Array.of(1, 7, 0),
        message: /^embed: token id must be an integer in \[0, 7\), got 7 at step 1$/,
      },
    });
    for (const check of Object.values(checks2)) await check();
  });
});

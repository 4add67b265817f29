// Steps whose batch B changes from call to call allocate nothing once the largest B has been
// seen: allocF32/freeF32 are counted through a module mock (in a file of its own, so no other spec
// runs against the mock), over rounds of B that grow, shrink and repeat.

import * as kernels from '@rxrnn/kernels';
import { describe, expect, it, vi } from 'vitest';
import { CharModel, RnnStack } from '../src/index.js';

const calls = vi.hoisted(() => ({ alloc: 0, free: 0 }));
vi.mock('@rxrnn/kernels', async (importOriginal) => {
  const real = await importOriginal<typeof kernels>();
  return {
    ...real,
    allocF32: (n: number) => {
      calls.alloc++;
      return real.allocF32(n);
    },
    freeF32: (a: Float32Array) => {
      calls.free++;
      real.freeF32(a);
    },
  };
});

const SIZES = [3, 5, 2, 8, 1, 7, 8, 3, 1, 6];

describe.each(['wasm', 'js'] as const)('steps with a varying batch, %s backend', (backend) => {
  it('RnnStack.step (GRU, both variants) and CharModel.step (LSTM) allocate nothing once warm', () => {
    kernels.setBackend(backend);
    const stacks = (['reset-after', 'reset-before'] as const).map(
      (gruVariant) => new RnnStack({ kind: 'gru', gruVariant, inputSize: 4, hiddenSize: 8, layers: 2, seed: 1 }),
    );
    const model = new CharModel({ cell: 'lstm', vocab: [...'abcd'], hidden: 8, layers: 2, embeddingDim: 3 });
    const stackStates = stacks.map((s) => SIZES.map((B) => s.createState(B)));
    const modelStates = SIZES.map((B) => model.createState(B));
    const xs = SIZES.map((B) => new Float32Array(B * 4).fill(0.25));
    const ids = SIZES.map((B) => new Int32Array(B).fill(2));
    const round = () =>
      SIZES.forEach((B, i) => {
        stacks.forEach((s, k) => s.step(stackStates[k]![i]!, xs[i]!, B));
        model.step(ids[i]!, modelStates[i]!);
      });
    round();
    expect(calls.alloc).toBeGreaterThan(0);
    const before = { ...calls };
    for (let r = 0; r < 3; r++) round();
    expect(calls).toEqual(before);
  });
});

// A whole char-LM step as one pipe, embed → lstm/gru → dense → sample, against CharModel.step
// over the same weights (a 1-layer model's own embedding, cell and linear head).
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CharModel } from '../../src/char-model.js';
import { dense } from '../../src/operators/dense.js';
import { embed } from '../../src/operators/embed.js';
import { gru } from '../../src/operators/gru.js';
import { lstm } from '../../src/operators/lstm.js';
import { rnn } from '../../src/operators/rnn.js';
import { sample } from '../../src/operators/sample.js';
import { createStateHandle } from '../../src/state-handle.js';
import { randomVectors } from '../support/test-inputs.js';

const ops = { rnn, gru, lstm } as const;
const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.slice().buffer));

describe.each(['lstm', 'gru', 'rnn'] as const)('char-LM pipeline (%s)', (kind) => {
  const model = new CharModel({ cell: kind, vocab: [...'abcdefgh'], embeddingDim: 6, hidden: 10, layers: 1, seed: 4 });
  const cell = model.rnn.cells[0]!;
  const tokens = Array.from(randomVectors(1, 30, 5)[0]!, (u) => Math.floor((u + 1) * 4));

  it('computes the logits CharModel.step computes, bit for bit, and leaves the same state', async () => {
    const handle = createStateHandle(cell);
    const logits = await lastValueFrom(
      from(tokens).pipe(embed(model.embedding!), ops[kind](cell, { state: handle }), dense(model.linear), toArray()),
    );
    const state = model.createState(1);
    tokens.forEach((id, t) =>
      expect(bits(logits[t]!), `step ${t}`).toEqual(bits(model.step(Int32Array.of(id), state))),
    );
    expect(bits(handle.state)).toEqual(bits(state));
  });

  it('samples the argmax of CharModel.step logits with topK 1, through one pipe', async () => {
    const ids = await lastValueFrom(
      from(tokens).pipe(embed(model.embedding!), ops[kind](cell), dense(model.linear), sample({ topK: 1 }), toArray()),
    );
    const state = model.createState(1);
    const argmax = tokens.map((id) => {
      const l = model.step(Int32Array.of(id), state);
      return l.reduce((best, v, i) => (v > l[best]! ? i : best), 0);
    });
    expect(ids).toEqual(argmax);
    // The sampled ids feed straight back into embed(), as in generation.
    const again = await lastValueFrom(
      from(ids).pipe(
        embed(model.embedding!),
        map((v) => v.length),
        toArray(),
      ),
    );
    expect(again).toEqual(ids.map(() => 6));
  });
});

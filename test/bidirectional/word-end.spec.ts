// What the future buys: tag each character of space-free text with "a word ends here". Half of
// every stem's uses carry a suffix, so at a stem's last letter only the NEXT letter tells; a
// bidirectional tagger (evaluated through the windowed bidirectional() operator) sees it, a
// unidirectional one of about the same parameter count cannot. Both train with the trainer's Adam.

import { type BidirectionalStack, bidirectional, SequenceTagger } from '@rxrnn/bidirectional';
import { Rng } from '@rxrnn/kernels';
import { Adam } from '@rxrnn/trainer';
import { from, lastValueFrom, map, mergeMap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

// The project's own toy language: stems are two consonant-vowel syllables from one consonant
// set, suffixes one syllable from a disjoint set, so the next letter always settles a word end.
const STEM_C = 'ptkbdgmn';
const SUF_C = 'rlsz';
const VOWELS = 'aeiou';
const ALPHABET = [...new Set(STEM_C + SUF_C + VOWELS)].sort();
const V = ALPHABET.length;

function language(seed: number) {
  const rng = new Rng(seed);
  const pick = (s: string) => s[Math.floor(rng.uniform() * s.length)]!;
  const stems = Array.from({ length: 24 }, () => pick(STEM_C) + pick(VOWELS) + pick(STEM_C) + pick(VOWELS));
  /** n characters of space-free text and their tags (1 = a word ends at this character). */
  const text = (n: number, textSeed: number) => {
    const r = new Rng(textSeed);
    const ids: number[] = [];
    const tags: number[] = [];
    while (ids.length < n) {
      let word = stems[Math.floor(r.uniform() * stems.length)]!;
      if (r.uniform() < 0.5)
        word += SUF_C[Math.floor(r.uniform() * SUF_C.length)]! + VOWELS[Math.floor(r.uniform() * VOWELS.length)]!;
      for (let i = 0; i < word.length; i++) {
        ids.push(ALPHABET.indexOf(word[i]!));
        tags.push(i === word.length - 1 ? 1 : 0);
      }
    }
    return { ids: Int32Array.from(ids.slice(0, n)), tags: Int32Array.from(tags.slice(0, n)) };
  };
  return { text };
}

/** Trains `model` on random [T×B] windows of the training text with Adam; windows start from zero states. */
function train(model: SequenceTagger, ids: Int32Array, tags: Int32Array, steps: number, seed: number) {
  const T = 24;
  const B = 16;
  const rng = new Rng(seed);
  const adam = new Adam(model.paramCount());
  const x = new Int32Array(T * B);
  const y = new Int32Array(T * B);
  for (let s = 0; s < steps; s++) {
    for (let b = 0; b < B; b++) {
      const start = Math.floor(rng.uniform() * (ids.length - T));
      for (let t = 0; t < T; t++) {
        x[t * B + b] = ids[start + t]!;
        y[t * B + b] = tags[start + t]!;
      }
    }
    model.zeroGrads();
    model.lossAndGrad(x, y, T, B);
    adam.step(model.params, model.grads, 1e-2);
  }
}

const accuracy = (pred: ArrayLike<number>, tags: Int32Array) => {
  let ok = 0;
  for (let i = 0; i < tags.length; i++) if (pred[i] === tags[i]) ok++;
  return ok / tags.length;
};

describe('word ends in space-free text: right context matters', () => {
  it('a bidirectional GRU tagger beats a unidirectional one of the same size on held-out text', async () => {
    const lang = language(7);
    const trainSet = lang.text(20_000, 1);
    const heldOut = lang.text(4_000, 2);
    const bi = new SequenceTagger({ cell: 'gru', vocabSize: V, hidden: 12, classes: 2, directions: 2, seed: 1 });
    const uni = new SequenceTagger({ cell: 'gru', vocabSize: V, hidden: 19, classes: 2, directions: 1, seed: 1 });
    // About the same capacity: within 5 % of each other's parameter count.
    expect(Math.abs(bi.paramCount() - uni.paramCount()) / bi.paramCount()).toBeLessThan(0.05);
    train(bi, trainSet.ids, trainSet.tags, 500, 3);
    train(uni, trainSet.ids, trainSet.tags, 500, 3);

    // Unidirectional: one pass over the whole held-out text (nothing to gain from windows).
    const uniAcc = accuracy(uni.predict(heldOut.ids, heldOut.ids.length, 1), heldOut.tags);
    // Bidirectional, streamed: one-hot characters → bidirectional() in windows of 32 → dense → argmax.
    const head = bi.dense;
    const logits = new Float32Array(2);
    const pred = await lastValueFrom(
      from(heldOut.ids).pipe(
        map((id) => {
          const x = new Float32Array(V);
          x[id] = 1;
          return x;
        }),
        // directions: 2 makes the tagger's rnn a BidirectionalStack; the operator reuses its weights.
        bidirectional(bi.rnn as BidirectionalStack, { window: { size: 32 } }),
        mergeMap((window) =>
          window.map((h) => {
            head.forward(logits, h, 1);
            return logits[1]! > logits[0]! ? 1 : 0;
          }),
        ),
        toArray(),
      ),
    );
    const biAcc = accuracy(pred, heldOut.tags);
    console.log(
      `word-end accuracy on held-out text: bidirectional ${biAcc.toFixed(4)} (${bi.paramCount()} params, windows of 32), unidirectional ${uniAcc.toFixed(4)} (${uni.paramCount()} params)`,
    );
    expect(pred.length).toBe(heldOut.ids.length);
    expect(biAcc).toBeGreaterThan(0.97);
    expect(uniAcc).toBeGreaterThan(0.8);
    expect(biAcc).toBeGreaterThanOrEqual(uniAcc + 0.05);
  });
});

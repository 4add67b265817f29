import { lastValueFrom, map, merge, take, timer, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { CharModel, type CharModelConfig } from '../../src/char-model.js';
import { generate } from '../../src/operators/generate.js';
import { createStateHandle } from '../../src/state-handle.js';
import { toyModel } from '../support/test-inputs.js';

const text = (o: ReturnType<typeof generate>): Promise<string> =>
  lastValueFrom(
    o.pipe(
      toArray(),
      map((cs) => cs.join('')),
    ),
    { defaultValue: '' },
  );

/** Greedy decoding by hand: feed the prime, then always the argmax. The generate() oracle. */
function greedy(prime: string, length: number): string {
  const m = toyModel();
  const vocab = m.config.vocab;
  const state = m.createState(1);
  let logits: Float32Array = new Float32Array(0);
  for (const ch of prime) logits = m.step(Int32Array.of(vocab.indexOf(ch)), state);
  let out = '';
  for (let i = 0; i < length; i++) {
    const id = logits.reduce((best, v, j) => (v > logits[best]! ? j : best), 0);
    out += vocab[id];
    if (i < length - 1) logits = m.step(Int32Array.of(id), state);
  }
  return out;
}

describe('generate()', () => {
  it('emits `length` characters, greedy with topK 1, then completes', async () => {
    expect(await text(generate(toyModel(), { prime: 'cab', length: 25, topK: 1 }))).toBe(greedy('cab', 25));
  });

  it('repeats itself for a fixed seed, and depends on it', async () => {
    const run = (seed: number) => text(generate(toyModel(), { prime: 'a', length: 60, seed, temperature: 2 }));
    const a = await run(1);
    expect(a).toHaveLength(60);
    expect(await run(1)).toBe(a);
    expect(await run(2)).not.toBe(a);
    const shared = generate(toyModel(), { prime: 'a', length: 60, seed: 1, temperature: 2 });
    expect(await text(shared)).toBe(a);
    expect(await text(shared)).toBe(a);
  });

  it('continues through a state handle: two calls give the one-call text', async () => {
    const model = toyModel();
    const handle = createStateHandle(model);
    const first = await text(generate(model, { prime: 'db', length: 7, topK: 1, state: handle }));
    const second = await text(generate(model, { prime: first.slice(-1), length: 8, topK: 1, state: handle }));
    expect(first + second).toBe(greedy('db', 15));
  });

  it('completes without values (and asynchronously) for length 0', async () => {
    let done = false;
    const values: string[] = [];
    const finished = new Promise<void>((resolve) =>
      generate(toyModel(), { prime: 'a', length: 0 }).subscribe({
        next: (v) => values.push(v),
        complete: () => {
          done = true;
          resolve();
        },
      }),
    );
    expect(done).toBe(false);
    await finished;
    expect(values).toEqual([]);
  });

  it('does nothing until the first slice, and nothing at all if unsubscribed before it', async () => {
    const model = toyModel();
    const sub = generate(model, { prime: 'abc', length: 10 }).subscribe();
    expect(model.steps).toBe(0);
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 5));
    expect(model.steps).toBe(0);
  });

  it('stops at once on unsubscribe (take)', async () => {
    const model = toyModel();
    const got = await text(generate(model, { prime: 'ab', length: 1000 }).pipe(take(3)));
    expect(got).toHaveLength(3);
    // One prime step that only feeds, then one step per character.
    expect(model.steps).toBe(1 + 3);
    await new Promise((r) => setTimeout(r, 5));
    expect(model.steps).toBe(4);
  });

  it('errors with the step when the model produces non-finite logits', async () => {
    await expect(text(generate(toyModel(4), { prime: 'ab', length: 10 }))).rejects.toThrow(
      new RangeError('generate: logits[0] must be a finite number, got NaN at step 3'),
    );
  });

  it('undoes a step whose logits are not finite: the handle keeps the state from before it', async () => {
    const model = toyModel(4);
    const handle = createStateHandle(model as unknown as CharModel);
    await expect(text(generate(model, { prime: 'ab', length: 10, topK: 1, state: handle }))).rejects.toThrow(
      'generate: logits[0] must be a finite number, got NaN at step 3',
    );
    // The oracle: the same model stepped by hand through the 4 steps before the bad one (the
    // prime's two characters and the first two generated ones, greedy).
    const byHand = toyModel();
    const state = byHand.createState(1);
    byHand.step(Int32Array.of(0), state);
    const sampled = greedy('ab', 2);
    for (const ch of `b${sampled}`) byHand.step(Int32Array.of(['a', 'b', 'c', 'd'].indexOf(ch)), state);
    expect(Array.from(handle.state)).toEqual(Array.from(state));
  });

  it('errors and undoes a step that leaves a non-finite state, naming the step or prime character', async () => {
    const overflowing = (at: number) => {
      const m = toyModel();
      const step = m.step;
      m.step = (tokens, state) => {
        const logits = step(tokens, state);
        if (m.steps === at) state[1] = Infinity;
        return logits;
      };
      return m;
    };
    const inPrime = overflowing(2);
    const h1 = createStateHandle(inPrime as unknown as CharModel);
    await expect(text(generate(inPrime, { prime: 'abcd', length: 5, state: h1 }))).rejects.toThrow(
      'generate: state[1] after the step must be a finite number, got Infinity at prime character 1 (float32 overflow; the state is left as it was)',
    );
    const before = toyModel();
    const s1 = before.createState(1);
    before.step(Int32Array.of(0), s1);
    expect(Array.from(h1.state)).toEqual(Array.from(s1));
    const later = overflowing(6);
    const h2 = createStateHandle(later as unknown as CharModel);
    await expect(text(generate(later, { prime: 'ab', length: 9, topK: 1, state: h2 }))).rejects.toThrow(
      /got Infinity at step 4 \(float32 overflow/,
    );
    expect(h2.state.every(Number.isFinite)).toBe(true);
  });

  it('yields to the event loop between slices', async () => {
    let ticks = 0;
    let done = false;
    const spin = (): void => {
      ticks++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    await text(generate(toyModel(), { prime: 'a', length: 12, stepsPerSlice: 2 }));
    done = true;
    // Six slices, with the check phase (setImmediate) running between every two of them.
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('interleaves with other work scheduled at the same time (marbles)', () => {
    const expected = greedy('d', 3);
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(({ expectObservable }) => {
      // On a virtual-time scheduler every slice is its own queued action, so the timer's action,
      // queued after the first slice, runs before the second: generation yields between tokens.
      const gen = generate(toyModel(), { prime: 'd', length: 3, topK: 1, stepsPerSlice: 1, scheduler: ts });
      const other = timer(0, ts).pipe(map(() => 'X'));
      expectObservable(merge(gen, other)).toBe('(aXbc|)', { a: expected[0], X: 'X', b: expected[1], c: expected[2] });
    });
  });

  it('emits in virtual time with no delay between slices, and take(2) cuts it short (marbles)', () => {
    const expected = greedy('ab', 4);
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ expectObservable }) => {
      const gen = generate(toyModel(), { prime: 'ab', length: 4, topK: 1, stepsPerSlice: 2 });
      // Slices: [feed a, emit 0], [emit 1, emit 2], [emit 3, complete]; all at virtual frame 0.
      expectObservable(gen).toBe('(0123|)', Object.fromEntries([...expected].map((c, i) => [String(i), c])));
      expectObservable(gen.pipe(take(2))).toBe('(01|)', { 0: expected[0], 1: expected[1] });
    });
  });

  it.each([
    [
      { prime: 'abz', length: 3 },
      'prime character "z" at index 2 is not in the vocabulary, expected one of the model\'s 4 characters',
    ],
    [{ prime: '', length: 3 }, 'prime must be a non-empty string, got ""'],
    [{ prime: 'a', length: -1 }, 'length must be a non-negative integer, got -1'],
    [{ prime: 'a', length: 2.5 }, 'length must be a non-negative integer, got 2.5'],
    [{ prime: 'a', length: NaN }, 'length must be a non-negative integer, got NaN'],
    [{ prime: 'a', length: 3, temperature: 0 }, 'temperature must be a finite number > 0, got 0'],
    [{ prime: 'a', length: 3, temperature: -2 }, 'temperature must be a finite number > 0, got -2'],
    [{ prime: 'a', length: 3, topK: 0 }, 'topK must be a positive integer, got 0'],
    [{ prime: 'a', length: 3, topP: 0 }, 'topP must be a number in (0, 1], got 0'],
    [{ prime: 'a', length: 3, topP: 1.01 }, 'topP must be a number in (0, 1], got 1.01'],
    [{ prime: 'a', length: 3, sliceMs: 0 }, 'sliceMs must be a finite number > 0, got 0'],
  ])('refuses %o', (options, message) => {
    expect(() => generate(toyModel(), options)).toThrow(new RangeError(`generate: ${message}`));
  });

  it('refuses a state handle of another shape', () => {
    const model = toyModel();
    expect(() => generate(model, { prime: 'a', length: 1, state: createStateHandle(model, 2) })).toThrow(
      /state handle for .*\(batch 2\), expected .*\(batch 1\)/,
    );
  });

  describe('with a real CharModel', () => {
    const config: CharModelConfig = {
      cell: 'lstm',
      vocab: [...' abcdefghij'],
      embeddingDim: 8,
      hidden: 12,
      layers: 2,
      seed: 7,
    };

    /** Greedy decoding by hand over CharModel.step: feed the prime, then always the argmax. */
    function greedyModel(model: CharModel, prime: string, length: number): string {
      const state = model.createState(1);
      let logits: Float32Array = new Float32Array(0);
      for (const ch of prime) logits = model.step(Int32Array.of(config.vocab.indexOf(ch)), state);
      let out = '';
      for (let i = 0; i < length; i++) {
        const id = logits.reduce((best, v, j) => (v > logits[best]! ? j : best), 0);
        out += config.vocab[id];
        logits = model.step(Int32Array.of(id), state);
      }
      return out;
    }

    it('decodes greedily exactly as CharModel.step does by hand', async () => {
      const model = new CharModel(config);
      expect(await text(generate(model, { prime: 'hi ab', length: 40, topK: 1 }))).toBe(
        greedyModel(new CharModel(config), 'hi ab', 40),
      );
    });

    it('resumes from a snapshot restored into a fresh model with the same config', async () => {
      const filters = { temperature: 0.9, topK: 5, topP: 0.95 };
      const whole = await text(generate(new CharModel(config), { prime: 'ab', length: 30, topK: 1 }));
      const a = new CharModel(config);
      const ha = createStateHandle(a);
      const first = await text(generate(a, { prime: 'ab', length: 12, topK: 1, state: ha }));
      const b = new CharModel(config);
      const hb = createStateHandle(b);
      hb.restore(ha.snapshot());
      const rest = await text(generate(b, { prime: first.slice(-1), length: 18, topK: 1, state: hb }));
      expect(first + rest).toBe(whole);
      // Sampled (not greedy) text is reproducible too, and stays inside the vocabulary.
      const s1 = await text(generate(b, { prime: 'j', length: 50, seed: 3, ...filters }));
      expect(await text(generate(a, { prime: 'j', length: 50, seed: 3, ...filters }))).toBe(s1);
      expect([...s1].every((ch) => config.vocab.includes(ch))).toBe(true);
    });

    it('refuses a handle of a model with another shape', () => {
      const model = new CharModel(config);
      const other = createStateHandle(new CharModel({ ...config, layers: 1 }));
      expect(() => generate(model, { prime: 'a', length: 1, state: other })).toThrow(
        /state handle for an lstm model \(V 11, H 12, 1 layer\) \(batch 1\), expected an lstm model \(V 11, H 12, 2 layers\)/,
      );
    });
  });
});

// Every key's outputs through keyed() against the same key's events through a lone per-key
// pipeline of the existing operators (groupBy + embed/lstm/dense, lstm()/gru()/rnn()), or the
// model stepped alone at batch 1: within 1e-5 on the wasm backend, and the native one where it
// loads (batched and single-row products round differently), bit for bit on the js backend (they
// do not) and on the native one for batches of a few rows. Sampling against generate(),
// surprisal against a float64 oracle, and eviction → restore bit for bit.
import { CharModel, createCell, dense, embed, generate, gru, lstm, RnnStack, rnn } from '@rxrnn/cells';
import { getBackend, setBackend } from '@rxrnn/kernels';
import { from, groupBy, lastValueFrom, map, mergeMap, Subject, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createKeyedStates,
  type KeyedEvent,
  type KeyedOutput,
  type KeyedResult,
  keyed,
  keyedCell,
  keyedCharModel,
  type TokenInput,
} from '../src/index.js';
import {
  bits,
  loneH,
  loneLogits,
  maxAbsDiff,
  perKey,
  resultsPerKey,
  smallCharModel,
  tokenEvents,
  VOCAB,
  vectorEvents,
} from './helpers.js';

const initial = getBackend();
afterAll(() => setBackend(initial));

/**
 * The backends to compare: wasm and js everywhere, and any other this build of the kernels can
 * run (a native backend where one loads), found by asking setBackend for it.
 */
const backends: string[] = ['wasm', 'js'];
for (const other of ['native']) {
  try {
    setBackend(other as Parameters<typeof setBackend>[0]);
    backends.push(other);
  } catch {
    // Not in this build, or it does not load here.
  }
}
setBackend(initial);

const outputsOf = <O, K extends string | number>(rs: readonly KeyedResult<O, K>[] | undefined): O[] =>
  (rs ?? []).map((r) => (r as KeyedOutput<O, K>).output);

describe.each(backends)('keyed() equals lone per-key pipelines, %s backend', (name) => {
  const backend = name as Parameters<typeof setBackend>[0];
  const within = (d: number) => (backend === 'js' ? expect(d).toBe(0) : expect(d).toBeLessThanOrEqual(1e-5));

  it.each(['lstm', 'gru', 'rnn'] as const)('%s char model logits, 40 keys, batches up to 16', async (kind) => {
    setBackend(backend);
    const model = smallCharModel(kind);
    const events = tokenEvents(1500, 40);
    const states = createKeyedStates(keyedCharModel(model), { maxKeys: 64 });
    const results = await lastValueFrom(from(events).pipe(keyed(states, { maxBatch: 16 }), toArray()));
    // The batched path is what is under test: most steps are full batches.
    expect(states.metrics().batchMean).toBeGreaterThan(4);
    const want = loneLogits(model, events);
    const got = resultsPerKey(results);
    expect(got.size).toBe(want.size);
    let worst = 0;
    for (const [key, logits] of want) {
      const rs = got.get(key)!;
      expect(rs.map((r) => r.seq)).toEqual(logits.map((_, i) => i + 1));
      worst = Math.max(worst, maxAbsDiff(outputsOf(rs) as Float32Array[], logits));
    }
    within(worst);
  });

  it('a 2-layer lstm char model against groupBy + embed → lstm(stack) → dense per key', async () => {
    setBackend(backend);
    const model = smallCharModel('lstm');
    const events = tokenEvents(800, 25, 3);
    const lone = await lastValueFrom(
      from(events).pipe(
        groupBy((e) => e.key),
        mergeMap((g) =>
          g.pipe(
            map((e) => e.value),
            embed(model.embedding!),
            lstm(model.rnn),
            dense(model.linear),
            map((output, i) => ({ key: g.key, seq: i + 1, output })),
          ),
        ),
        toArray(),
      ),
    );
    const results = await lastValueFrom(from(events).pipe(keyed(keyedCharModel(model)), toArray()));
    const got = resultsPerKey(results);
    let worst = 0;
    for (const [key, rs] of resultsPerKey(lone)) {
      expect(got.get(key)!.map((r) => r.seq)).toEqual(rs.map((r) => r.seq));
      worst = Math.max(worst, maxAbsDiff(outputsOf(got.get(key)) as Float32Array[], outputsOf(rs)));
    }
    within(worst);
  });

  it.each([
    ['lstm', 1],
    ['gru', 1],
    ['rnn', 1],
    ['lstm', 3],
  ] as const)('%s with %i layer(s): h per key against the operator alone', async (kind, layers) => {
    setBackend(backend);
    const op = { lstm, gru, rnn }[kind];
    const cell =
      layers === 1
        ? createCell({ kind, inputSize: 5, hiddenSize: 9, seed: 4 })
        : new RnnStack({ kind, inputSize: 5, hiddenSize: 9, layers, seed: 4 });
    const events = vectorEvents(600, 30, 5);
    const states = createKeyedStates(keyedCell(cell));
    const results = await lastValueFrom(from(events).pipe(keyed(states, { maxBatch: 8 }), toArray()));
    expect(states.metrics().batchMean).toBeGreaterThan(3);
    const got = resultsPerKey(results);
    let worst = 0;
    for (const [key, xs] of perKey(events)) {
      const want = await lastValueFrom(from(xs).pipe(op(cell as never), toArray()));
      worst = Math.max(worst, maxAbsDiff(outputsOf(got.get(key)), want));
    }
    within(worst);
    // The lone batch-1 step is the operator's own oracle (bit for bit).
    const direct = loneH(cell, events);
    for (const [key, hs] of direct) {
      const viaOp = await lastValueFrom(from(perKey(events).get(key)!).pipe(op(cell as never), toArray()));
      expect(maxAbsDiff(hs, viaOp)).toBe(0);
    }
  });

  it('surprisal of each token from the logits after the key’s previous token (float64 oracle)', async () => {
    setBackend(backend);
    const model = smallCharModel('lstm');
    const events = tokenEvents(700, 20, 5);
    const results = await lastValueFrom(
      from(events).pipe(keyed(keyedCharModel(model, { output: 'surprisal' }), { maxBatch: 8 }), toArray()),
    );
    const got = resultsPerKey(results);
    let worst = 0;
    for (const [key, tokens] of perKey(events)) {
      const state = model.createState(1);
      const want = tokens.map((t, i) => {
        if (i === 0) return null;
        const l = Array.from(model.step(Int32Array.of(tokens[i - 1]!), state), Number);
        const m = Math.max(...l);
        const lse = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0));
        return (lse - l[t]!) / Math.LN2;
      });
      const out = outputsOf(got.get(key)) as (number | null)[];
      expect(out[0]).toBeNull();
      expect(out.length).toBe(want.length);
      for (let i = 1; i < want.length; i++) worst = Math.max(worst, Math.abs(out[i]! - want[i]!));
    }
    // Bits from float32 logits: the float64 oracle differs by their rounding only.
    expect(worst).toBeLessThanOrEqual(backend === 'js' ? 1e-12 : 1e-5);
  });

  it('eviction → restore is bit for bit: maxKeys 2 against no eviction, batches of one', async () => {
    setBackend(backend);
    const model = smallCharModel('lstm');
    const events = tokenEvents(400, 9, 8);
    const run = async (maxKeys: number) => {
      const states = createKeyedStates(keyedCharModel(model), { maxKeys });
      const rs = await lastValueFrom(from(events).pipe(keyed(states, { maxBatch: 1 }), toArray()));
      return { rs, states };
    };
    const evicting = await run(2);
    const whole = await run(100);
    expect(evicting.states.metrics().restores).toBeGreaterThan(100);
    expect(whole.states.metrics().evictions).toBe(0);
    expect(evicting.rs.map((r) => `${r.key}:${r.seq}`)).toEqual(whole.rs.map((r) => `${r.key}:${r.seq}`));
    evicting.rs.forEach((r, i) => {
      expect(bits((r as KeyedOutput<Float32Array, string>).output)).toEqual(
        bits((whole.rs[i] as KeyedOutput<Float32Array, string>).output),
      );
    });
  });
});

describe.skipIf(!backends.includes('native'))('native backend: small batches are bit for bit', () => {
  // Up to 3 rows (12 on AVX-512, 6 on AVX2) the native A·Bᵀ forms each row as gemv does.
  it.each(['lstm', 'gru', 'rnn'] as const)(
    '%s char model, batches of at most 3 rows, equal lone steps',
    async (kind) => {
      setBackend('native');
      const model = smallCharModel(kind);
      const events = tokenEvents(900, 20, 5);
      const states = createKeyedStates(keyedCharModel(model), { maxKeys: 64 });
      const results = await lastValueFrom(from(events).pipe(keyed(states, { maxBatch: 3 }), toArray()));
      expect(states.metrics().batchMean).toBeGreaterThan(2);
      const got = resultsPerKey(results);
      let worst = 0;
      for (const [key, logits] of loneLogits(model, events)) {
        worst = Math.max(worst, maxAbsDiff(outputsOf(got.get(key)) as Float32Array[], logits));
      }
      expect(worst).toBe(0);
    },
  );
});

describe('sampling through keyed() against generate() (js backend: batched = single-row, bit for bit)', () => {
  it('eight concurrent generations, prime fed with emit: false, each equal to a lone generate() with its seed', async () => {
    setBackend('js');
    const model = new CharModel({ cell: 'lstm', vocab: VOCAB, hidden: 12, layers: 2, embeddingDim: 4, seed: 3 });
    const sessions = Array.from({ length: 8 }, (_, i) => ({
      key: `g${i}`,
      prime: 'abc'.slice(0, 1 + (i % 3)) + VOCAB[i]!,
      length: 30 + 7 * i,
      temperature: 0.6 + 0.1 * i,
      topK: i % 2 === 0 ? undefined : 5,
      topP: i % 3 === 0 ? 0.9 : undefined,
      seed: 100 + i,
    }));
    const byKey = new Map(sessions.map((s) => [s.key, s]));
    const text = new Map<string, string>(sessions.map((s) => [s.key, '']));
    const events = new Subject<KeyedEvent<TokenInput, string>>();
    const done = lastValueFrom(
      events.pipe(
        keyed(
          keyedCharModel(model, {
            output: 'sample',
            sampling: (key) => {
              const s = byKey.get(key as string)!;
              return { temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.seed };
            },
          }),
          { maxBatch: 8 },
        ),
        map((r) => {
          if ('error' in r) throw r.error;
          const s = byKey.get(r.key)!;
          if (r.output === null) return r;
          const t = text.get(r.key)! + VOCAB[r.output]!;
          text.set(r.key, t);
          // Feed the drawn token back until the length is reached; then the session is over.
          if ([...t].length < s.length) events.next({ key: r.key, value: r.output });
          else if ([...text.values()].every((x, i) => [...x].length >= sessions[i]!.length)) events.complete();
          return r;
        }),
        toArray(),
      ),
    );
    for (const s of sessions) {
      const ids = [...s.prime].map((c) => VOCAB.indexOf(c));
      ids.forEach((id, i) => events.next({ key: s.key, value: i < ids.length - 1 ? { token: id, emit: false } : id }));
    }
    await done;
    for (const s of sessions) {
      const want = (
        await lastValueFrom(
          generate(model, {
            prime: s.prime,
            length: s.length,
            temperature: s.temperature,
            topK: s.topK,
            topP: s.topP,
            seed: s.seed,
          }).pipe(toArray()),
        )
      ).join('');
      expect(text.get(s.key), s.key).toBe(want);
    }
  });
});

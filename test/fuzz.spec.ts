// Property-based fuzzing (fast-check) of every byte format the project reads from outside:
// checkpoints (@rxrnn/trainer), state snapshots (@rxrnn/cells) and the /api/weights document
// (apps/charstream). Each valid file is mutated structurally (fields removed, retyped, resized,
// counts changed, values swapped, fields added; the checksum recomputed so the mutation reaches
// validation) and byte by byte (bit flips, truncations, insertions, deletions, overwrites; the
// checksum left alone). Every mutant must be refused cleanly — the documented error class, one
// line, a structural mutant's message naming a field, nothing allocated in WASM memory — or load
// into exactly what the file says (checked against the test's own msgpack and CRC decoding), and
// when that is the source's model, compute its function bit for bit on a probe. Seeded; the default
// run is RUNS mutants per format and kind; RXRNN_FUZZ_RUNS=20000 (and RXRNN_FUZZ_SEED) runs more.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { CharModel, createStateHandle, RnnStack, type StateHandle, Vocabulary } from '@rxrnn/cells';
import { wasmMemoryInfo } from '@rxrnn/kernels';
import {
  type Checkpoint,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  exportTorch,
  OfflineTrainer,
} from '@rxrnn/trainer';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWeights, encodeWeights } from '../apps/charstream/src/weights-doc.js';

const RUNS = Number(process.env.RXRNN_FUZZ_RUNS ?? 600);
const SEED = Number(process.env.RXRNN_FUZZ_SEED ?? 20_261_205);
const packr = new Packr({ moreTypes: true, useRecords: false });

type Tree = Record<string, unknown>;
type Outcome = 'refused' | 'loaded-equal' | 'loaded-other';

/** Per format and kind: mutants, outcomes, and the worst time and memory any mutant cost. */
const report = new Map<
  string,
  Record<Outcome | 'tried', number> & {
    refusedMs: number;
    loadedMs: number;
    worstBytes: number;
    inputBytes: number;
    times: number[];
  }
>();
function record(key: string, outcome: Outcome, ms: number, allocated: number, inputBytes: number): void {
  const r = report.get(key) ?? {
    tried: 0,
    refused: 0,
    'loaded-equal': 0,
    'loaded-other': 0,
    refusedMs: 0,
    loadedMs: 0,
    worstBytes: 0,
    inputBytes: 0,
    times: [],
  };
  r.tried++;
  if (outcome === 'refused') r.times.push(ms);
  r[outcome]++;
  if (outcome === 'refused') r.refusedMs = Math.max(r.refusedMs, ms);
  else r.loadedMs = Math.max(r.loadedMs, ms);
  r.worstBytes = Math.max(r.worstBytes, allocated);
  r.inputBytes = Math.max(r.inputBytes, inputBytes);
  report.set(key, r);
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1] ?? 0;
afterAll(() => {
  const cell = (v: string | number, w: number) => String(v).padStart(w);
  const rows = [...report].map(
    ([key, r]) =>
      `${key.padEnd(22)}${cell(r.tried, 7)}${cell(r.refused, 9)}${cell(r['loaded-equal'], 13)}${cell(r['loaded-other'], 13)}${cell(median(r.times).toFixed(3), 11)}${cell(r.refusedMs.toFixed(2), 11)}${cell(r.loadedMs.toFixed(2), 11)}${cell(r.worstBytes, 12)}${cell(r.inputBytes, 12)}`,
  );
  console.log(
    `fuzz (seed ${SEED}, ${RUNS} mutants per row)\n${'format/kind'.padEnd(22)}  tried  refused loaded-equal loaded-other refused ms: median  worst  loaded ms  WASM bytes  input bytes\n${rows.join('\n')}`,
  );
});

/** Live WASM allocations and their bytes: what building a model would move. */
const heap = () => {
  const m = wasmMemoryInfo();
  return { live: m?.live ?? 0, used: m?.heapUsed ?? 0 };
};

// ---- Structural mutations of a decoded tree -------------------------------------------------

/** Paths to every value in the tree (arrays: their first 4 items), typed arrays as leaves. */
function pathsOf(tree: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (tree === null || typeof tree !== 'object' || ArrayBuffer.isView(tree)) return out;
  const entries = Array.isArray(tree) ? tree.slice(0, 4).map((v, i) => [i, v] as const) : Object.entries(tree);
  for (const [k, v] of entries) {
    out.push([...prefix, k]);
    pathsOf(v, [...prefix, k], out);
  }
  return out;
}

function parentOf(tree: unknown, path: (string | number)[]): Record<string | number, unknown> | null {
  let node = tree as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = node?.[k];
    if (next === null || typeof next !== 'object' || ArrayBuffer.isView(next)) return null;
    node = next as Record<string | number, unknown>;
  }
  return node;
}

/** Values of every kind, including the ones a hostile file would choose. */
const WEIRD: (() => unknown)[] = [
  () => null,
  () => true,
  () => 0,
  () => -1,
  () => 0.5,
  () => 100_000,
  () => 2 ** 31,
  () => 2 ** 53 + 2,
  () => -1e300,
  () => 3e38,
  () => NaN,
  () => Infinity,
  () => '',
  () => 'lstm',
  () => 'x'.repeat(5000),
  () => [],
  () => [1, 2, 3],
  () => ({}),
  () => ({ a: 1 }),
  () => new Float32Array(0),
  () => new Float32Array(3),
  () => Float32Array.of(NaN, 1),
  () => new Uint32Array(7),
  () => new Uint8Array(4),
  () => new Float64Array(2),
];

type Mutation = {
  op: 'remove' | 'retype' | 'resize' | 'count' | 'swap' | 'add';
  at: number;
  other: number;
  pick: number;
};

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('remove', 'retype', 'resize', 'count', 'swap', 'add'),
  at: fc.nat(),
  other: fc.nat(),
  pick: fc.nat(),
});

/** Applies one mutation in place; returns a word for what it did (for failure messages). */
function mutate(tree: Tree, m: Mutation, added: Set<string>): string {
  const paths = pathsOf(tree);
  if (paths.length === 0) return 'none';
  const path = paths[m.at % paths.length]!;
  const parent = parentOf(tree, path);
  if (!parent) return 'none';
  const key = path.at(-1)!;
  const value = parent[key];
  const where = path.join('.');
  switch (m.op) {
    case 'remove':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return `remove ${where}`;
    case 'retype':
      parent[key] = WEIRD[m.pick % WEIRD.length]!();
      return `retype ${where}`;
    case 'resize': {
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        const a = value as Float32Array;
        const n = [0, 1, a.length - 1, a.length + 1, a.length * 2, (a.length >> 1) + 1][m.pick % 6]!;
        const b = new (a.constructor as Float32ArrayConstructor)(Math.max(0, n));
        b.set(a.subarray(0, Math.min(a.length, b.length)));
        parent[key] = b;
      } else if (Array.isArray(value)) {
        parent[key] = m.pick % 2 ? value.slice(0, value.length >> 1) : [...value, ...value.slice(0, 2)];
      } else if (typeof value === 'string') {
        parent[key] = m.pick % 2 ? value.slice(1) : `${value}${value}`;
      } else parent[key] = WEIRD[m.pick % WEIRD.length]!();
      return `resize ${where}`;
    }
    case 'count': {
      if (typeof value === 'number') {
        const f = [(v: number) => v + 1, (v: number) => v - 1, (v: number) => v * 2, (v: number) => -v, () => 0];
        parent[key] = f[m.pick % f.length]!(value);
      } else parent[key] = m.pick % 100_001;
      return `count ${where}`;
    }
    case 'swap': {
      const path2 = paths[m.other % paths.length]!;
      const parent2 = parentOf(tree, path2);
      if (!parent2 || path2.join('.').startsWith(where) || where.startsWith(path2.join('.'))) return 'none';
      const k2 = path2.at(-1)!;
      const v2 = parent2[k2];
      parent2[k2] = value;
      parent[key] = v2;
      return `swap ${where} ${path2.join('.')}`;
    }
    case 'add': {
      if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Array.isArray(value)) {
        parent[`extra${m.pick % 7}`] = 1;
        added.add(`extra${m.pick % 7}`);
      } else {
        (value as Tree)[`extra${m.pick % 7}`] = WEIRD[m.pick % WEIRD.length]!();
        added.add(`extra${m.pick % 7}`);
      }
      return `add under ${where}`;
    }
  }
}

/** An envelope around a mutated body: the body re-encoded and its CRC-32 recomputed (unless the
 * mutation replaced them), so the mutation itself reaches validation. */
function seal(env: Tree): Uint8Array {
  const out: Tree = { ...env };
  if (out.body !== null && typeof out.body === 'object' && !ArrayBuffer.isView(out.body)) {
    out.body = new Uint8Array(packr.pack(out.body));
  }
  if (out.crc32 === 'auto') out.crc32 = out.body instanceof Uint8Array ? zlibCrc32(out.body) : 0;
  return new Uint8Array(packr.pack(out));
}

/** A structural mutant of `envelope` (body decoded): 1–3 mutations, resealed. */
function structural(envelope: Tree) {
  return fc.array(mutationArb, { minLength: 1, maxLength: 3 }).map((ms) => {
    const tree = structuredClone({ ...envelope, crc32: 'auto' }) as Tree;
    const added = new Set<string>();
    const what = ms.map((m) => mutate(tree, m, added)).join('; ');
    return { bytes: seal(tree), what, added };
  });
}

/** A byte-wise mutant of `good`: bit flips, a cut, an insertion, a deletion or an overwrite. */
function bytewise(good: Uint8Array) {
  const n = good.length;
  return fc
    .oneof(
      fc.array(fc.tuple(fc.nat(n - 1), fc.nat(7)), { minLength: 1, maxLength: 4 }).map((flips) => {
        const b = good.slice();
        for (const [i, bit] of flips) b[i] = b[i]! ^ (1 << bit);
        return { bytes: b, what: `flip ${flips.map(([i, bit]) => `${i}:${bit}`).join(',')}` };
      }),
      fc.nat(n - 1).map((k) => ({ bytes: good.slice(0, k), what: `cut to ${k}` })),
      fc.tuple(fc.nat(n), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, ins]) => ({
        bytes: Uint8Array.of(...good.subarray(0, at), ...ins, ...good.subarray(at)),
        what: `insert ${ins.length} at ${at}`,
      })),
      fc.tuple(fc.nat(n - 1), fc.integer({ min: 1, max: 64 })).map(([at, len]) => ({
        bytes: Uint8Array.of(...good.subarray(0, at), ...good.subarray(at + len)),
        what: `delete ${len} at ${at}`,
      })),
      fc.tuple(fc.nat(n - 1), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([at, w]) => {
        const b = good.slice();
        b.set(w.subarray(0, n - at), at);
        return { bytes: b, what: `overwrite ${w.length} at ${at}` };
      }),
    )
    .map((m) => ({ ...m, added: new Set<string>() }));
}

/** The test's own reading of a mutant: its envelope and body as plain msgpack, or null. */
function independentBody(bytes: Uint8Array): Tree | null {
  try {
    const env = packr.unpack(bytes) as Tree;
    return packr.unpack(env.body as Uint8Array) as Tree;
  } catch {
    return null;
  }
}

/** The documented parameter count of a char model config (the test's own arithmetic):
 * G·((H + n_x)·H + H) per layer (+ H for a reset-after GRU), V·E, V·H + V. */
function formulaCount(c: Tree): number {
  const V = (c.vocab as string[]).length;
  const H = c.hidden as number;
  const E = c.input === 'onehot' ? 0 : ((c.embeddingDim as number | undefined) ?? 32);
  const G = { rnn: 1, gru: 3, lstm: 4 }[c.cell as 'rnn' | 'gru' | 'lstm'];
  let n = V * E + V * H + V;
  for (let k = 0; k < ((c.layers as number | undefined) ?? 1); k++) {
    const nx = k > 0 ? H : E || V;
    n += G * ((H + nx) * H + H) + (c.cell === 'gru' && c.gruVariant !== 'reset-before' ? H : 0);
  }
  return n;
}

const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Logits of `model` along a probe (ids cycling through the vocabulary), from a zero state. */
function probe(model: CharModel): Float32Array {
  const state = model.createState(1);
  const out: number[] = [];
  for (let t = 0; t < 12; t++) out.push(...model.step(Int32Array.of((t * 7) % model.vocabSize), state));
  return Float32Array.from(out);
}

/** Runs `consume` on one mutant and checks the outcome; returns it with its cost. */
function judge(
  key: string,
  mutant: { bytes: Uint8Array; what: string; added: Set<string> },
  consume: (bytes: Uint8Array) => { equal: boolean },
  refusal: (e: unknown, structural: boolean, added: Set<string>) => void,
  structural: boolean,
): void {
  const before = heap();
  const t0 = performance.now();
  let outcome: Outcome;
  try {
    outcome = consume(mutant.bytes).equal ? 'loaded-equal' : 'loaded-other';
    // Bytes changed without their checksum can only be refused or mean the very same thing:
    // anything else would be a silent wrong result.
    if (!structural) expect(outcome, `${key} ${mutant.what} loaded as another model`).toBe('loaded-equal');
  } catch (e) {
    if (e instanceof Error && e.name === 'AssertionError') throw e;
    outcome = 'refused';
    const after = heap();
    // Refused before anything was allocated from the file.
    expect(after, `${key} ${mutant.what}: ${String(e)}`).toEqual(before);
    refusal(e, structural, mutant.added);
  }
  const ms = performance.now() - t0;
  const after = heap();
  record(key, outcome, ms, Math.max(0, after.used - before.used), mutant.bytes.length);
}

// ---- Checkpoints ----------------------------------------------------------------------------

const CKPT_FIELDS = [
  'model',
  'params',
  'training',
  'optimizer',
  'rng',
  'cursor',
  'counters',
  'history',
  'best',
  'body',
];

describe('fuzz: checkpoints', () => {
  const text = 'the quick brown fox jumps over the lazy dog; a cell reads the next char. '.repeat(12);
  const vocab = Vocabulary.fromText(text).chars;
  const source = new CharModel({ cell: 'lstm', vocab, hidden: 6, embeddingDim: 4, layers: 2, seed: 3 });
  const trainer = new OfflineTrainer(source, text, {
    batchSize: 2,
    bptt: 8,
    evalEvery: 2,
    logEvery: 1,
    valFraction: 0.1,
  });
  for (let i = 0; i < 4; i++) {
    trainer.trainStep();
    if (i % 2 === 1) trainer.evaluateAndRecord();
  }
  const ckpt: Checkpoint = trainer.toCheckpoint();
  const good = encodeCheckpoint(ckpt);
  const envelope = packr.unpack(good) as Tree;
  envelope.body = packr.unpack(envelope.body as Uint8Array);
  const sourceLogits = probe(source);

  /** What `sample` does (and `export-torch`, and a resume on the same text), judged. */
  const consume = (bytes: Uint8Array): { equal: boolean } => {
    const c = decodeCheckpoint(bytes);
    const model = new CharModel(c.model);
    // The decoded size never exceeds what the file held.
    expect(model.params.length * 4).toBeLessThanOrEqual(bytes.length);
    model.params.set(c.params);
    expect(exportTorch(c, { which: 'latest' }).params['linear.bias']!.data).toHaveLength(vocab.length);
    // The model is exactly what the file says (the test's own reading of it), and what it says
    // holds together: the stored parameters are as many as its config implies.
    const body = independentBody(bytes)!;
    expect((body.params as Float32Array).length).toBe(formulaCount(body.model as Tree));
    expect((body.best as Tree | null)?.params ?? body.params).toHaveLength(formulaCount(body.model as Tree));
    const stored = new CharModel(body.model as CharModel['config']);
    stored.params.set(body.params as Float32Array);
    expect(sameBits(probe(model), probe(stored))).toBe(true);
    // Resuming refuses cleanly or trains on.
    try {
      const tr = OfflineTrainer.fromCheckpoint(c, text);
      tr.trainStep();
    } catch (e) {
      expect(e instanceof CheckpointError || e instanceof RangeError, String(e)).toBe(true);
      expect((e as Error).message).toMatch(/^(checkpoint|OfflineTrainer\.fromCheckpoint|trainer|StreamBatcher): /);
    }
    const equal =
      sameBits(c.params, ckpt.params) &&
      JSON.stringify(c.model.vocab) === JSON.stringify(vocab) &&
      sameBits(probe(model), sourceLogits);
    return { equal };
  };
  const refusal = (e: unknown, structuralMutant: boolean, added: Set<string>) => {
    expect(e, String(e)).toBeInstanceOf(CheckpointError);
    const message = (e as Error).message;
    expect(message).toMatch(/^checkpoint: /);
    expect(message).not.toContain('\n');
    if (structuralMutant) {
      // The first word after "checkpoint: " is a field of the schema (or one the mutant added),
      // or the envelope's own verdict on a retyped tag, version, checksum or body.
      const field = /^checkpoint: ([A-Za-z_$][\w$]*)/.exec(message)?.[1] ?? '';
      // An unknown field (one a retyped value brought along) is named as such.
      if (/^checkpoint: [\w$.[\]]+ is not a (checkpoint field|model setting)/.test(message)) return;
      const envelopeVerdict =
        /^checkpoint: (not an rxrnn checkpoint|format version|checksum mismatch|envelope has|body does not decode)/;
      expect(CKPT_FIELDS.includes(field) || added.has(field) || envelopeVerdict.test(message), message).toBe(true);
    }
  };

  it(`refuses or loads exactly ${RUNS} structural mutants (checksum recomputed)`, () => {
    fc.assert(
      fc.property(structural(envelope), (m) => judge('checkpoint structural', m, consume, refusal, true)),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`refuses or loads exactly ${RUNS} byte-wise mutants`, () => {
    fc.assert(
      fc.property(bytewise(good), (m) => judge('checkpoint bytes', m, consume, refusal, false)),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

// ---- State snapshots ------------------------------------------------------------------------

describe('fuzz: state snapshots', () => {
  const stack = new RnnStack({ kind: 'lstm', inputSize: 3, hiddenSize: 5, layers: 2, seed: 1 });
  const sourceHandle = createStateHandle(stack, 2);
  sourceHandle.state.forEach((_, i) => (sourceHandle.state[i] = Math.fround(Math.cos(i) * 0.9)));
  const good = sourceHandle.snapshot();
  const envelope = packr.unpack(good) as Tree;
  envelope.body = packr.unpack(envelope.body as Uint8Array);
  const target: StateHandle = createStateHandle(stack, 2);
  const marker = Math.fround(0.125);

  const consume = (bytes: Uint8Array): { equal: boolean } => {
    target.state.fill(marker);
    target.restore(bytes);
    const body = independentBody(bytes)!;
    expect(sameBits(target.state, body.state as Float32Array)).toBe(true);
    return { equal: sameBits(target.state, sourceHandle.state) };
  };
  const refusal = (e: unknown) => {
    expect(e, String(e)).toBeInstanceOf(RangeError);
    expect((e as Error).message).toMatch(/^StateHandle\.restore: /);
    expect((e as Error).message).not.toContain('\n');
    // The state is untouched by a refused snapshot.
    expect(target.state.every((v) => v === marker)).toBe(true);
  };

  it(`refuses or restores exactly ${RUNS} structural mutants (checksum recomputed)`, () => {
    fc.assert(
      fc.property(structural(envelope), (m) => judge('snapshot structural', m, consume, refusal, true)),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`refuses or restores exactly ${RUNS} byte-wise mutants`, () => {
    fc.assert(
      fc.property(bytewise(good), (m) => judge('snapshot bytes', m, consume, refusal, false)),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

// ---- The /api/weights document --------------------------------------------------------------

describe('fuzz: the weights document', () => {
  const source = new CharModel({ cell: 'gru', vocab: [...'\n abcdefgh'], hidden: 6, embeddingDim: 3, seed: 5 });
  const good = encodeWeights({ step: 12, config: source.config, params: source.params });
  const envelope = packr.unpack(good) as Tree;
  envelope.body = packr.unpack(envelope.body as Uint8Array);
  const sourceLogits = probe(source);

  /** What the page does: decode, build the model, set the weights. */
  const consume = (bytes: Uint8Array): { equal: boolean } => {
    const doc = decodeWeights(bytes);
    const model = new CharModel(doc.config);
    expect(model.params.length * 4).toBeLessThanOrEqual(bytes.length);
    model.params.set(doc.params);
    const body = independentBody(bytes)!;
    expect(sameBits(doc.params, body.params as Float32Array)).toBe(true);
    expect((body.params as Float32Array).length).toBe(formulaCount(body.config as Tree));
    return {
      equal: JSON.stringify(doc.config) === JSON.stringify(source.config) && sameBits(probe(model), sourceLogits),
    };
  };
  const refusal = (e: unknown, structuralMutant: boolean, added: Set<string>) => {
    expect(e, String(e)).toBeInstanceOf(RangeError);
    const message = (e as Error).message;
    expect(message).toMatch(/^weights: /);
    expect(message).not.toContain('\n');
    if (structuralMutant) {
      const field = /^weights: ([A-Za-z_$][\w$]*)/.exec(message)?.[1] ?? '';
      if (/^weights: [\w$.[\]]+ is not a model setting/.test(message)) return;
      const known = ['step', 'config', 'params', 'body', 'document', 'format', 'version', 'checksum'];
      expect(known.includes(field) || added.has(field), message).toBe(true);
    }
  };

  it(`refuses or loads exactly ${RUNS} structural mutants (checksum recomputed)`, () => {
    fc.assert(
      fc.property(structural(envelope), (m) => judge('weights structural', m, consume, refusal, true)),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`refuses or loads exactly ${RUNS} byte-wise mutants`, () => {
    fc.assert(
      fc.property(bytewise(good), (m) => judge('weights bytes', m, consume, refusal, false)),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

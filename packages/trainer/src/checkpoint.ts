// Checkpoint format (msgpackr, moreTypes): an outer envelope {format, version, crc32, body} around
// the packed training state, and its validation: one schema every consumer goes through (load,
// sample, score, resume, export), checked before anything is allocated from the file. Every buffer
// in a decoded checkpoint is a fresh copy owned by the caller; encoding never mutates the
// checkpoint passed in. File IO: checkpoint-file.ts.
import { CharModel, checkCharModelConfig, type ResolvedCharModelConfig } from '@rxrnn/cells';
import { RNG_STATE_LENGTH, Rng } from '@rxrnn/kernels';
import { crc32, describe } from '@rxrnn/kernels/internal';
import { Packr } from 'msgpackr';
import type { CharModelConfig } from './model.js';
import { optimizerStateProblem } from './optim/create-optimizer.js';
import type { OptimizerState } from './optim/optimizer.js';

/** The format tag of every checkpoint envelope. */
export const CHECKPOINT_FORMAT = 'rxrnn-checkpoint';
/** The envelope version this build writes and reads. */
export const CHECKPOINT_VERSION = 1;

/**
 * Upper bounds on the parts of a checkpoint that the model config does not size (the config's
 * own bounds are CHAR_MODEL_LIMITS of @rxrnn/cells): generous, finite, so that a hostile file is
 * refused before it can cost more than its own size.
 */
export const CHECKPOINT_LIMITS: Readonly<{
  /** Rows of `history`: 100,000 (the trainers thin theirs at 4,000). */
  historyRows: number;
  /** Batch rows of `cursor.state`: 65,536 (as `batchSize`). */
  stateRows: number;
  /** Values (numbers, strings, booleans, nulls, objects, arrays) in `training`, all levels: 1,000. */
  trainingValues: number;
  /** Nesting depth of `training`: 4. */
  trainingDepth: number;
  /** Characters of a string in `training`: 4,096. */
  stringLength: number;
  /** Bytes of a checkpoint file: 2^31 − 1 (what Node reads into one buffer). */
  fileBytes: number;
}> = Object.freeze({
  historyRows: 100_000,
  stateRows: 65_536,
  trainingValues: 1_000,
  trainingDepth: 4,
  stringLength: 4_096,
  fileBytes: 2 ** 31 - 1,
});

/**
 * A load or validation failure: an empty, truncated, bit-flipped, foreign, wrong-version file, or
 * one whose checksum is valid but whose content is not a consistent checkpoint. The message is one
 * line naming the field: `checkpoint: model.layers must be an integer in [1, 64], got 100000`.
 */
export class CheckpointError extends Error {
  /** Always 'CheckpointError'. */
  override readonly name = 'CheckpointError';
  /**
   * A refused checkpoint.
   * @param message what is wrong (the path, when given, is appended in parentheses).
   * @param path the file it came from.
   */
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(path ? `${message} (${path})` : message);
  }
}

/** One row of metric history: train loss is the mean since the previous row, in nats per token. */
export interface HistoryEntry {
  /** Updates so far. */
  step: number;
  /** Training tokens so far. */
  tokens: number;
  /** Training seconds so far. */
  seconds: number;
  /** The learning rate of the last update. */
  lr: number;
  /** Mean train loss since the previous row (absent on an evaluation row with no update since). */
  trainLoss?: number;
  /** Validation loss in nats per token when this row came with an evaluation. */
  valLoss?: number;
}

/** Everything that decides what the next update does, plus the record of what happened so far. */
export interface Checkpoint {
  /** The model's full config (cell, sizes, vocab in id order, seed, dropout probabilities). */
  model: CharModelConfig;
  /** The current parameters, in the model's layout. */
  params: Float32Array;
  /** Training settings (plain data: batch, bptt, optimizer, schedule, clipping, split, seed...). */
  training: Record<string, unknown>;
  /** The optimizer's kind, settings, step count and moments (restoreOptimizer rebuilds it). */
  optimizer: OptimizerState;
  /** Seeded RNG state of the trainer (@rxrnn/kernels Rng.getState(), RNG_STATE_LENGTH words). */
  rng: Uint32Array;
  /** Data cursor and the carried hidden state of the B streams, so resume continues exactly. */
  cursor: {
    /** Offset of the next window within each stream. */
    position: number;
    /** Passes over the training text so far. */
    epoch: number;
    /** The current epoch's random shift of the stream starts. */
    shift: number;
    /** The carried state [B × stateSize]. */
    state: Float32Array;
  };
  /** Updates, tokens, training seconds, and the running train-loss sum/count since the last history row. */
  counters: {
    /** Updates. */
    step: number;
    /** Training tokens. */
    tokens: number;
    /** Training seconds. */
    seconds: number;
    /** Train-loss sum (nats) since the last history row. */
    lossSum?: number;
    /** Positions in lossSum. */
    lossCount?: number;
  };
  /** One row per logged update or evaluation, oldest first. */
  history: HistoryEntry[];
  /** Best validation loss seen (nats per token) and the parameters that scored it. */
  best: {
    /** Mean validation loss, nats per token. */
    valLoss: number;
    /** The update it was measured after. */
    step: number;
    /** The parameters that scored it. */
    params: Float32Array;
  } | null;
}

// One Packr for both directions: moreTypes makes typed arrays round-trip as themselves, and
// records are off so the files stay plain msgpack that other tools can read.
const packr = new Packr({ moreTypes: true, useRecords: false });

/**
 * The checkpoint as file bytes: msgpack `{format: "rxrnn-checkpoint", version: 1, crc32, body}`,
 * `body` the msgpack of the checkpoint (its model config resolved) and `crc32` its CRC-32.
 * @throws CheckpointError when `ckpt` does not pass checkCheckpoint (nothing is encoded).
 * @example
 * ```ts
 * import { CharModel } from '@rxrnn/cells';
 * import { decodeCheckpoint, encodeCheckpoint, OfflineTrainer } from '@rxrnn/trainer';
 * const model = new CharModel({ cell: 'lstm', vocab: [...'ab '], hidden: 8, seed: 1 });
 * const trainer = await OfflineTrainer.create(model, 'ab ba '.repeat(20), { batchSize: 2, bptt: 8 });
 * const bytes = encodeCheckpoint(trainer.toCheckpoint()); // e.g. for IndexedDB or a fetch body
 * const ckpt = decodeCheckpoint(bytes, { model: { cell: 'lstm' } }); // CheckpointError if damaged
 * console.log(ckpt.model.hidden); // 8
 * ```
 */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const valid = checkCheckpoint(ckpt);
  // pack() returns a view of msgpackr's reusable scratch buffer: copy before packing again.
  const body = new Uint8Array(packr.pack(valid));
  return new Uint8Array(
    packr.pack({ format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, crc32: crc32(body), body }),
  );
}

/** Options for checking that a checkpoint is the one the caller expects. */
export interface CheckpointExpectations {
  /** The model config the checkpoint must have been written for (compared field by field). */
  model?: Partial<CharModelConfig>;
  /** Parameter count of the model it will be loaded into. */
  paramCount?: number;
}

/**
 * Decodes and validates checkpoint bytes: envelope, format tag, version, checksum, then every
 * field of the body (see checkCheckpoint) before anything is built from it. Costs time and
 * memory proportional to `bytes.length`, whatever the bytes say.
 * @param expect optional model config fields and parameter count the checkpoint must have.
 * @param path the file the bytes came from, for messages.
 * @returns the checkpoint, its model config resolved (defaults filled in), every buffer a fresh copy.
 * @throws TypeError when `bytes` is not a Uint8Array; CheckpointError naming the problem otherwise.
 */
export function decodeCheckpoint(bytes: Uint8Array, expect: CheckpointExpectations = {}, path?: string): Checkpoint {
  const fail = (msg: string): never => {
    throw new CheckpointError(`checkpoint: ${msg}`, path);
  };
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`decodeCheckpoint: expected a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length === 0) fail('empty file');
  let outer: unknown;
  try {
    outer = packr.unpack(bytes);
  } catch (e) {
    fail(`not a readable msgpack file, truncated or corrupt (${(e as Error).message})`);
  }
  if (!isObject(outer) || outer.format !== CHECKPOINT_FORMAT) {
    fail(
      `not an rxrnn checkpoint (format tag ${JSON.stringify(isObject(outer) ? outer.format : typeof outer)}, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  const env = outer as Record<string, unknown>;
  if (env.version !== CHECKPOINT_VERSION)
    fail(`format version ${describe(env.version)}, this build reads version ${CHECKPOINT_VERSION}`);
  for (const key of Object.keys(env))
    if (!['format', 'version', 'crc32', 'body'].includes(key)) fail(`envelope has an unknown field ${describe(key)}`);
  if (!(env.body instanceof Uint8Array)) fail('envelope has no body bytes');
  const body = env.body as Uint8Array;
  const sum = crc32(body);
  if (sum !== env.crc32)
    fail(`checksum mismatch (stored ${describe(env.crc32)}, computed ${sum}): the file is corrupt`);
  let ckpt: unknown;
  try {
    ckpt = packr.unpack(body);
  } catch (e) {
    fail(`body does not decode (${(e as Error).message})`);
  }
  const c = checkCheckpoint(ckpt, path);
  if (expect.model) {
    for (const [key, want] of Object.entries(expect.model)) {
      const got = (c.model as unknown as Record<string, unknown>)[key];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        fail(`model ${key} is ${short(got)}, expected ${short(want)}`);
      }
    }
  }
  if (expect.paramCount !== undefined && c.params.length !== expect.paramCount) {
    fail(`${c.params.length} parameters, the model has ${expect.paramCount}`);
  }
  return c;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

function short(x: unknown): string {
  const s = JSON.stringify(x) ?? String(x);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** "lstm, V 65, E 16, H 64, L 1": a model config in a message. */
function modelName(m: ResolvedCharModelConfig): string {
  const input = m.input === 'embedding' ? `E ${m.embeddingDim}` : 'one-hot';
  return `${m.cell}, V ${m.vocab.length}, ${input}, H ${m.hidden}, L ${m.layers}`;
}

/**
 * Validates a checkpoint that came from anywhere (decoded bytes, a worker message, a program)
 * against the schema, in an order that allocates nothing from it: the model config and its
 * limits (CHAR_MODEL_LIMITS), the parameter count it implies against `params`, then every other
 * field — optimizer kind, options and buffers sized to the params, RNG state, cursor and carried
 * state, counters, history rows, best — by type, range, length and finiteness, with no unknown
 * field. `training` is checked to be bounded plain data (what it must hold for a resume, the
 * trainer checks then: OfflineTrainer.fromCheckpoint).
 * @returns the checkpoint with its model config resolved (the other fields as given).
 * @throws CheckpointError naming the first bad field: `checkpoint: history[3].lr must be a finite
 *   number >= 0, got "lots"`.
 */
export function checkCheckpoint(x: unknown, path?: string): Checkpoint {
  const fail = (msg: string): never => {
    throw new CheckpointError(`checkpoint: ${msg}`, path);
  };
  const must = (name: string, expected: string, v: unknown): never =>
    fail(`${name} must be ${expected}, got ${describe(v)}`);
  const fields = (v: unknown, name: string, required: readonly string[], optional: readonly string[] = []) => {
    if (!isObject(v)) must(name, 'an object', v);
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o))
      if (!required.includes(key) && !optional.includes(key))
        fail(
          `${name === 'body' ? '' : `${name}.`}${key} is not a checkpoint field (expected ${[...required, ...optional].join(', ')})`,
        );
    for (const key of required) if (o[key] === undefined) fail(`${name === 'body' ? '' : `${name}.`}${key} missing`);
    return o;
  };
  const int = (v: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
      must(name, max === Number.MAX_SAFE_INTEGER ? 'an integer >= 0' : `an integer in [0, ${max}]`, v);
    return v as number;
  };
  const num = (v: unknown, name: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) must(name, 'a finite number >= 0', v);
    return v as number;
  };
  const f32 = (v: unknown, name: string): Float32Array => {
    if (!(v instanceof Float32Array)) must(name, 'a Float32Array', v);
    const a = v as Float32Array;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) must(`${name}[${i}]`, 'a finite number', a[i]);
    return a;
  };

  const c = fields(
    x,
    'body',
    ['model', 'params', 'training', 'optimizer', 'rng', 'cursor', 'counters', 'history'],
    ['best'],
  );
  if (!('best' in c)) fail('best missing');

  // The model first: its config sizes everything else, and must be sane before anything is built.
  let model: ResolvedCharModelConfig;
  try {
    model = checkCharModelConfig('checkpoint', 'model', c.model);
  } catch (e) {
    return fail((e as Error).message.replace(/^checkpoint: /, ''));
  }
  const layout = CharModel.layoutOf(model);
  const n = layout.size;
  const lengthProblem = (len: number): string => {
    if (len < n) {
      const cut = layout.views.find((v) => v.offset + v.shape.reduce((a, b) => a * b, 1) > len)!;
      return `${n - len} values short: ${cut.name} [${cut.shape.join(', ')}] at offset ${cut.offset} and what follows would be missing`;
    }
    return `${len - n} values more than the last tensor, ${layout.views.at(-1)!.name}, ends at`;
  };
  const params = (v: unknown, name: string): Float32Array => {
    if (!(v instanceof Float32Array)) must(name, 'a Float32Array', v);
    const len = (v as Float32Array).length;
    if (len !== n)
      fail(
        `${name} length ${len}, expected the parameter count of the model (${modelName(model)}) = ${n} (${lengthProblem(len)})`,
      );
    return f32(v, name);
  };
  params(c.params, 'params');

  checkPlainData(c.training, 'training', fail);

  const o = fields(c.optimizer, 'optimizer', ['kind', 'options', 'step', 'buffers']);
  const problem = optimizerStateProblem(o as unknown as OptimizerState, n);
  if (problem !== null) fail(problem);

  if (!(c.rng instanceof Uint32Array)) must('rng', 'a Uint32Array', c.rng);
  if ((c.rng as Uint32Array).length !== RNG_STATE_LENGTH)
    fail(`rng length ${(c.rng as Uint32Array).length}, expected RNG_STATE_LENGTH = ${RNG_STATE_LENGTH}`);
  try {
    new Rng(1).setState(c.rng as Uint32Array);
  } catch (e) {
    fail(`rng: ${(e as Error).message}`);
  }
  const spare = new Float64Array(new Uint32Array([(c.rng as Uint32Array)[5]!, (c.rng as Uint32Array)[6]!]).buffer)[0]!;
  if (!Number.isFinite(spare)) must('rng words 5 and 6 (the spare normal, a float64)', 'finite', spare);

  const cur = fields(c.cursor, 'cursor', ['position', 'epoch', 'shift', 'state']);
  int(cur.position, 'cursor.position');
  int(cur.epoch, 'cursor.epoch');
  int(cur.shift, 'cursor.shift');
  const state = f32(cur.state, 'cursor.state');
  const rows = state.length / layout.stateSize;
  if (!Number.isInteger(rows) || rows < 1 || rows > CHECKPOINT_LIMITS.stateRows)
    fail(
      `cursor.state length ${state.length}, expected B × the model's state size ${layout.stateSize} for B in [1, ${CHECKPOINT_LIMITS.stateRows}]`,
    );

  const k = fields(c.counters, 'counters', ['step', 'tokens', 'seconds'], ['lossSum', 'lossCount']);
  const steps = int(k.step, 'counters.step');
  const tokens = int(k.tokens, 'counters.tokens');
  num(k.seconds, 'counters.seconds');
  if ((k.lossSum === undefined) !== (k.lossCount === undefined))
    fail('counters.lossSum and counters.lossCount must come together');
  if (k.lossSum !== undefined) num(k.lossSum, 'counters.lossSum');
  if (k.lossCount !== undefined) int(k.lossCount, 'counters.lossCount');
  if (steps !== o.step) fail(`counters.step ${steps} differs from optimizer.step ${describe(o.step)}`);

  if (!Array.isArray(c.history) || c.history.length > CHECKPOINT_LIMITS.historyRows)
    must('history', `an array of at most ${CHECKPOINT_LIMITS.historyRows} rows`, c.history);
  let lastStep = 0;
  (c.history as unknown[]).forEach((entry, i) => {
    const name = `history[${i}]`;
    const h = fields(entry, name, ['step', 'tokens', 'seconds', 'lr'], ['trainLoss', 'valLoss']);
    const step = int(h.step, `${name}.step`, steps);
    if (step < lastStep) fail(`${name}.step ${step} comes before history[${i - 1}].step ${lastStep}`);
    lastStep = step;
    int(h.tokens, `${name}.tokens`, tokens);
    num(h.seconds, `${name}.seconds`);
    num(h.lr, `${name}.lr`);
    if (h.trainLoss !== undefined) num(h.trainLoss, `${name}.trainLoss`);
    if (h.valLoss !== undefined) num(h.valLoss, `${name}.valLoss`);
  });

  if (c.best !== null) {
    const b = fields(c.best, 'best', ['valLoss', 'step', 'params']);
    num(b.valLoss, 'best.valLoss');
    int(b.step, 'best.step', steps);
    params(b.params, 'best.params');
  }
  return { ...(c as unknown as Checkpoint), model };
}

/**
 * `training` must be plain data (numbers finite, strings, booleans, null, arrays and objects)
 * within CHECKPOINT_LIMITS: bounded values, depth and string length.
 */
function checkPlainData(v: unknown, name: string, fail: (msg: string) => never): void {
  if (!isObject(v)) fail(`${name} must be an object of settings, got ${describe(v)}`);
  let count = 0;
  const L = CHECKPOINT_LIMITS;
  const visit = (x: unknown, at: string, depth: number): void => {
    if (++count > L.trainingValues) fail(`${name} holds more than ${L.trainingValues} values`);
    if (x === null || typeof x === 'boolean') return;
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) fail(`${at} must be a finite number, got ${x}`);
      return;
    }
    if (typeof x === 'string') {
      if (x.length > L.stringLength)
        fail(`${at} must be a string of at most ${L.stringLength} characters, got ${x.length}`);
      return;
    }
    if (depth >= L.trainingDepth) fail(`${at} nests deeper than ${L.trainingDepth} levels`);
    if (Array.isArray(x)) {
      x.forEach((item, i) => visit(item, `${at}[${i}]`, depth + 1));
      return;
    }
    if (!isObject(x))
      fail(`${at} must be plain data (number, string, boolean, null, array, object), got ${describe(x)}`);
    for (const [key, item] of Object.entries(x as Record<string, unknown>)) visit(item, `${at}.${key}`, depth + 1);
  };
  visit(v, name, 0);
}

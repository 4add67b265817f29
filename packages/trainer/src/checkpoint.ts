// Checkpoint format (msgpackr, moreTypes): an outer envelope {format, version, crc32, body} around
// the packed training state, and its validation. Every buffer in a decoded checkpoint is a fresh
// copy owned by the caller; encoding never mutates the checkpoint passed in. File IO: checkpoint-file.ts.
import { RNG_STATE_LENGTH } from '@rxrnn/kernels';
import { Packr } from 'msgpackr';
import { crc32 } from './internal/crc32.js';
import type { CharModelConfig } from './model.js';
import type { OptimizerState } from './optim/optimizer.js';

export const CHECKPOINT_FORMAT = 'rxrnn-checkpoint';
export const CHECKPOINT_VERSION = 1;
// Optional model fields: version 1 files written before they existed lack them, and resolving the
// config (new CharModel, OfflineTrainer.restore) gives them 0, what those models computed.
const DROPOUT_FIELDS = ['dropout', 'embeddingDropout', 'outputDropout', 'inputDropout', 'recurrentDropout'] as const;

/** A load/validation failure: corrupt, truncated, foreign, wrong-version or mismatched file. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(path ? `${message} (${path})` : message);
  }
}

/** One row of metric history: train loss is the mean since the previous row, in nats per token. */
export interface HistoryEntry {
  step: number;
  tokens: number;
  seconds: number;
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
  params: Float32Array;
  /** Training settings (plain data: batch, bptt, optimizer, schedule, clipping, split, seed...). */
  training: Record<string, unknown>;
  optimizer: OptimizerState;
  /** Seeded RNG state of the trainer (@rxrnn/kernels Rng.getState(), RNG_STATE_LENGTH words). */
  rng: Uint32Array;
  /** Data cursor and the carried hidden state of the B streams, so resume continues exactly. */
  cursor: { position: number; epoch: number; shift: number; state: Float32Array };
  /** Updates, tokens, training seconds, and the running train-loss sum/count since the last history row. */
  counters: { step: number; tokens: number; seconds: number; lossSum?: number; lossCount?: number };
  history: HistoryEntry[];
  /** Best validation loss seen (nats per token) and the parameters that scored it. */
  best: { valLoss: number; step: number; params: Float32Array } | null;
}

// One Packr for both directions: moreTypes makes typed arrays round-trip as themselves, and
// records are off so the files stay plain msgpack that other tools can read.
const packr = new Packr({ moreTypes: true, useRecords: false });

export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  validateBody(ckpt, undefined);
  // pack() returns a view of msgpackr's reusable scratch buffer: copy before packing again.
  const body = new Uint8Array(packr.pack(ckpt));
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

export function decodeCheckpoint(bytes: Uint8Array, expect: CheckpointExpectations = {}, path?: string): Checkpoint {
  const fail = (msg: string): never => {
    throw new CheckpointError(msg, path);
  };
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`decodeCheckpoint: expected a Uint8Array, got ${typeof bytes}`);
  if (bytes.length === 0) fail('checkpoint: empty file');
  let outer: unknown;
  try {
    outer = packr.unpack(bytes);
  } catch (e) {
    fail(`checkpoint: not a readable msgpack file, truncated or corrupt (${(e as Error).message})`);
  }
  if (!isObject(outer) || outer.format !== CHECKPOINT_FORMAT) {
    fail(
      `checkpoint: not an rxrnn checkpoint (format tag ${JSON.stringify(isObject(outer) ? outer.format : typeof outer)}, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  const env = outer as Record<string, unknown>;
  if (env.version !== CHECKPOINT_VERSION)
    fail(`checkpoint: format version ${String(env.version)}, this build reads version ${CHECKPOINT_VERSION}`);
  if (!(env.body instanceof Uint8Array)) fail('checkpoint: envelope has no body bytes');
  const body = env.body as Uint8Array;
  if (crc32(body) !== env.crc32)
    fail(`checkpoint: checksum mismatch (stored ${String(env.crc32)}, computed ${crc32(body)}): the file is corrupt`);
  let ckpt: unknown;
  try {
    ckpt = packr.unpack(body);
  } catch (e) {
    fail(`checkpoint: body does not decode (${(e as Error).message})`);
  }
  validateBody(ckpt, path);
  const c = ckpt as Checkpoint;
  if (expect.model) {
    for (const [key, want] of Object.entries(expect.model)) {
      const got = (c.model as unknown as Record<string, unknown>)[key];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        fail(`checkpoint: model ${key} is ${short(got)}, expected ${short(want)}`);
      }
    }
  }
  if (expect.paramCount !== undefined && c.params.length !== expect.paramCount) {
    fail(`checkpoint: ${c.params.length} parameters, the model has ${expect.paramCount}`);
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

// Validates shape and internal consistency; throws CheckpointError naming the first bad field.
function validateBody(x: unknown, path: string | undefined): asserts x is Checkpoint {
  const fail = (msg: string): never => {
    throw new CheckpointError(`checkpoint: ${msg}`, path);
  };
  if (!isObject(x)) fail(`body must be an object, got ${Array.isArray(x) ? 'an array' : typeof x}`);
  const c = x as Record<string, unknown>;
  const int = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      fail(`${what} must be an integer >= 0, got ${short(v)}`);
    return v as number;
  };
  const num = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${what} must be a finite number, got ${short(v)}`);
    return v as number;
  };
  const f32 = (v: unknown, what: string, len?: number): Float32Array => {
    if (!(v instanceof Float32Array)) fail(`${what} must be a Float32Array, got ${v === null ? 'null' : typeof v}`);
    const a = v as Float32Array;
    if (len !== undefined && a.length !== len) fail(`${what} length ${a.length}, expected ${len}`);
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i])) fail(`${what}[${i}] is ${a[i]}, expected a finite number`);
    return a;
  };

  // Model config: enough to rebuild the model and its vocabulary.
  if (!isObject(c.model)) fail('model config missing');
  const m = c.model as Record<string, unknown>;
  if (!['rnn', 'gru', 'lstm'].includes(m.cell as string))
    fail(`model.cell must be rnn, gru or lstm, got ${short(m.cell)}`);
  if (!Array.isArray(m.vocab) || m.vocab.length === 0 || !m.vocab.every((ch) => typeof ch === 'string'))
    fail('model.vocab must be a non-empty array of strings');
  if (new Set(m.vocab as string[]).size !== (m.vocab as string[]).length) fail('model.vocab has duplicate entries');
  if (int(m.hidden, 'model.hidden') === 0) fail('model.hidden must be > 0');
  if (int(m.layers, 'model.layers') === 0) fail('model.layers must be > 0');
  for (const key of DROPOUT_FIELDS) {
    const p = m[key];
    if (p !== undefined && !(typeof p === 'number' && p >= 0 && p < 1))
      fail(`model.${key} must be a number in [0, 1), got ${short(p)}`);
  }

  const params = f32(c.params, 'params');
  if (params.length === 0) fail('params is empty');
  if (!isObject(c.training)) fail('training settings missing');

  if (!isObject(c.optimizer)) fail('optimizer state missing');
  const o = c.optimizer as Record<string, unknown>;
  if (typeof o.kind !== 'string') fail('optimizer.kind missing');
  if (!isObject(o.options)) fail('optimizer.options missing');
  int(o.step, 'optimizer.step');
  if (!isObject(o.buffers)) fail('optimizer.buffers missing');
  for (const [k, b] of Object.entries(o.buffers as object)) f32(b, `optimizer.buffers.${k}`, params.length);

  if (!(c.rng instanceof Uint32Array) || c.rng.length !== RNG_STATE_LENGTH)
    fail(`rng must be a Uint32Array of ${RNG_STATE_LENGTH} words`);
  if (!isObject(c.cursor)) fail('cursor missing');
  const cur = c.cursor as Record<string, unknown>;
  int(cur.position, 'cursor.position');
  int(cur.epoch, 'cursor.epoch');
  int(cur.shift, 'cursor.shift');
  f32(cur.state, 'cursor.state');

  if (!isObject(c.counters)) fail('counters missing');
  const k = c.counters as Record<string, unknown>;
  int(k.step, 'counters.step');
  int(k.tokens, 'counters.tokens');
  num(k.seconds, 'counters.seconds');
  if (k.lossSum !== undefined) num(k.lossSum, 'counters.lossSum');
  if (k.lossCount !== undefined) int(k.lossCount, 'counters.lossCount');

  if (!Array.isArray(c.history)) fail('history must be an array');
  (c.history as unknown[]).forEach((entry, i) => {
    if (!isObject(entry)) fail(`history[${i}] must be an object`);
    const h = entry as Record<string, unknown>;
    int(h.step, `history[${i}].step`);
    if (h.trainLoss !== undefined) num(h.trainLoss, `history[${i}].trainLoss`);
    if (h.valLoss !== undefined) num(h.valLoss, `history[${i}].valLoss`);
  });

  if (c.best !== null) {
    if (!isObject(c.best)) fail('best must be null or an object');
    const b = c.best as Record<string, unknown>;
    num(b.valLoss, 'best.valLoss');
    int(b.step, 'best.step');
    f32(b.params, 'best.params', params.length);
  }
}

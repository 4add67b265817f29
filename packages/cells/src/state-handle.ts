// State handles: a hidden state that outlives one subscription, shared by operators and generate().
// Owns one flat Float32Array `[B × stateSize]` (from the cell's or model's createState) for its
// whole life; reset/restore write into it in place, so every operator holding the handle sees them.
// Snapshot bytes (version 2): msgpack {format, version, crc32, body}, body = msgpack {spec, batch, state}.
import { crc32 } from '@rxrnn/kernels/internal';
import { Packr } from 'msgpackr';
import type { CellKind, StepCell, StepModel } from './operators/internal/contract-types.js';
import { article, checkPositiveInt, describe } from './operators/internal/validate.js';

/** Format tag and version written into every snapshot. Version 1 (no checksum) is refused. */
const FORMAT = 'rxrnn/state';
const VERSION = 2;
/** Bytes a snapshot takes besides its state floats (tag, spec, keys); far more than it needs. */
const OVERHEAD = 1024;

/** Plain msgpack (records off) so other tools can read it; `moreTypes` keeps the Float32Array one. */
const packr = new Packr({ moreTypes: true, useRecords: false });

/** What a state belongs to: enough to refuse restoring it into anything else. */
export interface StateSpec {
  /** A single cell, or a whole model (all layers' states concatenated, layer 0 first). */
  readonly target: 'cell' | 'model';
  /** The cell kind. */
  readonly kind: CellKind;
  /** n_x for a cell, V (vocabulary size) for a model. */
  readonly inputSize: number;
  /** H. */
  readonly hiddenSize: number;
  /** L (1 for a single cell). */
  readonly layers: number;
  /** Floats per batch row. */
  readonly stateSize: number;
}

/** Describes the state layout of a cell or a char model. */
export function stateSpecOf(target: StepCell | StepModel): StateSpec {
  if (isModel(target)) {
    const c = target.config;
    return {
      target: 'model',
      kind: c.cell,
      inputSize: c.vocab.length,
      hiddenSize: c.hidden,
      layers: c.layers ?? 1,
      stateSize: target.createState(1).length,
    };
  }
  // A stack (RnnStack) steps like a cell and says how many layers its state holds.
  const layers = (target as { layers?: unknown }).layers;
  return {
    target: 'cell',
    kind: target.kind,
    inputSize: target.inputSize,
    hiddenSize: target.hiddenSize,
    layers: typeof layers === 'number' ? layers : 1,
    stateSize: target.stateSize,
  };
}

function isModel(t: StepCell | StepModel): t is StepModel {
  return typeof (t as StepModel).config === 'object' && (t as StepModel).config !== null;
}

function sameSpec(a: StateSpec, b: StateSpec): boolean {
  return (
    a.target === b.target &&
    a.kind === b.kind &&
    a.inputSize === b.inputSize &&
    a.hiddenSize === b.hiddenSize &&
    a.layers === b.layers &&
    a.stateSize === b.stateSize
  );
}

/** "an lstm cell (n_x 8, H 16)", "an lstm cell (n_x 8, H 16, 2 layers)" (a stack), "a gru model (V 65, H 128, 1 layer)". */
export function formatSpec(s: StateSpec): string {
  const inName = s.target === 'model' ? 'V' : 'n_x';
  const layers = s.target === 'model' || s.layers !== 1 ? `, ${s.layers} layer${s.layers === 1 ? '' : 's'}` : '';
  return `${article(s.kind)} ${s.kind} ${s.target} (${inName} ${s.inputSize}, H ${s.hiddenSize}${layers})`;
}

/**
 * A persistent hidden state for B rows. Pass it as `{ state: handle }` to rnn/gru/lstm or
 * generate() to keep the state between subscriptions, or to share it between them. snapshot()
 * and restore() move it to and from bytes (checksummed); a handle refuses a snapshot of a
 * different cell or model.
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { createStateHandle, LstmCell, lstm } from '@rxrnn/cells';
 * const cell = new LstmCell({ inputSize: 2, hiddenSize: 3, seed: 1 });
 * const handle = createStateHandle(cell);
 * of(Float32Array.of(1, 0)).pipe(lstm(cell, { state: handle })).subscribe();
 * const bytes = handle.snapshot(); // Uint8Array the caller owns
 * handle.reset(); // zeros again
 * handle.restore(bytes); // back to the state after the input
 * ```
 */
export class StateHandle {
  /** The cell or model the state belongs to. */
  readonly spec: StateSpec;
  /** Batch rows B. */
  readonly batch: number;
  /** The live state `[B × stateSize]`; operators advance it in place. */
  readonly state: Float32Array;
  /** What reset() goes back to: the owner's fresh state. */
  readonly #initial: Float32Array;

  /**
   * A zero state of `target` (a cell, a stack or a CharModel) for B rows; createStateHandle is the same.
   * @throws RangeError when B is not a positive integer
   */
  constructor(target: StepCell | StepModel, B = 1) {
    this.batch = checkPositiveInt('createStateHandle', 'batch', B);
    this.spec = stateSpecOf(target);
    this.state = target.createState(B);
    this.#initial = this.state.slice();
  }

  /** Back to the fresh (zero) state. */
  reset(): void {
    this.state.set(this.#initial);
  }

  /**
   * The state as bytes the caller owns (a plain Uint8Array with its own buffer, not a view into a
   * pool): msgpack `{format: "rxrnn/state", version: 2, crc32, body}` where `body` is the msgpack
   * of `{spec, batch, state}` and `crc32` its CRC-32, so that restore() detects any damage.
   */
  snapshot(): Uint8Array {
    // pack() returns a view of msgpackr's reusable buffer, which the next pack() overwrites.
    const body = new Uint8Array(packr.pack({ spec: { ...this.spec }, batch: this.batch, state: this.state.slice() }));
    return new Uint8Array(packr.pack({ format: FORMAT, version: VERSION, crc32: crc32(body), body }));
  }

  /**
   * Overwrites the state from snapshot() bytes. Everything is checked before the state is touched:
   * the size (at most the state's bytes plus a small overhead, so foreign bytes cost nothing to
   * refuse), format tag, version, checksum, the owner's spec and batch, the state's length and
   * finiteness.
   * @throws TypeError when `bytes` is not a Uint8Array; RangeError (state untouched) on bytes of
   *   another format, version (version 1 snapshots carry no checksum and are not read), owner or
   *   batch, and on damaged or truncated bytes.
   */
  restore(bytes: Uint8Array): void {
    const where = 'StateHandle.restore';
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`${where}: got ${describe(bytes)}, expected a Uint8Array from snapshot()`);
    }
    const most = this.state.length * 4 + OVERHEAD;
    if (bytes.length > most) {
      throw new RangeError(
        `${where}: ${bytes.length} bytes, expected at most ${most} for a snapshot of ${formatSpec(this.spec)} (batch ${this.batch})`,
      );
    }
    const env = unpackObject(where, bytes, 'bytes');
    if (env.format !== FORMAT) {
      throw new RangeError(`${where}: format ${describe(env.format)}, expected "${FORMAT}"`);
    }
    if (env.version === 1) {
      throw new RangeError(
        `${where}: version 1, expected ${VERSION}: version 1 snapshots have no checksum and are no longer read; take a new snapshot()`,
      );
    }
    if (env.version !== VERSION) {
      throw new RangeError(`${where}: version ${describe(env.version)}, expected ${VERSION}`);
    }
    onlyKeys(where, env, ['format', 'version', 'crc32', 'body'], 'snapshot');
    if (!(env.body instanceof Uint8Array)) {
      throw new RangeError(`${where}: body must be bytes, got ${describe(env.body)}`);
    }
    const sum = crc32(env.body);
    if (env.crc32 !== sum) {
      throw new RangeError(
        `${where}: checksum mismatch (stored ${describe(env.crc32)}, computed ${sum}): the snapshot is damaged`,
      );
    }
    const snap = unpackObject(where, env.body, 'body');
    onlyKeys(where, snap, ['spec', 'batch', 'state'], 'body');
    const spec = checkSpec(where, snap.spec);
    if (!sameSpec(spec, this.spec)) {
      throw new RangeError(`${where}: snapshot of ${formatSpec(spec)}, expected ${formatSpec(this.spec)}`);
    }
    if (snap.batch !== this.batch) {
      throw new RangeError(`${where}: batch ${describe(snap.batch)}, expected ${this.batch}`);
    }
    const state = snap.state;
    if (!(state instanceof Float32Array) || state.length !== this.state.length) {
      const got = state instanceof Float32Array ? `length ${state.length}` : describe(state);
      throw new RangeError(`${where}: state ${got}, expected a Float32Array of length ${this.state.length}`);
    }
    for (let i = 0; i < state.length; i++) {
      if (!Number.isFinite(state[i]!)) {
        throw new RangeError(`${where}: state[${i}] must be a finite number, got ${state[i]}`);
      }
    }
    this.state.set(state);
  }
}

/** msgpack bytes that must hold a plain object (map); RangeError naming `what` otherwise. */
function unpackObject(where: string, bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (e) {
    throw new RangeError(`${where}: unreadable ${what} (${(e as Error).message}), expected a state snapshot`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new RangeError(`${where}: ${what} decode to ${describe(value)}, expected a state snapshot`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(where: string, o: Record<string, unknown>, keys: readonly string[], what: string): void {
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) throw new RangeError(`${where}: ${what} has an unknown field ${JSON.stringify(key)}`);
  }
}

/** A spec read from snapshot bytes: exactly the StateSpec fields, of the right kinds. */
function checkSpec(where: string, v: unknown): StateSpec {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) {
    throw new RangeError(`${where}: spec must be an object, got ${describe(v)}`);
  }
  const s = v as Record<string, unknown>;
  onlyKeys(where, s, ['target', 'kind', 'inputSize', 'hiddenSize', 'layers', 'stateSize'], 'spec');
  if (s.target !== 'cell' && s.target !== 'model') {
    throw new RangeError(`${where}: spec.target must be "cell" or "model", got ${describe(s.target)}`);
  }
  if (s.kind !== 'rnn' && s.kind !== 'gru' && s.kind !== 'lstm') {
    throw new RangeError(`${where}: spec.kind must be "rnn", "gru" or "lstm", got ${describe(s.kind)}`);
  }
  for (const key of ['inputSize', 'hiddenSize', 'layers', 'stateSize'] as const) {
    const n = s[key];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`${where}: spec.${key} must be a positive integer, got ${describe(n)}`);
    }
  }
  return s as unknown as StateSpec;
}

/**
 * Throws a RangeError unless `handle` holds a state of `owner` (same spec) for `B` rows: operators
 * call it when they are made, so a mismatch never reaches a step.
 */
export function checkHandleFits(op: string, handle: StateHandle, owner: StepCell | StepModel, B: number): void {
  const want = stateSpecOf(owner);
  if (!sameSpec(handle.spec, want) || handle.batch !== B) {
    throw new RangeError(
      `${op}: state handle for ${formatSpec(handle.spec)} (batch ${handle.batch}), expected ${formatSpec(want)} (batch ${B})`,
    );
  }
}

/** A state handle for `B` rows (default 1) of a cell or a char model. */
export function createStateHandle(target: StepCell | StepModel, B = 1): StateHandle {
  return new StateHandle(target, B);
}

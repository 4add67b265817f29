// State handles: a hidden state that outlives one subscription, shared by operators and generate().
// Owns one flat Float32Array `[B × stateSize]` (from the cell's or model's createState) for its
// whole life; reset/restore write into it in place, so every operator holding the handle sees them.
import { Packr } from 'msgpackr';
import type { CellKind, StepCell, StepModel } from './operators/internal/contract-types.js';
import { article, checkPositiveInt, describe } from './operators/internal/validate.js';

/** Format tag and version written into every snapshot. */
const FORMAT = 'rxrnn/state';
const VERSION = 1;

/** `moreTypes` round-trips the Float32Array as a typed array instead of a plain list. */
const packr = new Packr({ moreTypes: true });

/** What a state belongs to: enough to refuse restoring it into anything else. */
export interface StateSpec {
  /** A single cell, or a whole model (all layers' states concatenated, layer 0 first). */
  readonly target: 'cell' | 'model';
  readonly kind: CellKind;
  /** n_x for a cell, V (vocabulary size) for a model. */
  readonly inputSize: number;
  readonly hiddenSize: number;
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
 * generate() to keep the state between subscriptions, or to share it between them.
 */
export class StateHandle {
  readonly spec: StateSpec;
  /** Batch rows B. */
  readonly batch: number;
  /** The live state `[B × stateSize]`; operators advance it in place. */
  readonly state: Float32Array;
  /** What reset() goes back to: the owner's fresh state. */
  readonly #initial: Float32Array;

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

  /** The state as msgpack bytes, tagged with format, version, owner spec and batch. */
  snapshot(): Uint8Array {
    return packr.pack({
      format: FORMAT,
      version: VERSION,
      spec: this.spec,
      batch: this.batch,
      state: this.state.slice(),
    });
  }

  /** Overwrites the state from snapshot() bytes; throws (leaving the state untouched) on a mismatch. */
  restore(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`StateHandle.restore: got ${describe(bytes)}, expected a Uint8Array from snapshot()`);
    }
    let snap: Record<string, unknown>;
    try {
      snap = packr.unpack(bytes) as Record<string, unknown>;
    } catch (e) {
      throw new RangeError(
        `StateHandle.restore: unreadable bytes (${(e as Error).message}), expected a state snapshot`,
      );
    }
    if (typeof snap !== 'object' || snap === null || snap.format !== FORMAT) {
      throw new RangeError(`StateHandle.restore: format ${describe(snap?.format)}, expected "${FORMAT}"`);
    }
    if (snap.version !== VERSION) {
      throw new RangeError(`StateHandle.restore: version ${describe(snap.version)}, expected ${VERSION}`);
    }
    const spec = snap.spec as StateSpec;
    if (typeof spec !== 'object' || spec === null || !sameSpec(spec, this.spec)) {
      const got = typeof spec === 'object' && spec !== null ? formatSpec(spec) : describe(spec);
      throw new RangeError(`StateHandle.restore: snapshot of ${got}, expected ${formatSpec(this.spec)}`);
    }
    if (snap.batch !== this.batch) {
      throw new RangeError(`StateHandle.restore: batch ${describe(snap.batch)}, expected ${this.batch}`);
    }
    const state = snap.state;
    if (!(state instanceof Float32Array) || state.length !== this.state.length) {
      const got = state instanceof Float32Array ? `length ${state.length}` : describe(state);
      throw new RangeError(`StateHandle.restore: state ${got}, expected a Float32Array of length ${this.state.length}`);
    }
    for (let i = 0; i < state.length; i++) {
      if (!Number.isFinite(state[i]!)) {
        throw new RangeError(`StateHandle.restore: state[${i}] must be a finite number, got ${state[i]}`);
      }
    }
    this.state.set(state);
  }
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

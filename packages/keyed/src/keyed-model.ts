// The contract between the keyed engine and a model: what one key's state is, how an event's
// value is checked and laid into a batch row, one batched step, and what each row emits.
// keyedCell() and keyedCharModel() implement it; the engine owns every state, each subscription
// its KeyedBatch (the batch buffers).
import type { StepCell, StepModel } from '@rxrnn/cells';
import type { KeyedKey } from './types.js';

/**
 * A model the keyed engine can drive: made by `keyedCell()` (h of a cell or stack) or
 * `keyedCharModel()` (logits, a sampled token or the surprisal of the next token). The methods
 * are the engine's side of the contract; an application only passes the object on.
 *
 * One key's state is `stateSize` floats laid out as the model's state for one batch row: blocks
 * of `segment` floats ([h | c] per layer). For B rows the model's layout is the same blocks, each
 * `[B × segment]` (docs/contracts.md: `[h (B×H) | c (B×H)]` per layer, layer 0 first), so the
 * engine gathers a batch with row copies. Per-key data beyond the floats (a sampler's Rng, the
 * previous token) is the model's `extra`, snapshotted with the state.
 */
export interface KeyedModel<V, O> {
  /** What the model is, for messages: `an lstm stack (n_x 8, H 16, 2 layers)`. */
  readonly description: string;
  /** What the outputs are: 'h' | 'logits' | 'sample' | 'surprisal'; a snapshot records it. */
  readonly output: string;
  /** Floats of recurrent state per key. */
  readonly stateSize: number;
  /** Floats per block of the state (H); stateSize is a multiple of it. */
  readonly segment: number;
  /** The cell, stack or char model the state belongs to (its state handles snapshot one key). */
  readonly target: StepCell | StepModel;
  /** The extra data of a key seen for the first time (null when the model keeps none). */
  createExtra(key: KeyedKey): unknown;
  /** The extra data as plain msgpack-able data for a snapshot. */
  writeExtra(extra: unknown): unknown;
  /** Extra data read back from a snapshot: validated, or a RangeError naming what is wrong. */
  readExtra(data: unknown, where: string): unknown;
  /**
   * Checks one event's value before it is queued: returns the error to report (a TypeError or
   * RangeError whose message the engine completes with ` at step <seq> of key <key>`), or undefined.
   */
  check(value: unknown): Error | undefined;
  /** The batch buffers for up to `maxBatch` rows, owned by one subscription until release(). */
  createBatch(maxBatch: number): KeyedBatch<V, O>;
}

/** One subscription's batch buffers and the batched step over them (KeyedModel.createBatch). */
export interface KeyedBatch<V, O> {
  /** False when the event is answered from the key's extra data alone, without a step. */
  needsStep(value: V, extra: unknown): boolean;
  /** Lays the event's input into batch row `b`. */
  setRow(b: number, value: V, extra: unknown): void;
  /** One batched step: `states` [blocks of B × segment] advance in place from rows 0..B-1. */
  step(states: Float32Array, B: number): void;
  /**
   * The output of the event in batch row `b` after step() (b = -1: an event that needed no step),
   * a fresh value the engine hands out; updates the key's extra data.
   * @throws RangeError when the model's own numbers are not finite (the stream errors).
   */
  output(b: number, value: V, extra: unknown): O;
  /** Gives the buffers back; the batch must not be used afterwards. */
  release(): void;
}

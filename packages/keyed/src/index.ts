// @rxrnn/keyed public API: many streams through one model — the keyed() operator with per-key
// state, bounded memory (maxKeys, idleMs) over a pluggable StateStore, and micro-batched steps.
// Browser-safe; the directory store is in ./node.

/**
 * Many streams through one recurrent model: the keyed() operator over interleaved `{ key, value }`
 * events, per-key hidden state with bounded memory (maxKeys, idleMs) over a pluggable StateStore,
 * and micro-batched steps. Browser-safe; the directory store is in `@rxrnn/keyed/node`.
 *
 * @module @rxrnn/keyed
 */
export { type KeyedOptions, keyed } from './keyed.js';
export { keyedCell } from './keyed-cell.js';
export {
  type CharModelOutput,
  type KeyedCharModelOptions,
  keyedCharModel,
  type TokenInput,
} from './keyed-char-model.js';
export type { KeyedBatch, KeyedModel } from './keyed-model.js';
export { createKeyedStates, KeyedStates, type KeyedStatesOptions } from './keyed-states.js';
export type { KeyedMetrics } from './metrics.js';
export { type MaybePromise, MemoryStateStore, type StateStore } from './state-store.js';
export {
  isKeyedFailure,
  type KeyedEvent,
  type KeyedFailure,
  type KeyedKey,
  type KeyedOutput,
  type KeyedResult,
} from './types.js';

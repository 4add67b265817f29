// keyed(): interleaved events of many streams { key, value } through one model, each key with its
// own hidden state, distinct keys stepped together as one batch. Options are checked here; each
// subscription gets a Batcher (queues, timers, batch buffers) over a StateTable (the states).
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, Subscriber } from 'rxjs';
import { Batcher } from './internal/batcher.js';
import { checkOneOf, checkPositiveFinite, checkPositiveInt, describe } from './internal/checks.js';
import type { KeyedModel } from './keyed-model.js';
import { checkModel, createTable, KeyedStates, type KeyedStatesOptions, TABLES } from './keyed-states.js';
import type { KeyedEvent, KeyedKey, KeyedResult } from './types.js';

/** Options of keyed(): batching, errors, and (without a KeyedStates) the memory bounds and store. */
export interface KeyedOptions extends KeyedStatesOptions {
  /**
   * Most events (of distinct keys) stepped as one batch, a positive integer. A batch runs at
   * once when this many keys have an event ready. Default 64.
   */
  maxBatch?: number;
  /**
   * Longest an event waits for its batch to fill, in milliseconds of the scheduler: 0 (the
   * default) steps what arrived in one tick; more gathers bigger batches at that much latency.
   * Once a key has a second event queued the batches run at once (waiting would only lengthen
   * that key's chain of batches). A finite number ≥ 0.
   */
  maxDelayMs?: number;
  /**
   * Longest stretch of stepping (ms, wall clock) before yielding to the event loop when a
   * backlog is worked off on the scheduler; a finite number > 0. Default 10. (Full batches that
   * arrive together run at once, and completion works off everything.)
   */
  sliceMs?: number;
  /** Where the maxDelayMs and idleMs timers run. Default asyncScheduler (TestScheduler in tests). */
  scheduler?: SchedulerLike;
  /**
   * What a bad event does: 'emit' (default) answers it with `{ key, seq, error }` and goes on;
   * 'error' errors the stream with that error. Either way the key's state is left as it was.
   */
  errors?: 'emit' | 'error';
  /**
   * Most events queued at once (arrived, not answered), a positive integer; one more errors the
   * stream (RangeError), as RxJS has no backpressure. Default 1,000,000.
   */
  maxPending?: number;
  /**
   * States that outlive the subscription (createKeyedStates), instead of fresh ones per
   * subscription; then maxKeys, idleMs and store are the KeyedStates' own.
   */
  states?: KeyedStates<unknown, unknown>;
}

/**
 * Steps interleaved events of many streams through one model: `{ key, value, seq? }` in,
 * `{ key, seq, output }` out, in each key's order (`seq` numbers a key's events 1, 2, 3, … unless
 * the events carry their own). Every key has its own hidden state; events of distinct keys that
 * are ready together (maxBatch of them, or whatever came within maxDelayMs) are stepped as ONE
 * batched step: their state rows gathered, one batched product per layer, scattered back. Two
 * events of one key never share a batch. Each key's outputs equal a lone per-key pipeline's
 * (`lstm()`, `embed()`…`dense()`, `generate()`, `scoreOnline()`) up to float32 rounding of batched
 * vs single-row products.
 *
 * At most maxKeys states are in memory: past it the least recently used idle key (and, with
 * idleMs, any key idle that long) is snapshotted into the store and comes back bit for bit
 * when its key returns. A bad event (wrong length, unknown token, NaN, bad seq) is answered with
 * `{ key, seq, error }` and leaves its key's state as it was (errors: 'error' errors the stream
 * instead). Unsubscribing stops all work and drops what is queued; completion answers everything
 * queued first. A store failure errors the stream.
 *
 * `model` is keyedCell(cell) or keyedCharModel(model, …), or a KeyedStates of one (shared across
 * subscriptions, one at a time, with its metrics and checkpoint()).
 *
 * @example
 * const model = new CharModel({ cell: 'lstm', vocab, hidden: 256, layers: 2, seed: 1 });
 * const states = createKeyedStates(keyedCharModel(model, { output: 'surprisal' }), { maxKeys: 10_000 });
 * typed$ // { key: userId, value: tokenId }
 *   .pipe(keyed(states, { maxBatch: 64, maxDelayMs: 2 }))
 *   .subscribe((r) => ('error' in r ? log(r.key, r.error) : score(r.key, r.seq, r.output)));
 * @throws TypeError/RangeError at once on a bad model or option.
 */
export function keyed<V, O, K extends KeyedKey = KeyedKey>(
  model: KeyedModel<V, O> | KeyedStates<V, O>,
  options: KeyedOptions = {},
): OperatorFunction<KeyedEvent<V, K>, KeyedResult<O, K>> {
  const where = 'keyed';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  }
  const states = model instanceof KeyedStates ? model : options.states;
  if (states !== undefined) {
    if (!(states instanceof KeyedStates)) {
      throw new TypeError(`${where}: states must be a KeyedStates (createKeyedStates), got ${describe(states)}`);
    }
    if (model !== states && model !== states.model) {
      throw new TypeError(`${where}: model is not the model of the KeyedStates given`);
    }
    for (const name of ['maxKeys', 'idleMs', 'store'] as const) {
      if (options[name] !== undefined) {
        throw new TypeError(`${where}: ${name} belongs to the KeyedStates given (set it in createKeyedStates)`);
      }
    }
  } else checkModel(where, model);
  const bareModel = states === undefined ? (model as KeyedModel<unknown, unknown>) : null;
  // Checked now, so a bad option throws here and not on subscribe.
  if (bareModel !== null) createTable(where, bareModel, options);
  const maxDelayMs = options.maxDelayMs ?? 0;
  if (typeof maxDelayMs !== 'number' || !Number.isFinite(maxDelayMs) || maxDelayMs < 0) {
    throw new RangeError(`${where}: maxDelayMs must be a finite number >= 0, got ${describe(maxDelayMs)}`);
  }
  const scheduler = options.scheduler ?? asyncScheduler;
  if (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.schedule !== 'function') {
    throw new TypeError(`${where}: scheduler must be an RxJS SchedulerLike, got ${describe(scheduler)}`);
  }
  const o = {
    maxBatch: checkPositiveInt(where, 'maxBatch', options.maxBatch ?? 64),
    maxDelayMs,
    sliceMs: checkPositiveFinite(where, 'sliceMs', options.sliceMs ?? 10),
    scheduler,
    errors: checkOneOf(where, 'errors', options.errors ?? 'emit', ['emit', 'error'] as const),
    maxPending: checkPositiveInt(where, 'maxPending', options.maxPending ?? 1_000_000),
  };

  return (source) =>
    new Observable<KeyedResult<O, K>>((subscriber) => {
      // Per subscription: fresh states for a bare model, else the KeyedStates' (one at a time).
      const table =
        bareModel !== null
          ? createTable(where, bareModel, options)
          : TABLES.get(states as KeyedStates<unknown, unknown>)!;
      let batcher: Batcher;
      try {
        batcher = new Batcher(table, subscriber as unknown as Subscriber<KeyedResult<unknown>>, o);
      } catch (e) {
        subscriber.error(e);
        return;
      }
      subscriber.add(() => batcher.teardown());
      // A Subscriber, so that unsubscribing downstream closes it even inside a synchronous source.
      const inner = new Subscriber<KeyedEvent<V, K>>({
        next: (event) => batcher.arrive(event),
        error: (e: unknown) => {
          batcher.teardown();
          subscriber.error(e);
        },
        complete: () => batcher.complete(),
      });
      subscriber.add(inner);
      source.subscribe(inner);
    });
}

// One subscription of keyed(): queues each key's events in order, forms batches of distinct
// ready keys (at maxBatch at once, else after maxDelayMs on the scheduler), gathers their state
// rows into one [blocks of B × H] buffer (allocF32, cut once), steps the model once, scatters the
// rows back and emits per key in order. Owns that buffer, the ready queue, the keys waiting for a
// row and the timers; the StateTable owns the states.
import { allocF32, freeF32 } from '@rxrnn/kernels';
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import type { KeyedBatch, KeyedModel } from '../keyed-model.js';
import type { KeyedEvent, KeyedKey, KeyedResult } from '../types.js';
import { describe, showKey } from './checks.js';
import { Fifo } from './fifo.js';
import { BUSY, IDLE, type Pending, type Slot, StateTable, type TableListener } from './state-table.js';

/** The operator's options after validation. */
export interface BatcherOptions {
  maxBatch: number;
  maxDelayMs: number;
  sliceMs: number;
  scheduler: SchedulerLike;
  errors: 'emit' | 'error';
  maxPending: number;
}

/** An answer decided before the batch's step (a failure, or an output that needs no step). */
interface Early {
  slot: Slot;
  seq: number;
  t: number;
  output: unknown;
  error: Error | undefined;
}

export class Batcher implements TableListener {
  readonly #table: StateTable;
  readonly #model: KeyedModel<unknown, unknown>;
  readonly #sub: Subscriber<KeyedResult<unknown>>;
  readonly #o: BatcherOptions;
  readonly #batch: KeyedBatch<unknown, unknown>;
  /** Gathered states [maxBatch × stateSize] and one view per B (so the model's caches hit). */
  #states: Float32Array;
  readonly #views: Float32Array[] = [];
  readonly #blockViewsByB: Float32Array[][] = [];
  readonly #rowSlots: (Slot | undefined)[];
  readonly #rowEvents: (Pending | undefined)[];
  readonly #rowOut: unknown[];
  readonly #rowSeq: Float64Array;
  readonly #early: Early[] = [];
  /** BUSY keys whose next event may join a batch, each at most once. */
  readonly #ready = new Fifo<Slot>();
  /** Keys not in memory that wait for a row (every row holds a busy key), in arrival order. */
  readonly #waiting = new Map<KeyedKey, Pending[]>();
  #pending = 0;
  #flushTimer: Subscription | null = null;
  /** The armed flush is a 0 ms one (a key has a second event queued: waiting cannot grow its batch). */
  #flushSoon = false;
  /** Some key got a second queued event since the last flush. */
  #chained = false;
  #idleTimer: Subscription | null = null;
  #idleAt = Infinity;
  #stepping = false;
  #completing = false;
  #finishing = false;
  #closed = false;

  /** @throws Error when the table is attached to another subscription or lost a state. */
  constructor(table: StateTable, subscriber: Subscriber<KeyedResult<unknown>>, options: BatcherOptions) {
    if (table.poisoned) throw table.poisoned;
    if (table.listener !== null) {
      throw new Error('keyed: these KeyedStates are in use by another subscription (one at a time)');
    }
    this.#table = table;
    this.#model = table.model;
    this.#sub = subscriber;
    this.#o = options;
    this.#batch = table.model.createBatch(options.maxBatch);
    this.#states = allocF32(options.maxBatch * table.model.stateSize);
    this.#rowSlots = new Array(options.maxBatch);
    this.#rowEvents = new Array(options.maxBatch);
    this.#rowOut = new Array(options.maxBatch);
    this.#rowSeq = new Float64Array(options.maxBatch);
    table.listener = this;
  }

  now(): number {
    return this.#o.scheduler.now();
  }

  get pendingEvents(): number {
    return this.#pending;
  }

  get waitingKeys(): number {
    return this.#waiting.size;
  }

  // ---- Source side ------------------------------------------------------------------------

  /** One event from the source: checked, queued in its key's order, maybe stepped at once. */
  arrive(event: KeyedEvent<unknown>): void {
    if (this.#closed) return;
    if (typeof event !== 'object' || event === null) {
      this.#fail(new TypeError(`keyed: event must be an object { key, value }, got ${describe(event)}`));
      return;
    }
    const { key, value } = event;
    let seq = event.seq;
    try {
      StateTable.checkKey(key);
    } catch (e) {
      this.#fail(e as Error);
      return;
    }
    let error = this.#model.check(value);
    if (seq !== undefined && !(typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1)) {
      error ??= new RangeError(`keyed: seq must be a positive integer, got ${describe(seq)}`);
      seq = undefined;
    }
    if (this.#pending >= this.#o.maxPending) {
      this.#fail(
        new RangeError(
          `keyed: events pending must be at most maxPending = ${this.#o.maxPending}, got one more (the source outpaces the model: slow it down or raise maxPending)`,
        ),
      );
      return;
    }
    this.#pending++;
    this.#table.events++;
    const p: Pending = { value, seq, t: performance.now(), error };
    const slot = this.#table.slots.get(key);
    if (slot !== undefined) this.#enqueue(slot, p);
    else {
      const waiting = this.#waiting.get(key);
      if (waiting !== undefined) waiting.push(p);
      else if (this.#waiting.size > 0 || !this.#table.hasRoom()) this.#waiting.set(key, [p]);
      else this.#table.admit(key, [p]);
    }
    this.#pump();
  }

  /** The source completed: every queued event is answered, then the stream completes. */
  complete(): void {
    if (this.#closed) return;
    this.#completing = true;
    this.#pump();
  }

  // ---- Table side -------------------------------------------------------------------------

  onLoaded(slot: Slot): void {
    if (this.#closed) return;
    if (slot.status === BUSY && !slot.inReady) {
      slot.inReady = true;
      this.#ready.push(slot);
    }
    this.#pump();
  }

  onDeleted(key: KeyedKey, slot: Slot | null): void {
    if (slot !== null) this.#pending -= slot.queue.length;
    const waiting = this.#waiting.get(key);
    if (waiting !== undefined) {
      this.#pending -= waiting.length;
      this.#waiting.delete(key);
    }
  }

  onFailure(error: Error): void {
    this.#fail(error);
  }

  onRoom(): void {
    if (this.#waiting.size > 0) this.#pump();
  }

  // ---- Batching ---------------------------------------------------------------------------

  #enqueue(slot: Slot, p: Pending): void {
    slot.queue.push(p);
    if (slot.queue.length === 2) this.#chained = true;
    if (slot.status === IDLE) this.#table.busy(slot);
    if (slot.status === BUSY && !slot.inReady) {
      slot.inReady = true;
      this.#ready.push(slot);
    }
  }

  /** Admits waiting keys while rows are free or idle keys can be evicted. */
  #admitWaiting(): void {
    while (this.#waiting.size > 0 && this.#table.hasRoom() && !this.#closed) {
      const [key, events] = this.#waiting.entries().next().value as [KeyedKey, Pending[]];
      this.#waiting.delete(key);
      this.#table.admit(key, events);
    }
  }

  /** Runs the full batches now (every ready key when completing), then arms the timers. */
  #pump(): void {
    if (this.#stepping || this.#closed) return;
    this.#work(false);
  }

  /** The flush timer: every ready key, batch after batch. */
  #drain(): void {
    this.#flushTimer = null;
    this.#flushSoon = false;
    this.#chained = false;
    if (this.#closed || this.#stepping) return;
    this.#work(true);
  }

  /**
   * Runs batches — of every ready key (`all`), or only full ones (all of them when completing or
   * when keys wait for a row, as batches cannot grow then) — for at most sliceMs of wall clock;
   * with work left it yields to the event loop (a 0 ms flush) and goes on from there. Events that
   * a consumer feeds back while it is handed an answer (a generation loop) join the next batch.
   */
  #work(all: boolean): void {
    this.#stepping = true;
    const start = performance.now();
    let ran = false;
    let yielded = false;
    try {
      for (;;) {
        this.#admitWaiting();
        if (this.#closed) return;
        const n = this.#ready.length;
        if (n === 0) break;
        const stuck = this.#waiting.size > 0 && !this.#table.hasRoom();
        if (!all && n < this.#o.maxBatch && !this.#completing && !stuck) break;
        if (ran && performance.now() - start >= this.#o.sliceMs) {
          yielded = true;
          break;
        }
        this.#runBatch();
        ran = true;
        if (this.#closed) return;
        // Nothing left waiting: a new event gets its full maxDelayMs, not this timer's rest.
        if (this.#ready.length === 0) this.#cancelFlush();
      }
    } catch (e) {
      this.#fail(e as Error);
      return;
    } finally {
      this.#stepping = false;
    }
    if (yielded) {
      this.#cancelFlush();
      this.#armFlush(0);
    }
    this.#afterWork();
  }

  #afterWork(): void {
    if (this.#closed) return;
    const table = this.#table;
    if (this.#completing) {
      if (this.#pending === 0 && this.#waiting.size === 0 && table.loading === 0) this.#finish();
      return;
    }
    if (this.#ready.length > 0) {
      // A key with two events queued needs two batches whenever the flush comes, and every event
      // that arrives meanwhile lengthens that chain as much as it grows the first batch (the
      // batches of a flush are as many as its longest chain): waiting longer adds latency only.
      if (this.#flushTimer === null) this.#armFlush(this.#chained ? 0 : this.#o.maxDelayMs);
      else if (this.#chained && !this.#flushSoon) {
        this.#cancelFlush();
        this.#armFlush(0);
      }
    }
    if (table.idleMs !== Infinity) {
      try {
        table.sweepIdle(this.now());
      } catch (e) {
        this.#fail(e as Error);
        return;
      }
      const at = table.nextIdleDeadline();
      if (at < this.#idleAt) {
        this.#idleTimer?.unsubscribe();
        this.#idleAt = at;
        this.#idleTimer = this.#o.scheduler.schedule(
          () => {
            this.#idleTimer = null;
            this.#idleAt = Infinity;
            this.#afterWork();
            if (this.#waiting.size > 0) this.#pump();
          },
          Math.max(0, at - this.now()),
        );
      }
    }
  }

  #cancelFlush(): void {
    this.#flushTimer?.unsubscribe();
    this.#flushTimer = null;
    this.#flushSoon = false;
  }

  #armFlush(delay: number): void {
    this.#flushSoon = delay === 0;
    this.#flushTimer = this.#o.scheduler.schedule(() => this.#drain(), delay);
  }

  /** One batched step over up to maxBatch ready keys, then their answers in key order. */
  #runBatch(): void {
    const table = this.#table;
    const batch = this.#batch;
    const early = this.#early;
    const throwing = this.#o.errors === 'error';
    const now = this.now();
    let B = 0;
    while (B < this.#o.maxBatch && this.#ready.length > 0) {
      const slot = this.#ready.shift()!;
      if (slot.deleted) continue;
      let p = slot.queue.peek();
      // The events answered without a step: duplicates, failures, outputs from the extra data.
      while (p !== undefined) {
        if (p.seq !== undefined && p.seq <= slot.seq) {
          table.duplicates++;
        } else if (p.error !== undefined) {
          const seq = p.seq ?? slot.seq + 1;
          slot.seq = seq;
          const error = located(p.error, seq, slot.key);
          if (throwing) throw error;
          early.push({ slot, seq, t: p.t, output: undefined, error });
        } else if (!batch.needsStep(p.value, slot.extra)) {
          const seq = p.seq ?? slot.seq + 1;
          const output = this.#output(-1, p, slot, seq);
          slot.seq = seq;
          early.push({ slot, seq, t: p.t, output, error: undefined });
        } else break;
        slot.queue.shift();
        this.#pending--;
        p = slot.queue.peek();
      }
      if (p === undefined) {
        slot.inReady = false;
        table.idle(slot, now);
        continue;
      }
      slot.queue.shift();
      this.#pending--;
      this.#rowSlots[B] = slot;
      this.#rowEvents[B] = p;
      batch.setRow(B, p.value, slot.extra);
      B++;
    }
    if (B > 0) {
      let states = this.#views[B];
      if (states === undefined) {
        states = this.#states.subarray(0, B * this.#model.stateSize);
        this.#views[B] = states;
      }
      this.#gather(states, B);
      batch.step(states, B);
      this.#scatter(states, B);
      for (let b = 0; b < B; b++) {
        const slot = this.#rowSlots[b]!;
        const p = this.#rowEvents[b]!;
        const seq = p.seq ?? slot.seq + 1;
        this.#rowOut[b] = this.#output(b, p, slot, seq);
        this.#rowSeq[b] = seq;
        slot.seq = seq;
      }
      table.batches++;
      table.batchRows += B;
      table.batchSizes.set(B, (table.batchSizes.get(B) ?? 0) + 1);
      // Each key goes back to the ready queue (more events) or to the idle list.
      for (let b = 0; b < B; b++) {
        const slot = this.#rowSlots[b]!;
        if (slot.deleted) continue;
        if (slot.queue.length > 0) this.#ready.push(slot);
        else {
          slot.inReady = false;
          table.idle(slot, now);
        }
      }
    }
    // Answers: per key, the early ones come first (they were ahead in the key's queue).
    for (let i = 0; i < early.length && !this.#closed; i++) {
      const e = early[i]!;
      if (e.error !== undefined) {
        table.failures++;
        this.#emit({ key: e.slot.key, seq: e.seq, error: e.error }, e.t);
      } else {
        table.outputs++;
        this.#emit({ key: e.slot.key, seq: e.seq, output: e.output }, e.t);
      }
    }
    early.length = 0;
    // (A consumer that unsubscribes while it is handed an answer tears down: stop at once.)
    for (let b = 0; b < B && !this.#closed; b++) {
      const slot = this.#rowSlots[b]!;
      const p = this.#rowEvents[b]!;
      const out = this.#rowOut[b];
      this.#rowSlots[b] = undefined;
      this.#rowEvents[b] = undefined;
      this.#rowOut[b] = undefined;
      table.outputs++;
      this.#emit({ key: slot.key, seq: this.#rowSeq[b]!, output: out }, p.t);
    }
  }

  #output(b: number, p: Pending, slot: Slot, seq: number): unknown {
    try {
      return this.#batch.output(b, p.value, slot.extra);
    } catch (e) {
      throw located(e as Error, seq, slot.key);
    }
  }

  #emit(result: KeyedResult<unknown>, t: number): void {
    this.#table.latency.add(performance.now() - t);
    this.#sub.next(result);
  }

  /** Copies each row's state from the table into the batch layout: block j of row b at (j·B + b)·H. */
  #gather(states: Float32Array, B: number): void {
    const H = this.#model.segment;
    const J = this.#model.stateSize / H;
    for (let b = 0; b < B; b++) {
      const blocks = this.#rowSlots[b]!.blocks;
      for (let j = 0; j < J; j++) states.set(blocks[j]!, (j * B + b) * H);
    }
  }

  /** The inverse of #gather: each row's advanced state back into the table. */
  #scatter(states: Float32Array, B: number): void {
    const J = this.#model.stateSize / this.#model.segment;
    const rows = this.#blockViews(states, B);
    for (let b = 0; b < B; b++) {
      const blocks = this.#rowSlots[b]!.blocks;
      for (let j = 0; j < J; j++) blocks[j]!.set(rows[j * B + b]!);
    }
  }

  /** Views of the batch buffer's blocks for B rows ([j·B + b] → block j of row b), made once per B. */
  #blockViews(states: Float32Array, B: number): Float32Array[] {
    let views = this.#blockViewsByB[B];
    if (views === undefined) {
      const H = this.#model.segment;
      views = Array.from({ length: (this.#model.stateSize / H) * B }, (_, i) => states.subarray(i * H, (i + 1) * H));
      this.#blockViewsByB[B] = views;
    }
    return views;
  }

  // ---- Endings ----------------------------------------------------------------------------

  /** Everything answered: completes once the store has every snapshot started so far. */
  #finish(): void {
    if (this.#finishing) return;
    this.#finishing = true;
    const sub = this.#sub;
    if (this.#table.writesInFlight === 0 && !this.#table.poisoned) {
      this.teardown();
      sub.complete();
      return;
    }
    this.#table.settled().then(
      () => {
        if (this.#closed) return;
        this.teardown();
        sub.complete();
      },
      (e: unknown) => this.#fail(e as Error),
    );
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    const sub = this.#sub;
    this.teardown();
    sub.error(error);
  }

  /** Stops all work: timers cancelled, queued events dropped, the states left as they are. */
  teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flushTimer?.unsubscribe();
    this.#flushTimer = null;
    this.#idleTimer?.unsubscribe();
    this.#idleTimer = null;
    const table = this.#table;
    const now = this.now();
    this.#ready.clear();
    for (const slot of table.slots.values()) {
      slot.inReady = false;
      slot.queue.clear();
      if (slot.status === BUSY) table.idle(slot, now);
      // LOADING slots become idle when their read ends (no listener by then).
    }
    this.#waiting.clear();
    this.#pending = 0;
    this.#early.length = 0;
    this.#rowSlots.fill(undefined);
    this.#rowEvents.fill(undefined);
    this.#rowOut.fill(undefined);
    if (table.listener === this) table.listener = null;
    this.#batch.release();
    freeF32(this.#states);
    this.#states = new Float32Array(0);
    this.#views.length = 0;
    this.#blockViewsByB.length = 0;
  }
}

/** The same kind of error with ` at step <seq> of key <key>` appended (the event's place). */
function located(error: Error, seq: number, key: KeyedKey): Error {
  const message = `${error.message} at step ${seq} of key ${showKey(key)}`;
  if (error instanceof TypeError) return new TypeError(message, { cause: error });
  if (error instanceof RangeError) return new RangeError(message, { cause: error });
  return new Error(message, { cause: error });
}

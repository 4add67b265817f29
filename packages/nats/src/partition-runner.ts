// One partition owned by this worker: its takeover (checkpoint record, durable consumer recreated
// at the checkpointed sequence + 1), the stream of its events through the keyed engine (states in
// KV), results to the output stream, periodic checkpoints, and a graceful release or an abort.
// Owns its engine subscription, its consumer iteration and its output publisher.

import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { Vocabulary } from '@rxrnn/cells';
import {
  createKeyedStates,
  type KeyedModel,
  type KeyedResult,
  type KeyedStates,
  keyed,
  type TokenInput,
} from '@rxrnn/keyed';
import { Subject, type Subscription } from 'rxjs';
import type { Deployment } from './deployment.js';
import { CasConflict, casWrite } from './internal/cas.js';
import { isApiError, retry, sleep } from './internal/retry.js';
import { FencedError, KvStateStore } from './kv-state-store.js';
import {
  encodeFailure,
  encodeFailureMsgpack,
  encodeOutput,
  encodeOutputMsgpack,
  type OutputEncoding,
  OutputPublisher,
} from './outputs.js';
import { checkKey, partitionOf } from './partition.js';
import { decodePartitionRecord, encodePartitionRecord, type PartitionRecord } from './records.js';

/** Longest the consuming loop runs before it lets timers and I/O (lease renewals) have a turn, ms. */
const YIELD_EVERY_MS = 10;

/** KV key of partition p's checkpoint record. */
export const partitionKey = (p: number): string => `p.${p}`;

/** What a worker's engine emits per event. */
type Output = Float32Array | number | null;

/** Settings a worker gives each of its partitions. */
export interface PartitionRunnerOptions {
  deployment: Deployment;
  partition: number;
  workerId: string;
  /** sha256 hex of the model bundle. */
  model: string;
  /** A fresh keyed view of the worker's model (one per partition: it owns batch buffers). */
  keyedModel: () => KeyedModel<TokenInput, Output>;
  /** The model's vocabulary, for events that carry a character instead of a token id. */
  vocab: Vocabulary;
  /** How output messages are encoded. */
  outputEncoding: OutputEncoding;
  maxKeys: number;
  idleMs: number;
  maxBatch: number;
  maxDelayMs: number;
  checkpointIntervalMs: number;
  /** Most events fed to the engine and not answered, and most outputs in flight, at once. */
  maxInFlight: number;
  onModelChange: 'refuse' | 'keep';
  /** True while this worker may still write for the partition (its lease is held and renewed). */
  holds: () => boolean;
  /** The runner failed on its own (a store or publish failure, a fence): the worker drops it. */
  onFailure: (error: Error) => void;
  log: (message: string) => void;
  retryMs: number;
}

/** Counters of one partition. */
export interface PartitionStats {
  /** The partition p. */
  partition: number;
  /** Last input sequence fed to the engine. */
  lastSeq: number;
  /** Input sequence of the last checkpoint. */
  checkpointSeq: number;
  /** Checkpoints written since the takeover. */
  checkpoints: number;
  /** Events fed to the engine. */
  events: number;
  /** Results the engine answered (outputs and failures). */
  results: number;
  /** Events refused before the engine (undecodable payload, key of another partition). */
  rejected: number;
  /** Outputs the stream stored (first copies). */
  published: number;
  /** Re-published outputs the stream dropped (a replay after a takeover). */
  duplicates: number;
  /** ms from acquiring the lease until the first event of the partition was answered (takeover + replay start). */
  firstResultMs: number | undefined;
  /** Mean rows per batched step of the partition's keyed engine (0 before its first step). */
  batchMean: number;
}

/** Reads an event payload: a token id, a one-character string, or `{ token, emit? }`. */
export function decodeEvent(bytes: Uint8Array, vocab: Vocabulary): TokenInput {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new RangeError(
      `event payload must be UTF-8 JSON, got ${bytes.length} bytes that are not (${(e as Error).message})`,
    );
  }
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if ([...v].length !== 1)
      throw new RangeError(`event payload string must be one character, got ${JSON.stringify(v.slice(0, 20))}`);
    if (!vocab.has(v))
      throw new RangeError(`event character ${JSON.stringify(v)} is not in the model's vocabulary of ${vocab.size}`);
    return vocab.id(v);
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.token === 'number' && (o.emit === undefined || typeof o.emit === 'boolean')) {
      return o.emit === undefined ? { token: o.token } : { token: o.token, emit: o.emit };
    }
  }
  throw new RangeError('event payload must be a token id, a one-character string or {"token": id, "emit": boolean}');
}

/**
 * Runs one partition. start() takes it over; release() hands it over (drain, checkpoint, stop);
 * abort() stops at once without writing anything (the lease moved on, or the runner failed).
 */
export class PartitionRunner {
  readonly partition: number;
  readonly #o: PartitionRunnerOptions;
  readonly #events = new Subject<{ key: string; value: TokenInput; seq: number }>();
  readonly #outputs: OutputPublisher;
  readonly #encode: typeof encodeOutput;
  readonly #encodeFailure: typeof encodeFailure;
  #states: KeyedStates<TokenInput, Output> | undefined;
  #engine: Subscription | undefined;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  /** Revision of the partition record this owner last read or wrote. */
  #recordRevision = 0;
  #record: PartitionRecord | undefined;
  #stopped = false;
  #releasing = false;
  #failed: Error | undefined;
  #checkpointing: Promise<void> | undefined;
  /** Resolves the wait of a feeding loop paused by a checkpoint or by back-pressure. */
  #resume: (() => void) | undefined;
  #pausedForCheckpoint = false;
  readonly #acquiredAt = performance.now();
  #stats: PartitionStats;
  #fed = 0;
  #answered = 0;
  #duplicatesAtStart = 0;

  constructor(options: PartitionRunnerOptions) {
    this.#o = options;
    this.partition = options.partition;
    const msgpack = options.outputEncoding === 'msgpack';
    this.#encode = msgpack ? encodeOutputMsgpack : encodeOutput;
    this.#encodeFailure = msgpack ? encodeFailureMsgpack : encodeFailure;
    this.#outputs = new OutputPublisher({
      nc: options.deployment.nc,
      subject: (key) => options.deployment.outputSubject(key),
      retryMs: options.retryMs,
    });
    this.#stats = {
      partition: options.partition,
      lastSeq: 0,
      checkpointSeq: 0,
      checkpoints: 0,
      events: 0,
      results: 0,
      rejected: 0,
      published: 0,
      duplicates: 0,
      firstResultMs: undefined,
      batchMean: 0,
    };
  }

  /** Counters right now. */
  stats(): PartitionStats {
    const c = this.#outputs.counts;
    const batchMean = this.#states?.metrics().batchMean ?? 0;
    return { ...this.#stats, published: c.published, duplicates: c.duplicates, batchMean };
  }

  /**
   * Takes the partition over: bumps the checkpoint record's epoch (so a stale owner's next
   * checkpoint fails), recreates the durable consumer at the checkpointed sequence + 1, and
   * starts consuming. Rejects when the partition cannot be taken (model mismatch, lost events,
   * NATS unavailable past the retry deadline).
   */
  async start(): Promise<void> {
    const o = this.#o;
    const d = o.deployment;
    const p = o.partition;
    const r = <T>(fn: () => Promise<T>) => retry(fn, { deadlineMs: o.retryMs });
    // 1. The checkpoint record, taken over by compare-and-set.
    for (let attempt = 0; ; attempt++) {
      const entry = await r(() => d.state.get(partitionKey(p)));
      const prev =
        entry?.operation === 'PUT'
          ? decodePartitionRecord(entry.value, `KV ${d.names.stateBucket}/${partitionKey(p)}`, p, d.partitions)
          : undefined;
      if (prev && prev.model !== o.model && o.onModelChange === 'refuse') {
        throw new Error(
          `partition ${p}: checkpoint of model sha256:${prev.model}, this worker runs sha256:${o.model} (start workers with onModelChange 'keep' to carry the states over)`,
        );
      }
      const record: PartitionRecord = {
        partition: p,
        partitions: d.partitions,
        seq: prev?.seq ?? 0,
        model: o.model,
        owner: o.workerId,
        epoch: (prev?.epoch ?? 0) + 1,
        time: Date.now(),
      };
      try {
        this.#recordRevision = await casWrite(
          d.state,
          partitionKey(p),
          encodePartitionRecord(record),
          entry?.revision ?? 0,
          o.retryMs,
        );
        this.#record = record;
        break;
      } catch (e) {
        // A stale owner wrote a checkpoint in between: read again (it stops at its next write).
        if (!(e instanceof CasConflict) || attempt >= 10) throw e;
      }
    }
    const S = this.#record.seq;
    this.#stats.lastSeq = S;
    this.#stats.checkpointSeq = S;
    // 2. Events the checkpoint does not cover must still be in the stream.
    const info = await r(() => d.jsm.streams.info(d.names.inputStream));
    if (S > 0 && info.state.first_seq > S + 1) {
      throw new Error(
        `partition ${p}: the input stream starts at sequence ${info.state.first_seq}, but the checkpoint covers only up to ${S}: events of this partition may have been removed by the stream's retention before they were processed (keep events longer than a checkpoint interval plus a failover)`,
      );
    }
    // 3. The engine over this partition's states in KV.
    const store = new KvStateStore({
      state: d.state,
      partition: p,
      model: o.model,
      writer: `${o.workerId}#${this.#record.epoch}`,
      onModelChange: o.onModelChange,
      beforeWrite: () => this.#outputs.barrier(),
      checkOwner: () => {
        if (!o.holds()) throw new FencedError(`partition ${p}: this worker no longer holds its lease`);
      },
      inMemory: (key) => this.#states?.has(key) ?? false,
      retryMs: o.retryMs,
    });
    this.#states = createKeyedStates(o.keyedModel(), { maxKeys: o.maxKeys, idleMs: o.idleMs, store });
    this.#duplicatesAtStart = 0;
    this.#engine = this.#events
      .pipe(keyed(this.#states, { maxBatch: o.maxBatch, maxDelayMs: o.maxDelayMs }))
      .subscribe({
        next: (result) => this.#onResult(result),
        error: (e: Error) => this.#fail(e),
      });
    // 4. The durable consumer of this epoch, from the first event after the checkpoint; the
    // consumers of earlier owners go.
    await this.#deleteOldConsumers();
    await this.#recreateConsumer(S + 1);
    this.#loop = this.#consume();
    this.#scheduleCheckpoint();
  }

  /** Hands the partition over: stops consuming, answers what was fed, checkpoints, stops. */
  async release(): Promise<void> {
    if (this.#stopped) throw this.#failed ?? new Error(`partition ${this.partition}: already stopped`);
    this.#stopped = true;
    this.#releasing = true;
    clearTimeout(this.#checkpointTimer);
    this.#messages?.stop();
    this.#resume?.();
    await this.#loop;
    await this.#checkpointing;
    if (this.#failed) throw this.#failed;
    await this.#checkpoint();
    this.#teardown();
  }

  /** Stops at once, writing nothing: what was not checkpointed is replayed by the next owner. */
  abort(reason: string): void {
    if (this.#stopped && !this.#engine) return;
    this.#stopped = true;
    this.#o.log(`partition ${this.partition}: stopped (${reason})`);
    clearTimeout(this.#checkpointTimer);
    this.#messages?.stop();
    this.#resume?.();
    this.#teardown();
  }

  #teardown(): void {
    this.#engine?.unsubscribe();
    this.#engine = undefined;
    this.#events.complete();
    this.#outputs.close();
  }

  #fail(e: Error): void {
    if (this.#failed || this.#stopped) return;
    this.#failed = e;
    this.abort(`failed: ${e.message}`);
    this.#o.onFailure(e);
  }

  /** This owner's consumer name (its epoch's). */
  #consumerName(): string {
    return this.#o.deployment.consumerName(this.partition, this.#record!.epoch);
  }

  /**
   * Deletes this partition's consumers of other epochs (a stale owner's, or leftovers of a
   * crash): from then on only this owner's consumer reads the partition.
   */
  async #deleteOldConsumers(): Promise<void> {
    const d = this.#o.deployment;
    const prefix = `${d.names.name}-p${this.partition}-e`;
    const mine = this.#consumerName();
    const names: string[] = [];
    await retry(
      async () => {
        names.length = 0;
        for await (const c of d.jsm.consumers.list(d.names.inputStream)) {
          // nats-server 2.9 lists a consumer being deleted meanwhile as null.
          if (c?.name?.startsWith(prefix) && c.name !== mine) names.push(c.name);
        }
      },
      { deadlineMs: this.#o.retryMs },
    );
    for (const name of names) {
      await retry(
        async () => {
          try {
            await d.jsm.consumers.delete(d.names.inputStream, name);
          } catch (e) {
            if (!isApiError(e, 10014)) throw e; // 10014: consumer not found (deleted meanwhile)
          }
        },
        { deadlineMs: this.#o.retryMs },
      );
    }
  }

  async #recreateConsumer(startSeq: number): Promise<void> {
    const d = this.#o.deployment;
    const name = this.#consumerName();
    await retry(
      async () => {
        try {
          await d.jsm.consumers.delete(d.names.inputStream, name);
        } catch (e) {
          if (!isApiError(e, 10014)) throw e; // 10014: consumer not found
        }
        await d.jsm.consumers.add(d.names.inputStream, {
          durable_name: name,
          filter_subject: `${d.names.inputPrefix}.${this.partition}.*`,
          ack_policy: AckPolicy.None,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: startSeq,
          num_replicas: d.replicas,
        });
      },
      { deadlineMs: this.#o.retryMs },
    );
  }

  /** Feeds the partition's events to the engine in stream order; recreates the consumer on a gap. */
  async #consume(): Promise<void> {
    const o = this.#o;
    const d = o.deployment;
    try {
      while (!this.#stopped) {
        const consumer = await retry(() => d.js.consumers.get(d.names.inputStream, this.#consumerName()), {
          deadlineMs: o.retryMs,
        });
        const messages = await consumer.consume({ max_messages: Math.min(1000, o.maxInFlight) });
        this.#messages = messages;
        if (this.#stopped) {
          messages.stop();
          break;
        }
        const deleted = this.#watchStatus(messages);
        let delivered = 0;
        let gap = false;
        let slice = performance.now();
        for await (const m of messages) {
          if (this.#stopped) break;
          if (performance.now() - slice >= YIELD_EVERY_MS) {
            // Buffered messages arrive as microtasks, and feeding steps the engine: without a
            // turn of the event loop now and then, lease renewals (timers, then their replies)
            // would wait behind a whole backlog and the worker would fence itself.
            await new Promise<void>((resolve) => setImmediate(resolve));
            slice = performance.now();
            if (this.#stopped) break;
          }
          const dseq = m.info.deliverySequence;
          if (dseq !== delivered + 1) {
            // A message was lost in flight (a reconnect, a leader change): start again after the
            // last event fed, so the partition's events stay in order with none missing.
            gap = true;
            o.log(`partition ${this.partition}: delivery ${dseq} after ${delivered}, recreating the consumer`);
            break;
          }
          delivered = dseq;
          if (m.seq <= this.#stats.lastSeq) continue; // already fed
          this.#feed(m);
          const max = o.maxInFlight;
          if (this.#pausedForCheckpoint || this.#fed - this.#answered >= max || this.#outputs.inFlight >= max) {
            await this.#backPressure();
          }
        }
        messages.stop();
        if (deleted.value && !this.#stopped) {
          throw new FencedError(
            `partition ${this.partition}: its consumer was deleted (another worker took the partition over)`,
          );
        }
        if (gap && !this.#stopped) await this.#recreateConsumer(this.#stats.lastSeq + 1);
        else if (!this.#stopped) await sleep(100); // the iteration ended by itself: open it again
      }
    } catch (e) {
      this.#fail(e as Error);
    }
  }

  #watchStatus(messages: ConsumerMessages): { value: boolean } {
    const deleted = { value: false };
    void (async () => {
      for await (const s of messages.status()) {
        if (s.type === 'consumer_deleted') {
          deleted.value = true;
          messages.stop();
        }
      }
    })().catch(() => {});
    return deleted;
  }

  #feed(m: JsMsg): void {
    const o = this.#o;
    if (!o.holds()) {
      // A worker that was frozen past its lease (GC, SIGSTOP, a VM pause) must not go on.
      this.#fail(
        new FencedError(`partition ${this.partition}: lease not held (renewals stopped), event ${m.seq} not fed`),
      );
      return;
    }
    const seq = m.seq;
    this.#stats.lastSeq = seq;
    const tokens = m.subject.split('.');
    const key = tokens[tokens.length - 1]!;
    let problem: string | undefined;
    try {
      checkKey('event', key);
    } catch (e) {
      this.#stats.rejected++;
      o.log(`partition ${this.partition}: event ${seq} on ${m.subject} dropped: ${(e as Error).message}`);
      return;
    }
    const home = partitionOf(key, o.deployment.partitions);
    let value: TokenInput | undefined;
    if (home !== this.partition) {
      problem = `event of key ${JSON.stringify(key)} published to partition ${this.partition}, the key belongs to partition ${home}`;
    } else {
      try {
        value = decodeEvent(m.data, o.vocab);
      } catch (e) {
        problem = (e as Error).message;
      }
    }
    if (problem !== undefined || value === undefined) {
      // Answered here, deterministically, so a replay publishes the same failure (a duplicate).
      this.#stats.rejected++;
      this.#outputs.publish(key, seq, this.#encodeFailure(key, seq, problem ?? 'bad event'));
      return;
    }
    this.#fed++;
    this.#stats.events++;
    this.#events.next({ key, value, seq });
  }

  #onResult(result: KeyedResult<Output, string>): void {
    if (!this.#o.holds()) {
      this.#fail(
        new FencedError(`partition ${this.partition}: lease not held (renewals stopped), result not published`),
      );
      return;
    }
    this.#answered++;
    this.#stats.results++;
    this.#stats.firstResultMs ??= performance.now() - this.#acquiredAt;
    const key = result.key;
    const body =
      'error' in result
        ? this.#encodeFailure(key, result.seq, result.error.message)
        : this.#encode(key, result.seq, result.output);
    this.#outputs.publish(key, result.seq, body);
    if (this.#resume && !this.#pausedForCheckpoint && this.#fed - this.#answered < this.#o.maxInFlight / 2)
      this.#wake();
  }

  /**
   * Events fed and neither answered nor skipped as duplicates (a replay after a restore). Asks
   * the engine's metrics for the duplicates: for a loop that waits, not for every event
   * (fed − answered is the cheap upper bound).
   */
  #inFlight(): number {
    const skipped = this.#states ? this.#states.metrics().duplicates - this.#duplicatesAtStart : 0;
    return this.#fed - this.#answered - skipped;
  }

  #wake(): void {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }

  async #backPressure(): Promise<void> {
    const max = this.#o.maxInFlight;
    while (!this.#stopped && (this.#pausedForCheckpoint || this.#fed - this.#answered >= max)) {
      if (!this.#pausedForCheckpoint && this.#inFlight() < max) break;
      await new Promise<void>((resolve) => {
        this.#resume = resolve;
        // Duplicates are skipped without a result: look again shortly rather than wait forever.
        setTimeout(() => this.#wake(), 5);
      });
    }
    if (this.#outputs.inFlight >= max) await this.#outputs.whenBelow(max / 2);
  }

  #scheduleCheckpoint(): void {
    if (this.#stopped) return;
    this.#checkpointTimer = setTimeout(() => {
      this.#checkpointing = this.#checkpoint().then(
        () => this.#scheduleCheckpoint(),
        (e: Error) => this.#fail(e),
      );
    }, this.#o.checkpointIntervalMs);
  }

  /**
   * Pauses feeding, waits until the engine has answered everything fed, puts every changed key
   * state (after the outputs they imply are stored) and then the partition record with the last
   * sequence fed, by compare-and-set; resumes feeding once the states are stored.
   */
  async #checkpoint(): Promise<void> {
    const o = this.#o;
    const d = o.deployment;
    const states = this.#states;
    if (!states) return;
    this.#pausedForCheckpoint = true;
    try {
      for (let i = 0; this.#fed - this.#answered > 0; i++) {
        if (this.#failed) throw this.#failed;
        if (i >= 20 && this.#inFlight() <= 0) break; // the rest were skipped as duplicates
        await sleep(i < 20 ? 0 : 2);
      }
      let seq = this.#stats.lastSeq;
      await states.checkpoint();
      await this.#outputs.barrier();
      this.#pausedForCheckpoint = false;
      this.#wake();
      if (seq === this.#stats.checkpointSeq) {
        seq = await this.#idleSeq(seq);
        this.#stats.lastSeq = Math.max(this.#stats.lastSeq, seq);
      }
      if (this.#stopped && !this.#releasing) return; // aborted meanwhile: write nothing more
      if (!o.holds()) throw new FencedError(`partition ${this.partition}: lease not held at checkpoint`);
      const record: PartitionRecord = { ...this.#record!, seq, time: Date.now() };
      try {
        this.#recordRevision = await casWrite(
          d.state,
          partitionKey(this.partition),
          encodePartitionRecord(record),
          this.#recordRevision,
          o.retryMs,
        );
      } catch (e) {
        if (e instanceof CasConflict) {
          throw new FencedError(
            `partition ${this.partition}: checkpoint record changed by another worker (taken over)`,
          );
        }
        throw e;
      }
      this.#record = record;
      this.#stats.checkpointSeq = seq;
      this.#stats.checkpoints++;
    } finally {
      this.#pausedForCheckpoint = false;
      this.#wake();
    }
  }

  /**
   * For a partition with no event since its last checkpoint: the stream's last sequence when no
   * event of the partition lies beyond what was fed (so an idle partition's checkpoint keeps up
   * with the stream and retention never looks like lost events), else `fed`.
   */
  async #idleSeq(fed: number): Promise<number> {
    const d = this.#o.deployment;
    try {
      const info = await d.jsm.streams.info(d.names.inputStream);
      const last = info.state.last_seq;
      const newest = await d.jsm.streams.getMessage(d.names.inputStream, {
        last_by_subj: `${d.names.inputPrefix}.${this.partition}.*`,
      });
      return !newest || newest.seq <= fed ? Math.max(fed, last) : fed;
    } catch {
      return fed; // an optimization only
    }
  }
}

// Publishing results to the output stream: one JSON message per event on <name>.out.<key> with
// the message id `<key>:<seq>`, so JetStream's duplicate window drops a re-publish (a retry, or a
// replay after a failover). Publishes are pipelined; barrier() is what a checkpoint waits on
// (every result published before it is stored), whenBelow() bounds the number in flight.
import type { JetStreamClient } from '@nats-io/jetstream';
import { isTransient, retry } from './internal/retry.js';

/** What a worker publishes per event (the JSON body of an output message). */
export type OutputMessage =
  | { key: string; seq: number; output: number[] | number | null }
  | { key: string; seq: number; error: string };

/** The message id of the result of `key`'s event `seq` (the event's input stream sequence). */
export function outputMsgId(key: string, seq: number): string {
  return `${key}:${seq}`;
}

const encoder = new TextEncoder();

/** JSON bytes of a result: a Float32Array becomes an array of numbers, which parse back to the same float32 values. */
export function encodeOutput(key: string, seq: number, output: Float32Array | number | null): Uint8Array {
  const value = output instanceof Float32Array ? Array.from(output) : output;
  return encoder.encode(JSON.stringify({ key, seq, output: value }));
}

/** JSON bytes of a failed event's result. */
export function encodeFailure(key: string, seq: number, message: string): Uint8Array {
  return encoder.encode(JSON.stringify({ key, seq, error: message }));
}

/**
 * Reads an output message body (what a consumer of the output stream gets); throws an Error
 * naming what is wrong when the bytes are not one.
 */
export function decodeOutput(bytes: Uint8Array): OutputMessage {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new Error(`decodeOutput: not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('decodeOutput: expected a JSON object');
  const r = v as Record<string, unknown>;
  if (typeof r.key !== 'string' || r.key === '') {
    throw new Error(`decodeOutput: key must be a non-empty string, got ${JSON.stringify(r.key)}`);
  }
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) {
    throw new Error(`decodeOutput: seq must be a positive integer, got ${JSON.stringify(r.seq)}`);
  }
  if ('error' in r) {
    if (typeof r.error !== 'string') throw new Error('decodeOutput: error must be a string');
    return { key: r.key, seq: r.seq, error: r.error };
  }
  const o = r.output;
  const ok =
    o === null ||
    (typeof o === 'number' && Number.isFinite(o)) ||
    (Array.isArray(o) && o.every((x) => typeof x === 'number' && Number.isFinite(x)));
  if (!ok) throw new Error('decodeOutput: output must be null, a finite number or an array of finite numbers');
  return { key: r.key, seq: r.seq, output: o as number[] | number | null };
}

/** Options of {@link OutputPublisher}. */
export interface OutputPublisherOptions {
  js: JetStreamClient;
  /** Output subject of a key. */
  subject: (key: string) => string;
  /** How long one publish keeps retrying through transient failures, ms. Default 30000. */
  retryMs?: number;
}

/**
 * Pipelined, retried, de-duplicated publishing. A publish that still fails after `retryMs`
 * (or fails for good) is remembered: every later barrier() throws it, so a result that could not
 * be stored is never covered by a checkpoint.
 */
export class OutputPublisher {
  readonly #o: Required<OutputPublisherOptions>;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #waiters: { limit: number; resolve: () => void }[] = [];
  #error: Error | undefined;
  #published = 0;
  #duplicates = 0;

  constructor(options: OutputPublisherOptions) {
    this.#o = { retryMs: 30_000, ...options };
  }

  /** Results stored so far (first copies), re-publishes dropped as duplicates, and publishes in flight. */
  get counts(): { published: number; duplicates: number; inFlight: number } {
    return { published: this.#published, duplicates: this.#duplicates, inFlight: this.#inFlight.size };
  }

  /** The first failure, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Starts publishing `body` as the result of (key, seq). */
  publish(key: string, seq: number, body: Uint8Array): void {
    const msgID = outputMsgId(key, seq);
    const subject = this.#o.subject(key);
    const p: Promise<void> = retry(() => this.#o.js.publish(subject, body, { msgID }), {
      deadlineMs: this.#o.retryMs,
    }).then(
      (ack) => {
        if (ack.duplicate) this.#duplicates++;
        else this.#published++;
        this.#settle(p);
      },
      (e: Error) => {
        this.#error ??= new Error(
          `output ${msgID} could not be published${isTransient(e) ? ` within ${this.#o.retryMs} ms` : ''}: ${e.message}`,
        );
        this.#settle(p);
      },
    );
    this.#inFlight.add(p);
  }

  /** Resolves once fewer than `limit` publishes are in flight. */
  whenBelow(limit: number): Promise<void> {
    if (this.#inFlight.size < limit) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ limit, resolve }));
  }

  /** Resolves when every publish started before this call is stored; throws the first failure if any. */
  async barrier(): Promise<void> {
    await Promise.all([...this.#inFlight]);
    if (this.#error) throw this.#error;
  }

  #settle(p: Promise<void>): void {
    this.#inFlight.delete(p);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (this.#inFlight.size < w.limit) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}

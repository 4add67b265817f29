// Client helpers around a deployment: publishing events to their partitions (client-side
// partitioning, the same function as the server mapping), and reading the input and output
// streams back in stream order (for tools, demos, verification and tests).
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { Deployment } from './deployment.js';
import { describe } from './internal/checks.js';
import { retry } from './internal/retry.js';
import { decodeOutput, type OutputMessage } from './outputs.js';
import { checkKey, partitionOf } from './partition.js';

/** An event's value: a token id, a one-character string (looked up in the model's vocabulary), or `{ token, emit }`. */
export type EventValue = number | string | TokenEvent;

/** A token event: `emit: false` feeds the token without asking for an output (a prime). */
export interface TokenEvent {
  /** Token id in [0, V). */
  token: number;
  /** Default true. */
  emit?: boolean;
}

function encodeValue(where: string, value: unknown): Uint8Array {
  const ok =
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'string' ||
    (typeof value === 'object' && value !== null && typeof (value as { token?: unknown }).token === 'number');
  if (!ok)
    throw new TypeError(`${where}: value must be a token id, a character or {token, emit}, got ${describe(value)}`);
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Options of {@link publishEvents}. */
export interface PublishOptions {
  /** Most publishes in flight at once. Default 256. */
  window?: number;
  /** Deadline of one publish through transient failures, ms. Default 30000. */
  retryMs?: number;
}

/**
 * Publishes events to their partitions' subjects (`<name>.in.<partitionOf(key)>.<key>`), in the
 * order given (events of one key keep their order), with up to `window` in flight. Resolves with
 * the input stream sequence of each event. Throws (before publishing anything) on a bad key.
 * For example `publishEvents(d, [...'hello'].map((ch) => ({ key: 'alice', value: ch })))`.
 */
export async function publishEvents(
  d: Deployment,
  events: Iterable<{ key: string; value: EventValue }>,
  options: PublishOptions = {},
): Promise<number[]> {
  const where = 'publishEvents';
  const list = [...events].map(({ key, value }) => ({
    subject: d.inputSubject(partitionOf(checkKey(where, key), d.partitions), key),
    data: encodeValue(where, value),
  }));
  const window = options.window ?? 256;
  const retryMs = options.retryMs ?? 30_000;
  const seqs = new Array<number>(list.length);
  let next = 0;
  // Events of one key go out one after the other: a key's publish waits for its previous one,
  // so retries can never reorder them. Distinct keys overlap up to `window`.
  const lastOfKey = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  for (const ev of list) {
    const i = next++;
    const prev = lastOfKey.get(ev.subject);
    const p: Promise<void> = (async () => {
      await prev;
      const ack = await retry(() => d.js.publish(ev.subject, ev.data), { deadlineMs: retryMs });
      seqs[i] = ack.seq;
    })();
    lastOfKey.set(ev.subject, p);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(lastOfKey.values());
  return seqs;
}

/** One stored input event, as read back from the input stream. */
export interface StoredEvent {
  /** Input stream sequence (the event's `seq` in its outputs). */
  seq: number;
  /** The partition token of its subject. */
  partition: number;
  /** The key token of its subject. */
  key: string;
  /** The payload as stored. */
  data: Uint8Array;
  /** The payload as JSON (undefined when it is not JSON). */
  value: unknown;
}

/**
 * Every message of a stream from its first up to its last sequence at the time of the call, in
 * order, through an ordered consumer; starts over when the read fails on the way (a cluster node
 * going away), until `retryMs`.
 */
async function readStream<T>(d: Deployment, stream: string, map: (m: JsMsg) => T, retryMs = 60_000): Promise<T[]> {
  return retry(
    async () => {
      const info = await d.jsm.streams.info(stream);
      const last = info.state.last_seq;
      const out: T[] = [];
      if (info.state.messages === 0) return out;
      const consumer = await d.js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume({ max_messages: 1000 });
      try {
        for await (const m of messages) {
          if (m.seq <= last) out.push(map(m));
          if (m.seq >= last || m.info.pending === 0) break;
        }
      } finally {
        messages.stop();
      }
      return out;
    },
    { deadlineMs: retryMs },
  );
}

/** Every input event stored now, in stream order (what a single-process reference run consumes). */
export function readInputEvents(d: Deployment): Promise<StoredEvent[]> {
  return readStream(d, d.names.inputStream, (m): StoredEvent => {
    const tokens = m.subject.split('.');
    let value: unknown;
    try {
      value = JSON.parse(m.string());
    } catch {
      value = undefined;
    }
    return {
      seq: m.seq,
      partition: Number(tokens[tokens.length - 2]),
      key: tokens[tokens.length - 1]!,
      data: m.data.slice(),
      value,
    };
  });
}

/**
 * Every output stored now, in stream order, decoded (see decodeOutput; a message that is not an
 * output makes this throw).
 */
export function readOutputs(d: Deployment): Promise<OutputMessage[]> {
  return readStream(d, d.names.outputStream, (m) => decodeOutput(m.data));
}

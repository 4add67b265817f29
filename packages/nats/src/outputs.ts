// Publishing results to the output stream: one JSON message per event on <name>.out.<key> with
// the message id `<key>:<seq>`, so JetStream's duplicate window drops a re-publish (a resend, or a
// replay after a failover). Publishes are asynchronous: each goes out with a reply subject under
// one inbox subscription that collects the stream's acknowledgements (no request object, timer or
// error per message), and a sweep resends what was not acknowledged in time. barrier() is what a
// checkpoint waits on (every result published before it is stored); whenBelow() bounds the
// number in flight.
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { unpack } from 'msgpackr';

/** What a worker publishes per event (the JSON body of an output message). */
export type OutputMessage = OutputResult | OutputFailure;

/** The result of an event that went through the model. */
export interface OutputResult {
  /** The event's key. */
  key: string;
  /** The event's input stream sequence. */
  seq: number;
  /** Logits [V], a sampled token id, bits of surprisal, or null (no output asked for). */
  output: number[] | number | null;
}

/** The result of an event that failed (bad payload, token, partition): the key's state is unchanged. */
export interface OutputFailure {
  /** The event's key. */
  key: string;
  /** The event's input stream sequence. */
  seq: number;
  /** What was wrong. */
  error: string;
}

/**
 * How output messages are encoded: 'json' (`{"key","seq","output"}` text; a float32 array as
 * numbers that parse back to the same float32 values) or 'msgpack' (the same map in MessagePack,
 * float32 values as msgpack float 32 — exact and about a quarter of the JSON size for logits).
 */
export type OutputEncoding = 'json' | 'msgpack';

/** The message id of the result of `key`'s event `seq` (the event's input stream sequence). */
export function outputMsgId(key: string, seq: number): string {
  return `${key}:${seq}`;
}

const encoder = new TextEncoder();

/**
 * JSON bytes of a result: a Float32Array becomes an array of numbers, which parse back to the same
 * float32 values. A non-finite value (which JSON cannot hold) makes it a failure naming it.
 */
export function encodeOutput(key: string, seq: number, output: Float32Array | number | null): Uint8Array {
  let value: string;
  if (output instanceof Float32Array) {
    for (let i = 0; i < output.length; i++) {
      if (!Number.isFinite(output[i]!))
        return encodeFailure(key, seq, `output[${i}] is ${output[i]}, not a finite number`);
    }
    value = JSON.stringify(Array.from(output));
  } else if (output !== null && !Number.isFinite(output)) {
    return encodeFailure(key, seq, `output is ${output}, not a finite number`);
  } else value = JSON.stringify(output);
  return encoder.encode(`{"key":${JSON.stringify(key)},"seq":${seq},"output":${value}}`);
}

/** JSON bytes of a failed event's result. */
export function encodeFailure(key: string, seq: number, message: string): Uint8Array {
  return encoder.encode(JSON.stringify({ key, seq, error: message }));
}

/** The UTF-8 bytes of the field names, encoded once. */
const CONSTANTS = new Map(['key', 'seq', 'output', 'error'].map((s) => [s, encoder.encode(s)]));

/** MessagePack writer for the three-field output maps: str, uint, float 32/64, nil, array. */
class MsgpackWriter {
  #buf = new Uint8Array(1024);
  #view = new DataView(this.#buf.buffer);
  #n = 0;

  #room(k: number): void {
    if (this.#n + k <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#n + k));
    next.set(this.#buf.subarray(0, this.#n));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#n++] = b;
  }
  str(s: string): void {
    const bytes = CONSTANTS.get(s) ?? encoder.encode(s);
    const len = bytes.length;
    this.#room(len + 5);
    if (len < 32) this.#buf[this.#n++] = 0xa0 | len;
    else if (len < 256) {
      this.#buf[this.#n++] = 0xd9;
      this.#buf[this.#n++] = len;
    } else if (len < 65536) {
      this.#buf[this.#n++] = 0xda;
      this.#view.setUint16(this.#n, len);
      this.#n += 2;
    } else {
      this.#buf[this.#n++] = 0xdb;
      this.#view.setUint32(this.#n, len);
      this.#n += 4;
    }
    this.#buf.set(bytes, this.#n);
    this.#n += len;
  }
  uint(v: number): void {
    this.#room(9);
    if (v < 128) this.#buf[this.#n++] = v;
    else if (v < 2 ** 32) {
      this.#buf[this.#n++] = 0xce;
      this.#view.setUint32(this.#n, v);
      this.#n += 4;
    } else {
      // Above 2^32 as float 64: exact up to 2^53 (every safe integer) and read back as a number.
      this.#buf[this.#n++] = 0xcb;
      this.#view.setFloat64(this.#n, v);
      this.#n += 8;
    }
  }
  number(v: number): void {
    if (Number.isSafeInteger(v) && v >= 0) {
      this.uint(v);
      return;
    }
    this.#room(9);
    this.#buf[this.#n++] = 0xcb;
    this.#view.setFloat64(this.#n, v);
    this.#n += 8;
  }
  f32Array(a: Float32Array): void {
    this.#room(5 + a.length * 5);
    if (a.length < 16) this.#buf[this.#n++] = 0x90 | a.length;
    else if (a.length < 65536) {
      this.#buf[this.#n++] = 0xdc;
      this.#view.setUint16(this.#n, a.length);
      this.#n += 2;
    } else {
      this.#buf[this.#n++] = 0xdd;
      this.#view.setUint32(this.#n, a.length);
      this.#n += 4;
    }
    for (let i = 0; i < a.length; i++) {
      this.#buf[this.#n++] = 0xca;
      this.#view.setFloat32(this.#n, a[i]!);
      this.#n += 4;
    }
  }
  /** The bytes written so far (a copy), and a reset. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#n);
    this.#n = 0;
    return out;
  }
}

const writer = new MsgpackWriter();

/**
 * MessagePack bytes of a result (`{key, seq, output}` or `{key, seq, error}`): float32 arrays as
 * msgpack float 32, other numbers as integers or float 64, so every value reads back exactly.
 */
export function encodeOutputMsgpack(key: string, seq: number, output: Float32Array | number | null): Uint8Array {
  if (output instanceof Float32Array) {
    for (let i = 0; i < output.length; i++) {
      if (!Number.isFinite(output[i]!))
        return encodeFailureMsgpack(key, seq, `output[${i}] is ${output[i]}, not a finite number`);
    }
  } else if (output !== null && !Number.isFinite(output)) {
    return encodeFailureMsgpack(key, seq, `output is ${output}, not a finite number`);
  }
  writer.byte(0x83);
  writer.str('key');
  writer.str(key);
  writer.str('seq');
  writer.uint(seq);
  writer.str('output');
  if (output instanceof Float32Array) writer.f32Array(output);
  else if (output === null) writer.byte(0xc0);
  else writer.number(output);
  return writer.take();
}

/** MessagePack bytes of a failed event's result. */
export function encodeFailureMsgpack(key: string, seq: number, message: string): Uint8Array {
  writer.byte(0x83);
  writer.str('key');
  writer.str(key);
  writer.str('seq');
  writer.uint(seq);
  writer.str('error');
  writer.str(message);
  return writer.take();
}

/**
 * Reads an output message body (what a consumer of the output stream gets), JSON or MessagePack
 * (told apart by the first byte: `{` is JSON); throws an Error naming what is wrong when the bytes
 * are not one.
 */
export function decodeOutput(bytes: Uint8Array): OutputMessage {
  let v: unknown;
  if (bytes.length > 0 && bytes[0] !== 0x7b) {
    try {
      v = unpack(bytes);
    } catch (e) {
      throw new Error(`decodeOutput: not MessagePack (${(e as Error).message})`);
    }
  } else {
    try {
      v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw new Error(`decodeOutput: not UTF-8 JSON (${(e as Error).message})`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error('decodeOutput: expected an object {key, seq, output | error}');
  const r = v as Record<string, unknown>;
  if (typeof r.key !== 'string' || r.key === '') {
    throw new Error(`decodeOutput: key must be a non-empty string, got ${JSON.stringify(r.key)}`);
  }
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) {
    throw new Error(`decodeOutput: seq must be a positive integer, got ${String(r.seq)}`);
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
  /** The connection to publish on (and to receive the acknowledgements on). */
  nc: NatsConnection;
  /** Output subject of a key. */
  subject: (key: string) => string;
  /** How long a publish keeps being resent through failures before the publisher fails, ms. Default 30000. */
  retryMs?: number;
  /** A publish with no acknowledgement after this long is sent again, ms. Default 5000. */
  ackTimeoutMs?: number;
}

/** Counters of an {@link OutputPublisher}. */
export interface PublishCounts {
  /** Results the stream stored (first copies). */
  published: number;
  /** Re-publishes the stream dropped as duplicates. */
  duplicates: number;
  /** Publishes not acknowledged yet. */
  inFlight: number;
}

interface Pending {
  subject: string;
  body: Uint8Array;
  msgID: string;
  /** performance.now() of the first send, and of the last. */
  firstAt: number;
  sentAt: number;
}

/**
 * Pipelined, resent, de-duplicated publishing. A publish the stream refuses for good, or that is
 * still not acknowledged after `retryMs`, is remembered: every later barrier() throws it, so a
 * result that could not be stored is never covered by a checkpoint. close() stops it.
 */
export class OutputPublisher {
  readonly #o: Required<OutputPublisherOptions>;
  readonly #inbox: string;
  readonly #sub: Subscription;
  readonly #pending = new Map<number, Pending>();
  readonly #barriers: { upTo: number; resolve: () => void }[] = [];
  readonly #waiters: { limit: number; resolve: () => void }[] = [];
  readonly #sweep: ReturnType<typeof setInterval>;
  #next = 1;
  #error: Error | undefined;
  #published = 0;
  #duplicates = 0;

  /** A publisher on `options.nc`; close() it when done. */
  constructor(options: OutputPublisherOptions) {
    this.#o = { retryMs: 30_000, ackTimeoutMs: 5000, ...options };
    this.#inbox = createInbox();
    this.#sub = this.#o.nc.subscribe(`${this.#inbox}.*`, { callback: (err, msg) => this.#ack(err, msg) });
    this.#sweep = setInterval(() => this.#resend(), Math.max(50, Math.floor(this.#o.ackTimeoutMs / 4)));
  }

  /** Results stored so far (first copies), and re-publishes the stream dropped as duplicates. */
  get counts(): PublishCounts {
    return { published: this.#published, duplicates: this.#duplicates, inFlight: this.#pending.size };
  }

  /** Publishes not acknowledged yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** The first failure, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Starts publishing `body` as the result of (key, seq). */
  publish(key: string, seq: number, body: Uint8Array): void {
    const id = this.#next++;
    const now = performance.now();
    const p: Pending = { subject: this.#o.subject(key), body, msgID: outputMsgId(key, seq), firstAt: now, sentAt: now };
    this.#pending.set(id, p);
    this.#send(id, p);
  }

  /** Resolves once fewer than `limit` publishes are in flight. */
  whenBelow(limit: number): Promise<void> {
    if (this.#pending.size < limit) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ limit, resolve }));
  }

  /** Resolves when every publish started before this call is stored; throws the first failure if any. */
  async barrier(): Promise<void> {
    const upTo = this.#next;
    if (!this.#doneUpTo(upTo)) await new Promise<void>((resolve) => this.#barriers.push({ upTo, resolve }));
    if (this.#error) throw this.#error;
  }

  /** Stops listening for acknowledgements and resending; pending barriers resolve (with the failure, if any). */
  close(): void {
    clearInterval(this.#sweep);
    this.#sub.unsubscribe();
    this.#error ??=
      this.#pending.size > 0
        ? new Error(`output publisher closed with ${this.#pending.size} outputs unacknowledged`)
        : undefined;
    this.#pending.clear();
    this.#settle();
  }

  #send(id: number, p: Pending): void {
    const h = headers();
    h.set('Nats-Msg-Id', p.msgID);
    try {
      this.#o.nc.publish(p.subject, p.body, { reply: `${this.#inbox}.${id}`, headers: h });
    } catch {
      // A closed or draining connection: the sweep tries again until retryMs.
    }
  }

  #ack(err: Error | null, msg: Msg): void {
    if (err) return; // the subscription ended (close, connection closed): the sweep or close() decides
    const id = Number(msg.subject.slice(this.#inbox.length + 1));
    const p = this.#pending.get(id);
    if (!p) return; // a second acknowledgement (a resend's)
    if (msg.headers?.code === 503) {
      p.sentAt = 0; // no stream answered (a cluster electing): resend at the next sweep
      return;
    }
    let ack: { stream?: string; duplicate?: boolean; error?: { code?: number; description?: string } };
    try {
      ack = JSON.parse(msg.string());
    } catch {
      ack = { error: { description: `unreadable acknowledgement ${JSON.stringify(msg.string().slice(0, 80))}` } };
    }
    if (ack.error) {
      if ((ack.error.code ?? 0) >= 500) {
        p.sentAt = 0;
        return;
      }
      this.#fail(`output ${p.msgID} refused by the stream: ${ack.error.description ?? JSON.stringify(ack.error)}`);
      return;
    }
    if (ack.duplicate) this.#duplicates++;
    else this.#published++;
    this.#pending.delete(id);
    this.#settle();
  }

  #resend(): void {
    const now = performance.now();
    for (const [id, p] of this.#pending) {
      if (now - p.sentAt < this.#o.ackTimeoutMs) continue;
      if (now - p.firstAt > this.#o.retryMs) {
        this.#fail(`output ${p.msgID} not acknowledged within ${this.#o.retryMs} ms`);
        return;
      }
      p.sentAt = now;
      this.#send(id, p);
    }
  }

  #fail(message: string): void {
    this.#error ??= new Error(message);
    this.#pending.clear();
    this.#settle();
  }

  /** True when no publish with an id below `upTo` is pending. */
  #doneUpTo(upTo: number): boolean {
    for (const id of this.#pending.keys()) return id >= upTo; // ids are in insertion (= id) order
    return true;
  }

  #settle(): void {
    if (this.#barriers.length > 0) {
      // Barriers are in the order they were made (their upTo never decreases): resolve from the front.
      let first = Number.POSITIVE_INFINITY;
      for (const id of this.#pending.keys()) {
        first = id;
        break;
      }
      let done = 0;
      while (done < this.#barriers.length && this.#barriers[done]!.upTo <= first) this.#barriers[done++]!.resolve();
      if (done > 0) this.#barriers.splice(0, done);
    }
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (this.#pending.size < w.limit) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}

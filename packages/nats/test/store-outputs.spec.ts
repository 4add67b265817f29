// The pieces a partition writes with, on a real nats-server: the KV state store (round trip, a
// stale owner fenced by compare-and-set, records validated, under the keyed engine with puts
// queued behind the outputs),
// the output publisher (message ids de-duplicated by JetStream, barrier), and the event helpers
// (client-side partitioning, reading streams back in order).
import type { NatsConnection } from '@nats-io/nats-core';
import { CharModel } from '@rxrnn/cells';
import {
  createKeyedStates,
  type KeyedResult,
  type KeyedStates,
  keyed,
  keyedCharModel,
  type TokenInput,
} from '@rxrnn/keyed';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, setupDeployment } from '../src/deployment.js';
import { publishEvents, readInputEvents, readOutputs } from '../src/events.js';
import { FencedError, KvStateStore, keyStateKey } from '../src/kv-state-store.js';
import { type LocalNats, startLocalNats } from '../src/local-server.js';
import {
  decodeOutput,
  encodeFailure,
  encodeFailureMsgpack,
  encodeOutput,
  encodeOutputMsgpack,
  OutputPublisher,
  outputMsgId,
} from '../src/outputs.js';
import { partitionOf } from '../src/partition.js';
import { client, MUST_RUN, requireServer, until } from './helpers.js';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

describe('output messages', () => {
  it('encode float32 outputs exactly and decode what they encode', () => {
    const logits = Float32Array.from([0.1, -2.5e-8, 3.4028234663852886e38, 1 / 3]);
    const m = decodeOutput(encodeOutput('k', 7, logits));
    expect(m).toEqual({ key: 'k', seq: 7, output: Array.from(logits) });
    expect(Float32Array.from((m as { output: number[] }).output)).toEqual(logits);
    expect(decodeOutput(encodeOutput('k', 8, null))).toEqual({ key: 'k', seq: 8, output: null });
    expect(decodeOutput(encodeFailure('k', 9, 'bad token'))).toEqual({ key: 'k', seq: 9, error: 'bad token' });
    expect(outputMsgId('user:1', 12)).toBe('user:1:12');
    expect(() => decodeOutput(new TextEncoder().encode('{"key":"k","seq":0,"output":1}'))).toThrow(
      'decodeOutput: seq must be a positive integer, got 0',
    );
    expect(() => decodeOutput(Uint8Array.of(0x7b, 0xff))).toThrow(/not UTF-8 JSON/);
    expect(() => decodeOutput(Uint8Array.of(0xff))).toThrow(
      'decodeOutput: expected an object {key, seq, output | error}',
    );
    // MessagePack: float32 values as float 32 (exact), other numbers exact too.
    const mp = encodeOutputMsgpack('k', 70000, logits);
    expect(mp.length).toBeLessThan(encodeOutput('k', 70000, logits).length);
    expect(decodeOutput(mp)).toEqual({ key: 'k', seq: 70000, output: Array.from(logits) });
    const long = Float32Array.from({ length: 70 }, (_, i) => Math.fround(Math.sin(i) * 1e3));
    expect(decodeOutput(encodeOutputMsgpack('ключ', 2 ** 40, long))).toEqual({
      key: 'ключ',
      seq: 2 ** 40,
      output: Array.from(long),
    });
    expect(decodeOutput(encodeOutputMsgpack('k', 5, 3.0000000001))).toEqual({ key: 'k', seq: 5, output: 3.0000000001 });
    expect(decodeOutput(encodeOutputMsgpack('k', 6, 17))).toEqual({ key: 'k', seq: 6, output: 17 });
    expect(decodeOutput(encodeOutputMsgpack('k', 7, null))).toEqual({ key: 'k', seq: 7, output: null });
    expect(decodeOutput(encodeFailureMsgpack('k', 8, 'x'.repeat(300)))).toEqual({
      key: 'k',
      seq: 8,
      error: 'x'.repeat(300),
    });
    expect(() => decodeOutput(Uint8Array.of(0x83, 0xa3, 0x6b))).toThrow(/not MessagePack/);
    // JSON cannot hold NaN: such a result becomes a failure naming the value.
    expect(decodeOutput(encodeOutput('k', 3, Float32Array.of(1, Number.NaN)))).toEqual({
      key: 'k',
      seq: 3,
      error: 'output[1] is NaN, not a finite number',
    });
    expect(() => decodeOutput(new TextEncoder().encode('{"key":"k","seq":1,"output":[1,"x"]}'))).toThrow(
      /finite numbers/,
    );
  });
});

describe.skipIf(!MUST_RUN)('state store, outputs and events on nats-server', () => {
  let nats: LocalNats;
  let nc: NatsConnection;
  let d: Deployment;
  beforeAll(async () => {
    requireServer();
    nats = await startLocalNats();
    nc = await client(nats.servers);
    d = await setupDeployment(nc, { stream: 'pieces', partitions: 4, leaseTtlMs: 2000 });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.close();
  });

  const store = (over: Partial<ConstructorParameters<typeof KvStateStore>[0]> = {}) =>
    new KvStateStore({
      state: d.state,
      partition: 1,
      model: HASH_A,
      writer: 'w#1',
      beforeWrite: async () => {},
      checkOwner: () => {},
      inMemory: () => true,
      retryMs: 5000,
      ...over,
    });

  it('round-trips states and fences a stale owner', async () => {
    const old = store();
    expect(await old.get('alice')).toBeUndefined();
    await old.put('alice', Uint8Array.of(1, 2, 3));
    expect(old.counts).toEqual({ reads: 1, writes: 1, revisions: 1 });

    // A new owner reads it, and writes its own state.
    const next = store({ writer: 'w#2' });
    expect(await next.get('alice')).toEqual(Uint8Array.of(1, 2, 3));
    await next.put('alice', Uint8Array.of(4, 5));
    // The old owner, unaware, tries to write: compare-and-set refuses it.
    await expect(old.put('alice', Uint8Array.of(6))).rejects.toThrow(FencedError);
    expect(await store().get('alice')).toEqual(Uint8Array.of(4, 5));
    // Same for a key the old owner had never seen but the new one created meanwhile.
    await old.get('bob');
    await next.get('bob');
    await next.put('bob', Uint8Array.of(7));
    await expect(old.put('bob', Uint8Array.of(8))).rejects.toThrow(/written by another worker/);
  });

  it('deletes a state a previous owner wrote and this owner never read', async () => {
    const before = store({ writer: 'w#3' });
    await before.get('gus');
    await before.put('gus', Uint8Array.of(9));
    const now = store({ writer: 'w#4' });
    await now.delete('gus'); // no get first: the key never came into this owner's memory
    expect(await store().get('gus')).toBeUndefined();
    // A key with nothing stored: nothing to do, and a put after a delete starts it again.
    await now.delete('nobody');
    await now.put('gus', Uint8Array.of(10));
    expect(await store().get('gus')).toEqual(Uint8Array.of(10));
  });

  it('a key that left memory and came back without a read is still written: its record says whose it is', async () => {
    let inMemory = false;
    const s = store({ writer: 'w#7', inMemory: () => inMemory });
    await s.get('fay');
    await s.put('fay', Uint8Array.of(1)); // evicted: the store forgets the revision
    inMemory = true; // the engine brings it back from its own copy, without get()
    await s.put('fay', Uint8Array.of(2));
    expect(await store().get('fay')).toEqual(Uint8Array.of(2));
    // The same situation, but another owner wrote in between: fenced.
    inMemory = false;
    await s.put('fay', Uint8Array.of(3));
    const other = store({ writer: 'w#8' });
    await other.get('fay');
    await other.put('fay', Uint8Array.of(4));
    inMemory = true;
    await expect(s.put('fay', Uint8Array.of(5))).rejects.toThrow(FencedError);
    expect(await store().get('fay')).toEqual(Uint8Array.of(4));
  });

  it('under the keyed engine, a key whose puts queue behind the outputs is stored at its latest state', async () => {
    // The first write waits (outputs not stored yet) while key gA leaves memory and comes back
    // twice more: its later puts queue behind the first, and the last one must be in KV. (A
    // store that skipped puts by counting results per key once lost that last state.)
    const model = new CharModel({ cell: 'lstm', vocab: [...'abcdef'], hidden: 8, embeddingDim: 4, seed: 3 });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let writes = 0;
    const states: KeyedStates<TokenInput, Float32Array | null> = createKeyedStates(keyedCharModel(model), {
      maxKeys: 2,
      store: store({
        writer: 'w#9',
        beforeWrite: () => (writes++ === 0 ? gate : Promise.resolve()),
        inMemory: (key): boolean => states.has(key),
      }),
    });
    const s = new Subject<{ key: string; value: number }>();
    const got: KeyedResult<Float32Array | null, string>[] = [];
    s.pipe(keyed(states, { maxBatch: 1 })).subscribe((r) => got.push(r));
    const lone = new Map<string, { state: Float32Array; out: Float32Array[] }>();
    const send = async (key: string, value: number) => {
      const l = lone.get(key) ?? { state: model.createState(1), out: [] };
      lone.set(key, l);
      l.out.push(model.step(Int32Array.of(value), l.state).slice());
      s.next({ key, value });
      await until(
        `answer ${l.out.length} of ${key}`,
        () => got.filter((r) => r.key === key).length === l.out.length,
        2000,
        2,
      );
    };
    for (let round = 0; round < 3; round++)
      for (const [i, key] of ['gA', 'gB', 'gC'].entries()) await send(key, (round + i) % 6);
    expect(states.metrics().writesInFlight).toBeGreaterThan(0);
    open();
    await states.checkpoint();
    await send('gA', 5); // read back from KV
    s.complete();
    for (const [key, l] of lone) {
      const outs = got.filter((r) => r.key === key).map((r) => (r as { output: Float32Array }).output);
      expect(outs.map((o, i) => Math.max(...o.map((x, j) => Math.abs(x - l.out[i]![j]!))))).toEqual(outs.map(() => 0));
    }
    expect(states.metrics().restores).toBeGreaterThan(0);
  });

  it('forgets the revisions of keys that left memory unchanged (bounded memory)', async () => {
    const s = store({ inMemory: () => false });
    for (let i = 0; i < 1100; i++) await s.get(`gone${i}`);
    expect(s.counts.reads).toBe(1100);
    expect(s.counts.revisions).toBeLessThan(1024);
  });

  it('waits for the outputs before writing, and refuses to write without the lease', async () => {
    const order: string[] = [];
    const s = store({
      beforeWrite: async () => {
        order.push('outputs stored');
      },
      checkOwner: () => order.push('lease checked'),
    });
    await s.get('carol');
    await s.put('carol', Uint8Array.of(1));
    expect(order).toEqual(['outputs stored', 'lease checked']);
    const fenced = store({
      checkOwner: () => {
        throw new FencedError('no lease');
      },
    });
    await fenced.get('carol');
    await expect(fenced.put('carol', Uint8Array.of(2))).rejects.toThrow('no lease');
  });

  it('refuses a state of another model unless told to keep it, and a foreign value', async () => {
    const a = store();
    await a.get('dave');
    await a.put('dave', Uint8Array.of(1));
    await expect(store({ model: HASH_B }).get('dave')).rejects.toThrow(
      `KV k.1.dave: state of model sha256:${HASH_A}, this worker runs sha256:${HASH_B}`,
    );
    expect(await store({ model: HASH_B, onModelChange: 'keep' }).get('dave')).toEqual(Uint8Array.of(1));
    await d.state.put(keyStateKey(1, 'eve'), new TextEncoder().encode('{"not":"a record"}'));
    await expect(store().get('eve')).rejects.toThrow(/^KV k\.1\.eve: unreadable value|^KV k\.1\.eve: not a record/);
  });

  it('publishes outputs once per (key, seq) and barrier() waits for them', async () => {
    const pub = new OutputPublisher({ nc, subject: (k) => d.outputSubject(k), retryMs: 5000 });
    for (let seq = 1; seq <= 50; seq++) pub.publish('k1', seq, encodeOutput('k1', seq, seq / 10));
    await pub.barrier();
    for (let seq = 1; seq <= 50; seq++) pub.publish('k1', seq, encodeOutput('k1', seq, seq / 10)); // a replay
    pub.publish('k2', 3, encodeFailure('k2', 3, 'unknown token'));
    await pub.barrier();
    expect(pub.counts).toEqual({ published: 51, duplicates: 50, inFlight: 0 });
    pub.close();
    const outs = await readOutputs(d);
    expect(outs.filter((o) => o.key === 'k1').map((o) => o.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(outs.find((o) => o.key === 'k2')).toEqual({ key: 'k2', seq: 3, error: 'unknown token' });
  });

  it('a result no stream takes is resent, then fails the publisher: barrier() throws', async () => {
    const pub = new OutputPublisher({ nc, subject: (k) => `nowhere.${k}`, retryMs: 400, ackTimeoutMs: 100 });
    pub.publish('k', 1, encodeOutput('k', 1, 1));
    await expect(pub.barrier()).rejects.toThrow('output k:1 not acknowledged within 400 ms');
    expect(pub.error?.message).toBe('output k:1 not acknowledged within 400 ms');
    pub.close();
  });

  it('publishEvents puts each key in its partition, in order, and readInputEvents reads them back', async () => {
    const events = Array.from({ length: 120 }, (_, i) => ({ key: `u${i % 9}`, value: i % 5 }));
    const seqs = await publishEvents(d, events, { window: 16 });
    const stored = await readInputEvents(d);
    expect(stored.map((e) => e.seq)).toEqual([...seqs].sort((a, b) => a - b));
    for (const [i, e] of events.entries()) {
      const s = stored.find((x) => x.seq === seqs[i])!;
      expect([s.key, s.value, s.partition]).toEqual([e.key, e.value, partitionOf(e.key, 4)]);
    }
    // Per key, the stream order is the order given.
    for (let k = 0; k < 9; k++) {
      const mine = events.map((e, i) => ({ ...e, seq: seqs[i]! })).filter((e) => e.key === `u${k}`);
      expect(mine.map((e) => e.seq)).toEqual([...mine.map((e) => e.seq)].sort((a, b) => a - b));
    }
    await expect(publishEvents(d, [{ key: 'a.b', value: 1 }])).rejects.toThrow(RangeError);
  });
});

// Keys and partitions: key validation, the KV token encoding, and partitionOf against its oracle —
// nats-server's own `partition(P,1)` subject mapping, run on a real server.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalNats, startLocalNats } from '../src/local-server.js';
import { checkKey, fromKvToken, kvToken, partitionMapping, partitionOf } from '../src/partition.js';
import { client, MUST_RUN, requireServer } from './helpers.js';

describe('checkKey', () => {
  it('accepts subject tokens and refuses what cannot be one', () => {
    for (const k of ['alice', 'user-42', 'ünïcødé', 'a_b', '🙂', 'x'.repeat(200)]) expect(checkKey('t', k)).toBe(k);
    expect(() => checkKey('t', 'a.b')).toThrow(
      /^t: key must be one NATS subject token .*, got "a\.b" \(character "\." at 1\)$/,
    );
    expect(() => checkKey('t', 'a b')).toThrow(RangeError);
    expect(() => checkKey('t', 'a*')).toThrow(RangeError);
    expect(() => checkKey('t', '>')).toThrow(RangeError);
    expect(() => checkKey('t', 'a\u0000')).toThrow(RangeError);
    expect(() => checkKey('t', '')).toThrow('t: key must be a non-empty string, got ""');
    expect(() => checkKey('t', 'é'.repeat(101))).toThrow('t: key must be at most 200 UTF-8 bytes, got 202 bytes');
    expect(() => checkKey('t', 42)).toThrow(new TypeError('t: key must be a string, got 42'));
  });
});

describe('kvToken', () => {
  it('keeps [A-Za-z0-9_-], escapes every other byte, and round-trips', () => {
    expect(kvToken('user-42_x')).toBe('user-42_x');
    expect(kvToken('a=b')).toBe('a=3Db');
    expect(kvToken('é')).toBe('=C3=A9');
    const keys = ['alice', 'a=b', 'a=3Db', 'ünï', '🙂', '=', 'A/B', ':', '%'];
    const tokens = keys.map(kvToken);
    expect(new Set(tokens).size).toBe(keys.length);
    for (const t of tokens) expect(t).toMatch(/^[-/_=.a-zA-Z0-9]+$/);
    expect(tokens.map(fromKvToken)).toEqual(keys);
    expect(() => fromKvToken('a=Z1')).toThrow(RangeError);
    expect(() => fromKvToken('a.b')).toThrow(RangeError);
  });
});

describe('partitionOf', () => {
  it('checks its arguments', () => {
    expect(() => partitionOf('k', 0)).toThrow('partitionOf: partitions must be a positive integer, got 0');
    expect(() => partitionOf('a.b', 4)).toThrow(RangeError);
  });

  it('is FNV-1a 32 of the UTF-8 bytes mod P (published test vectors)', () => {
    // FNV-1a 32 test vectors: "" → 0x811c9dc5 (not a valid key), "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(partitionOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(partitionOf('foobar', 1_000_003)).toBe(0xbf9cf968 % 1_000_003);
  });
});

describe.skipIf(!MUST_RUN)('partitionOf agrees with nats-server subject-mapping partitions', () => {
  let nats: LocalNats;
  const P = 7;
  beforeAll(async () => {
    requireServer();
    nats = await startLocalNats({ mappings: partitionMapping('t.in', P) });
  });
  afterAll(() => nats?.close());

  it('every key lands in the partition the server maps it to', async () => {
    const nc = await client(nats.servers);
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'T', subjects: ['t.in.*.*'] });
      const js = jetstream(nc);
      const keys = Array.from({ length: 300 }, (_, i) =>
        i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? `ключ${i}` : `k_${i * 7919}`,
      );
      for (const key of keys) {
        const ack = await js.publish(`t.in.${key}`, new Uint8Array(0));
        const stored = await jsm.streams.getMessage('T', { seq: ack.seq });
        expect(stored!.subject).toBe(`t.in.${partitionOf(key, P)}.${key}`);
      }
      // The keys spread over every partition.
      expect(new Set(keys.map((k) => partitionOf(k, P))).size).toBe(P);
    } finally {
      await nc.close();
    }
  });
});

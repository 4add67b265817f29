// Workers on a real nats-server, in this process: every key's outputs equal an uninterrupted
// single-process run of the keyed engine over the same stored events (the oracle: verifyOutputs'
// reference run), through a graceful restart, a worker joining (partitions handed over) and bad
// events (answered with errors, deterministically); options and the duplicate-window check.

import type { NatsConnection } from '@nats-io/nats-core';
import { CharModel } from '@rxrnn/cells';
import { getBackend, setBackend } from '@rxrnn/kernels';
import { encodeCheckpoint } from '@rxrnn/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, setupDeployment } from '../src/deployment.js';
import { publishEvents, readOutputs } from '../src/events.js';
import { type LocalNats, startLocalNats } from '../src/local-server.js';
import { publishModel, weightsCheckpoint } from '../src/model-bundle.js';
import { partitionOf } from '../src/partition.js';
import { partitionKey } from '../src/partition-runner.js';
import { decodePartitionRecord } from '../src/records.js';
import { verifyOutputs } from '../src/verify.js';
import { runWorker, type Worker } from '../src/worker.js';
import { client, MUST_RUN, requireServer, until } from './helpers.js';

const VOCAB = [...'abcdefghij .,'];
const model = new CharModel({ cell: 'gru', vocab: VOCAB, hidden: 16, embeddingDim: 8, seed: 5 });
const bundle = encodeCheckpoint(weightsCheckpoint(model));

/** n events over `keys` keys, tokens from a fixed pattern (deterministic). */
function events(n: number, keys: number, offset = 0) {
  return Array.from({ length: n }, (_, i) => ({
    key: `user-${(i * 7 + offset) % keys}`,
    value: ((i + offset) * 5) % VOCAB.length,
  }));
}

describe.skipIf(!MUST_RUN)('runWorker on nats-server', () => {
  let nats: LocalNats;
  let nc: NatsConnection;
  const workers: Worker[] = [];
  beforeAll(async () => {
    requireServer();
    nats = await startLocalNats();
    nc = await client(nats.servers);
  });
  afterAll(async () => {
    for (const w of workers) await w.stop().catch(() => {});
    await nc?.close();
    await nats?.close();
  });

  const deploy = async (stream: string, partitions = 4) => {
    const d = await setupDeployment(nc, { stream, partitions, leaseTtlMs: 1500, duplicateWindowMs: 60_000 });
    return { d, hash: await publishModel(d.models, bundle) };
  };
  const start = async (d: Deployment, hash: string, id: string, extra: Record<string, unknown> = {}) => {
    const w = await runWorker({
      servers: nats.servers,
      stream: d.names.name,
      model: `sha256:${hash}`,
      workerId: id,
      checkpointIntervalMs: 200,
      ...extra,
    });
    workers.push(w);
    return w;
  };
  const settled = (d: Deployment, n: number) =>
    until(`${n} outputs`, async () => (await d.jsm.streams.info(d.names.outputStream)).state.messages >= n, 2000);

  it('one worker: outputs equal the single-process run, and a restart goes on from its checkpoint', async () => {
    const { d, hash } = await deploy('one');
    const w1 = await start(d, hash, 'w1');
    await until('w1 owns all', () => w1.owned().length === 4);
    await publishEvents(d, events(300, 11));
    await settled(d, 300);
    await w1.stop();
    // While no worker runs, more events arrive; the next worker restores the states from KV.
    await publishEvents(d, events(200, 13, 3));
    const w2 = await start(d, hash, 'w2');
    await settled(d, 500);
    const v = await verifyOutputs(d, model);
    expect(v.problems).toEqual([]);
    expect([v.events, v.expected, v.outputs, v.lost, v.duplicated, v.unexpected, v.mismatched]).toEqual([
      500, 500, 500, 0, 0, 0, 0,
    ]);
    expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    // Outputs name the event: seq is its input stream sequence.
    const outs = await readOutputs(d);
    expect(outs.every((o) => 'output' in o && Array.isArray(o.output) && o.output.length === VOCAB.length)).toBe(true);
    expect(w2.stats().partitions.some((p) => p.checkpointSeq > 0)).toBe(true);
    await w2.stop();
  });

  it('a joining worker gets half of the partitions, handed over without a gap or a duplicate', async () => {
    const { d, hash } = await deploy('join', 6);
    const a = await start(d, hash, 'a');
    await until('a owns all', () => a.owned().length === 6);
    const first = publishEvents(d, events(400, 17));
    const b = await start(d, hash, 'b');
    await first;
    await until('3 partitions each', () => a.owned().length === 3 && b.owned().length === 3, 2000);
    expect(a.owned()).toEqual([0, 2, 4]);
    expect(b.owned()).toEqual([1, 3, 5]);
    await publishEvents(d, events(400, 17, 5));
    await settled(d, 800);
    const v = await verifyOutputs(d, model);
    expect(v.problems).toEqual([]);
    expect([v.lost, v.duplicated, v.unexpected, v.mismatched, v.outputs]).toEqual([0, 0, 0, 0, 800]);
    expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('on the js backend (batch-invariant kernels) the results through a hand-over equal one process bit for bit', async () => {
    const before = getBackend();
    setBackend('js');
    try {
      const { d, hash } = await deploy('exact');
      const a = await start(d, hash, 'xa', { maxBatch: 16 });
      await until('xa owns all', () => a.owned().length === 4);
      await publishEvents(d, events(300, 23));
      const b = await start(d, hash, 'xb', { maxBatch: 16 });
      await until('2 partitions each', () => a.owned().length === 2 && b.owned().length === 2, 2000);
      await publishEvents(d, events(300, 23, 7));
      await settled(d, 600);
      const v = await verifyOutputs(d, model);
      expect(v.problems).toEqual([]);
      expect([v.lost, v.duplicated, v.unexpected, v.mismatched, v.outputs]).toEqual([0, 0, 0, 0, 600]);
      // Keys were stepped together (batches of more than one row), and still nothing differs.
      const batchMeans = [...a.stats().partitions, ...b.stats().partitions].map((p) => p.batchMean);
      expect(Math.max(...batchMeans)).toBeGreaterThan(1);
      expect(v.maxAbsDiff).toBe(0);
      await Promise.all([a.stop(), b.stop()]);
    } finally {
      setBackend(before);
    }
  });

  it('answers bad events with errors, the same on a replay, and goes on with the key', async () => {
    const { d, hash } = await deploy('bad', 2);
    const w = await start(d, hash, 'wb', { output: 'surprisal' });
    await until('owns all', () => w.owned().length === 2);
    const key = 'k1';
    const p = partitionOf(key, 2);
    const enc = (s: string) => new TextEncoder().encode(s);
    await d.js.publish(d.inputSubject(p, key), enc('1'));
    await d.js.publish(d.inputSubject(p, key), enc('not json'));
    await d.js.publish(d.inputSubject(p, key), enc('"z"')); // not in the vocabulary
    await d.js.publish(d.inputSubject(p, key), enc('99')); // token out of range: the engine's failure
    await d.js.publish(d.inputSubject(1 - p, key), enc('2')); // wrong partition
    await d.js.publish(d.inputSubject(p, key), enc('"b"'));
    await settled(d, 6);
    const outs = (await readOutputs(d)).sort((x, y) => x.seq - y.seq);
    expect(outs.map((o) => ('error' in o ? 'error' : o.output === null ? 'null' : 'value'))).toEqual([
      'null', // a key's first surprisal has nothing before it
      'error',
      'error',
      'error',
      'error',
      'value',
    ]);
    expect(outs.find((o) => o.seq === 5)).toMatchObject({ error: expect.stringMatching(/belongs to partition/) });
    const v = await verifyOutputs(d, model, { output: 'surprisal' });
    expect(v.problems).toEqual([]);
    expect([v.lost, v.duplicated, v.mismatched]).toEqual([0, 0, 0]);
    await w.stop();
  });

  it("an idle partition's checkpoint keeps up with the stream, so retention never looks like lost events", async () => {
    const { d, hash } = await deploy('idle', 3);
    const w = await start(d, hash, 'wi');
    await until('owns all', () => w.owned().length === 3);
    const keys = Array.from({ length: 40 }, (_, i) => `u${i}`).filter((k) => partitionOf(k, 3) === 0);
    const seqs = await publishEvents(
      d,
      keys.map((key) => ({ key, value: 1 })),
    );
    const last = Math.max(...seqs);
    await until('every partition checkpointed at the last sequence', async () => {
      for (let p = 0; p < 3; p++) {
        const e = await d.state.get(partitionKey(p));
        if (!e || decodePartitionRecord(e.value, 'test', p, 3).seq < last) return false;
      }
      return true;
    });
    expect(w.stats().partitions.map((p) => p.events)).toEqual([keys.length, 0, 0]);
    await w.stop();
  });

  it('works through a backlog without starving its lease renewals', async () => {
    // A worker that starts behind a large backlog feeds buffered messages as microtasks; unless it
    // lets timers and I/O run between them it stops renewing and fences itself mid-backlog.
    const heavy = new CharModel({ cell: 'lstm', vocab: VOCAB, hidden: 128, layers: 2, embeddingDim: 16, seed: 9 });
    const d = await setupDeployment(nc, {
      stream: 'backlog',
      partitions: 2,
      leaseTtlMs: 1500,
      duplicateWindowMs: 60_000,
    });
    const hash = await publishModel(d.models, encodeCheckpoint(weightsCheckpoint(heavy)));
    const n = 20_000;
    const lines: string[] = [];
    const w = await start(d, hash, 'wb', { log: (m: string) => lines.push(m), output: 'logits' });
    await until('wb owns both', () => w.owned().length === 2);
    // All at once, not waiting for acks, as a producer catching up would.
    const enc = new TextEncoder();
    for (const e of events(n, 500))
      nc.publish(d.inputSubject(partitionOf(e.key, 2), e.key), enc.encode(String(e.value)));
    await nc.flush();
    await until(`${n} outputs`, async () => (await d.jsm.streams.info(d.names.outputStream)).state.messages >= n, 6000);
    expect(lines.filter((l) => /lost|stopped|not held|fenced/.test(l))).toEqual([]);
    expect(w.stats().partitions.map((p) => p.checkpointSeq > 0)).toEqual([true, true]);
    const v = await verifyOutputs(d, heavy, { output: 'logits' });
    expect([v.lost, v.duplicated]).toEqual([0, 0]);
    await w.stop();
  });

  it('refuses bad options and a duplicate window too short for its checkpoints', async () => {
    const { d, hash } = await deploy('opts', 2);
    await expect(runWorker({ servers: nats.servers, stream: 'opts', model: 'sha256:12' })).rejects.toThrow(RangeError);
    await expect(
      runWorker({ servers: nats.servers, stream: 'opts', model: `sha256:${hash}`, output: 'text' as 'logits' }),
    ).rejects.toThrow('runWorker: output must be one of "logits", "sample", "surprisal", got "text"');
    await expect(
      runWorker({ servers: nats.servers, stream: 'opts', model: `sha256:${hash}`, checkpointIntervalMs: 60_000 }),
    ).rejects.toThrow(/duplicate window is 60000 ms, it must be at least .* = 133000 ms/);
    await expect(
      runWorker({ servers: nats.servers, stream: 'opts', model: `sha256:${'0'.repeat(64)}` }),
    ).rejects.toThrow(/no model bundle/);
    expect(d.partitions).toBe(2);
  });
});

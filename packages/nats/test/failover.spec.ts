// Chaos: worker processes on real nats-server, events published while things fail. A worker is
// killed with SIGKILL mid-stream (one node), and a server node of a 3-node cluster (R3 streams
// and KV) is killed mid-stream; both runs must end with every key's outputs equal to the
// single-process reference over the stored events — none lost, none duplicated after
// de-duplication, values within 1e-5. RXRNN_NATS_SOAK=1 adds longer runs with repeated kills.

import type { NatsConnection } from '@nats-io/nats-core';
import { CharModel } from '@rxrnn/cells';
import { encodeCheckpoint } from '@rxrnn/trainer';
import { afterEach, describe, expect, it } from 'vitest';
import { type Deployment, setupDeployment } from '../src/deployment.js';
import { publishEvents } from '../src/events.js';
import { retry } from '../src/internal/retry.js';
import { type LocalNats, startLocalNats } from '../src/local-server.js';
import { publishModel, weightsCheckpoint } from '../src/model-bundle.js';
import { verifyOutputs } from '../src/verify.js';
import { client, MUST_RUN, requireServer, until } from './helpers.js';
import { startWorker, type WorkerProcess, waitForAssignment } from './worker-process.js';

const SOAK = Boolean(process.env.RXRNN_NATS_SOAK);
const VOCAB = [...'abcdefghijklmnop .,;'];
const model = new CharModel({ cell: 'lstm', vocab: VOCAB, hidden: 24, embeddingDim: 8, seed: 11 });
const bundle = encodeCheckpoint(weightsCheckpoint(model));

interface Run {
  nats: LocalNats;
  nc: NatsConnection;
  workers: WorkerProcess[];
}
let run: Run | undefined;
afterEach(async () => {
  for (const w of run?.workers ?? []) w.kill();
  await run?.nc.close().catch(() => {});
  await run?.nats.close();
  run = undefined;
});

/** Publishes `total` events in batches of `batch`, calling `between(published)` after each batch. */
async function stream(
  d: Deployment,
  total: number,
  keys: number,
  batch: number,
  between: (n: number) => Promise<void>,
) {
  for (let n = 0; n < total; n += batch) {
    const events = Array.from({ length: Math.min(batch, total - n) }, (_, i) => ({
      key: `s${((n + i) * 13) % keys}`,
      value: ((n + i) * 7) % VOCAB.length,
    }));
    await publishEvents(d, events, { window: 64 });
    await between(n + events.length);
  }
}

async function outputsStored(d: Deployment, n: number, workers: WorkerProcess[]) {
  let last = -1;
  let still = 0;
  await until(
    `${n} outputs`,
    async () => {
      const m = (await retry(() => d.jsm.streams.info(d.names.outputStream), { deadlineMs: 60_000 })).state.messages;
      still = m === last ? still + 1 : 0;
      last = m;
      if (still > 1200)
        throw new Error(`outputs stuck at ${m} of ${n}:\n${workers.map((w) => `--- ${w.id}\n${w.log()}`).join('\n')}`);
      return m >= n;
    },
    1_000_000,
  );
}

describe.skipIf(!MUST_RUN)('failover with worker processes', () => {
  const cases = SOAK ? [{ events: 6000, kills: 3 }] : [{ events: 1500, kills: 1 }];
  for (const c of cases) {
    it(`kill -9 of a worker mid-stream (${c.events} events, ${c.kills} kill${c.kills > 1 ? 's' : ''}): nothing lost, nothing duplicated`, async () => {
      requireServer();
      const nats = await startLocalNats();
      const nc = await client(nats.servers);
      run = { nats, nc, workers: [] };
      const P = 4;
      const d = await setupDeployment(nc, {
        stream: 'kill',
        partitions: P,
        leaseTtlMs: 1500,
        duplicateWindowMs: 60_000,
      });
      const hash = await publishModel(d.models, bundle);
      // Few keys in memory: states go to KV between checkpoints (evictions), so a replay meets
      // keys whose stored state is ahead of the partition's checkpoint.
      const args = [
        '--servers',
        nats.servers.join(','),
        '--stream',
        'kill',
        '--model',
        `sha256:${hash}`,
        '--checkpoint-interval-ms',
        '250',
        '--max-keys',
        '4',
      ];
      const w0 = startWorker('w0', args);
      const w1 = startWorker('w1', args);
      run.workers.push(w0, w1);
      await waitForAssignment([w0, w1], P, (p) => (p % 2 === 0 ? w0 : w1));
      const victims: WorkerProcess[] = [];
      let spare = 2;
      const killAt = new Set(
        Array.from({ length: c.kills }, (_, k) => Math.floor(((k + 1) * c.events) / (c.kills + 2) / 100) * 100),
      );
      await stream(d, c.events, 37, 100, async (published) => {
        if (!killAt.has(published)) return;
        // Kill the worker that is not w0 (the long-lived one) and bring a fresh one in its place.
        const victim = run!.workers.find((w) => w !== w0 && w.alive)!;
        victim.kill();
        victims.push(victim);
        await victim.exited;
        const fresh = startWorker(`w${spare++}`, args);
        run!.workers.push(fresh);
      });
      await outputsStored(d, c.events, run.workers);
      const v = await verifyOutputs(d, model);
      expect(v.problems).toEqual([]);
      expect([v.events, v.outputs, v.lost, v.duplicated, v.unexpected, v.mismatched]).toEqual([
        c.events,
        c.events,
        0,
        0,
        0,
        0,
      ]);
      if (v.maxAbsDiff > 1e-5)
        console.log(JSON.stringify(v.worst), run.workers.map((w) => `--- ${w.id}\n${w.log()}`).join('\n'));
      expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-5);
      // The killed workers really owned partitions when they died.
      for (const victim of victims) expect(victim.lines.some((l) => /partition \d+: running/.test(l.text))).toBe(true);
    });
  }

  it('a worker paused past its lease (SIGSTOP) and resumed finds itself fenced off: nothing lost, nothing duplicated', async () => {
    requireServer();
    const nats = await startLocalNats();
    const nc = await client(nats.servers);
    run = { nats, nc, workers: [] };
    const P = 4;
    const total = 900;
    const d = await setupDeployment(nc, {
      stream: 'pause',
      partitions: P,
      leaseTtlMs: 1500,
      duplicateWindowMs: 60_000,
    });
    const hash = await publishModel(d.models, bundle);
    const args = [
      '--servers',
      nats.servers.join(','),
      '--stream',
      'pause',
      '--model',
      `sha256:${hash}`,
      '--checkpoint-interval-ms',
      '250',
      '--max-keys',
      '4',
    ];
    const w0 = startWorker('w0', args);
    const w1 = startWorker('w1', args);
    run.workers.push(w0, w1);
    await waitForAssignment([w0, w1], P, (p) => (p % 2 === 0 ? w0 : w1));
    await stream(d, total, 29, 100, async (published) => {
      if (published !== 300) return;
      // w1 freezes with events in hand; w0 takes its partitions once the leases expire.
      w1.child.kill('SIGSTOP');
      await until('w0 runs every partition', () => w0.running.size === P, 100_000);
    });
    // w1 wakes up believing it owns partitions 1 and 3, and tries to go on.
    w1.child.kill('SIGCONT');
    await until('w1 sees it lost them', () => w1.running.size === 0 || !w1.alive, 100_000);
    await outputsStored(d, total, run.workers);
    const v = await verifyOutputs(d, model);
    expect(v.problems).toEqual([]);
    expect([v.events, v.outputs, v.lost, v.duplicated, v.unexpected, v.mismatched]).toEqual([total, total, 0, 0, 0, 0]);
    if (v.maxAbsDiff > 1e-5)
      console.log(JSON.stringify(v.worst), run.workers.map((w) => `--- ${w.id}\n${w.log()}`).join('\n'));
    expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(w1.log()).toMatch(/partition [13]: (lost|stopped)/);
  });

  it('a server node of a 3-node cluster killed mid-stream: nothing lost, nothing duplicated', async () => {
    requireServer();
    const nats = await startLocalNats({ nodes: 3 });
    const nc = await client(nats.servers);
    run = { nats, nc, workers: [] };
    const P = 4;
    const total = SOAK ? 6000 : 1500;
    const d = await setupDeployment(nc, {
      stream: 'node',
      partitions: P,
      replicas: 3,
      leaseTtlMs: 2000,
      duplicateWindowMs: 60_000,
      timeoutMs: 60_000,
    });
    const hash = await publishModel(d.models, bundle);
    const args = [
      '--servers',
      nats.servers.join(','),
      '--stream',
      'node',
      '--model',
      `sha256:${hash}`,
      '--checkpoint-interval-ms',
      '250',
    ];
    const w0 = startWorker('w0', args);
    const w1 = startWorker('w1', args);
    run.workers.push(w0, w1);
    await waitForAssignment([w0, w1], P, (p) => (p % 2 === 0 ? w0 : w1));
    let stopped = -1;
    await stream(d, total, 41, 100, async (published) => {
      if (published !== Math.floor(total / 3 / 100) * 100) return;
      // The node leading the output stream goes: the worst place for results in flight.
      const leader = (await retry(() => d.jsm.streams.info(d.names.outputStream), { deadlineMs: 60_000 })).cluster
        ?.leader;
      stopped = Math.max(
        0,
        nats.nodes.findIndex((n) => n.name === leader),
      );
      await nats.stopNode(stopped);
    });
    expect(nats.nodes[stopped]!.running).toBe(false);
    await outputsStored(d, total, run.workers);
    const v = await verifyOutputs(d, model);
    expect(v.problems).toEqual([]);
    expect([v.events, v.outputs, v.lost, v.duplicated, v.unexpected, v.mismatched]).toEqual([total, total, 0, 0, 0, 0]);
    expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(w0.alive && w1.alive).toBe(true);
  });
});

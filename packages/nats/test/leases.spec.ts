// Deployments and leases on a real nats-server: setup is idempotent and refuses a mismatch; the
// fair assignment; two lease managers share partitions without ever both holding one; a joining
// worker gets its share by graceful release; a worker cut off from NATS fences itself before its
// leases expire and the survivor takes its partitions.
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDeployment, setupDeployment } from '../src/deployment.js';
import { assignPartitions, LeaseManager } from '../src/leases.js';
import { type LocalNats, startLocalNats } from '../src/local-server.js';
import { client, MUST_RUN, requireServer, until } from './helpers.js';

describe('assignPartitions', () => {
  it('gives each of W workers ⌊P/W⌋ or ⌈P/W⌉ partitions, the same whatever the order of the ids', () => {
    expect(assignPartitions(3, [])).toEqual([undefined, undefined, undefined]);
    expect(assignPartitions(4, ['b', 'a'])).toEqual(['a', 'b', 'a', 'b']);
    for (const W of [1, 2, 3, 5, 8]) {
      const ids = Array.from({ length: W }, (_, i) => `w${(i * 7) % W}-${i}`);
      const owners = assignPartitions(16, ids);
      expect(assignPartitions(16, [...ids].reverse())).toEqual(owners);
      const counts = ids.map((id) => owners.filter((o) => o === id).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(16);
    }
  });
});

/** Records who holds what, and fails the test when two managers ever hold one partition. */
class Ledger {
  readonly holder = new Map<number, string>();
  readonly events: string[] = [];
  readonly violations: string[] = [];
  handlers(id: string, releaseMs = 20) {
    return {
      acquire: async (p: number) => {
        const other = this.holder.get(p);
        if (other !== undefined) this.violations.push(`${id} acquired ${p} while ${other} held it`);
        this.holder.set(p, id);
        this.events.push(`${id}+${p}`);
      },
      release: async (p: number) => {
        await new Promise((r) => setTimeout(r, releaseMs)); // a checkpoint takes a moment
        if (this.holder.get(p) === id) this.holder.delete(p);
        this.events.push(`${id}-${p}`);
      },
      lost: (p: number) => {
        if (this.holder.get(p) === id) this.holder.delete(p);
        this.events.push(`${id}!${p}`);
      },
    };
  }
  held(id: string): number[] {
    return [...this.holder]
      .filter(([, h]) => h === id)
      .map(([p]) => p)
      .sort((a, b) => a - b);
  }
}

describe.skipIf(!MUST_RUN)('deployments and leases on nats-server', () => {
  let nats: LocalNats;
  const conns: NatsConnection[] = [];
  beforeAll(async () => {
    requireServer();
    nats = await startLocalNats();
  });
  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => {});
    await nats?.close();
  });
  const connectNew = async () => {
    const nc = await client(nats.servers);
    conns.push(nc);
    return nc;
  };

  it('setupDeployment is idempotent and refuses a different partition count or lease TTL', async () => {
    const nc = await connectNew();
    const opts = { stream: 'setup', partitions: 4, leaseTtlMs: 1500, duplicateWindowMs: 60_000 };
    const [a, b] = await Promise.all([setupDeployment(nc, opts), setupDeployment(nc, opts)]);
    expect(a.partitions).toBe(4);
    expect(b.leaseTtlMs).toBe(1500);
    expect(a.duplicateWindowMs).toBe(60_000);
    expect(a.inputSubject(2, 'k')).toBe('setup.in.2.k');
    expect(a.outputSubject('k')).toBe('setup.out.k');
    const opened = await openDeployment(nc, { stream: 'setup' });
    expect([opened.partitions, opened.leaseTtlMs, opened.duplicateWindowMs]).toEqual([4, 1500, 60_000]);
    await expect(setupDeployment(nc, { ...opts, partitions: 5 })).rejects.toThrow(
      'setupDeployment: deployment "setup" has 4 partitions, asked for 5 (the count is fixed when a deployment is created)',
    );
    await expect(setupDeployment(nc, { ...opts, leaseTtlMs: 2000 })).rejects.toThrow(
      'setupDeployment: deployment "setup" has a lease TTL of 1500 ms, asked for 2000 ms',
    );
    await expect(openDeployment(nc, { stream: 'nothing' })).rejects.toThrow(
      'deployment "nothing" is not set up (KV bucket nothing-state is missing): run setupDeployment or `rxrnn-nats setup`',
    );
    await expect(setupDeployment(nc, { ...opts, stream: 'a.b' })).rejects.toThrow(
      'deploymentNames: stream must be 1 to 32 of [A-Za-z0-9_-], got "a.b"',
    );
    await expect(setupDeployment(nc, { ...opts, partitions: 0 })).rejects.toThrow(
      'setupDeployment: partitions must be a positive integer, got 0',
    );
  });

  it('two managers split the partitions fairly, never both holding one; a joiner gets its share', async () => {
    const d = await setupDeployment(await connectNew(), { stream: 'lease2', partitions: 6, leaseTtlMs: 1200 });
    const ledger = new Ledger();
    const make = async (id: string) => {
      const dd = await openDeployment(await connectNew(), { stream: 'lease2' });
      return new LeaseManager({
        leases: dd.leases,
        ttlMs: dd.leaseTtlMs,
        partitions: 6,
        workerId: id,
        handlers: ledger.handlers(id),
      });
    };
    const a = await make('a');
    a.start();
    await until('a owns all 6', () => a.owned().length === 6);
    expect(ledger.held('a')).toEqual([0, 1, 2, 3, 4, 5]);
    const b = await make('b');
    b.start();
    await until('a and b own 3 each', () => a.owned().length === 3 && b.owned().length === 3);
    expect(ledger.held('a')).toEqual([0, 2, 4]);
    expect(ledger.held('b')).toEqual([1, 3, 5]);
    expect(ledger.violations).toEqual([]);
    // A graceful stop hands b's partitions back to a.
    await b.stop();
    await until('a owns all 6 again', () => a.owned().length === 6);
    expect(ledger.violations).toEqual([]);
    expect(ledger.events.filter((e) => e.includes('!'))).toEqual([]); // nothing was lost, all handed over
    await a.stop();
    expect(d.partitions).toBe(6);
  });

  it('a worker cut off from NATS fences itself before the survivor takes its partitions', async () => {
    await setupDeployment(await connectNew(), { stream: 'lease3', partitions: 4, leaseTtlMs: 1200 });
    const ledger = new Ledger();
    const ncA = await connectNew();
    const ncB = await connectNew();
    const [da, db] = await Promise.all([
      openDeployment(ncA, { stream: 'lease3' }),
      openDeployment(ncB, { stream: 'lease3' }),
    ]);
    const a = new LeaseManager({
      leases: da.leases,
      ttlMs: 1200,
      partitions: 4,
      workerId: 'a',
      handlers: ledger.handlers('a'),
    });
    const b = new LeaseManager({
      leases: db.leases,
      ttlMs: 1200,
      partitions: 4,
      workerId: 'b',
      handlers: ledger.handlers('b'),
    });
    a.start();
    b.start();
    await until('2 partitions each', () => a.owned().length === 2 && b.owned().length === 2);
    const t0 = performance.now();
    await ncB.close(); // b can no longer renew anything
    await until('a owns all 4', () => a.owned().length === 4);
    const tookOver = performance.now() - t0;
    // b noticed first: each of its partitions was lost (fenced) before a acquired it.
    for (const p of [1, 3]) {
      const lost = ledger.events.indexOf(`b!${p}`);
      const taken = ledger.events.lastIndexOf(`a+${p}`);
      expect(lost, `b fenced ${p}`).toBeGreaterThanOrEqual(0);
      expect(lost, `b fenced ${p} before a took it`).toBeLessThan(taken);
    }
    expect(ledger.violations).toEqual([]);
    expect(tookOver).toBeGreaterThan(0);
    await a.stop();
    await b.stop().catch(() => {});
  });
});

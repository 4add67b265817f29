// The local nats-server harness: a node starts on a loopback port with JetStream, close() kills
// it and removes its folder; a 3-node cluster holds R3 streams and KV that survive one node being
// killed; a missing binary and bad options are clear errors.
import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import { retry } from '../src/internal/retry.js';
import { startLocalNats } from '../src/local-server.js';
import { client, MUST_RUN, requireServer } from './helpers.js';

const alive = (pid: number | undefined) => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startLocalNats options', () => {
  it('refuses a missing binary and bad options', async () => {
    await expect(startLocalNats({ binary: '/nonexistent/nats-server' })).rejects.toThrow(
      'startLocalNats: nats-server not found (looked at /nonexistent/nats-server); install it: apt-get install nats-server',
    );
    await expect(startLocalNats({ nodes: 2 as 1 })).rejects.toThrow('startLocalNats: nodes must be one of 1, 3, got 2');
  });
});

describe.skipIf(!MUST_RUN)('local nats-server processes', () => {
  it('one node: loopback, JetStream, killed and cleaned up by close()', async () => {
    requireServer();
    const nats = await startLocalNats();
    const pid = nats.nodes[0]!.pid;
    try {
      expect(nats.servers).toHaveLength(1);
      expect(nats.servers[0]).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const nc = await client(nats.servers);
      const jsm = await jetstreamManager(nc);
      expect((await jsm.getAccountInfo()).streams).toBe(0);
      await nc.close();
      expect(alive(pid)).toBe(true);
    } finally {
      await nats.close();
    }
    expect(alive(pid)).toBe(false);
    expect(existsSync(nats.dir)).toBe(false);
    await nats.close(); // twice is fine
  });

  it('three nodes: R3 stream and KV keep working when one node is killed', async () => {
    requireServer();
    const nats = await startLocalNats({ nodes: 3 });
    try {
      expect(nats.servers).toHaveLength(3);
      const nc = await client(nats.servers);
      const jsm = await jetstreamManager(nc);
      const deadline = { deadlineMs: 60_000 };
      await retry(() => jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 }), deadline);
      const kv = await retry(() => new Kvm(nc).create('r3kv', { replicas: 3 }), deadline);
      const js = jetstream(nc);
      for (let i = 0; i < 20; i++) await retry(() => js.publish('r3.x', String(i)), deadline);
      await retry(() => kv.put('k', 'before'), deadline);
      const leader = (await jsm.streams.info('R3')).cluster!.leader!;
      const victim = nats.nodes.findIndex((n) => n.name === leader);
      await nats.stopNode(victim);
      expect(nats.nodes[victim]!.running).toBe(false);
      for (let i = 20; i < 40; i++) await retry(() => js.publish('r3.x', String(i)), deadline);
      await retry(() => kv.put('k', 'after'), deadline);
      const info = await retry(() => jsm.streams.info('R3'), deadline);
      expect(info.state.messages).toBe(40);
      expect(info.cluster!.leader).not.toBe(leader);
      expect((await retry(() => kv.get('k'), deadline))!.string()).toBe('after');
      await nc.close();
    } finally {
      await nats.close();
    }
  });
});

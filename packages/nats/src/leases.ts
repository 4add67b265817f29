// Membership and partition leases in the deployment's lease bucket (a KV bucket whose TTL is the
// lease TTL): each worker keeps `worker.<id>` alive and owns partitions through `partition.<p>`
// entries it created (compare-and-set: only one creator wins) and renews by revision (a renewal
// that finds another owner's entry has lost the lease). Every worker computes the same fair
// assignment from the live workers it sees (a watch of the heartbeats); a partition moves by a
// graceful release or by its lease expiring. Renewals run in their own loop, never behind a slow
// acquisition, a membership read or a hand-over.
import type { KV, KvEntry } from '@nats-io/kv';
import { describe } from './internal/checks.js';
import { isApiError, isTransient, sleep, WRONG_LAST_SEQUENCE } from './internal/retry.js';

/**
 * The fair assignment every worker computes: workers sorted by id, partition p goes to worker
 * `p mod W`, so each of W workers owns ⌊P/W⌋ or ⌈P/W⌉ partitions. Returns the owner id of each
 * partition (undefined for all when there are no workers).
 */
export function assignPartitions(partitions: number, workers: readonly string[]): (string | undefined)[] {
  const sorted = [...new Set(workers)].sort();
  return Array.from({ length: partitions }, (_, p) => (sorted.length === 0 ? undefined : sorted[p % sorted.length]));
}

/** KV key of a worker's heartbeat. */
export const workerKey = (id: string): string => `worker.${id}`;
/** KV key of partition p's lease. */
export const leaseKey = (p: number): string => `partition.${p}`;

/** What a lease manager asks of the worker. */
export interface LeaseHandlers {
  /** Partition p is ours: take it over (restore, replay). A rejection releases the lease again. */
  acquire(p: number): Promise<void>;
  /** Hand p over gracefully: checkpoint and stop; the lease is deleted once this resolves. */
  release(p: number): Promise<void>;
  /** p is no longer ours (taken over, or renewals failed past the fence): stop writing at once. */
  lost(p: number, reason: string): void;
}

/** Options of {@link LeaseManager}. */
export interface LeaseManagerOptions {
  /** The deployment's lease bucket (a handle with a short request timeout, see Deployment.leases). */
  leases: KV;
  /** Lease TTL of the bucket, ms. */
  ttlMs: number;
  /** The deployment's partition count. */
  partitions: number;
  /** This worker's id: 1–64 of [A-Za-z0-9_-], unique among live workers. */
  workerId: string;
  /** What to do when a partition is acquired, to be released, or lost. */
  handlers: LeaseHandlers;
  /** Renewal period, ms. Default ttlMs / 4. */
  tickMs?: number;
  /** Diagnostics. */
  log?: (message: string) => void;
}

type Phase = 'starting' | 'running' | 'releasing' | 'released';

interface Held {
  revision: number;
  /** performance.now() when the last successful write of the lease was sent. */
  renewedAt: number;
  phase: Phase;
}

/** What a heartbeat or lease entry holds. */
interface LeaseValue {
  worker: string;
  /** Random per process: tells this process's entries from an earlier one's with the same id. */
  incarnation: string;
}

function parseLease(entry: KvEntry | null): LeaseValue | undefined {
  if (entry?.operation !== 'PUT') return undefined;
  try {
    const v = JSON.parse(entry.string()) as LeaseValue;
    return typeof v.worker === 'string' && typeof v.incarnation === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps this worker's heartbeat and leases alive and moves partitions towards the fair
 * assignment. A lease is renewed every `tickMs`; when renewals fail (transiently) for 3/4 of the
 * TTL the worker fences itself — `lost` — before the server can expire the lease and hand it to
 * someone else (the lease expires a full TTL after the last renewal was stored, which is after it
 * was sent). A write whose answer was lost (a timeout) but that was stored is recognised by its
 * content and adopted.
 */
export class LeaseManager {
  /** This worker's id. */
  readonly workerId: string;
  readonly #o: Required<Omit<LeaseManagerOptions, 'log'>> & Pick<LeaseManagerOptions, 'log'>;
  readonly #held = new Map<number, Held>();
  readonly #fenceMs: number;
  readonly #value: string;
  /** Live workers: id → performance.now() of its last heartbeat seen. */
  readonly #seen = new Map<string, number>();
  /** Partitions this worker will not take before the given performance.now(), and the failures so far. */
  readonly #cooldown = new Map<number, { until: number; failures: number }>();
  #stopped = false;
  #loops: Promise<void>[] = [];
  readonly #wake = new AbortController();
  #watch: { stop(): void } | undefined;

  /** A manager for `options.workerId`; start() begins. Throws a RangeError on a bad worker id. */
  constructor(options: LeaseManagerOptions) {
    if (typeof options.workerId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(options.workerId)) {
      throw new RangeError(
        `LeaseManager: workerId must be 1 to 64 of [A-Za-z0-9_-], got ${describe(options.workerId)}`,
      );
    }
    this.workerId = options.workerId;
    const tickMs = options.tickMs ?? Math.max(50, Math.floor(options.ttlMs / 4));
    this.#o = { ...options, tickMs };
    this.#fenceMs = (options.ttlMs * 3) / 4;
    const incarnation = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
    this.#value = JSON.stringify({ worker: this.workerId, incarnation } satisfies LeaseValue);
  }

  /** Partitions whose lease this worker holds and has taken over (not starting or releasing). */
  owned(): number[] {
    return [...this.#held]
      .filter(([, h]) => h.phase === 'running')
      .map(([p]) => p)
      .sort((a, b) => a - b);
  }

  /** Live workers it sees (sorted ids, itself included). */
  liveWorkers(): string[] {
    const now = performance.now();
    const live = [...this.#seen].filter(([, at]) => now - at < this.#o.ttlMs).map(([id]) => id);
    if (!live.includes(this.workerId)) live.push(this.workerId);
    return live.sort();
  }

  /** True while this worker holds p's lease and has renewed it within the fence. */
  holds(p: number): boolean {
    const h = this.#held.get(p);
    return h !== undefined && h.phase !== 'released' && performance.now() - h.renewedAt < this.#fenceMs;
  }

  /**
   * Gives p up after a failure of this worker's own (the runner stopped without a checkpoint):
   * deletes the lease so the partition moves on at once, and keeps away from p for a while
   * (1 s, doubling per failure in a row, at most 60 s), so a partition that cannot run here does
   * not spin.
   */
  drop(p: number): void {
    const h = this.#held.get(p);
    if (!h) return;
    this.#backOff(p);
    h.phase = 'released';
  }

  /** Starts the heartbeat and renewal loop, the membership watch and the balancing loop. */
  start(): void {
    if (this.#loops.length > 0) return;
    this.#loops = [this.#renewLoop(), this.#watchLoop(), this.#balanceLoop()];
  }

  /**
   * Stops: releases every partition gracefully (through `release`), deletes the leases and the
   * heartbeat, and resolves when done. Partitions whose lease cannot be deleted expire on their own.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Keep renewing while the partitions are handed over, then stop the loops.
    const renewing = this.#renewWhile(async () => {
      await Promise.all(
        [...this.#held].map(async ([p, h]) => {
          if (h.phase !== 'released') {
            h.phase = 'releasing';
            try {
              await this.#o.handlers.release(p);
            } catch (e) {
              this.#o.log?.(`partition ${p}: release failed (${(e as Error).message}); its lease will expire`);
              this.#held.delete(p);
              return;
            }
            h.phase = 'released';
          }
        }),
      );
    });
    this.#wake.abort();
    this.#watch?.stop();
    await Promise.all(this.#loops);
    await renewing;
    await Promise.all([...this.#held].map(([p, h]) => this.#deleteLease(p, h)));
    try {
      await this.#o.leases.delete(workerKey(this.workerId));
    } catch {
      // It expires within a TTL anyway.
    }
  }

  #backOff(p: number): void {
    const failures = (this.#cooldown.get(p)?.failures ?? 0) + 1;
    this.#cooldown.set(p, { until: performance.now() + Math.min(60_000, 1000 * 2 ** (failures - 1)), failures });
  }

  /** Renews every tickMs until `work` resolves (used while stopping). */
  async #renewWhile(work: () => Promise<void>): Promise<void> {
    let done = false;
    const w = work().finally(() => {
      done = true;
    });
    while (!done) {
      await this.#renewAll();
      await Promise.race([w, sleep(this.#o.tickMs)]);
    }
    await w;
  }

  async #renewLoop(): Promise<void> {
    while (!this.#stopped) {
      const t0 = performance.now();
      await this.#renewAll();
      const rest = this.#o.tickMs - (performance.now() - t0);
      if (rest > 0 && !this.#stopped) await sleep(rest, this.#wake.signal);
    }
  }

  async #renewAll(): Promise<void> {
    const kv = this.#o.leases;
    await Promise.all([
      kv.put(workerKey(this.workerId), this.#value).then(
        () => this.#seen.set(this.workerId, performance.now()),
        (e: Error) => {
          if (!isTransient(e)) this.#o.log?.(`heartbeat failed: ${e.message}`);
        },
      ),
      ...[...this.#held].map(([p, h]) => this.#renew(p, h)),
    ]);
  }

  async #renew(p: number, h: Held): Promise<void> {
    if (h.phase === 'released') return;
    const sent = performance.now();
    try {
      h.revision = await this.#o.leases.update(leaseKey(p), this.#value, h.revision);
      h.renewedAt = sent;
      return;
    } catch (e) {
      if (isApiError(e, WRONG_LAST_SEQUENCE)) {
        // Another revision: ours if an earlier renewal was stored but its answer lost.
        const adopted = await this.#adopt(p).catch(() => undefined);
        if (adopted !== undefined) {
          h.revision = adopted;
          h.renewedAt = sent;
          return;
        }
        this.#lose(p, 'its lease was taken over');
        return;
      }
      if (!isTransient(e)) this.#o.log?.(`partition ${p}: lease renewal failed: ${(e as Error).message}`);
    }
    if (performance.now() - h.renewedAt >= this.#fenceMs) {
      this.#lose(
        p,
        `no lease renewal for ${Math.round(performance.now() - h.renewedAt)} ms (fence at ${this.#fenceMs} ms)`,
      );
    }
  }

  /** The revision of p's lease when the stored entry is this process's, else undefined. */
  async #adopt(p: number): Promise<number | undefined> {
    const entry = await this.#o.leases.get(leaseKey(p));
    return entry?.operation === 'PUT' && entry.string() === this.#value ? entry.revision : undefined;
  }

  #lose(p: number, reason: string): void {
    if (!this.#held.delete(p)) return;
    this.#o.log?.(`partition ${p}: lost (${reason})`);
    this.#o.handlers.lost(p, reason);
  }

  /** Follows the heartbeats: a PUT marks its worker alive now, a delete or purge removes it. */
  async #watchLoop(): Promise<void> {
    while (!this.#stopped) {
      try {
        const it = await this.#o.leases.watch({ key: 'worker.*' });
        this.#watch = it;
        if (this.#stopped) it.stop();
        for await (const e of it) {
          const id = e.key.slice('worker.'.length);
          if (e.operation === 'PUT' && parseLease(e)) this.#seen.set(id, performance.now());
          else this.#seen.delete(id);
        }
      } catch (e) {
        if (!this.#stopped) this.#o.log?.(`membership watch failed (${(e as Error).message}); watching again`);
      }
      if (!this.#stopped) await sleep(this.#o.tickMs, this.#wake.signal);
    }
  }

  async #balanceLoop(): Promise<void> {
    while (!this.#stopped) {
      const t0 = performance.now();
      try {
        await this.#balance();
      } catch (e) {
        this.#o.log?.(`lease balancing failed: ${(e as Error).message}`);
      }
      const rest = this.#o.tickMs - (performance.now() - t0);
      if (rest > 0 && !this.#stopped) await sleep(rest, this.#wake.signal);
    }
  }

  async #balance(): Promise<void> {
    // Releases that finished give their lease back.
    for (const [p, h] of this.#held) if (h.phase === 'released') await this.#deleteLease(p, h);
    const live = this.liveWorkers();
    // Until its own heartbeat is stored this worker takes nothing: the others cannot see it yet.
    if (!this.#seen.has(this.workerId)) return;
    const want = assignPartitions(this.#o.partitions, live);
    for (let p = 0; p < this.#o.partitions && !this.#stopped; p++) {
      const h = this.#held.get(p);
      const cool = this.#cooldown.get(p);
      if (want[p] === this.workerId && !h && !(cool && performance.now() < cool.until)) await this.#tryAcquire(p);
      else if (h?.phase === 'running' && want[p] !== this.workerId && want[p] !== undefined)
        this.#release(p, h, want[p]!);
    }
  }

  async #tryAcquire(p: number): Promise<void> {
    const sent = performance.now();
    let revision: number | undefined;
    try {
      revision = await this.#o.leases.create(leaseKey(p), this.#value);
    } catch (e) {
      if (!isApiError(e, WRONG_LAST_SEQUENCE) && !isTransient(e)) throw e;
      // Held by someone — or by us, if an earlier create was stored but its answer lost.
      revision = await this.#adopt(p).catch(() => undefined);
      if (revision === undefined) return;
    }
    if (this.#stopped) return; // let it expire: nothing was taken over
    const h: Held = { revision, renewedAt: sent, phase: 'starting' };
    this.#held.set(p, h);
    this.#o.log?.(`partition ${p}: acquired`);
    this.#o.handlers.acquire(p).then(
      () => {
        if (this.#held.get(p) === h && h.phase === 'starting') h.phase = 'running';
        const cool = this.#cooldown.get(p);
        if (cool) cool.failures = 0;
      },
      (e) => {
        this.#o.log?.(`partition ${p}: takeover failed (${(e as Error).message}); releasing it`);
        this.#backOff(p);
        if (this.#held.get(p) === h) h.phase = 'released';
      },
    );
  }

  #release(p: number, h: Held, to: string): void {
    h.phase = 'releasing';
    this.#o.log?.(`partition ${p}: releasing to ${to}`);
    this.#o.handlers.release(p).then(
      () => {
        if (this.#held.get(p) === h) h.phase = 'released';
      },
      (e) => {
        // A release that could not checkpoint keeps nothing safe to hand over: fence ourselves
        // and let the lease expire, so the next owner replays from the last good checkpoint.
        this.#o.log?.(`partition ${p}: release failed (${(e as Error).message})`);
        this.#lose(p, 'release failed');
      },
    );
  }

  async #deleteLease(p: number, h: Held): Promise<void> {
    try {
      await this.#o.leases.delete(leaseKey(p), { previousSeq: h.revision });
      this.#o.log?.(`partition ${p}: lease released`);
    } catch (e) {
      this.#o.log?.(`partition ${p}: lease delete failed (${(e as Error).message}); it will expire`);
    }
    if (this.#held.get(p) === h) this.#held.delete(p);
  }
}

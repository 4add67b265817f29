// Membership and partition leases in the deployment's lease bucket (a KV bucket whose TTL is the
// lease TTL): each worker keeps `worker.<id>` alive and owns partitions through `partition.<p>`
// entries it created (compare-and-set: only one creator wins) and renews by revision (a renewal
// that finds another revision has lost the lease). Every worker computes the same fair assignment
// from the live workers; a partition moves by a graceful release or by its lease expiring.
import type { KV } from '@nats-io/kv';
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
  /** The deployment's lease bucket. */
  leases: KV;
  /** Lease TTL of the bucket, ms. */
  ttlMs: number;
  partitions: number;
  /** This worker's id: 1–64 of [A-Za-z0-9_-], unique among live workers. */
  workerId: string;
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

/**
 * Keeps this worker's heartbeat and leases alive and moves partitions towards the fair
 * assignment. A lease is renewed every `tickMs`; when renewals fail (transiently) for 3/4 of the
 * TTL the worker fences itself — `lost` — before the server can expire the lease and hand it to
 * someone else (the lease expires a full TTL after the last renewal was stored, which is after it
 * was sent).
 */
export class LeaseManager {
  readonly workerId: string;
  readonly #o: Required<Omit<LeaseManagerOptions, 'log'>> & Pick<LeaseManagerOptions, 'log'>;
  readonly #held = new Map<number, Held>();
  readonly #fenceMs: number;
  #live: string[] = [];
  /** Partitions this worker will not take before the given performance.now(), and the failures so far. */
  readonly #cooldown = new Map<number, { until: number; failures: number }>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #wake = new AbortController();

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
  }

  /** Partitions whose lease this worker holds and has taken over (not starting or releasing). */
  owned(): number[] {
    return [...this.#held]
      .filter(([, h]) => h.phase === 'running')
      .map(([p]) => p)
      .sort((a, b) => a - b);
  }

  /** Live workers at the last tick (sorted ids). */
  liveWorkers(): string[] {
    return [...this.#live];
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

  #backOff(p: number): void {
    const failures = (this.#cooldown.get(p)?.failures ?? 0) + 1;
    this.#cooldown.set(p, { until: performance.now() + Math.min(60_000, 1000 * 2 ** (failures - 1)), failures });
  }

  /** Starts the renewal loop (registers the worker first). */
  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  /**
   * Stops: releases every partition gracefully (through `release`), deletes the leases and the
   * heartbeat, and resolves when done. Partitions whose lease cannot be deleted expire on their own.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    await this.#loop;
    await Promise.all(
      [...this.#held].map(async ([p, h]) => {
        if (h.phase !== 'released') {
          h.phase = 'releasing';
          try {
            await this.#o.handlers.release(p);
          } catch (e) {
            this.#o.log?.(`partition ${p}: release failed (${(e as Error).message}); its lease will expire`);
            return;
          }
        }
        await this.#deleteLease(p, h);
      }),
    );
    try {
      await this.#o.leases.delete(workerKey(this.workerId));
    } catch {
      // It expires within a TTL anyway.
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const t0 = performance.now();
      try {
        await this.#tick();
      } catch (e) {
        this.#o.log?.(`lease tick failed: ${(e as Error).message}`);
      }
      const rest = this.#o.tickMs - (performance.now() - t0);
      if (rest > 0 && !this.#stopped) await sleep(rest, this.#wake.signal);
    }
  }

  async #tick(): Promise<void> {
    const kv = this.#o.leases;
    const value = JSON.stringify({ worker: this.workerId, time: Date.now() });
    await Promise.all([
      kv.put(workerKey(this.workerId), value).catch((e) => {
        if (!isTransient(e)) throw e;
      }),
      ...[...this.#held].map(([p, h]) => this.#renew(p, h, value)),
    ]);
    // Releases that finished since the last tick give their lease back.
    for (const [p, h] of this.#held) if (h.phase === 'released') await this.#deleteLease(p, h);
    if (this.#stopped) return;

    this.#live = await this.#listWorkers();
    if (!this.#live.includes(this.workerId)) return; // our own heartbeat is not visible yet
    const want = assignPartitions(this.#o.partitions, this.#live);
    for (let p = 0; p < this.#o.partitions; p++) {
      const h = this.#held.get(p);
      const cool = this.#cooldown.get(p);
      if (want[p] === this.workerId && !h && !(cool && performance.now() < cool.until))
        await this.#tryAcquire(p, value);
      else if (h?.phase === 'running' && want[p] !== this.workerId && want[p] !== undefined) this.#release(p, h);
    }
  }

  async #renew(p: number, h: Held, value: string): Promise<void> {
    if (h.phase === 'released') return;
    const sent = performance.now();
    try {
      h.revision = await this.#o.leases.update(leaseKey(p), value, h.revision);
      h.renewedAt = sent;
    } catch (e) {
      if (isApiError(e, WRONG_LAST_SEQUENCE)) this.#lose(p, 'its lease was taken over');
      else if (!isTransient(e)) this.#lose(p, `lease renewal failed: ${(e as Error).message}`);
      else if (performance.now() - h.renewedAt >= this.#fenceMs) {
        this.#lose(
          p,
          `no lease renewal for ${Math.round(performance.now() - h.renewedAt)} ms (fence at ${this.#fenceMs} ms)`,
        );
      }
    }
  }

  #lose(p: number, reason: string): void {
    if (!this.#held.delete(p)) return;
    this.#o.log?.(`partition ${p}: lost (${reason})`);
    this.#o.handlers.lost(p, reason);
  }

  async #tryAcquire(p: number, value: string): Promise<void> {
    const sent = performance.now();
    let revision: number;
    try {
      revision = await this.#o.leases.create(leaseKey(p), value);
    } catch (e) {
      if (isApiError(e, WRONG_LAST_SEQUENCE) || isTransient(e)) return; // held by someone, or try next tick
      throw e;
    }
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

  #release(p: number, h: Held): void {
    h.phase = 'releasing';
    this.#o.log?.(`partition ${p}: releasing to ${assignPartitions(this.#o.partitions, this.#live)[p]}`);
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

  async #listWorkers(): Promise<string[]> {
    const ids: string[] = [];
    const it = await this.#o.leases.keys('worker.*');
    for await (const k of it) ids.push(k.slice('worker.'.length));
    return ids.sort();
  }
}

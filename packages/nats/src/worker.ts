// runWorker(): one worker process's part of a deployment — connect, bind (or set up) the
// deployment, load and verify the model bundle, register and take a fair share of partitions
// through leases, run each owned partition (PartitionRunner), and stop gracefully (checkpoint and
// hand over) on stop() or an aborted signal. Owns its NATS connection and its runners.
import { hostname } from 'node:os';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { type KeyedModel, keyedCharModel, type TokenInput } from '@rxrnn/keyed';
import { connectNats } from './connect.js';
import { type Deployment, openDeployment, setupDeployment } from './deployment.js';
import { checkOneOf, checkPositiveInt, describe } from './internal/checks.js';
import { LeaseManager } from './leases.js';
import { fetchModel, parseModelRef } from './model-bundle.js';
import type { OutputEncoding } from './outputs.js';
import { checkKey, partitionOf } from './partition.js';
import { PartitionRunner, type PartitionStats } from './partition-runner.js';

/** What the model emits per event (see @rxrnn/keyed's keyedCharModel). */
export type WorkerOutput = 'logits' | 'sample' | 'surprisal';

/** Sampling settings of output 'sample' (see @rxrnn/cells' sample()). */
export interface WorkerSampling {
  /** Softmax temperature > 0. Default 1. */
  temperature?: number;
  /** Draw among the k most likely tokens only. Default: all. */
  topK?: number;
  /** Draw from the smallest set of tokens with probability ≥ p (nucleus). Default 1. */
  topP?: number;
  /** Base seed: a key's sampler is seeded with `seed XOR fnv1a(key)`. Default 0. */
  seed?: number;
}

/** What {@link Worker.stats} reports. */
export interface WorkerStats {
  /** The worker's id. */
  worker: string;
  /** The live workers it sees (sorted ids). */
  liveWorkers: string[];
  /** Counters of each partition it runs. */
  partitions: PartitionStats[];
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** NATS server URL(s), e.g. `nats://10.0.0.5:4222` (list every cluster node, so the client fails over). */
  servers: string | string[];
  /** Deployment name (streams, buckets and subjects are named after it). Default `rxrnn`. */
  stream?: string;
  /** The model bundle to run, `sha256:<hex>` (what publishModel / `rxrnn-nats model put` printed). */
  model: string;
  /**
   * Partition count. Given: the deployment is set up if missing (with `replicas`, `leaseTtlMs`,
   * `duplicateWindowMs`) and must have this count. Omitted: the deployment must exist.
   */
  partitions?: number;
  /** Replicas when the deployment is created: 1, or 3/5 on a cluster. Default 1. */
  replicas?: 1 | 3 | 5;
  /** Lease TTL when the deployment is created, ms. Default 10000. */
  leaseTtlMs?: number;
  /** Output duplicate window when the deployment is created, ms. Default 120000. */
  duplicateWindowMs?: number;
  /** What each event's output is: 'logits' [V] (default), a 'sample'd token id, or the token's 'surprisal' in bits. */
  output?: WorkerOutput;
  /**
   * Output 'sample': temperature, topK, topP and a base seed; a key's sampler is seeded with
   * `seed XOR fnv1a(key)`, so a replay draws the same tokens. Default temperature 1, seed 0.
   */
  sampling?: WorkerSampling;
  /** Output message encoding: 'json' (default) or 'msgpack' (exact float32, about a quarter of the size for logits). */
  outputEncoding?: OutputEncoding;
  /** Most key states in memory per partition (least recently used go to KV). Default 10000. */
  maxKeys?: number;
  /** A key idle this long (ms) goes to KV. Default Infinity. */
  idleMs?: number;
  /** Most keys stepped as one batch. Default 64. */
  maxBatch?: number;
  /** Longest an event waits for its batch to fill, ms. Default 0 (what arrived together). */
  maxDelayMs?: number;
  /** Checkpoint period per partition, ms. Default 2000. */
  checkpointIntervalMs?: number;
  /** Most events in the engine (and outputs in flight) per partition. Default 2048. */
  maxInFlight?: number;
  /** A checkpoint or state written under another model: 'refuse' (default) or 'keep' (carry it over). */
  onModelChange?: 'refuse' | 'keep';
  /** This worker's id (1–64 of [A-Za-z0-9_-], unique among live workers). Default `<host>-<pid>-<random>`. */
  workerId?: string;
  /** More NATS connection options (user, pass, token, tls, name, …). */
  connectOptions?: Partial<ConnectionOptions>;
  /** How long a NATS request keeps retrying through transient failures, ms. Default 30000. */
  retryMs?: number;
  /** Diagnostics, one line each (takeovers, releases, failures). Default: none. */
  log?: (message: string) => void;
  /** Stops the worker gracefully when aborted. */
  signal?: AbortSignal;
}

/** A running worker. */
export interface Worker {
  /** Its worker id. */
  readonly id: string;
  /** sha256 hex of the model it runs. */
  readonly model: string;
  /** The deployment it runs in (bound through its own connection). */
  readonly deployment: Deployment;
  /** Partitions it owns and runs now. */
  owned(): number[];
  /** Live workers it sees, and the counters of its partitions. */
  stats(): WorkerStats;
  /**
   * Stops gracefully: every partition stops consuming, answers what it was fed, checkpoints and
   * hands its lease back; then the connection closes. Resolves when done.
   */
  stop(): Promise<void>;
  /** Resolves once stopped (by stop() or the signal). */
  readonly done: Promise<void>;
}

/** FNV-1a 32 of a key's UTF-8 bytes (as partitionOf), for per-key sampler seeds. */
function keySeed(key: string, base: number): number {
  return (partitionOf(key, 2 ** 32) ^ base) | 0;
}

/**
 * Starts a worker: connects to NATS, binds the deployment (setting it up when `partitions` is
 * given and it does not exist), downloads model bundle `model` from the deployment's object store
 * and checks its SHA-256, registers, and from then on owns a fair share of the partitions —
 * taking over partitions of workers that stop or die (their leases expire), handing partitions
 * to workers that join. Resolves once the worker runs; see {@link Worker}.
 *
 * Delivery: each key's results are those of an uninterrupted single-process run of the keyed
 * engine over the key's events (no gap; no duplicate after JetStream's de-duplication), whatever
 * worker dies when — see the package README, "Delivery semantics".
 *
 * @example
 * ```ts
 * import { CharModel } from '@rxrnn/cells';
 * import { encodeCheckpoint } from '@rxrnn/trainer';
 * import {
 *   connectNats, publishEvents, publishModel, runWorker, setupDeployment, startLocalNats, verifyOutputs,
 *   weightsCheckpoint,
 * } from '@rxrnn/nats';
 *
 * const nats = await startLocalNats(); // a nats-server on a loopback port; in production, your cluster
 * const nc = await connectNats(nats.servers);
 * const deployment = await setupDeployment(nc, { stream: 'chat', partitions: 4 });
 * const model = new CharModel({ cell: 'gru', vocab: [...' abcdefghijklmnopqrstuvwxyz'], hidden: 32, seed: 1 });
 * const hash = await publishModel(deployment.models, encodeCheckpoint(weightsCheckpoint(model)));
 *
 * const worker = await runWorker({ servers: nats.servers, stream: 'chat', model: `sha256:${hash}`, output: 'surprisal' });
 * await publishEvents(deployment, [...'hello world'].map((ch) => ({ key: 'alice', value: ch })));
 * // One result per event on chat.out.alice; wait for the 11 of them.
 * while ((await deployment.jsm.streams.info(deployment.names.outputStream)).state.messages < 11) {
 *   await new Promise((r) => setTimeout(r, 50));
 * }
 * await worker.stop(); // graceful: checkpoints and hands its partitions back
 * const audit = await verifyOutputs(deployment, model, { output: 'surprisal' });
 * console.log(audit.outputs, audit.lost, audit.duplicated); // 11 0 0
 * await nc.close();
 * await nats.close();
 * ```
 * @throws (rejects) RangeError/TypeError for bad options; Error when NATS, the deployment or the
 *   model bundle cannot be reached or verified, or the duplicate window is too short.
 */
export async function runWorker(options: WorkerOptions): Promise<Worker> {
  const where = 'runWorker';
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s !== '')) {
    throw new TypeError(
      `${where}: servers must be a URL or a non-empty list of URLs, got ${describe(options.servers)}`,
    );
  }
  const modelHash = parseModelRef(where, options.model);
  const output = checkOneOf(where, 'output', options.output ?? 'logits', ['logits', 'sample', 'surprisal'] as const);
  if (options.sampling !== undefined && output !== 'sample') {
    throw new TypeError(`${where}: sampling is for output 'sample', got output '${output}'`);
  }
  const sampling = options.sampling ?? {};
  const seedBase = sampling.seed ?? 0;
  if (!Number.isSafeInteger(seedBase))
    throw new RangeError(`${where}: sampling.seed must be an integer, got ${describe(seedBase)}`);
  const outputEncoding = checkOneOf(where, 'outputEncoding', options.outputEncoding ?? 'json', [
    'json',
    'msgpack',
  ] as const);
  const maxKeys = checkPositiveInt(where, 'maxKeys', options.maxKeys ?? 10_000);
  const idleMs = options.idleMs ?? Infinity;
  if (!(idleMs === Infinity || (typeof idleMs === 'number' && idleMs > 0 && Number.isFinite(idleMs)))) {
    throw new RangeError(`${where}: idleMs must be a finite number > 0 or Infinity, got ${describe(idleMs)}`);
  }
  const maxBatch = checkPositiveInt(where, 'maxBatch', options.maxBatch ?? 64);
  const maxDelayMs = options.maxDelayMs ?? 0;
  if (typeof maxDelayMs !== 'number' || !Number.isFinite(maxDelayMs) || maxDelayMs < 0) {
    throw new RangeError(`${where}: maxDelayMs must be a finite number >= 0, got ${describe(maxDelayMs)}`);
  }
  const checkpointIntervalMs = checkPositiveInt(where, 'checkpointIntervalMs', options.checkpointIntervalMs ?? 2000);
  const maxInFlight = checkPositiveInt(where, 'maxInFlight', options.maxInFlight ?? 2048);
  const onModelChange = checkOneOf(where, 'onModelChange', options.onModelChange ?? 'refuse', [
    'refuse',
    'keep',
  ] as const);
  const retryMs = checkPositiveInt(where, 'retryMs', options.retryMs ?? 30_000);
  const workerId =
    options.workerId ??
    `${hostname()
      .replace(/[^A-Za-z0-9_-]/g, '_')
      .slice(0, 40)}-${process.pid}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const log = options.log ?? (() => {});
  if (typeof log !== 'function') throw new TypeError(`${where}: log must be a function, got ${describe(log)}`);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: signal must be an AbortSignal, got ${describe(options.signal)}`);
  }
  if (
    options.connectOptions !== undefined &&
    (typeof options.connectOptions !== 'object' || options.connectOptions === null)
  ) {
    throw new TypeError(`${where}: connectOptions must be an object, got ${describe(options.connectOptions)}`);
  }

  const nc = await connectNats(servers, { name: `rxrnn-worker ${workerId}`, ...options.connectOptions });
  try {
    const deployment =
      options.partitions === undefined
        ? await openDeployment(nc, { stream: options.stream, timeoutMs: retryMs })
        : await setupDeployment(nc, {
            stream: options.stream,
            partitions: options.partitions,
            replicas: options.replicas,
            leaseTtlMs: options.leaseTtlMs,
            duplicateWindowMs: options.duplicateWindowMs,
            timeoutMs: retryMs,
          });
    // A re-publish after a failover comes at most this long after the first copy.
    const needed = 2 * checkpointIntervalMs + 2 * deployment.leaseTtlMs + 10_000;
    if (deployment.duplicateWindowMs < needed) {
      throw new RangeError(
        `${where}: the output stream's duplicate window is ${deployment.duplicateWindowMs} ms, it must be at least 2 × checkpointIntervalMs + 2 × lease TTL + 10 s = ${needed} ms for re-published outputs to be dropped`,
      );
    }
    const bundle = await fetchModel(deployment.models, modelHash);
    const model = bundle.model;
    const keyedModel = (): KeyedModel<TokenInput, Float32Array | number | null> =>
      output === 'sample'
        ? keyedCharModel(model, {
            output,
            sampling: (key) => ({ ...sampling, seed: keySeed(String(key), seedBase) }),
          })
        : keyedCharModel(model, { output });
    return startWorker({
      nc,
      deployment,
      workerId,
      modelHash,
      log,
      signal: options.signal,
      runner: (partition, holds, onFailure) =>
        new PartitionRunner({
          deployment,
          partition,
          workerId,
          model: modelHash,
          keyedModel,
          vocab: model.vocab,
          outputEncoding,
          maxKeys,
          idleMs,
          maxBatch,
          maxDelayMs,
          checkpointIntervalMs,
          maxInFlight,
          onModelChange,
          holds,
          onFailure,
          log,
          retryMs,
        }),
    });
  } catch (e) {
    await nc.close().catch(() => {});
    throw e;
  }
}

interface StartArgs {
  nc: NatsConnection;
  deployment: Deployment;
  workerId: string;
  modelHash: string;
  log: (message: string) => void;
  signal: AbortSignal | undefined;
  runner: (partition: number, holds: () => boolean, onFailure: (e: Error) => void) => PartitionRunner;
}

function startWorker(a: StartArgs): Worker {
  const runners = new Map<number, { runner: PartitionRunner; started: Promise<void> }>();
  let leases: LeaseManager;
  const handlers = {
    acquire: async (p: number) => {
      const runner = a.runner(
        p,
        () => leases.holds(p),
        (e) => {
          a.log(`partition ${p}: ${e.message}`);
          if (runners.get(p)?.runner === runner) runners.delete(p);
          leases.drop(p);
        },
      );
      const started = runner.start();
      runners.set(p, { runner, started });
      try {
        await started;
        a.log(`partition ${p}: running from sequence ${runner.stats().checkpointSeq + 1}`);
      } catch (e) {
        runner.abort(`takeover failed: ${(e as Error).message}`);
        if (runners.get(p)?.runner === runner) runners.delete(p);
        throw e;
      }
    },
    release: async (p: number) => {
      const r = runners.get(p);
      if (!r) return;
      await r.started.catch(() => {});
      try {
        await r.runner.release();
        a.log(`partition ${p}: checkpointed at ${r.runner.stats().checkpointSeq} and released`);
      } finally {
        if (runners.get(p) === r) runners.delete(p);
      }
    },
    lost: (p: number, reason: string) => {
      const r = runners.get(p);
      runners.delete(p);
      r?.runner.abort(reason);
    },
  };
  leases = new LeaseManager({
    leases: a.deployment.leases,
    ttlMs: a.deployment.leaseTtlMs,
    partitions: a.deployment.partitions,
    workerId: a.workerId,
    handlers,
    log: a.log,
  });
  leases.start();
  a.log(
    `worker ${a.workerId}: running model sha256:${a.modelHash} on deployment "${a.deployment.names.name}" (${a.deployment.partitions} partitions)`,
  );

  let stopping: Promise<void> | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await leases.stop();
      } finally {
        for (const [p, r] of runners) r.runner.abort(`worker stopped (partition ${p} not released)`);
        runners.clear();
        await a.nc.close().catch(() => {});
        a.log(`worker ${a.workerId}: stopped`);
        resolveDone();
      }
    })();
    return stopping;
  };
  if (a.signal) {
    if (a.signal.aborted) void stop();
    else a.signal.addEventListener('abort', () => void stop(), { once: true });
  }
  return {
    id: a.workerId,
    model: a.modelHash,
    deployment: a.deployment,
    owned: () => leases.owned().filter((p) => runners.has(p)),
    stats: () => ({
      worker: a.workerId,
      liveWorkers: leases.liveWorkers(),
      partitions: [...runners.values()].map((r) => r.runner.stats()).sort((x, y) => x.partition - y.partition),
    }),
    stop,
    done,
  };
}

/** Checks a key and returns the input subject an event of it goes to (client-side partitioning). */
export function eventSubject(deployment: Deployment, key: string): string {
  checkKey('eventSubject', key);
  return deployment.inputSubject(partitionOf(key, deployment.partitions), key);
}

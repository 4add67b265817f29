// A deployment: the JetStream resources one keyed stream lives in, named after it — the input
// stream (events on <name>.in.<partition>.<key>), the output stream (<name>.out.<key>, with its
// duplicate window), the KV buckets for states/checkpoints and for leases, the object store of
// model bundles — and the record that fixes its partition count. setupDeployment creates what is
// missing and checks what exists; openDeployment binds to an existing one.
import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { type NatsConnection, nanos } from '@nats-io/nats-core';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { checkOneOf, checkPositiveInt, describe } from './internal/checks.js';
import { isApiError, retry, WRONG_LAST_SEQUENCE } from './internal/retry.js';
import { type DeploymentRecord, decodeDeploymentRecord, encodeDeploymentRecord } from './records.js';

/** Names of everything a deployment called `name` uses. */
export interface DeploymentNames {
  /** The deployment name (default `rxrnn`). */
  readonly name: string;
  /** Input subjects' prefix, `<name>.in`: events go to `<name>.in.<partition>.<key>`. */
  readonly inputPrefix: string;
  /** The input JetStream stream, `<name>-in` (subjects `<name>.in.*.*`). */
  readonly inputStream: string;
  /** Output subjects' prefix, `<name>.out`: outputs go to `<name>.out.<key>`. */
  readonly outputPrefix: string;
  /** The output JetStream stream, `<name>-out` (subjects `<name>.out.>`). */
  readonly outputStream: string;
  /** KV bucket of key states, partition checkpoints and the deployment record, `<name>-state`. */
  readonly stateBucket: string;
  /** KV bucket of worker heartbeats and partition leases (its TTL is the lease TTL), `<name>-leases`. */
  readonly leaseBucket: string;
  /** Object store of model bundles, `<name>-models`. */
  readonly modelBucket: string;
}

/** The names of deployment `name`; throws a RangeError unless `name` is 1–32 of `[A-Za-z0-9_-]`. */
export function deploymentNames(name = 'rxrnn'): DeploymentNames {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(name)) {
    throw new RangeError(`deploymentNames: stream must be 1 to 32 of [A-Za-z0-9_-], got ${describe(name)}`);
  }
  return {
    name,
    inputPrefix: `${name}.in`,
    inputStream: `${name}-in`,
    outputPrefix: `${name}.out`,
    outputStream: `${name}-out`,
    stateBucket: `${name}-state`,
    leaseBucket: `${name}-leases`,
    modelBucket: `${name}-models`,
  };
}

/** Options of {@link setupDeployment}. */
export interface SetupOptions {
  /** Deployment name (see {@link deploymentNames}). Default `rxrnn`. */
  stream?: string;
  /** Number of partitions P, fixed for the deployment's life (keys hash into them). */
  partitions: number;
  /** Replicas of every stream and bucket: 1, or 3/5 on a cluster. Default 1. */
  replicas?: 1 | 3 | 5;
  /** Lease time to live, ms: a worker that stops renewing loses its partitions this long after. Default 10000. */
  leaseTtlMs?: number;
  /**
   * The output stream's duplicate window, ms: a re-published output with the same message id
   * within it is dropped. Must cover 2 × checkpoint interval + 2 × lease TTL + 10 s (workers check).
   * Default 120000.
   */
  duplicateWindowMs?: number;
  /** Input retention, ms (0: keep every event). Must exceed checkpoint interval + failover time. Default 0. */
  inputMaxAgeMs?: number;
  /** Output retention, ms (0: keep every output). Default 0. */
  outputMaxAgeMs?: number;
  /** Deadline for the setup requests through a cluster election, ms. Default 30000. */
  timeoutMs?: number;
}

/** A bound deployment: its names, fixed settings and the handles to its resources. */
export interface Deployment {
  /** The names of its streams, buckets, object store and subjects. */
  readonly names: DeploymentNames;
  /** Partition count P, fixed when the deployment was created. */
  readonly partitions: number;
  /** Replicas of its streams and buckets. */
  readonly replicas: number;
  /** The lease bucket's TTL, ms. */
  readonly leaseTtlMs: number;
  /** The output stream's duplicate window, ms. */
  readonly duplicateWindowMs: number;
  /** The connection it was bound through (the caller's). */
  readonly nc: NatsConnection;
  /** JetStream client and manager on that connection. */
  readonly js: JetStreamClient;
  /** JetStream manager (streams, consumers) on that connection. */
  readonly jsm: JetStreamManager;
  /** The state bucket: deployment record, partition checkpoints, key states. */
  readonly state: KV;
  /** The lease bucket, with a request timeout of a quarter of the lease TTL (at least 250 ms, at most 2 s). */
  readonly leases: KV;
  /** The object store of model bundles. */
  readonly models: ObjectStore;
  /**
   * The durable consumer of partition p under ownership epoch `epoch`: `<name>-p<p>-e<epoch>`.
   * Each takeover reads through a consumer of its own (and deletes the earlier ones), so a stale
   * owner's pull requests can never draw messages from the new owner's consumer.
   */
  consumerName(p: number, epoch: number): string;
  /** Input subject of `key` in partition p: `<name>.in.<p>.<key>`. */
  inputSubject(p: number, key: string): string;
  /** Output subject of `key`: `<name>.out.<key>`. */
  outputSubject(key: string): string;
}

const MS = 1_000_000;

/** Key of the deployment record in the state bucket. */
export const DEPLOYMENT_KEY = 'deployment';

/**
 * Creates the deployment's streams, buckets, object store and record where missing and checks
 * the ones that exist (same partition count, input subjects, duplicate window and lease TTL as
 * asked): idempotent, so every worker may call it, several at once. Retries through transient
 * cluster failures until `timeoutMs`. Throws a RangeError for a bad option or a deployment that
 * exists with other settings.
 *
 * @example
 * ```ts
 * import { connectNats, setupDeployment, startLocalNats } from '@rxrnn/nats';
 * const nats = await startLocalNats(); // or your servers' URLs
 * const nc = await connectNats(nats.servers);
 * const d = await setupDeployment(nc, { stream: 'chat', partitions: 8 }); // replicas: 3 on a cluster
 * console.log(d.names.inputStream, d.inputSubject(5, 'alice'), d.leaseTtlMs); // chat-in chat.in.5.alice 10000
 * await nc.close();
 * await nats.close();
 * ```
 */
export async function setupDeployment(nc: NatsConnection, options: SetupOptions): Promise<Deployment> {
  const where = 'setupDeployment';
  const names = deploymentNames(options.stream ?? 'rxrnn');
  const partitions = checkPositiveInt(where, 'partitions', options.partitions);
  if (partitions > 4096) throw new RangeError(`${where}: partitions must be at most 4096, got ${partitions}`);
  const replicas = checkOneOf(where, 'replicas', options.replicas ?? 1, [1, 3, 5] as const);
  const leaseTtlMs = checkPositiveInt(where, 'leaseTtlMs', options.leaseTtlMs ?? 10_000);
  if (leaseTtlMs < 500) throw new RangeError(`${where}: leaseTtlMs must be at least 500, got ${leaseTtlMs}`);
  const duplicateWindowMs = checkPositiveInt(where, 'duplicateWindowMs', options.duplicateWindowMs ?? 120_000);
  const inputMaxAgeMs = checkNonNegativeInt(where, 'inputMaxAgeMs', options.inputMaxAgeMs ?? 0);
  const outputMaxAgeMs = checkNonNegativeInt(where, 'outputMaxAgeMs', options.outputMaxAgeMs ?? 0);
  const timeoutMs = checkPositiveInt(where, 'timeoutMs', options.timeoutMs ?? 30_000);
  const r = <T>(fn: () => Promise<T>) => retry(fn, { deadlineMs: timeoutMs });

  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const input: Partial<StreamConfig> & { name: string } = {
    name: names.inputStream,
    subjects: [`${names.inputPrefix}.*.*`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    max_age: nanos(inputMaxAgeMs),
  };
  const output: Partial<StreamConfig> & { name: string } = {
    name: names.outputStream,
    subjects: [`${names.outputPrefix}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    max_age: nanos(outputMaxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
  };
  await r(() => ensureStream(jsm, input, where));
  await r(() => ensureStream(jsm, output, where));
  const kvm = new Kvm(nc);
  await r(() => kvm.create(names.stateBucket, { history: 1, replicas, allow_direct: false }));
  await r(() => kvm.create(names.leaseBucket, { history: 1, replicas, ttl: leaseTtlMs, allow_direct: false }));
  await r(() => new Objm(nc).create(names.modelBucket, { replicas, storage: StorageType.File }));

  const d = await r(() => bind(nc, jsm, names));
  const record: DeploymentRecord = { partitions, createdAt: Date.now() };
  try {
    await r(() => d.state.create(DEPLOYMENT_KEY, encodeDeploymentRecord(record)));
  } catch (e) {
    if (!isApiError(e, WRONG_LAST_SEQUENCE)) throw e; // another caller made it first: compare below
  }
  const existing = await r(() => readDeploymentRecord(d.state, names));
  if (existing.partitions !== partitions) {
    throw new RangeError(
      `${where}: deployment "${names.name}" has ${existing.partitions} partitions, asked for ${partitions} (the count is fixed when a deployment is created)`,
    );
  }
  const made = await r(() => describeDeployment(d, existing));
  if (made.leaseTtlMs !== leaseTtlMs) {
    throw new RangeError(
      `${where}: deployment "${names.name}" has a lease TTL of ${made.leaseTtlMs} ms, asked for ${leaseTtlMs} ms`,
    );
  }
  if (made.duplicateWindowMs < duplicateWindowMs) {
    throw new RangeError(
      `${where}: deployment "${names.name}" has an output duplicate window of ${made.duplicateWindowMs} ms, asked for ${duplicateWindowMs} ms`,
    );
  }
  return made;
}

/**
 * Binds to an existing deployment (made by {@link setupDeployment}): reads its record, lease TTL
 * and duplicate window. Throws an Error naming what is missing when it was never set up.
 */
export async function openDeployment(
  nc: NatsConnection,
  options: { stream?: string; timeoutMs?: number } = {},
): Promise<Deployment> {
  const names = deploymentNames(options.stream ?? 'rxrnn');
  const timeoutMs = checkPositiveInt('openDeployment', 'timeoutMs', options.timeoutMs ?? 30_000);
  const r = <T>(fn: () => Promise<T>) => retry(fn, { deadlineMs: timeoutMs });
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const d = await r(() => bind(nc, jsm, names));
  const record = await r(() => readDeploymentRecord(d.state, names));
  return r(() => describeDeployment(d, record));
}

type Bound = Omit<Deployment, 'partitions' | 'replicas' | 'leaseTtlMs' | 'duplicateWindowMs'>;

async function bind(nc: NatsConnection, jsm: JetStreamManager, names: DeploymentNames): Promise<Bound> {
  const kvm = new Kvm(nc);
  const notSetUp = (what: string) => (e: unknown) => {
    if (isApiError(e, 10059) || /not found/i.test((e as Error).message)) {
      throw new Error(
        `deployment "${names.name}" is not set up (${what} is missing): run setupDeployment or \`rxrnn-nats setup\``,
      );
    }
    throw e;
  };
  // Opening a KV bucket does not look it up; its stream info does.
  await jsm.streams.info(`KV_${names.stateBucket}`).catch(notSetUp(`KV bucket ${names.stateBucket}`));
  await jsm.streams.info(`KV_${names.leaseBucket}`).catch(notSetUp(`KV bucket ${names.leaseBucket}`));
  const [state, leases, models] = await Promise.all([
    kvm.open(names.stateBucket, { allow_direct: false, bindOnly: true }),
    kvm.open(names.leaseBucket, { allow_direct: false, bindOnly: true }),
    new Objm(nc).open(names.modelBucket).catch(notSetUp(`object store ${names.modelBucket}`)),
  ]);
  return {
    names,
    nc,
    js: jetstream(nc),
    jsm,
    state,
    leases,
    models,
    consumerName: (p, epoch) => `${names.name}-p${p}-e${epoch}`,
    inputSubject: (p, key) => `${names.inputPrefix}.${p}.${key}`,
    outputSubject: (key) => `${names.outputPrefix}.${key}`,
  };
}

async function readDeploymentRecord(state: KV, names: DeploymentNames): Promise<DeploymentRecord> {
  const entry = await state.get(DEPLOYMENT_KEY);
  if (entry?.operation !== 'PUT') {
    throw new Error(
      `deployment "${names.name}" is not set up (no "${DEPLOYMENT_KEY}" record in KV bucket ${names.stateBucket}): run setupDeployment or \`rxrnn-nats setup\``,
    );
  }
  return decodeDeploymentRecord(entry.value, `KV ${names.stateBucket}/${DEPLOYMENT_KEY}`);
}

async function describeDeployment(d: Bound, record: DeploymentRecord): Promise<Deployment> {
  const [input, output, leases] = await Promise.all([
    d.jsm.streams.info(d.names.inputStream),
    d.jsm.streams.info(d.names.outputStream),
    d.leases.status(),
  ]);
  checkInputSubjects(input, d.names);
  const leaseTtlMs = leases.ttl;
  if (!(leaseTtlMs > 0)) {
    throw new RangeError(
      `deployment "${d.names.name}": KV bucket ${d.names.leaseBucket} has no TTL, so leases never expire`,
    );
  }
  return {
    ...d,
    partitions: record.partitions,
    replicas: input.config.num_replicas,
    leaseTtlMs,
    duplicateWindowMs: Math.round(output.config.duplicate_window / MS),
  };
}

function checkInputSubjects(info: StreamInfo, names: DeploymentNames): void {
  const want = `${names.inputPrefix}.*.*`;
  if (!info.config.subjects?.includes(want)) {
    throw new RangeError(
      `deployment "${names.name}": stream ${names.inputStream} has subjects ${JSON.stringify(info.config.subjects)}, expected to include "${want}"`,
    );
  }
}

/** Adds the stream, or checks that the existing one has the subjects and replicas asked for. */
async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  where: string,
): Promise<void> {
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(config.name);
  } catch (e) {
    if (!isApiError(e, 10059)) throw e; // 10059: stream not found
  }
  if (!info) {
    await jsm.streams.add(config);
    return;
  }
  const missing = (config.subjects ?? []).filter((s) => !info.config.subjects?.includes(s));
  if (missing.length > 0) {
    throw new RangeError(
      `${where}: stream ${config.name} exists with subjects ${JSON.stringify(info.config.subjects)}, expected ${JSON.stringify(config.subjects)}`,
    );
  }
  if (info.config.num_replicas !== config.num_replicas) {
    throw new RangeError(
      `${where}: stream ${config.name} has ${info.config.num_replicas} replicas, asked for ${config.num_replicas}`,
    );
  }
  if (config.duplicate_window !== undefined && info.config.duplicate_window < config.duplicate_window) {
    await jsm.streams.update(config.name, { ...info.config, duplicate_window: config.duplicate_window });
  }
}

function checkNonNegativeInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${where}: ${name} must be a non-negative integer, got ${describe(v)}`);
  }
  return v;
}

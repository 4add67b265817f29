// @rxrnn/nats public API (Node only): keyed RNN stream processing on NATS JetStream — deployments
// (streams, KV buckets, object store), partitioning, leases, model bundles, workers — and local
// nats-server processes for development and tests.

/**
 * Keyed RNN stream processing on NATS JetStream (Node only): deployments, partitions, leases,
 * model bundles, workers with exact failover, and local nats-server processes for development.
 *
 * @module @rxrnn/nats
 */
export { connectNats, type NatsConnection } from './connect.js';
export {
  type Deployment,
  type DeploymentNames,
  deploymentNames,
  openDeployment,
  type SetupOptions,
  setupDeployment,
} from './deployment.js';
export {
  type EventValue,
  type PublishOptions,
  publishEvents,
  readInputEvents,
  readOutputs,
  type StoredEvent,
  type TokenEvent,
} from './events.js';
export {
  FencedError,
  KvStateStore,
  type KvStateStoreOptions,
  keyStateKey,
  type StoreCounts,
} from './kv-state-store.js';
export { assignPartitions, type LeaseHandlers, LeaseManager, type LeaseManagerOptions } from './leases.js';
export {
  DEBIAN_NATS_SERVER,
  findNatsServer,
  type LocalNats,
  type LocalNatsNode,
  type LocalNatsOptions,
  startLocalNats,
} from './local-server.js';
export {
  fetchModel,
  type LoadedBundle,
  modelFromBundle,
  modelHash,
  parseModelRef,
  publishModel,
  weightsCheckpoint,
} from './model-bundle.js';
export {
  decodeOutput,
  encodeFailure,
  encodeFailureMsgpack,
  encodeOutput,
  encodeOutputMsgpack,
  type OutputEncoding,
  type OutputFailure,
  type OutputMessage,
  OutputPublisher,
  type OutputPublisherOptions,
  type OutputResult,
  outputMsgId,
  type PublishCounts,
} from './outputs.js';
export { checkKey, fromKvToken, kvToken, MAX_KEY_BYTES, partitionMapping, partitionOf } from './partition.js';
export { decodeEvent, type PartitionStats } from './partition-runner.js';
export type {
  DeploymentRecord,
  KeyRecord,
  PartitionRecord,
} from './records.js';
export {
  compareResults,
  type ExpectedFailure,
  type ExpectedOutput,
  type ExpectedResult,
  type KeyedExpectation,
  type ReferenceOptions,
  referenceResults,
  type Verification,
  verifyOutputs,
} from './verify.js';
export {
  eventSubject,
  runWorker,
  type Worker,
  type WorkerOptions,
  type WorkerOutput,
  type WorkerSampling,
  type WorkerStats,
} from './worker.js';

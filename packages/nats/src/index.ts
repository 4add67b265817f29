// @rxrnn/nats public API (Node only): keyed RNN stream processing on NATS JetStream — deployments
// (streams, KV buckets, object store), partitioning, leases, model bundles, workers — and local
// nats-server processes for development and tests.
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
} from './events.js';
export { FencedError, KvStateStore, type KvStateStoreOptions, keyStateKey } from './kv-state-store.js';
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
  encodeOutput,
  type OutputMessage,
  OutputPublisher,
  type OutputPublisherOptions,
  outputMsgId,
} from './outputs.js';
export { checkKey, fromKvToken, kvToken, MAX_KEY_BYTES, partitionMapping, partitionOf } from './partition.js';
export type {
  DeploymentRecord,
  KeyRecord,
  PartitionRecord,
} from './records.js';

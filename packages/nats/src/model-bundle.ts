// Model distribution: a model travels as a weights bundle — the bytes of an @rxrnn/trainer
// checkpoint (what `charstream train` writes) — stored in the deployment's object store under its
// content hash (SHA-256), so that workers on any machine load the same weights and verify them.
import { createHash } from 'node:crypto';
import type { ObjectStore } from '@nats-io/obj';
import { CharModel } from '@rxrnn/cells';
import { Rng } from '@rxrnn/kernels';
import { type Checkpoint, CheckpointError, createOptimizer, decodeCheckpoint } from '@rxrnn/trainer';
import { describe } from './internal/checks.js';

/** SHA-256 of `bytes`, 64 lower-case hex digits: a bundle's content hash. */
export function modelHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The hash in a model reference: `sha256:<64 hex>` or the 64 hex digits alone. Throws a
 * RangeError for anything else.
 */
export function parseModelRef(where: string, ref: unknown): string {
  if (typeof ref !== 'string')
    throw new TypeError(`${where}: model must be a string "sha256:<hex>", got ${describe(ref)}`);
  const m = /^(?:sha256:)?([0-9a-f]{64})$/.exec(ref.trim().toLowerCase());
  if (!m)
    throw new RangeError(`${where}: model must be "sha256:" and 64 hex digits (a bundle's hash), got ${describe(ref)}`);
  return m[1]!;
}

/** The object name of a bundle in the models store: `sha256-<hex>`. */
export function bundleObjectName(hash: string): string {
  return `sha256-${hash}`;
}

/**
 * A checkpoint that holds only a model's weights (no training state: plain SGD with no buffers,
 * zero counters), for distributing a model that was not trained by the trainer, e.g. a freshly
 * initialised or imported one. Its bytes are `encodeCheckpoint(weightsCheckpoint(model))`.
 */
export function weightsCheckpoint(model: CharModel): Checkpoint {
  const config = model.config;
  return {
    model: { ...config, vocab: [...config.vocab] },
    params: model.params.slice(),
    training: { mode: 'weights' },
    optimizer: createOptimizer({ kind: 'sgd' }, model.params.length).getState(),
    rng: new Rng(config.seed).getState(),
    // One zero row: a checkpoint carries B ≥ 1 rows of state (the trainer checks it on decode).
    cursor: { position: 0, epoch: 0, shift: 0, state: model.createState(1) },
    counters: { step: 0, tokens: 0, seconds: 0 },
    history: [],
    best: null,
  };
}

/** A model loaded from a bundle, with the hash it was verified against. */
export interface LoadedBundle {
  /** sha256 hex of the bundle bytes. */
  hash: string;
  /** The model, with the bundle's parameters. */
  model: CharModel;
  /** The checkpoint the bundle holds. */
  checkpoint: Checkpoint;
}

/**
 * Builds the model a bundle describes: a CharModel from the checkpoint's config, with the
 * best-validation parameters when the checkpoint has them (else its parameters). Throws a
 * CheckpointError when the bytes are not a valid checkpoint or do not fit the model.
 */
export function modelFromBundle(bytes: Uint8Array): LoadedBundle {
  const checkpoint = decodeCheckpoint(bytes);
  let size: number;
  try {
    size = CharModel.layoutOf(checkpoint.model).size;
  } catch (e) {
    throw new CheckpointError(`model bundle: the model config cannot be built (${(e as Error).message})`);
  }
  const params = checkpoint.best?.params ?? checkpoint.params;
  if (params.length !== size) {
    throw new CheckpointError(`model bundle: ${params.length} parameters, the model it describes has ${size}`);
  }
  const model = new CharModel(checkpoint.model, params);
  return { hash: modelHash(bytes), model, checkpoint };
}

/**
 * Stores a bundle in the models object store under its content hash (a no-op when that object is
 * there already) and resolves with the hash. The bytes are decoded first, so a file that is not a
 * checkpoint never reaches the store (CheckpointError).
 */
export async function publishModel(models: ObjectStore, bytes: Uint8Array): Promise<string> {
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`publishModel: bytes must be a Uint8Array, got ${describe(bytes)}`);
  modelFromBundle(bytes);
  const hash = modelHash(bytes);
  const name = bundleObjectName(hash);
  const info = await models.info(name);
  if (!info || info.deleted)
    await models.putBlob({ name, description: 'rxrnn model bundle (trainer checkpoint)' }, bytes);
  return hash;
}

/**
 * Downloads bundle `hash` from the models object store, checks that its SHA-256 is `hash`, and
 * builds the model. Throws an Error when the object is missing or its bytes do not hash to
 * `hash`, a CheckpointError when they are not a valid checkpoint.
 */
export async function fetchModel(models: ObjectStore, hash: string): Promise<LoadedBundle> {
  const name = bundleObjectName(hash);
  const bytes = await models.getBlob(name);
  if (!bytes)
    throw new Error(
      `fetchModel: no model bundle ${name} in the models object store: publish it first (rxrnn-nats model put)`,
    );
  const got = modelHash(bytes);
  if (got !== hash)
    throw new Error(`fetchModel: bundle ${name} has SHA-256 ${got}, expected ${hash}: refusing to load it`);
  return modelFromBundle(bytes);
}

// Model bundles through the object store: a weights-only checkpoint is a valid trainer
// checkpoint, the model comes back with the same parameters (the oracle: the model it was made
// from), the content hash is verified on download, and what is not a checkpoint never reaches
// the store.

import type { NatsConnection } from '@nats-io/nats-core';
import { CharModel } from '@rxrnn/cells';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '@rxrnn/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, setupDeployment } from '../src/deployment.js';
import { type LocalNats, startLocalNats } from '../src/local-server.js';
import {
  bundleObjectName,
  fetchModel,
  modelFromBundle,
  modelHash,
  parseModelRef,
  publishModel,
  weightsCheckpoint,
} from '../src/model-bundle.js';
import { client, MUST_RUN, requireServer } from './helpers.js';

const model = new CharModel({ cell: 'gru', vocab: [...'abcdefgh '], hidden: 12, seed: 3 });
const bytes = encodeCheckpoint(weightsCheckpoint(model));

describe('model bundles', () => {
  it('a weights checkpoint decodes and rebuilds the same model', () => {
    const ckpt = decodeCheckpoint(bytes);
    expect(ckpt.model).toEqual(model.config);
    const loaded = modelFromBundle(bytes);
    expect(loaded.model.params).toEqual(model.params);
    expect(loaded.model.config).toEqual(model.config);
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.hash).toBe(modelHash(bytes));
  });

  it('parses model references', () => {
    const h = modelHash(bytes);
    expect(parseModelRef('t', `sha256:${h}`)).toBe(h);
    expect(parseModelRef('t', h.toUpperCase())).toBe(h);
    expect(() => parseModelRef('t', 'sha256:abc')).toThrow('t: model must be "sha256:" and 64 hex digits');
    expect(() => parseModelRef('t', 5)).toThrow(TypeError);
  });
});

describe.skipIf(!MUST_RUN)('model bundles in the object store', () => {
  let nats: LocalNats;
  let nc: NatsConnection;
  let d: Deployment;
  beforeAll(async () => {
    requireServer();
    nats = await startLocalNats();
    nc = await client(nats.servers);
    d = await setupDeployment(nc, { stream: 'models', partitions: 2 });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.close();
  });

  it('publishes under the content hash (idempotently) and loads the same weights', async () => {
    const hash = await publishModel(d.models, bytes);
    expect(hash).toBe(modelHash(bytes));
    expect(await publishModel(d.models, bytes)).toBe(hash);
    const loaded = await fetchModel(d.models, hash);
    expect(loaded.model.params).toEqual(model.params);
    expect((await d.models.info(bundleObjectName(hash)))?.size).toBe(bytes.length);
  });

  it('refuses bytes that do not hash to the name, a missing bundle, and a non-checkpoint', async () => {
    const other = new CharModel({ cell: 'gru', vocab: [...'abcdefgh '], hidden: 12, seed: 4 });
    const hash = modelHash(bytes);
    // Someone overwrites the object with another model's bytes under the same name.
    await d.models.putBlob({ name: bundleObjectName(hash) }, encodeCheckpoint(weightsCheckpoint(other)));
    await expect(fetchModel(d.models, hash)).rejects.toThrow(
      new RegExp(`^fetchModel: bundle sha256-${hash} has SHA-256 [0-9a-f]{64}, expected ${hash}: refusing to load it$`),
    );
    await expect(fetchModel(d.models, 'c'.repeat(64))).rejects.toThrow(/no model bundle sha256-c{64}/);
    await expect(publishModel(d.models, new TextEncoder().encode('not a checkpoint'))).rejects.toThrow(CheckpointError);
  });
});

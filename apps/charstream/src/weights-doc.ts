// The weights document of GET /api/weights, from the server to the page's own copy of the model:
// msgpack {format: "rxrnn-weights", version: 2, crc32, body}, body = msgpack {step, config, params},
// crc32 the CRC-32 of body. Browser-safe (the page decodes it); decoding checks everything before
// a model is built from it. Encoded bytes are a fresh array the caller owns.
import { CharModel, checkCharModelConfig, type ResolvedCharModelConfig } from '@rxrnn/cells';
import { crc32, describe } from '@rxrnn/kernels/internal';
import { Packr } from 'msgpackr';

/** Format tag of the weights document. */
export const WEIGHTS_FORMAT = 'rxrnn-weights';
/** Version this build writes and reads (version 1 had no checksum). */
export const WEIGHTS_VERSION = 2;

/** A model's published weights: the training step they come from, its config and its params. */
export interface WeightsDoc {
  step: number;
  config: ResolvedCharModelConfig;
  /** The flat parameters, length CharModel.layoutOf(config).size. */
  params: Float32Array;
}

const packr = new Packr({ moreTypes: true, useRecords: false });

/** The document as bytes (a fresh Uint8Array, not a view into msgpackr's buffer). */
export function encodeWeights(doc: WeightsDoc): Uint8Array {
  const body = new Uint8Array(packr.pack({ step: doc.step, config: doc.config, params: doc.params }));
  return new Uint8Array(packr.pack({ format: WEIGHTS_FORMAT, version: WEIGHTS_VERSION, crc32: crc32(body), body }));
}

/**
 * Decodes and validates a weights document: tag, version, checksum, then the body's fields —
 * `step` an integer ≥ 0, `config` a model config within CHAR_MODEL_LIMITS (checkCharModelConfig),
 * `params` a Float32Array of exactly the parameter count the config implies, every value finite —
 * so that building the model allocates no more than the document holds.
 * @throws TypeError when `bytes` is not a Uint8Array; RangeError `weights: <field> ...` otherwise.
 */
export function decodeWeights(bytes: Uint8Array): WeightsDoc {
  const fail = (msg: string): never => {
    throw new RangeError(`weights: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`weights: expected a Uint8Array, got ${describe(bytes)}`);
  const env = unpackObject(bytes, 'document', fail);
  if (env.format !== WEIGHTS_FORMAT) fail(`format ${describe(env.format)}, expected "${WEIGHTS_FORMAT}"`);
  if (env.version !== WEIGHTS_VERSION) fail(`version ${describe(env.version)}, expected ${WEIGHTS_VERSION}`);
  onlyKeys(env, ['format', 'version', 'crc32', 'body'], 'document', fail);
  if (!(env.body instanceof Uint8Array)) fail(`body must be bytes, got ${describe(env.body)}`);
  const body = env.body as Uint8Array;
  const sum = crc32(body);
  if (env.crc32 !== sum)
    fail(`checksum mismatch (stored ${describe(env.crc32)}, computed ${sum}): the document is damaged`);
  const doc = unpackObject(body, 'body', fail);
  onlyKeys(doc, ['step', 'config', 'params'], 'body', fail);
  const step = doc.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0)
    fail(`step must be an integer >= 0, got ${describe(step)}`);
  let config: ResolvedCharModelConfig;
  try {
    config = checkCharModelConfig('weights', 'config', doc.config);
  } catch (e) {
    return fail((e as Error).message.replace(/^weights: /, ''));
  }
  const n = CharModel.layoutOf(config).size;
  const params = doc.params;
  if (!(params instanceof Float32Array)) return fail(`params must be a Float32Array, got ${describe(params)}`);
  if (params.length !== n) fail(`params length ${params.length}, expected the parameter count of config = ${n}`);
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(params[i])) fail(`params[${i}] must be a finite number, got ${params[i]}`);
  return { step: step as number, config, params };
}

function unpackObject(bytes: Uint8Array, what: string, fail: (msg: string) => never): Record<string, unknown> {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    return fail(`${what} does not decode (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v))
    fail(`${what} must be a msgpack map, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], what: string, fail: (m: string) => never): void {
  for (const key of Object.keys(o))
    if (!keys.includes(key)) fail(`${what} has an unknown field ${JSON.stringify(key)}`);
}

// One key's snapshot: the bytes a StateStore keeps. msgpack {format, version, crc, body} where
// body = msgpack {key, output, seq, extra, state} and state is StateHandle.snapshot() bytes (the
// cells' own validated format); crc is CRC-32 of body. Decoding validates every field.
import { createStateHandle, type StateHandle } from '@rxrnn/cells';
import { Packr } from 'msgpackr';
import type { KeyedModel } from '../keyed-model.js';
import type { KeyedKey } from '../types.js';
import { describe, showKey } from './checks.js';
import { crc32 } from './crc32.js';

/** Format tag and version of a key's snapshot. */
export const RECORD_FORMAT = 'rxrnn/keyed-state';
export const RECORD_VERSION = 1;

/** Plain msgpack (no record extension) with typed arrays kept as typed arrays. */
const packr = new Packr({ moreTypes: true, useRecords: false });

/** Encodes and decodes the snapshots of one model's keys through one batch-1 state handle. */
export class RecordCodec {
  readonly #model: KeyedModel<unknown, unknown>;
  readonly #handle: StateHandle;

  constructor(model: KeyedModel<unknown, unknown>) {
    this.#model = model;
    this.#handle = createStateHandle(model.target, 1);
  }

  /** The snapshot of `key` at `seq` with `state` [stateSize] and its extra data: fresh bytes. */
  encode(key: KeyedKey, seq: number, state: Float32Array, extra: unknown): Uint8Array {
    this.#handle.state.set(state);
    const body = packr.pack({
      key,
      output: this.#model.output,
      seq,
      extra: this.#model.writeExtra(extra),
      // Copies (new Uint8Array, not Buffer#slice, which is a view in Node): msgpackr hands out
      // views of a buffer it keeps writing into.
      state: new Uint8Array(this.#handle.snapshot()),
    });
    return new Uint8Array(packr.pack({ format: RECORD_FORMAT, version: RECORD_VERSION, crc: crc32(body), body }));
  }

  /**
   * Reads a snapshot of `key` into `state` [stateSize] and returns its seq and extra data.
   * @throws RangeError naming what is wrong (format, version, checksum, key, model, seq, state,
   *   extra data); `state` is written only when everything checked out.
   */
  decode(bytes: unknown, key: KeyedKey, state: Float32Array): { seq: number; extra: unknown } {
    const where = `keyed: snapshot of key ${showKey(key)}`;
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`${where} must be a Uint8Array, got ${describe(bytes)}`);
    }
    const outer = unpack(where, bytes);
    if (outer.format !== RECORD_FORMAT) {
      throw new RangeError(`${where}: format ${describe(outer.format)}, expected "${RECORD_FORMAT}"`);
    }
    if (outer.version !== RECORD_VERSION) {
      throw new RangeError(`${where}: version ${describe(outer.version)}, expected ${RECORD_VERSION}`);
    }
    const body = outer.body;
    if (!(body instanceof Uint8Array)) throw new RangeError(`${where}: body ${describe(body)}, expected bytes`);
    const crc = crc32(body);
    if (outer.crc !== crc) {
      throw new RangeError(`${where}: checksum ${describe(outer.crc)}, expected ${crc} (the bytes are damaged)`);
    }
    const r = unpack(where, body);
    if (r.key !== key) throw new RangeError(`${where}: it holds key ${showKey(r.key)}, expected ${showKey(key)}`);
    if (r.output !== this.#model.output) {
      throw new RangeError(`${where}: output ${describe(r.output)}, expected "${this.#model.output}"`);
    }
    const seq = r.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new RangeError(`${where}: seq ${describe(seq)}, expected a non-negative integer`);
    }
    if (!(r.state instanceof Uint8Array)) {
      throw new RangeError(`${where}: state ${describe(r.state)}, expected StateHandle snapshot bytes`);
    }
    const extra = this.#model.readExtra(r.extra, where);
    try {
      this.#handle.restore(r.state);
    } catch (e) {
      throw new RangeError(`${where}: ${(e as Error).message}`);
    }
    state.set(this.#handle.state);
    return { seq, extra };
  }
}

function unpack(where: string, bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    throw new RangeError(`${where}: unreadable bytes (${(e as Error).message}), expected a keyed state snapshot`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new RangeError(`${where}: ${describe(v)}, expected a keyed state snapshot`);
  }
  return v as Record<string, unknown>;
}

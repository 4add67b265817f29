// The records a deployment keeps in KV, as msgpack maps with a format tag and version, and their
// validation: a record read back from NATS is checked field by field before anything trusts it
// (a foreign, truncated or mismatched value is an Error naming where it was read and what is wrong).
import { Packr } from 'msgpackr';

const packr = new Packr({ moreTypes: true, useRecords: false });

/** The deployment's fixed settings (KV `<name>-state`, key `deployment`). */
export interface DeploymentRecord {
  /** Partition count P. */
  partitions: number;
  /** ms since the epoch. */
  createdAt: number;
}

/**
 * A partition's checkpoint (KV `<name>-state`, key `p.<p>`): every event of the partition with an
 * input stream sequence ≤ `seq` is in the stored key states (see {@link KeyRecord}).
 */
export interface PartitionRecord {
  /** The partition p. */
  partition: number;
  /** The deployment's partition count. */
  partitions: number;
  /** Last input stream sequence applied and checkpointed (0: none yet). */
  seq: number;
  /** Content hash (sha256 hex) of the model the states belong to. */
  model: string;
  /** Worker that wrote it. */
  owner: string;
  /** Ownership generation: +1 on every takeover, so a stale owner's next write fails. */
  epoch: number;
  /** ms since the epoch, when it was written. */
  time: number;
}

/**
 * One key's state (KV `<name>-state`, key `k.<p>.<token>`): the keyed engine's snapshot bytes,
 * which carry the input stream sequence of the key's last event applied (the engine skips an
 * event at or below it, so replaying from the partition's checkpoint never applies one twice).
 */
export interface KeyRecord {
  /** The key. */
  key: string;
  /** Its partition. */
  partition: number;
  /** Content hash (sha256 hex) of the model. */
  model: string;
  /** Who wrote it: `<worker id>#<epoch>` of the partition's owner at the time. */
  writer: string;
  /** The keyed engine's state snapshot for the key. */
  snapshot: Uint8Array;
}

const FORMATS = {
  deployment: 'rxrnn/nats-deployment',
  partition: 'rxrnn/nats-partition',
  key: 'rxrnn/nats-key',
} as const;
const VERSION = 1;

function encode(kind: keyof typeof FORMATS, body: object): Uint8Array {
  // pack() returns a view of msgpackr's reusable buffer: copy it before the next pack.
  return new Uint8Array(packr.pack({ format: FORMATS[kind], version: VERSION, ...body }));
}

function decode(kind: keyof typeof FORMATS, bytes: Uint8Array, source: string): Record<string, unknown> {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) fail(`empty value, expected a ${FORMATS[kind]} record`);
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    fail(`unreadable value (${(e as Error).message}), expected a ${FORMATS[kind]} record`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`not a record, expected a ${FORMATS[kind]} record`);
  const r = v as Record<string, unknown>;
  if (r.format !== FORMATS[kind]) fail(`format ${JSON.stringify(r.format)}, expected "${FORMATS[kind]}"`);
  if (r.version !== VERSION) fail(`version ${JSON.stringify(r.version)}, this build reads version ${VERSION}`);
  return r;
}

function int(r: Record<string, unknown>, field: string, source: string, min = 0): number {
  const v = r[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new Error(`${source}: ${field} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(r: Record<string, unknown>, field: string, source: string, pattern?: RegExp): string {
  const v = r[field];
  if (typeof v !== 'string' || v === '' || (pattern && !pattern.test(v))) {
    throw new Error(
      `${source}: ${field} must be ${pattern ? `a string matching ${pattern}` : 'a non-empty string'}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

const HASH = /^[0-9a-f]{64}$/;

/** Bytes of a {@link DeploymentRecord}. */
export function encodeDeploymentRecord(r: DeploymentRecord): Uint8Array {
  return encode('deployment', { partitions: r.partitions, createdAt: r.createdAt });
}

/** Reads a {@link DeploymentRecord}; throws an Error naming `source` when the bytes are not one. */
export function decodeDeploymentRecord(bytes: Uint8Array, source: string): DeploymentRecord {
  const r = decode('deployment', bytes, source);
  return { partitions: int(r, 'partitions', source, 1), createdAt: int(r, 'createdAt', source) };
}

/** Bytes of a {@link PartitionRecord}. */
export function encodePartitionRecord(r: PartitionRecord): Uint8Array {
  return encode('partition', { ...r });
}

/**
 * Reads a {@link PartitionRecord} and checks it belongs to partition `partition` of `partitions`;
 * throws an Error naming `source` otherwise.
 */
export function decodePartitionRecord(
  bytes: Uint8Array,
  source: string,
  partition: number,
  partitions: number,
): PartitionRecord {
  const r = decode('partition', bytes, source);
  const rec: PartitionRecord = {
    partition: int(r, 'partition', source),
    partitions: int(r, 'partitions', source, 1),
    seq: int(r, 'seq', source),
    model: str(r, 'model', source, HASH),
    owner: str(r, 'owner', source),
    epoch: int(r, 'epoch', source),
    time: int(r, 'time', source),
  };
  if (rec.partition !== partition || rec.partitions !== partitions) {
    throw new Error(
      `${source}: record of partition ${rec.partition} of ${rec.partitions}, expected partition ${partition} of ${partitions}`,
    );
  }
  return rec;
}

/** Bytes of a {@link KeyRecord}. */
export function encodeKeyRecord(r: KeyRecord): Uint8Array {
  return encode('key', { key: r.key, partition: r.partition, model: r.model, writer: r.writer, snapshot: r.snapshot });
}

/** Reads a {@link KeyRecord} and checks it is the record of `key`; throws an Error naming `source` otherwise. */
export function decodeKeyRecord(bytes: Uint8Array, source: string, key: string): KeyRecord {
  const r = decode('key', bytes, source);
  const rec: KeyRecord = {
    key: str(r, 'key', source),
    partition: int(r, 'partition', source),
    model: str(r, 'model', source, HASH),
    writer: str(r, 'writer', source),
    snapshot: r.snapshot as Uint8Array,
  };
  if (!(rec.snapshot instanceof Uint8Array) || rec.snapshot.length === 0) {
    throw new Error(`${source}: snapshot must be non-empty bytes, got ${JSON.stringify(typeof r.snapshot)}`);
  }
  if (rec.key !== key)
    throw new Error(`${source}: record of key ${JSON.stringify(rec.key)}, expected ${JSON.stringify(key)}`);
  return rec;
}

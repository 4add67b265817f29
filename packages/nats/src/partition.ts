// Keys and partitions: which keys are valid (a key is one NATS subject token), the partition of a
// key (FNV-1a 32 of its UTF-8 bytes mod P — what nats-server's `partition(P, 1)` subject mapping
// computes, so server-mapped and client-partitioned events agree), and the KV-safe form of a key.
import { checkPositiveInt, describe } from './internal/checks.js';

/** Longest key in UTF-8 bytes. */
export const MAX_KEY_BYTES = 200;

const encoder = new TextEncoder();

/**
 * Throws unless `key` can name a stream: a non-empty string of at most {@link MAX_KEY_BYTES} UTF-8
 * bytes that is one NATS subject token (no `.`, `*`, `>`, whitespace or control characters).
 * TypeError for a non-string, RangeError for a bad string.
 */
export function checkKey(where: string, key: unknown, name = 'key'): string {
  if (typeof key !== 'string') throw new TypeError(`${where}: ${name} must be a string, got ${describe(key)}`);
  if (key === '') throw new RangeError(`${where}: ${name} must be a non-empty string, got ""`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  const bad = /[.*>\s\u0000-\u001f\u007f]/u.exec(key);
  if (bad) {
    throw new RangeError(
      `${where}: ${name} must be one NATS subject token (no ".", "*", ">", whitespace or control characters), got ${describe(key)} (character ${JSON.stringify(bad[0])} at ${bad.index})`,
    );
  }
  const bytes = encoder.encode(key).length;
  if (bytes > MAX_KEY_BYTES) {
    throw new RangeError(`${where}: ${name} must be at most ${MAX_KEY_BYTES} UTF-8 bytes, got ${bytes} bytes`);
  }
  return key;
}

/**
 * The partition of `key` among `partitions`: FNV-1a 32-bit hash of the key's UTF-8 bytes, modulo
 * `partitions`. This is the function of nats-server's `{{partition(P,1)}}` subject mapping, so a
 * server that maps `<prefix>.<key>` to `<prefix>.<p>.<key>` puts every key where this says.
 * Throws (RangeError/TypeError) on an invalid key or partition count.
 *
 * @example
 * ```ts
 * import { partitionOf } from '@rxrnn/nats';
 * console.log(partitionOf('alice', 8), partitionOf('bob', 8)); // 7 4
 * ```
 */
export function partitionOf(key: string, partitions: number): number {
  checkKey('partitionOf', key);
  checkPositiveInt('partitionOf', 'partitions', partitions);
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/**
 * The nats-server subject mapping that partitions `<prefix>.<key>` into `<prefix>.<p>.<key>` with
 * the same function as {@link partitionOf}: put it in every server's config
 * (`mappings { "<prefix>.*": "<prefix>.{{partition(P,1)}}.{{wildcard(1)}}" }`) so that any NATS
 * client can publish events without knowing the partition count.
 */
export function partitionMapping(prefix: string, partitions: number): Record<string, string> {
  checkPositiveInt('partitionMapping', 'partitions', partitions);
  return { [`${prefix}.*`]: `${prefix}.{{partition(${partitions},1)}}.{{wildcard(1)}}` };
}

/**
 * A key as a KV key token: letters, digits, `-` and `_` stay, every other byte of its UTF-8 form
 * becomes `=XX` (upper-case hex). Injective, so two keys never share a KV entry.
 */
export function kvToken(key: string): string {
  let out = '';
  for (const byte of encoder.encode(key)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(ch) ? ch : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The key a {@link kvToken} came from. Throws a RangeError on a malformed token. */
export function fromKvToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    if (ch === '=') {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new RangeError(`fromKvToken: bad escape at ${i} in ${describe(token)}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (/[A-Za-z0-9_-]/.test(ch)) bytes.push(ch.charCodeAt(0));
    else throw new RangeError(`fromKvToken: character ${JSON.stringify(ch)} at ${i} in ${describe(token)}`);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
}

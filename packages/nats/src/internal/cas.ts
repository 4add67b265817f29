// Compare-and-set writes to a KV bucket that survive lost answers: a write whose request timed
// out may still have been stored, so a retry then meets its own revision ("wrong last sequence");
// the stored bytes tell whether that revision is ours (same bytes: adopt it) or another writer's.
import type { KV } from '@nats-io/kv';
import { isApiError, retry, WRONG_LAST_SEQUENCE } from './retry.js';

/** Thrown when the key holds another writer's value: this writer has been fenced off. */
export class CasConflict extends Error {
  override readonly name = 'CasConflict';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes `value` at `key` if the key is at `revision` (0: the key must not exist, or be deleted),
 * retrying transient failures until `retryMs`; resolves with the new revision. Rejects with a
 * CasConflict when another writer's value is there.
 */
export async function casWrite(
  kv: KV,
  key: string,
  value: Uint8Array,
  revision: number,
  retryMs: number,
): Promise<number> {
  return retry(
    async () => {
      try {
        return revision === 0 ? await kv.create(key, value) : await kv.update(key, value, revision);
      } catch (e) {
        if (!isApiError(e, WRONG_LAST_SEQUENCE)) throw e;
        const now = await kv.get(key);
        if (now?.operation === 'PUT' && sameBytes(now.value, value)) return now.revision;
        throw new CasConflict(`KV ${key}: changed by another writer since revision ${revision}`);
      }
    },
    { deadlineMs: retryMs },
  );
}

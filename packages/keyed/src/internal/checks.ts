// Argument checks of the keyed engine, its model adapters and stores: the shared ones of
// @rxrnn/kernels/internal (one message style across the packages), plus the key description.
import { describe } from '@rxrnn/kernels/internal';

export {
  checkBoolean,
  checkOneOf,
  checkPositiveFinite,
  checkPositiveInt,
  describe,
  fail,
} from '@rxrnn/kernels/internal';

/** A key as messages show it: strings quoted (cut at 40 characters), numbers as they are. */
export function showKey(key: unknown): string {
  if (typeof key === 'number') return String(key);
  if (typeof key === 'string') return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
  return describe(key);
}

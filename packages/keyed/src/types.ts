// The shapes that flow through keyed(): events in, results out, and the keys that name streams.
// Plain data; the engine never changes an event it was given or a result it has emitted.

/** What names a stream: a string, or a finite number (1 and "1" are different keys). */
export type KeyedKey = string | number;

/** One event of one stream: `value` goes through the model with the state of `key`. */
export interface KeyedEvent<V, K extends KeyedKey = KeyedKey> {
  /** The stream this event belongs to. */
  readonly key: K;
  /** What the model steps with: a token id or `{ token, emit }`, or an input vector x. */
  readonly value: V;
  /**
   * The event's position in its key's stream, a positive integer (e.g. the sequence number of a
   * log or message stream it was read from). An event whose seq is not above the key's last seq
   * is a duplicate and is skipped without output (a replay after a restore); gaps are allowed.
   * Default: the key's last seq + 1, so the events of a key are numbered 1, 2, 3, ...
   */
  readonly seq?: number;
}

/** The model's answer to one event: `seq` is the event's position in its key's stream. */
export interface KeyedOutput<O, K extends KeyedKey = KeyedKey> {
  /** The event's key. */
  readonly key: K;
  /** The event's seq (its own, or the key's previous seq + 1). */
  readonly seq: number;
  /** What the model answers (h, logits, a token id or bits; null where no output was asked). */
  readonly output: O;
}

/**
 * A bad event (wrong length, unknown token, non-finite value, bad seq): it fails alone, the key's
 * state stays as it was, and the key's next event goes on from there.
 */
export interface KeyedFailure<K extends KeyedKey = KeyedKey> {
  /** The event's key. */
  readonly key: K;
  /** The event's seq (a failed event takes its place in the key's numbering; its state does not move). */
  readonly seq: number;
  /** What was wrong (a RangeError or TypeError naming the value, the step and the key). */
  readonly error: Error;
}

/** What keyed() emits per event, in each key's order: an output, or a failure (errors: 'emit'). */
export type KeyedResult<O, K extends KeyedKey = KeyedKey> = KeyedOutput<O, K> | KeyedFailure<K>;

/** True for a failure (narrows a KeyedResult). */
export function isKeyedFailure<O, K extends KeyedKey>(r: KeyedResult<O, K>): r is KeyedFailure<K> {
  return 'error' in r;
}

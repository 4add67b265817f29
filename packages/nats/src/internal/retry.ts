// Retrying NATS requests through transient failures (a cluster electing a leader, a node that
// went away, a request that timed out): bounded by a deadline, exponential backoff, and only for
// errors that say "try again" — an answer such as "wrong last sequence" is returned at once.
import { JetStreamApiError } from '@nats-io/jetstream';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/nats-core';

/** Resolves after `ms` milliseconds (or at once when `signal` aborts). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** JetStream API code of a compare-and-set failure ("wrong last sequence"). */
export const WRONG_LAST_SEQUENCE = 10071;

/** True for a JetStream API error with `code` (e.g. {@link WRONG_LAST_SEQUENCE}). */
export function isApiError(e: unknown, code: number): boolean {
  return e instanceof JetStreamApiError && e.code === code;
}

/** True when `e` says the request may succeed if repeated: timeouts, no responders, 503s, elections. */
export function isTransient(e: unknown): boolean {
  if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
  if (e instanceof JetStreamApiError)
    return e.status >= 500 || /temporarily unavailable|no quorum|leader/i.test(e.message);
  if (e instanceof RequestError) return e.isNoResponders() || (e.cause !== undefined && isTransient(e.cause));
  if (e instanceof Error) {
    if (e.cause !== undefined && e.cause !== e && isTransient(e.cause)) return true;
    return /timeout|no responders|not enabled|temporarily unavailable|no quorum|disconnect|reconnect/i.test(e.message);
  }
  return false;
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Give up (rethrowing the last error) once this many ms have passed. */
  deadlineMs: number;
  /** Stop early (rethrowing the last error) when this aborts. */
  signal?: AbortSignal;
  /** First backoff, ms (doubles up to `maxDelayMs`). Default 50. */
  delayMs?: number;
  /** Largest backoff, ms. Default 1000. */
  maxDelayMs?: number;
}

/** Runs `fn` until it resolves, retrying transient failures ({@link isTransient}) until the deadline. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const end = Date.now() + options.deadlineMs;
  let delay = options.delayMs ?? 50;
  const maxDelay = options.maxDelayMs ?? 1000;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || Date.now() + delay > end || options.signal?.aborted) throw e;
    }
    await sleep(delay, options.signal);
    delay = Math.min(maxDelay, delay * 2);
  }
}

// Window options of bidirectional(): fixed size with an optional hop, a delimiter predicate, and a
// maximum latency on an RxJS scheduler. Validated once when the operator is made.
import { describe } from '@rxrnn/kernels/internal';
import { asyncScheduler, type SchedulerLike } from 'rxjs';

/** How bidirectional() cuts the stream into windows. */
export interface WindowOptions {
  /**
   * Steps per window. Fixed mode: required; a window is emitted when it holds `size` elements.
   * Delimiter mode: the maximum window length (bounds memory and latency); default 256.
   */
  size?: number;
  /**
   * Fixed mode only: steps between window starts, an integer in [1, size]; default `size` (no
   * overlap). With hop < size the last size − hop elements of a window start the next one.
   */
  hop?: number;
  /** Delimiter mode: a window ends after (and includes) an element for which this returns true. */
  delimiter?: (x: Float32Array, index: number) => boolean;
  /**
   * Flush a partial window this many milliseconds (scheduler time) after the first element that
   * no window has covered yet arrived. Default: none (wait for a full window or completion).
   */
  maxLatency?: number;
  /** Scheduler of the latency flush; default asyncScheduler (TestScheduler in marble tests). */
  scheduler?: SchedulerLike;
}

export interface ResolvedWindow {
  size: number;
  hop: number;
  delimiter: ((x: Float32Array, index: number) => boolean) | null;
  maxLatency: number | null;
  scheduler: SchedulerLike;
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

export function resolveWindow(op: string, w: WindowOptions | undefined): ResolvedWindow {
  if (w === null || typeof w !== 'object')
    throw new TypeError(`${op}: window must be an object like {size: 16}, got ${String(w)}`);
  const delimiter = w.delimiter ?? null;
  if (delimiter !== null && typeof delimiter !== 'function') {
    throw new TypeError(`${op}: window.delimiter must be a function (x, index) => boolean, got ${typeof delimiter}`);
  }
  const size = w.size ?? (delimiter !== null ? 256 : undefined);
  if (!isPositiveInt(size)) {
    throw new RangeError(
      `${op}: window.size must be a positive integer${delimiter === null ? ' (or give a window.delimiter)' : ''}, got ${describe(size)}`,
    );
  }
  if (delimiter !== null && w.hop !== undefined)
    throw new RangeError(`${op}: window.hop applies to fixed windows only, got hop ${String(w.hop)} with a delimiter`);
  const hop = w.hop ?? size;
  if (!isPositiveInt(hop) || hop > size)
    throw new RangeError(`${op}: window.hop must be an integer in [1, ${size}], got ${describe(hop)}`);
  const maxLatency = w.maxLatency ?? null;
  if (maxLatency !== null && (typeof maxLatency !== 'number' || !Number.isFinite(maxLatency) || maxLatency < 0)) {
    throw new RangeError(
      `${op}: window.maxLatency must be a finite number of milliseconds >= 0, got ${String(maxLatency)}`,
    );
  }
  return { size, hop, delimiter, maxLatency, scheduler: w.scheduler ?? asyncScheduler };
}

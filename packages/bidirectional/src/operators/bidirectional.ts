// bidirectional(): windows of a stream of x [B×n_x] through a forward and a reverse direction,
// emitting each window's merged per-step outputs (fresh [B×outSize] arrays). Per subscription: the
// window buffer, the carried forward state, the step counter and the latency timer.

import type { Cell } from '@rxrnn/cells';
import {
  concatWith,
  defer,
  finalize,
  mergeMap,
  merge as mergeStreams,
  Observable,
  type OperatorFunction,
  Subject,
  type Subscription,
  tap,
} from 'rxjs';
import { BidirectionalStack } from '../bidirectional-stack.js';
import { BiLayers } from '../internal/bi-layers.js';
import { checkMerge, type MergeMode, mergedSize, mergeForward } from '../merge.js';
import { resolveWindow, type WindowOptions } from './internal/window-options.js';

export type { WindowOptions };

/** Options of the {@link bidirectional} operator: the windows, the batch and the initial state. */
export interface BidirectionalOptions {
  /** How to cut the stream: fixed size (+ hop), delimiter, and/or maximum latency. Required. */
  window: WindowOptions;
  /** Per-step merge of the two directions; default the stack's merge, else 'concat' ([fwd | rev], 2H). */
  merge?: MergeMode;
  /** Batch rows B: every input holds B·n_x floats, every output step B·outSize. Default 1. */
  batch?: number;
  /**
   * Carry the forward direction's state from one window to the next (to the state at the next
   * window's first element). Default true. The reverse direction always restarts per window.
   */
  carryState?: boolean;
  /**
   * Initial state [B × stateSize] (layout of BidirectionalStack: index layer*2 + direction):
   * the forward direction starts from it once, the reverse direction at every window. Default zeros.
   */
  initialState?: Float32Array;
}

const OP = 'bidirectional';

/**
 * Cuts a stream of inputs x [B × n_x] into windows (fixed size and hop, a delimiter, and/or a
 * maximum latency), runs each window forward and in reverse through a BidirectionalStack (any
 * depth) or a pair of cells, and emits the window's merged outputs: one fresh [B × outSize]
 * array per step (outSize 2H for 'concat', H for 'sum' / 'ave' / 'mul'). The forward state
 * carries over between windows (carryState); the reverse direction starts each window from its
 * initial state, since it cannot see past the window's end.
 *
 * @throws RangeError/TypeError for bad options or cells that do not fit each other (at once);
 *   an input of the wrong length or with non-finite values errors the stream
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { BidirectionalStack, bidirectional } from '@rxrnn/bidirectional';
 * const stack = new BidirectionalStack({ kind: 'lstm', inputSize: 2, hiddenSize: 3, seed: 1 });
 * const xs = [0, 1, 2, 3, 4, 5].map((i) => Float32Array.of(i % 2, 1));
 * from(xs)
 *   .pipe(bidirectional(stack, { window: { size: 3 } }))
 *   .subscribe((steps) => console.log(steps.length, steps[0]!.length)); // 3 6, twice
 * ```
 */
export function bidirectional(
  stack: BidirectionalStack,
  options: BidirectionalOptions,
): OperatorFunction<Float32Array, Float32Array[]>;
export function bidirectional(
  forwardCell: Cell,
  backwardCell: Cell,
  options: BidirectionalOptions,
): OperatorFunction<Float32Array, Float32Array[]>;
export function bidirectional(
  a: BidirectionalStack | Cell,
  b: Cell | BidirectionalOptions,
  c?: BidirectionalOptions,
): OperatorFunction<Float32Array, Float32Array[]> {
  const isStack = a instanceof BidirectionalStack;
  const options = (isStack ? b : c) as BidirectionalOptions;
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${OP}: options must be an object with a window, got ${String(options)}`);
  // Its own tapes over the cells' parameters: the operator never disturbs a training stack's tapes.
  const engine = new BiLayers(OP, isStack ? a.cells : [{ forward: a as Cell, reverse: b as Cell }]);
  const win = resolveWindow(OP, options.window);
  const merge = checkMerge(OP, options.merge ?? (isStack ? a.merge : 'concat'));
  const B = options.batch ?? 1;
  if (!Number.isSafeInteger(B) || B < 1) throw new RangeError(`${OP}: batch ${String(B)}, expected an integer >= 1`);
  const H = engine.hiddenSize;
  const nIn = B * engine.inputSize;
  const outW = B * mergedSize(merge, H);
  const n = B * engine.stateSize;
  const given = options.initialState ?? new Float32Array(n);
  if (!(given instanceof Float32Array) || given.length !== n) {
    throw new RangeError(
      `${OP}: initialState length ${String((given as { length?: number })?.length)}, expected B*stateSize = ${n}`,
    );
  }
  // A copy: the caller may reuse its array; every subscription starts from these values.
  const init = given.slice();
  const carry = options.carryState ?? true;

  return (source) =>
    new Observable<Float32Array[]>((subscriber) => {
      // Per subscription: its own window, carried state, step counter and latency timer.
      let buf: Float32Array[] = [];
      let fresh = 0;
      let step = 0;
      let timer: Subscription | null = null;
      const carried = init.slice();
      // Latency flushes happen between source values, so they reach the output through a Subject.
      const timed = new Subject<Float32Array[]>();
      const stopTimer = () => {
        timer?.unsubscribe();
        timer = null;
      };

      /** Runs the buffered window; `full` fixed windows keep their overlap, anything else ends a segment. */
      const flush = (full: boolean): Float32Array[] => {
        stopTimer();
        const T = buf.length;
        const x = new Float32Array(T * nIn);
        buf.forEach((v, t) => x.set(v, t * nIn));
        const work = carried.slice();
        // The reverse direction starts from its initial state in every window.
        for (let k = 0; k < engine.layers; k++) engine.dirState(work, k, 1, B).set(engine.dirState(init, k, 1, B));
        const both = engine.forward(OP, x, T, B, work);
        const hop = full ? win.hop : T;
        if (carry) {
          if (hop < T) engine.forwardStateAt(hop, work);
          carried.set(work);
        }
        const merged = new Float32Array(T * outW);
        mergeForward(merged, both, T * B, H, merge);
        const out: Float32Array[] = [];
        for (let t = 0; t < T; t++) {
          const v = merged.slice(t * outW, (t + 1) * outW);
          // A non-finite output means the parameters or the input blew up: say where, don't emit it.
          for (let i = 0; i < v.length; i++) {
            if (v[i]! - v[i]! !== 0)
              throw new RangeError(
                `${OP}: output[${i}] must be a finite number (check the parameters), got ${v[i]} at step ${step - T + t}`,
              );
          }
          out.push(v);
        }
        buf = hop < T ? buf.slice(hop) : [];
        fresh = 0;
        return out;
      };

      /** Buffers one element; returns the windows it completes (none or one). */
      const accept = (x: Float32Array): Float32Array[][] => {
        // Validate on arrival, so the error names this element's step, not the window's end.
        checkInput(x, nIn, step);
        buf.push(x.slice());
        fresh++;
        const index = step++;
        if (win.delimiter?.(x, index)) return [flush(false)];
        if (buf.length === win.size) return [flush(win.delimiter === null)];
        if (win.maxLatency !== null && timer === null) {
          timer = win.scheduler.schedule(() => {
            timer = null;
            try {
              timed.next(flush(false));
            } catch (err) {
              timed.error(err);
            }
          }, win.maxLatency);
        }
        return [];
      };

      const windows = source.pipe(
        mergeMap(accept),
        // A partial window still owes outputs for elements no window has covered.
        concatWith(defer(() => (fresh > 0 ? [flush(false)] : []))),
        tap({ complete: () => timed.complete() }),
      );
      // `timed` first: a synchronous scheduler may flush before the source subscription returns.
      return mergeStreams(timed, windows)
        .pipe(
          finalize(() => {
            stopTimer();
            buf = [];
          }),
        )
        .subscribe(subscriber);
    });
}

function checkInput(x: unknown, n: number, step: number): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) {
    const got = x === null || typeof x !== 'object' ? String(x) : ((x as object).constructor?.name ?? 'object');
    throw new TypeError(`${OP}: input must be a Float32Array, got ${got} at step ${step}`);
  }
  if (x.length !== n) throw new RangeError(`${OP}: input length ${x.length}, expected ${n} at step ${step}`);
  for (let i = 0; i < n; i++) {
    if (x[i]! - x[i]! !== 0)
      throw new RangeError(`${OP}: input[${i}] must be a finite number, got ${x[i]} at step ${step}`);
  }
}

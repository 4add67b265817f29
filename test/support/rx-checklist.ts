// Test-only, shared by every package's operator specs: the RxJS operator checklist of CONTRIBUTING.md as check
// functions that reject on failure, so a spec runs the whole list in a few lines:
//   for (const [name, check] of Object.entries(rxChecklist({...}))) it(name, check);
// It covers operators with one output per input, one per window of `perOutput` inputs, outputs
// compared by a custom `equal`, and operators that emit on a later macrotask (`asynchronous`).
import { defer, EMPTY, from, mergeMap, NEVER, Observable, type OperatorFunction, of, Subject, take } from 'rxjs';

/** One operator under the checklist. `E` is what `expected` holds (default: outputs themselves). */
export interface RxChecklistCase<I, O, E = O> {
  /** Makes the operator; called afresh for every check. */
  make: () => OperatorFunction<I, O>;
  /** Inputs for at least two outputs, fed in this order. */
  inputs: readonly I[];
  /** Inputs per output (a window without overlap). Default 1. */
  perOutput?: number;
  /** What `inputs` must produce, from an oracle independent of the operator. */
  expected: readonly E[];
  /** Output against expectation. Default: deep, bitwise for typed arrays, Object.is for the rest. */
  equal?: (got: O, want: E) => boolean;
  /** An input the operator must reject with a RangeError/TypeError whose message matches. */
  bad: { input: I; message: RegExp };
  /** Copies an input before it is fed, for operators that work on their input in place. */
  fresh?: (input: I) => I;
  /** Outputs may arrive on later macrotasks: checks wait for them (up to 5 s) instead of
   *  requiring them synchronously, and watch silent sources for a while. Default false. */
  asynchronous?: boolean;
  /** Inputs a synchronous source may push beyond 2 × perOutput before the operator stops it
   *  (operators that buffer ahead, such as a bounded queue). Default 0. */
  syncSlack?: number;
}

interface Run<O> {
  values: O[];
  /** Deep copies taken at emission time, to catch an operator mutating what it already emitted. */
  copies: O[];
  error: unknown;
  completed: boolean;
}

export function rxChecklist<I, O, E = O>(c: RxChecklistCase<I, O, E>): Record<string, () => Promise<void>> {
  const w = c.perOutput ?? 1;
  const equal = c.equal ?? (deepEqual as (got: O, want: E) => boolean);
  const fresh = c.fresh ?? ((x: I) => x);
  if (c.inputs.length < 2 * w || c.expected.length < 2) {
    throw new RangeError(
      `rxChecklist: ${c.inputs.length} inputs and ${c.expected.length} expected, need inputs for at least 2 outputs (${2 * w})`,
    );
  }
  const feed = (s: { next: (x: I) => void }, xs: readonly I[]) => xs.forEach((x) => s.next(fresh(x)));
  const firstOutput = c.inputs.slice(0, w);
  // Synchronous operators must have answered already; asynchronous ones get macrotasks to do so,
  // as many as they need (no clock: a loaded machine only makes this slower, never wrong).
  const until = async (ok: () => boolean): Promise<void> => {
    while (c.asynchronous && !ok()) await new Promise((r) => setImmediate(r));
  };
  const settle = async (): Promise<void> => {
    if (c.asynchronous) await new Promise((r) => setTimeout(r, 20));
  };
  const run = (source: Observable<I>): Run<O> => {
    const r: Run<O> = { values: [], copies: [], error: undefined, completed: false };
    source.pipe(c.make()).subscribe({
      next: (v) => {
        r.values.push(v);
        r.copies.push(deepCopy(v));
      },
      error: (e) => (r.error = e),
      complete: () => (r.completed = true),
    });
    return r;
  };
  const ended = (r: Run<O>) => until(() => r.completed || r.error !== undefined);
  const expectValues = (got: readonly O[], want: readonly E[], what: string): void => {
    check(got.length === want.length, `${what}: ${got.length} values, expected ${want.length}`);
    got.forEach((v, i) => check(equal(v, want[i]!), `${what}: value ${i} is ${show(v)}, expected ${show(want[i])}`));
  };

  return {
    'emits the expected values, never mutates them afterwards, and completes': async () => {
      const r = run(from(c.inputs.map(fresh)));
      await ended(r);
      check(r.error === undefined, `unexpected error: ${String(r.error)}`);
      check(r.completed, 'did not complete');
      expectValues(r.values, c.expected, 'output');
      check(
        r.values.every((v, i) => deepEqual(v, r.copies[i])),
        'emitted values changed after emission',
      );
    },
    'gives every subscription its own state (cold)': async () => {
      const piped = defer(() => from(c.inputs.map(fresh))).pipe(c.make());
      const first: Run<O> = { values: [], copies: [], error: undefined, completed: false };
      const second: Run<O> = { ...first, values: [] };
      for (const r of [first, second])
        piped.subscribe({
          next: (v) => r.values.push(v),
          error: (e) => (r.error = e),
          complete: () => (r.completed = true),
        });
      await ended(first);
      await ended(second);
      expectValues(first.values, c.expected, 'first subscription');
      expectValues(second.values, c.expected, 'second subscription');
    },
    'forwards an error from the source (dropping a partial window)': async () => {
      const boom = new Error('source failed');
      const subject = new Subject<I>();
      const r = run(subject);
      feed(subject, firstOutput);
      await until(() => r.values.length >= 1);
      feed(subject, c.inputs.slice(w, 2 * w - 1));
      subject.error(boom);
      await ended(r);
      check(r.error === boom, `error ${String(r.error)}, expected the source's error`);
      expectValues(r.values, c.expected.slice(0, 1), 'values before the error');
    },
    'errors the stream on a bad input, naming what was expected': async () => {
      const subject = new Subject<I>();
      const r = run(subject);
      feed(subject, firstOutput);
      await until(() => r.values.length >= 1);
      subject.next(c.bad.input);
      feed(subject, c.inputs.slice(w));
      await ended(r);
      check(
        r.error instanceof RangeError || r.error instanceof TypeError,
        `error ${String(r.error)}, expected a RangeError or TypeError`,
      );
      const msg = (r.error as Error).message;
      check(c.bad.message.test(msg), `error message "${msg}" does not match ${String(c.bad.message)}`);
      check(!r.completed, 'completed after the error');
      expectValues(r.values, c.expected.slice(0, 1), 'values around the error');
    },
    'completes on an empty source without emitting': async () => {
      const r = run(EMPTY);
      await ended(r);
      check(r.completed && r.error === undefined && r.values.length === 0, 'expected a bare completion');
    },
    'neither emits nor ends on a never-emitting source': async () => {
      let active = false;
      const never = new Observable<I>((s) => {
        active = true;
        return NEVER.subscribe(s);
      });
      let events = 0;
      const sub = never
        .pipe(c.make())
        .subscribe({ next: () => events++, error: () => events++, complete: () => events++ });
      await settle();
      check(active && events === 0, 'expected silence from a never-emitting source');
      sub.unsubscribe();
    },
    'stops on early unsubscribe': async () => {
      const subject = new Subject<I>();
      const values: O[] = [];
      const sub = subject.pipe(c.make()).subscribe((v) => values.push(v));
      feed(subject, firstOutput);
      await until(() => values.length >= 1);
      sub.unsubscribe();
      check(!subject.observed, 'still subscribed to the source after unsubscribe');
      feed(subject, c.inputs.slice(w));
      await settle();
      check(values.length === 1, `${values.length} values, expected 1 (nothing after unsubscribe)`);
    },
    'does not break unsubscription chains': async () => {
      let tornDown = false;
      const source = new Observable<I>((s) => {
        feed(s, firstOutput);
        return () => (tornDown = true);
      });
      const values: O[] = [];
      const sub = source
        .pipe(
          mergeMap((x) => of(x)),
          c.make(),
          mergeMap((x) => of(x)),
        )
        .subscribe((v) => values.push(v));
      await until(() => values.length >= 1);
      check(!tornDown, 'source torn down too early');
      expectValues(values, c.expected.slice(0, 1), 'values through the chain');
      sub.unsubscribe();
      check(tornDown, 'unsubscribing downstream did not reach the source');
    },
    'stops a synchronous source on unsubscribe': async () => {
      const slack = c.syncSlack ?? 0;
      let produced = 0;
      // Capped so a broken operator fails the check instead of hanging the suite.
      const synchronous = new Observable<I>((s) => {
        for (let i = 0; !s.closed && i < 50 * w + 2 * slack; i++) {
          produced++;
          s.next(fresh(c.inputs[i % c.inputs.length]!));
        }
      });
      let done = false;
      synchronous.pipe(c.make(), take(2)).subscribe({ complete: () => (done = true), error: () => (done = true) });
      await until(() => done);
      const want = slack ? `${2 * w} to ${2 * w + slack}` : `${2 * w}`;
      check(
        produced >= 2 * w && produced <= 2 * w + slack,
        `the source produced ${produced} values, expected it to stop after ${want}`,
      );
    },
  };
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`rx checklist: ${message}`);
}

function isTyped(v: unknown): v is Float32Array {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function deepCopy<T>(v: T): T {
  if (isTyped(v)) return v.slice() as T;
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepCopy(x)])) as T;
  return v;
}

/** Deep equality; typed arrays bitwise (Object.is tells -0 from 0 and matches NaN with NaN). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isTyped(a) || isTyped(b)) {
    if (!isTyped(a) || !isTyped(b) || a.constructor !== b.constructor || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return Object.is(a, b);
}

function show(v: unknown): string {
  if (isTyped(v)) {
    const a = Array.from(v);
    return `[${a.slice(0, 6).join(', ')}${a.length > 6 ? `, … (${a.length})` : ''}]`;
  }
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${show(x)}`)
      .join(', ')}}`;
  return String(v);
}

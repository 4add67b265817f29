// Test-only (not exported from the package): the STYLE.md RxJS checklist as plain check
// functions that throw on failure, so every operator spec runs the same list in a few lines:
//   for (const [name, check] of Object.entries(operatorChecklist({...}))) it(name, check);
import { concat, EMPTY, from, mergeMap, NEVER, Observable, of, Subject, take, throwError, type OperatorFunction } from 'rxjs';

/** One operator under the checklist. */
export interface ChecklistCase<I, O> {
  /** Makes the operator; called afresh for every check. */
  make: () => OperatorFunction<I, O>;
  /** At least two good inputs, fed in this order. */
  inputs: readonly I[];
  /** What `inputs` must produce, from an oracle independent of the operator. */
  expected: readonly O[];
  /** Output equality. Default: bitwise for typed arrays, Object.is otherwise. */
  equal?: (a: O, b: O) => boolean;
  /** An input the operator must reject with an error whose message matches `message`. */
  bad: { input: I; message: RegExp };
}

interface Run<O> {
  values: O[];
  /** Copies taken at emission time, to catch an operator mutating what it already emitted. */
  copies: O[];
  error: unknown;
  completed: boolean;
}

export function operatorChecklist<I, O>(c: ChecklistCase<I, O>): Record<string, () => void> {
  const equal = c.equal ?? defaultEqual;
  if (c.inputs.length < 2 || c.inputs.length !== c.expected.length) {
    throw new RangeError(`operatorChecklist: ${c.inputs.length} inputs and ${c.expected.length} expected, need at least 2 of each, equally many`);
  }
  const run = (source: Observable<I>): Run<O> => {
    const r: Run<O> = { values: [], copies: [], error: undefined, completed: false };
    source.pipe(c.make()).subscribe({
      next: (v) => {
        r.values.push(v);
        r.copies.push(copy(v));
      },
      error: (e) => (r.error = e),
      complete: () => (r.completed = true),
    });
    return r;
  };
  const expectValues = (got: readonly O[], want: readonly O[], what: string): void => {
    check(got.length === want.length, `${what}: ${got.length} values, expected ${want.length}`);
    got.forEach((v, i) => check(equal(v, want[i]!), `${what}: value ${i} is ${show(v)}, expected ${show(want[i])}`));
  };

  return {
    'emits the expected values, never mutates them afterwards, and completes': () => {
      const r = run(from(c.inputs));
      check(r.error === undefined, `unexpected error: ${String(r.error)}`);
      check(r.completed, 'did not complete');
      expectValues(r.values, c.expected, 'output');
      expectValues(r.values, r.copies, 'emitted values changed after emission');
    },
    'gives every subscription its own state (cold)': () => {
      const piped = from(c.inputs).pipe(c.make());
      const first: O[] = [];
      const second: O[] = [];
      piped.subscribe((v) => first.push(v));
      piped.subscribe((v) => second.push(v));
      expectValues(first, c.expected, 'first subscription');
      expectValues(second, c.expected, 'second subscription');
    },
    'forwards an error from the source': () => {
      const boom = new Error('source failed');
      const r = run(concat(of(c.inputs[0]!), throwError(() => boom)));
      check(r.error === boom, `error ${String(r.error)}, expected the source's error`);
      expectValues(r.values, c.expected.slice(0, 1), 'values before the error');
    },
    'errors the stream on a bad input, naming what was expected': () => {
      const r = run(from([c.inputs[0]!, c.bad.input, c.inputs[1]!]));
      check(r.error instanceof RangeError || r.error instanceof TypeError, `error ${String(r.error)}, expected a RangeError or TypeError`);
      const msg = (r.error as Error).message;
      check(c.bad.message.test(msg), `error message "${msg}" does not match ${String(c.bad.message)}`);
      check(!r.completed, 'completed after the error');
      expectValues(r.values, c.expected.slice(0, 1), 'values around the error');
    },
    'completes on an empty source without emitting': () => {
      const r = run(EMPTY);
      check(r.completed && r.error === undefined && r.values.length === 0, 'expected a bare completion');
    },
    'neither emits nor ends on a never-emitting source': () => {
      let active = false;
      const never = new Observable<I>((s) => {
        active = true;
        return NEVER.subscribe(s);
      });
      const values: O[] = [];
      let ended = false;
      const sub = never.pipe(c.make()).subscribe({ next: (v) => values.push(v), error: () => (ended = true), complete: () => (ended = true) });
      check(active && values.length === 0 && !ended, 'expected silence from a never-emitting source');
      sub.unsubscribe();
    },
    'stops on early unsubscribe': () => {
      const subject = new Subject<I>();
      const values: O[] = [];
      const sub = subject.pipe(c.make()).subscribe((v) => values.push(v));
      subject.next(c.inputs[0]!);
      sub.unsubscribe();
      check(!subject.observed, 'still subscribed to the source after unsubscribe');
      subject.next(c.inputs[1]!);
      check(values.length === 1, `${values.length} values, expected 1 (nothing after unsubscribe)`);
    },
    'does not break unsubscription chains': () => {
      let tornDown = false;
      const source = new Observable<I>((s) => {
        s.next(c.inputs[0]!);
        return () => (tornDown = true);
      });
      const sub = source.pipe(mergeMap((x) => of(x)), c.make(), mergeMap((x) => of(x))).subscribe();
      check(!tornDown, 'source torn down too early');
      sub.unsubscribe();
      check(tornDown, 'unsubscribing downstream did not reach the source');
    },
    'stops a synchronous source on unsubscribe': () => {
      const sideEffects: number[] = [];
      // Capped so a broken operator fails the check instead of hanging the suite.
      const synchronous = new Observable<I>((s) => {
        for (let i = 0; !s.closed && i < 50; i++) {
          sideEffects.push(i);
          s.next(c.inputs[i % c.inputs.length]!);
        }
      });
      synchronous.pipe(c.make(), take(2)).subscribe();
      check(sideEffects.length === 2, `the source produced ${sideEffects.length} values, expected it to stop after 2`);
    },
  };
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`operator checklist: ${message}`);
}

function copy<O>(v: O): O {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) ? ((v as unknown as Float32Array).slice() as O) : v;
}

function defaultEqual<O>(a: O, b: O): boolean {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as Float32Array;
    const y = b as unknown as Float32Array;
    if (x.constructor !== y.constructor || x.length !== y.length) return false;
    // Bitwise: Object.is tells -0 from 0 and matches NaN with NaN.
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  return Object.is(a, b);
}

function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) {
    const a = Array.from(v as unknown as Float32Array);
    return `[${a.slice(0, 6).join(', ')}${a.length > 6 ? `, … (${a.length})` : ''}]`;
  }
  return String(v);
}

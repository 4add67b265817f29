// Test-only: the STYLE.md RxJS checklist (as in @rxrnn/cells test/support/operator-checklist) for an operator
// that emits one value per WINDOW of `perWindow` inputs. Each check throws on failure:
//   for (const [name, check] of Object.entries(windowChecklist({...}))) it(name, check);
import { concat, EMPTY, from, mergeMap, NEVER, Observable, of, Subject, take, throwError, type OperatorFunction } from 'rxjs';

export interface WindowChecklistCase<I, O> {
  /** Makes the operator; called afresh for every check. */
  make: () => OperatorFunction<I, O>;
  /** Inputs making at least two full windows, fed in order. */
  inputs: readonly I[];
  /** Inputs per emitted value (the window size without overlap). */
  perWindow: number;
  /** What `inputs` must produce, from an oracle independent of the operator. */
  expected: readonly O[];
  equal: (a: O, b: O) => boolean;
  /** Deep copy of an emitted value, to catch later mutation. */
  copy: (v: O) => O;
  /** An input the operator must reject, and the message it must give. */
  bad: { input: I; message: RegExp };
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`window checklist: ${message}`);
}

export function windowChecklist<I, O>(c: WindowChecklistCase<I, O>): Record<string, () => void> {
  const w = c.perWindow;
  check(c.inputs.length >= 2 * w && c.expected.length >= 2, 'need inputs for at least two windows');
  const run = (source: Observable<I>) => {
    const r = { values: [] as O[], copies: [] as O[], error: undefined as unknown, completed: false };
    source.pipe(c.make()).subscribe({
      next: (v) => {
        r.values.push(v);
        r.copies.push(c.copy(v));
      },
      error: (e) => (r.error = e),
      complete: () => (r.completed = true),
    });
    return r;
  };
  const same = (got: readonly O[], want: readonly O[], what: string) => {
    check(got.length === want.length, `${what}: ${got.length} values, expected ${want.length}`);
    got.forEach((v, i) => check(c.equal(v, want[i]!), `${what}: value ${i} differs`));
  };
  const firstWindow = c.inputs.slice(0, w);
  return {
    'emits the expected windows, never mutates them afterwards, and completes': () => {
      const r = run(from(c.inputs));
      check(r.error === undefined, `unexpected error: ${String(r.error)}`);
      check(r.completed, 'did not complete');
      same(r.values, c.expected, 'output');
      same(r.values, r.copies, 'emitted values changed after emission');
    },
    'gives every subscription its own state (cold)': () => {
      const piped = from(c.inputs).pipe(c.make());
      const a: O[] = [], b: O[] = [];
      piped.subscribe((v) => a.push(v));
      piped.subscribe((v) => b.push(v));
      same(a, c.expected, 'first subscription');
      same(b, c.expected, 'second subscription');
    },
    'forwards an error from the source (dropping the partial window)': () => {
      const boom = new Error('source failed');
      const r = run(concat(from([...firstWindow, c.inputs[w]!]), throwError(() => boom)));
      check(r.error === boom, `error ${String(r.error)}, expected the source's error`);
      same(r.values, c.expected.slice(0, 1), 'values before the error');
    },
    'errors the stream on a bad input, naming operator, expectation and step': () => {
      const r = run(from([...firstWindow, c.bad.input, ...c.inputs.slice(w)]));
      check(r.error instanceof RangeError || r.error instanceof TypeError, `error ${String(r.error)}, expected a RangeError or TypeError`);
      const msg = (r.error as Error).message;
      check(c.bad.message.test(msg), `message "${msg}" does not match ${String(c.bad.message)}`);
      check(!r.completed, 'completed after the error');
      same(r.values, c.expected.slice(0, 1), 'values around the error');
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
      let events = 0;
      const sub = never.pipe(c.make()).subscribe({ next: () => events++, error: () => events++, complete: () => events++ });
      check(active && events === 0, 'expected silence from a never-emitting source');
      sub.unsubscribe();
    },
    'stops on early unsubscribe': () => {
      const subject = new Subject<I>();
      const values: O[] = [];
      const sub = subject.pipe(c.make()).subscribe((v) => values.push(v));
      for (const x of firstWindow) subject.next(x);
      sub.unsubscribe();
      check(!subject.observed, 'still subscribed to the source after unsubscribe');
      for (const x of c.inputs.slice(w)) subject.next(x);
      check(values.length === 1, `${values.length} values, expected 1 (nothing after unsubscribe)`);
    },
    'does not break unsubscription chains': () => {
      let tornDown = false;
      const source = new Observable<I>((s) => {
        for (const x of firstWindow) s.next(x);
        return () => (tornDown = true);
      });
      const sub = source.pipe(mergeMap((x) => of(x)), c.make(), mergeMap((x) => of(x))).subscribe();
      check(!tornDown, 'source torn down too early');
      sub.unsubscribe();
      check(tornDown, 'unsubscribing downstream did not reach the source');
    },
    'stops a synchronous source on unsubscribe': () => {
      let produced = 0;
      // Capped so a broken operator fails the check instead of hanging the suite.
      const synchronous = new Observable<I>((s) => {
        for (let i = 0; !s.closed && i < 50 * w; i++) {
          produced++;
          s.next(c.inputs[i % c.inputs.length]!);
        }
      });
      synchronous.pipe(c.make(), take(2)).subscribe();
      check(produced === 2 * w, `the source produced ${produced} values, expected it to stop after ${2 * w}`);
    },
  };
}

// State semantics shared by rnn(), gru() and lstm(): batches, state handles, split streams,
// bad values leaving the state untouched. The oracle is the cell stepped directly.

import { getBackend } from '@rxrnn/kernels';
import { concat, from, lastValueFrom, merge, type Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createCell } from '../../../src/create-cell.js';
import { recurrent } from '../../../src/operators/internal/recurrent.js';
import { RnnStack } from '../../../src/rnn-stack.js';
import { createStateHandle } from '../../../src/state-handle.js';
import type { CellKind } from '../../../src/types.js';
import { randomVectors, stepDirectly } from '../../support/test-inputs.js';

const collect = <T>(o: Observable<T>): Promise<T[]> => lastValueFrom(o.pipe(toArray()));
const bits = (xs: Float32Array[]): number[][] => xs.map((x) => Array.from(new Uint32Array(x.slice().buffer)));

describe.each<CellKind>(['rnn', 'gru', 'lstm'])('recurrent operator (%s)', (kind) => {
  const nx = 4;
  const H = 6;
  const cell = createCell({ kind, inputSize: nx, hiddenSize: H, seed: 5 });
  const xs = randomVectors(10, nx, 3);

  it('steps B rows at once, matching the cell stepped with B rows', async () => {
    const B = 3;
    const batched = randomVectors(5, B * nx, 4);
    const got = await collect(from(batched).pipe(recurrent(kind, cell, { batch: B })));
    expect(got.every((h) => h.length === B * H)).toBe(true);
    expect(bits(got)).toEqual(bits(stepDirectly(cell, batched, B)));
  });

  it('gives exactly the one-piece outputs when a stream is fed in two pieces through one handle', async () => {
    const whole = await collect(from(xs).pipe(recurrent(kind, cell)));
    const handle = createStateHandle(cell);
    const first = await collect(from(xs.slice(0, 4)).pipe(recurrent(kind, cell, { state: handle })));
    const second = await collect(from(xs.slice(4)).pipe(recurrent(kind, cell, { state: handle })));
    expect(bits([...first, ...second])).toEqual(bits(whole));
    // And the handle holds the state of having seen the whole stream.
    const direct = cell.createState(1);
    stepDirectly(cell, xs, 1, direct);
    expect(Array.from(handle.state)).toEqual(Array.from(direct));
  });

  it('resumes from a snapshot restored into another handle', async () => {
    const whole = await collect(from(xs).pipe(recurrent(kind, cell)));
    const a = createStateHandle(cell);
    await collect(from(xs.slice(0, 6)).pipe(recurrent(kind, cell, { state: a })));
    const b = createStateHandle(cell);
    b.restore(a.snapshot());
    const rest = await collect(from(xs.slice(6)).pipe(recurrent(kind, cell, { state: b })));
    expect(bits(rest)).toEqual(bits(whole.slice(6)));
  });

  it('shares one handle between subscriptions, interleaving their steps', async () => {
    const handle = createStateHandle(cell);
    const op = recurrent(kind, cell, { state: handle });
    // merge of two synchronous sources subscribes them one after the other: a then b.
    const got = await collect(merge(from(xs.slice(0, 3)).pipe(op), from(xs.slice(3, 5)).pipe(op)));
    expect(bits(got)).toEqual(bits(stepDirectly(cell, xs.slice(0, 5))));
  });

  it('reset() returns the handle to a fresh stream', async () => {
    const handle = createStateHandle(cell);
    const once = await collect(from(xs).pipe(recurrent(kind, cell, { state: handle })));
    handle.reset();
    const again = await collect(from(xs).pipe(recurrent(kind, cell, { state: handle })));
    expect(bits(again)).toEqual(bits(once));
  });

  it.each([
    ['a wrong length', new Float32Array(nx + 1), `input length ${nx + 1}, expected ${nx} at step 3`],
    ['a NaN', Float32Array.of(0, NaN, 0, 0), 'input[1] must be a finite number, got NaN at step 3'],
    ['an Infinity', Float32Array.of(0, 0, -Infinity, 0), 'input[2] must be a finite number, got -Infinity at step 3'],
    ['a plain array', [0, 0, 0, 0], 'input must be a Float32Array, got an array of length 4 at step 3'],
  ])('errors on %s and leaves the handle state as it was', async (_, bad, message) => {
    const handle = createStateHandle(cell);
    await collect(from(xs.slice(0, 3)).pipe(recurrent(kind, cell, { state: handle })));
    const before = handle.state.slice();
    const source = concat(from(xs.slice(0, 3)), from([bad as Float32Array]), from(xs.slice(3)));
    handle.restore(createStateHandle(cell).snapshot());
    await expect(collect(source.pipe(recurrent(kind, cell, { state: handle })))).rejects.toThrow(`${kind}: ${message}`);
    expect(Array.from(handle.state)).toEqual(Array.from(before));
  });

  it('refuses a handle of another cell or batch', () => {
    const other = createCell({ kind, inputSize: nx, hiddenSize: H + 1 });
    expect(() => recurrent(kind, cell, { state: createStateHandle(other) })).toThrow(RangeError);
    expect(() => recurrent(kind, cell, { state: createStateHandle(other) })).toThrow(
      /state handle for .* H 7.*, expected .* H 6/,
    );
    expect(() => recurrent(kind, cell, { state: createStateHandle(cell, 2), batch: 3 })).toThrow(
      /\(batch 2\), expected .* \(batch 3\)/,
    );
    expect(() => recurrent(kind, cell, { batch: 0 })).toThrow(/batch must be a positive integer, got 0/);
  });
});

describe.each<CellKind>(['rnn', 'gru', 'lstm'])('a step that overflows float32 (%s)', (kind) => {
  it('errors the stream and puts back a state the step had half written', async () => {
    // A cell whose third step writes part of the state, then a NaN: what an overflow inside a fused
    // kernel leaves behind.
    let steps = 0;
    const cell = {
      kind,
      inputSize: 2,
      hiddenSize: 2,
      stateSize: 4,
      createState: (B: number) => new Float32Array(4 * B),
      step(state: Float32Array, x: Float32Array) {
        steps++;
        state[0] = state[0]! + x[0]!;
        state[2] = steps === 3 ? 7 : state[2]! + 1;
        if (steps === 3) state[3] = NaN;
        return state.subarray(0, 2);
      },
    };
    const handle = createStateHandle(cell);
    const xs = [Float32Array.of(1, 0), Float32Array.of(2, 0), Float32Array.of(4, 0), Float32Array.of(8, 0)];
    const seen: Float32Array[] = [];
    await expect(collect(from(xs).pipe(recurrent(kind, cell, { state: handle })))).rejects.toThrow(
      new RangeError(
        `${kind}: state[3] after the step must be a finite number, got NaN at step 2 (float32 overflow; the state is left as it was)`,
      ),
    );
    expect(Array.from(handle.state)).toEqual([3, 0, 2, 0]);
    // The handle goes on from the state before the bad step.
    seen.push(...(await collect(from([Float32Array.of(16, 0)]).pipe(recurrent(kind, cell, { state: handle })))));
    expect(Array.from(seen[0]!)).toEqual([19, 0]);
  });

  it('keeps the state finite for inputs at the edge of float32 (±3e38), or errors and leaves it as it was', async () => {
    // The probe of the issue: n_x 16, H 8, every input 3e38. On the WASM kernels an LSTM or GRU
    // gate overflows to NaN there; the reference twin computes in float64 and stays finite.
    const cell = createCell({ kind, inputSize: 16, hiddenSize: 8, seed: 1 });
    const good = randomVectors(6, 16, 2);
    for (const edge of [3e38, -3e38, 1e38]) {
      const handle = createStateHandle(cell);
      const seen: Float32Array[] = [];
      let error: unknown = null;
      const source = concat(from(good.slice(0, 3)), from([new Float32Array(16).fill(edge)]));
      await new Promise<void>((resolve) =>
        source.pipe(recurrent(kind, cell, { state: handle })).subscribe({
          next: (h) => seen.push(h),
          error: (e) => {
            error = e;
            resolve();
          },
          complete: resolve,
        }),
      );
      const before = cell.createState(1);
      stepDirectly(cell, good.slice(0, 3), 1, before);
      if (error) {
        expect(String(error)).toMatch(
          new RegExp(`^RangeError: ${kind}: state\\[\\d+\\] after the step must be a finite number, got NaN at step 3`),
        );
        expect(Array.from(handle.state)).toEqual(Array.from(before));
      } else {
        expect(seen).toHaveLength(4);
        expect(handle.state.every(Number.isFinite)).toBe(true);
      }
      if (edge === 1e38) expect(error).toBeNull();
      else if (kind !== 'rnn' && getBackend() === 'wasm') expect(error).not.toBeNull();
    }
  });
});

describe('recurrent operator over a stack', () => {
  it("streams a 2-layer RnnStack like a cell, emitting the top layer's h, with a handle of its own shape", async () => {
    const stack = new RnnStack({ kind: 'lstm', inputSize: 3, hiddenSize: 4, layers: 2, seed: 8 });
    const xs = randomVectors(6, 3, 9);
    const handle = createStateHandle(stack);
    expect(handle.spec.layers).toBe(2);
    const got = await collect(from(xs).pipe(recurrent('lstm', stack, { state: handle })));
    expect(bits(got)).toEqual(bits(stepDirectly(stack, xs)));
    const oneLayer = createCell({ kind: 'lstm', inputSize: 3, hiddenSize: 4 });
    expect(() => recurrent('lstm', oneLayer, { state: handle })).toThrow(
      /state handle for an lstm cell \(n_x 3, H 4, 2 layers\) \(batch 1\), expected an lstm cell \(n_x 3, H 4\) \(batch 1\)/,
    );
  });
});

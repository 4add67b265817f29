import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CharModel } from '../src/char-model.js';
import { createCell } from '../src/create-cell.js';
import { createStateHandle, type StateHandle } from '../src/state-handle.js';

const packr = new Packr({ moreTypes: true });

describe('createStateHandle', () => {
  const lstmCell = createCell({ kind: 'lstm', inputSize: 3, hiddenSize: 4, seed: 1 });
  const filled = (B = 2): StateHandle => {
    const h = createStateHandle(lstmCell, B);
    h.state.forEach((_, i) => (h.state[i] = Math.fround(Math.sin(i + 1))));
    return h;
  };

  it("starts from the cell's fresh state, B rows of stateSize", () => {
    const h = createStateHandle(lstmCell, 3);
    expect(h.batch).toBe(3);
    expect(h.state.length).toBe(3 * 2 * 4);
    expect(Array.from(h.state)).toEqual(Array.from(lstmCell.createState(3)));
    expect(h.spec).toEqual({ target: 'cell', kind: 'lstm', inputSize: 3, hiddenSize: 4, layers: 1, stateSize: 8 });
  });

  it('snapshots to tagged msgpack bytes that restore bit for bit, in place', () => {
    const a = filled();
    const bytes = a.snapshot();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const raw = packr.unpack(bytes) as Record<string, unknown>;
    expect(raw.format).toBe('rxrnn/state');
    expect(raw.version).toBe(1);
    expect(raw.batch).toBe(2);
    expect(raw.state).toBeInstanceOf(Float32Array);
    const b = createStateHandle(lstmCell, 2);
    const buffer = b.state;
    b.restore(bytes);
    expect(b.state).toBe(buffer);
    expect(Array.from(b.state)).toEqual(Array.from(a.state));
    b.reset();
    expect(b.state.every((v) => v === 0)).toBe(true);
  });

  it('refuses snapshots of another cell kind, size or batch, leaving the state untouched', () => {
    const bytes = filled().snapshot();
    const cases: [StateHandle, RegExp][] = [
      [
        createStateHandle(createCell({ kind: 'gru', inputSize: 3, hiddenSize: 8 }), 2),
        /snapshot of an lstm cell \(n_x 3, H 4\), expected a gru cell \(n_x 3, H 8\)/,
      ],
      [
        createStateHandle(createCell({ kind: 'lstm', inputSize: 5, hiddenSize: 4 }), 2),
        /expected an lstm cell \(n_x 5, H 4\)/,
      ],
      [createStateHandle(lstmCell, 1), /batch 2, expected 1/],
    ];
    for (const [target, message] of cases) {
      target.state.fill(0.5);
      expect(() => target.restore(bytes)).toThrow(RangeError);
      expect(() => target.restore(bytes)).toThrow(message);
      expect(target.state.every((v) => v === 0.5)).toBe(true);
    }
  });

  it('refuses foreign, truncated, future and damaged bytes with a clear error', () => {
    const h = createStateHandle(lstmCell, 2);
    const good = packr.unpack(filled().snapshot()) as Record<string, unknown>;
    expect(() => h.restore('bytes' as unknown as Uint8Array)).toThrow(
      /got "bytes", expected a Uint8Array from snapshot\(\)/,
    );
    expect(() => h.restore(packr.pack({ hello: 1 }))).toThrow(/format undefined, expected "rxrnn\/state"/);
    expect(() => h.restore(packr.pack({ ...good, version: 2 }))).toThrow(/version 2, expected 1/);
    expect(() => h.restore(packr.pack({ ...good, state: new Float32Array(3) }))).toThrow(
      /state length 3, expected a Float32Array of length 16/,
    );
    expect(() => h.restore(packr.pack({ ...good, state: new Float32Array(16).fill(NaN) }))).toThrow(
      /state\[0\] must be a finite number, got NaN/,
    );
    const full = filled().snapshot();
    expect(() => h.restore(full.subarray(0, full.length - 9))).toThrow(RangeError);
    expect(() => h.restore(new Uint8Array(0))).toThrow(RangeError);
  });

  it('refuses a bad batch size', () => {
    expect(() => createStateHandle(lstmCell, 0)).toThrow(/createStateHandle: batch must be a positive integer, got 0/);
    expect(() => createStateHandle(lstmCell, 1.5)).toThrow(RangeError);
  });

  it("holds a whole model's state (all layers) and refuses a snapshot of another model", () => {
    const config = { cell: 'gru' as const, vocab: [...'xyz'], embeddingDim: 4, hidden: 5, layers: 3 };
    const model = new CharModel(config);
    const h = createStateHandle(model, 2);
    expect(h.spec).toEqual({ target: 'model', kind: 'gru', inputSize: 3, hiddenSize: 5, layers: 3, stateSize: 15 });
    expect(h.state.length).toBe(2 * 15);
    model.step(Int32Array.of(0, 2), h.state);
    const twin = createStateHandle(new CharModel(config), 2);
    twin.restore(h.snapshot());
    expect(Array.from(twin.state)).toEqual(Array.from(h.state));
    const shallower = createStateHandle(new CharModel({ ...config, layers: 2 }), 2);
    expect(() => shallower.restore(h.snapshot())).toThrow(
      /snapshot of a gru model \(V 3, H 5, 3 layers\), expected a gru model \(V 3, H 5, 2 layers\)/,
    );
    // A cell's state is not a model's, even when the sizes agree.
    const cellHandle = createStateHandle(createCell({ kind: 'gru', inputSize: 3, hiddenSize: 5 }), 2);
    expect(() => cellHandle.restore(createStateHandle(new CharModel({ ...config, layers: 1 }), 2).snapshot())).toThrow(
      /snapshot of a gru model/,
    );
  });
});

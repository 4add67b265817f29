// State handles: snapshot bytes (format, checksum, ownership), restore in place, and refusal of
// bytes of another owner, version or batch and of every damaged byte string, state untouched.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CharModel } from '../src/char-model.js';
import { createCell } from '../src/create-cell.js';
import { createStateHandle, type StateHandle } from '../src/state-handle.js';

const packr = new Packr({ moreTypes: true, useRecords: false });

/** Snapshot bytes decoded by the test's own msgpack reader: the envelope and the body inside it. */
function open(bytes: Uint8Array): { env: Record<string, unknown>; body: Record<string, unknown> } {
  const env = packr.unpack(bytes) as Record<string, unknown>;
  return { env, body: packr.unpack(env.body as Uint8Array) as Record<string, unknown> };
}

/** Re-wraps a (possibly altered) body with a correct checksum, so only the body's content is wrong. */
function seal(body: Record<string, unknown>, env: Record<string, unknown> = {}): Uint8Array {
  const b = new Uint8Array(packr.pack(body));
  return new Uint8Array(packr.pack({ format: 'rxrnn/state', version: 2, crc32: zlibCrc32(b), body: b, ...env }));
}

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

  it('snapshots to checksummed msgpack bytes that restore bit for bit, in place', () => {
    const a = filled();
    const bytes = a.snapshot();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const { env, body } = open(bytes);
    expect(env.format).toBe('rxrnn/state');
    expect(env.version).toBe(2);
    expect(env.crc32).toBe(zlibCrc32(env.body as Uint8Array));
    expect(body.batch).toBe(2);
    expect(body.state).toBeInstanceOf(Float32Array);
    const b = createStateHandle(lstmCell, 2);
    const buffer = b.state;
    b.restore(bytes);
    expect(b.state).toBe(buffer);
    expect(Array.from(b.state)).toEqual(Array.from(a.state));
    b.reset();
    expect(b.state.every((v) => v === 0)).toBe(true);
  });

  it('returns bytes the caller owns: a plain Uint8Array over its own buffer, untouched by later snapshots', () => {
    const a = filled();
    const first = a.snapshot();
    const copy = first.slice();
    expect(Object.getPrototypeOf(first)).toBe(Uint8Array.prototype);
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.byteLength);
    // slice() of a plain Uint8Array is a copy, not a view.
    const sliced = first.slice(0, 4);
    sliced[0] = sliced[0]! ^ 0xff;
    expect(first[0]).toBe(copy[0]);
    a.state.fill(0.25);
    a.snapshot();
    createStateHandle(createCell({ kind: 'gru', inputSize: 2, hiddenSize: 3 }), 1).snapshot();
    expect(Array.from(first)).toEqual(Array.from(copy));
  });

  it('refuses every single-bit flip and every truncation of a snapshot, leaving the state untouched', () => {
    const bytes = filled().snapshot();
    const h = createStateHandle(lstmCell, 2);
    h.state.fill(0.5);
    let refused = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = bytes.slice();
        bad[i] = bad[i]! ^ (1 << bit);
        expect(() => h.restore(bad), `bit ${bit} of byte ${i}`).toThrow(RangeError);
        refused++;
      }
    }
    for (let n = 0; n < bytes.length; n++)
      expect(() => h.restore(bytes.subarray(0, n)), `${n} bytes`).toThrow(RangeError);
    expect(() => h.restore(Uint8Array.of(...bytes, 0))).toThrow(RangeError);
    expect(h.state.every((v) => v === 0.5)).toBe(true);
    expect(refused).toBe(bytes.length * 8);
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

  it('refuses foreign, old, future, oversized and inconsistent bytes with a clear error', () => {
    const h = createStateHandle(lstmCell, 2);
    const { body } = open(filled().snapshot());
    expect(() => h.restore('bytes' as unknown as Uint8Array)).toThrow(
      /got "bytes", expected a Uint8Array from snapshot\(\)/,
    );
    expect(() => h.restore(packr.pack({ hello: 1 }))).toThrow(/format undefined, expected "rxrnn\/state"/);
    // Version 1 (the state without a checksum) is refused with what to do.
    const v1 = new Packr({ moreTypes: true }).pack({ format: 'rxrnn/state', version: 1, ...body });
    expect(() => h.restore(v1)).toThrow(/version 1, expected 2: version 1 snapshots have no checksum/);
    expect(() => h.restore(seal(body, { version: 3 }))).toThrow(/version 3, expected 2/);
    expect(() => h.restore(seal(body, { crc32: 7 }))).toThrow(/checksum mismatch \(stored 7, computed \d+\)/);
    expect(() => h.restore(seal(body, { extra: 1 }))).toThrow(/snapshot has an unknown field "extra"/);
    expect(() => h.restore(new Uint8Array(16 * 4 + 1025))).toThrow(/1089 bytes, expected at most 1088/);
    expect(() => h.restore(seal({ ...body, state: new Float32Array(3) }))).toThrow(
      /state length 3, expected a Float32Array of length 16/,
    );
    expect(() => h.restore(seal({ ...body, state: new Float32Array(16).fill(NaN) }))).toThrow(
      /state\[0\] must be a finite number, got NaN/,
    );
    expect(() => h.restore(seal({ ...body, spec: { ...(body.spec as object), layers: 0 } }))).toThrow(
      /spec.layers must be a positive integer, got 0/,
    );
    expect(() => h.restore(seal({ ...body, spec: 'lstm' }))).toThrow(/spec must be an object, got "lstm"/);
    expect(() => h.restore(seal({ ...body, more: true }))).toThrow(/body has an unknown field "more"/);
    expect(() => h.restore(new Uint8Array(0))).toThrow(RangeError);
    expect(h.state.every((v) => v === 0)).toBe(true);
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

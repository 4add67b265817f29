// WASM memory: allocF32 hands out zeroed arrays inside WASM memory, freeF32 recycles them, growth
// keeps earlier arrays valid (shared memory), and the js backend hands out ordinary arrays.
import { afterAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';

const initial = K.getBackend();
afterAll(() => K.setBackend(initial));

describe('backend switch', () => {
  it('defaults to native where the addon loads, else wasm where SIMD validates, and switches', () => {
    expect(K.wasmSupported()).toBe(true);
    expect(initial).toBe(K.backendInfo().native.loaded ? 'native' : 'wasm');
    K.setBackend('js');
    expect(K.getBackend()).toBe('js');
    const plain = K.allocF32(4);
    expect(plain.buffer instanceof ArrayBuffer).toBe(true);
    K.freeF32(plain); // no-op for ordinary arrays
    K.setBackend('wasm');
    expect(K.getBackend()).toBe('wasm');
    return expect(K.ready()).resolves.toBeUndefined();
  });
});

describe('allocF32 / freeF32', () => {
  it('hands out zeroed, 16-byte aligned, reusable blocks', () => {
    K.setBackend('wasm');
    const a = K.allocF32(10);
    a.fill(3);
    const off = a.byteOffset;
    expect(off % 16).toBe(0);
    expect(K.wasmMemoryInfo()!.shared).toBe(true);
    K.freeF32(a);
    const b = K.allocF32(10);
    expect(b.byteOffset).toBe(off);
    expect([...b]).toEqual(new Array(10).fill(0));
    expect(() => K.freeF32(b.subarray(1))).toThrow(/freeF32: byte offset .* is not a live allocation/);
    K.freeF32(b);
    expect(() => K.freeF32(b)).toThrow(RangeError);
  });

  it('keeps earlier arrays valid across memory growth and runs kernels on both', () => {
    K.setBackend('wasm');
    const before = K.wasmMemoryInfo()!.bytes;
    const W = K.allocF32(6);
    W.set([1, 2, 3, 4, 5, 6]);
    // Larger than the whole initial memory: forces a grow.
    const big = K.allocF32(before / 4 + 1024);
    expect(K.wasmMemoryInfo()!.bytes).toBeGreaterThan(before);
    expect([...W]).toEqual([1, 2, 3, 4, 5, 6]);
    const x = K.allocF32(3);
    const y = K.allocF32(2);
    x.set([1, 0, -1]);
    K.gemv(y, W, x, 2, 3);
    expect([...y]).toEqual([-2, -2]);
    big[big.length - 1] = 5;
    K.gemv(y, W, x, 2, 3, true);
    expect([...y]).toEqual([-4, -4]);
    for (const a of [W, big, x, y]) K.freeF32(a);
  });
});

describe('plain-memory build (fallback without SharedArrayBuffer)', () => {
  it('instantiates on a non-shared memory and computes gemv like the twin', async () => {
    const { wasmPlain } = await import('../src/generated/kernels-wasm.js');
    const memory = new WebAssembly.Memory({ initial: 2 });
    const mod = new WebAssembly.Module(Buffer.from(wasmPlain, 'base64'));
    const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as {
      heapBase(): number;
      gemv(y: number, W: number, x: number, rows: number, cols: number, acc: number): void;
    };
    const rows = 5;
    const cols = 7;
    const base = Math.ceil(ex.heapBase() / 16) * 16;
    const W = new Float32Array(memory.buffer, base, rows * cols);
    const x = new Float32Array(memory.buffer, base + 4 * rows * cols, cols);
    const y = new Float32Array(memory.buffer, base + 4 * (rows * cols + cols), rows);
    const rng = new K.Rng(8);
    K.initUniform(W, rng, -1, 1);
    K.initUniform(x, rng, -1, 1);
    ex.gemv(y.byteOffset, W.byteOffset, x.byteOffset, rows, cols, 0);
    const yRef = new Float32Array(rows);
    K.reference.gemv(yRef, W.slice(), x.slice(), rows, cols);
    for (let i = 0; i < rows; i++) expect(Math.abs(y[i]! - yRef[i]!)).toBeLessThan(1e-6);
  });
});

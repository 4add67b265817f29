// Bad input: every kernel rejects mismatched lengths and bad dims with a RangeError (TypeError for
// wrong array types) naming the kernel and the sizes, on both backends.
import { afterAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { FAST_BACKENDS } from './helpers.js';

const f = (n: number): Float32Array => new Float32Array(n);
const initial = K.getBackend();
afterAll(() => K.setBackend(initial));

describe.each(['js', ...FAST_BACKENDS] as const)('validation on %s', (backend) => {
  it('names kernel and sizes for linear algebra', () => {
    K.setBackend(backend);
    expect(() => K.gemv(f(10), f(100), f(12), 10, 12)).toThrow(
      new RangeError('gemv: W length 100, expected rows*cols = 120'),
    );
    expect(() => K.gemv(f(10), f(120), f(11), 10, 12)).toThrow(/gemv: x length 11, expected cols = 12/);
    expect(() => K.gemvT(f(10), f(120), f(10), 10, 12)).toThrow(/gemvT: y length 10, expected cols = 12/);
    expect(() => K.gemmABt(f(6), f(6), f(6), 2, 3, 3)).toThrow(
      new RangeError('gemmABt: Bm length 6, expected N*K = 9'),
    );
    expect(() => K.gemmAtB(f(6), f(5), f(6), 2, 3, 2)).toThrow(new RangeError('gemmAtB: A length 5, expected K*M = 4'));
    expect(() => K.gemmAB(f(7), f(4), f(6), 2, 3, 2)).toThrow(/gemmAB: C length 7, expected M\*N = 6/);
    expect(() => K.ger(f(6), f(2), f(4), 2, 3)).toThrow(/ger: y length 4, expected cols = 3/);
    expect(() => K.gemv(f(2), f(2), f(1), 2, 1.5)).toThrow(/gemv: cols must be a non-negative integer, got 1.5/);
    expect(() => K.gemv(f(0), f(0), f(0), -1, 0)).toThrow(/gemv: rows must be a non-negative integer, got -1/);
    expect(() => K.gemv(f(2), new Float64Array(2) as unknown as Float32Array, f(1), 2, 1)).toThrow(TypeError);
    expect(() => K.ger(f(6), f(2), f(3), 2, 3, NaN)).toThrow(/ger: alpha must be a finite number, got NaN/);
  });

  it('names kernel and sizes for gates', () => {
    K.setBackend(backend);
    expect(() => K.lstmForward(f(6), f(6), f(24), f(23), f(6), 2, 3)).toThrow(
      new RangeError('lstmForward: pre length 23, expected B*4H = 24'),
    );
    expect(() => K.lstmBackward(f(24), f(6), f(6), f(5), f(24), f(6), f(6), 2, 3)).toThrow(
      /lstmBackward: dc length 5, expected B\*H = 6/,
    );
    expect(() => K.gruForward(f(6), f(18), f(18), f(17), f(6), 2, 3)).toThrow(
      /gruForward: hPre length 17, expected B\*3H = 18/,
    );
    expect(() => K.gruBackward(f(18), f(18), f(6), f(6), f(18), f(18), f(7), 2, 3)).toThrow(
      /gruBackward: hPrev length 7/,
    );
    expect(() => K.gruRzForward(f(18), f(6), f(18), f(18), f(6), 2, 3)).toThrow(
      /gruRzForward: hPreRz length 18, expected B\*2H = 12/,
    );
    expect(() => K.gruNForward(f(6), f(18), f(18), f(5), f(6), 2, 3)).toThrow(/gruNForward: hn length 5/);
    expect(() => K.gruNBackward(f(18), f(6), f(6), f(6), f(17), f(6), 2, 3)).toThrow(/gruNBackward: act length 17/);
    expect(() => K.gruRzBackward(f(18), f(11), f(6), f(6), f(18), f(6), 2, 3)).toThrow(
      /gruRzBackward: dhPreRz length 11/,
    );
    expect(() => K.rnnForward(f(6), f(5), 2, 3)).toThrow(/rnnForward: pre length 5, expected B\*H = 6/);
    expect(() => K.rnnBackward(f(6), f(6), f(6), 2, -3)).toThrow(/rnnBackward: H must be a non-negative integer/);
  });
});

describe('validation of row, elementwise and reduction kernels', () => {
  it('throws RangeError naming the kernel', () => {
    expect(() => K.sigmoid(f(3), f(4), 3)).toThrow(/sigmoid: x length 4, expected n = 3/);
    expect(() => K.tanhGrad(f(2), f(3), 3)).toThrow(/tanhGrad: out length 2/);
    expect(() => K.addBias(f(6), f(2), 2, 3)).toThrow(/addBias: bias length 2, expected cols = 3/);
    expect(() => K.softmaxRows(f(6), f(6), 2, 3, 0)).toThrow(
      /softmaxRows: temperature must be a finite number > 0, got 0/,
    );
    expect(() => K.logSoftmaxRows(f(6), f(5), 2, 3)).toThrow(/logSoftmaxRows: x length 5/);
    expect(() => K.softmaxCrossEntropy(f(6), f(2), f(6), new Int32Array([0, 3]), 2, 3)).toThrow(
      /softmaxCrossEntropy: targets\[1\] = 3, expected 0 <= target < cols = 3/,
    );
    expect(() => K.softmaxCrossEntropy(f(6), f(2), f(6), new Int32Array(3), 2, 3)).toThrow(
      /softmaxCrossEntropy: targets length 3, expected rows = 2/,
    );
    expect(() => K.sumSquares(f(3), 4)).toThrow(/sumSquares: x length 3, expected n = 4/);
    expect(() => K.dot(f(3), f(2), 3)).toThrow(/dot: y length 2/);
    expect(() => K.axpy(f(3), Infinity, f(3), 3)).toThrow(/axpy: alpha must be a finite number/);
    expect(() => K.scale(f(3), 2, 2)).toThrow(/scale: x length 3, expected n = 2/);
    expect(() => K.fill(f(3), 0, 4)).toThrow(/fill: out length 3, expected n = 4/);
    expect(() => K.allocF32(-1)).toThrow(/allocF32: n must be a non-negative integer, got -1/);
    expect(() => K.setBackend('gpu' as 'js')).toThrow(/setBackend: backend must be one of native, wasm, js, got gpu/);
  });
});

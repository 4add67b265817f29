// Softmax, log-softmax and fused softmax cross-entropy against a float64 computation, stability at
// |logit| 1e4, plus the elementwise kernels and reductions against float64 Math.
import { describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { maxDiff } from './helpers.js';

/** Float64 oracle: per row, log Σ exp(x) by the definition with an explicit shift. */
function oracle(logits: Float32Array, targets: Int32Array, rows: number, cols: number) {
  const grad = new Float64Array(rows * cols);
  const loss = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(logits.subarray(r * cols, (r + 1) * cols));
    const shift = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - shift), 0);
    loss[r] = -(row[targets[r]!]! - shift - Math.log(z));
    row.forEach((v, c) => (grad[r * cols + c] = Math.exp(v - shift) / z - (c === targets[r] ? 1 : 0)));
  }
  return { grad, loss, total: loss.reduce((a, b) => a + b, 0) };
}

describe('softmaxCrossEntropy', () => {
  it('matches float64 on random logits', () => {
    const rng = new K.Rng(41);
    for (const [rows, cols] of [
      [1, 1],
      [3, 5],
      [7, 65],
      [4, 257],
    ] as const) {
      const logits = Float32Array.from({ length: rows * cols }, () => 8 * (rng.uniform() - 0.5));
      const targets = Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * cols));
      const d = new Float32Array(rows * cols);
      const l = new Float32Array(rows);
      const total = K.softmaxCrossEntropy(d, l, logits, targets, rows, cols);
      const o = oracle(logits, targets, rows, cols);
      expect(Math.abs(total - o.total), `total ${total} vs ${o.total}`).toBeLessThan(1e-9 * (1 + o.total));
      expect(maxDiff(l, o.loss), `loss rows max diff ${maxDiff(l, o.loss)}`).toBeLessThan(1e-6);
      expect(maxDiff(d, o.grad), `dLogits max diff ${maxDiff(d, o.grad)}`).toBeLessThan(1e-6);
    }
  });

  it('is stable at |logit| 1e4', () => {
    // Row 0: [1e4, −1e4, 1e4 − 1], target 0: loss = log(1 + e^−1) analytically.
    // Row 1: [−1e4, −1e4, −1e4], target 2: loss = log 3, gradient 1/3 − onehot.
    const logits = new Float32Array([1e4, -1e4, 1e4 - 1, -1e4, -1e4, -1e4]);
    const d = new Float32Array(6);
    const l = new Float32Array(2);
    const total = K.softmaxCrossEntropy(d, l, logits, new Int32Array([0, 2]), 2, 3);
    expect(l[0]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 6);
    expect(l[1]).toBeCloseTo(Math.log(3), 6);
    expect(total).toBeCloseTo(Math.log(1 + Math.exp(-1)) + Math.log(3), 6);
    const p0 = 1 / (1 + Math.exp(-1));
    expect(maxDiff(d, [p0 - 1, 0, 1 - p0, 1 / 3, 1 / 3, 1 / 3 - 1])).toBeLessThan(1e-6);
  });
});

describe('softmaxRows and logSoftmaxRows', () => {
  it('agree with float64, with each other, and with temperature scaling', () => {
    const rng = new K.Rng(42);
    const rows = 3;
    const cols = 65;
    const x = Float32Array.from({ length: rows * cols }, () => 10 * (rng.uniform() - 0.5));
    const p = new Float32Array(rows * cols);
    const lp = new Float32Array(rows * cols);
    K.softmaxRows(p, x, rows, cols);
    K.logSoftmaxRows(lp, x, rows, cols);
    const o = oracle(x, new Int32Array(rows), rows, cols);
    const expected = o.grad.map((g, i) => (i % cols === 0 ? g + 1 : g));
    expect(maxDiff(p, expected)).toBeLessThan(1e-6);
    expect(maxDiff(lp.map(Math.exp), p)).toBeLessThan(1e-6);
    const pt = new Float32Array(rows * cols);
    const ps = new Float32Array(rows * cols);
    K.softmaxRows(pt, x, rows, cols, 0.5);
    K.softmaxRows(
      ps,
      x.map((v) => v / 0.5),
      rows,
      cols,
    );
    expect(maxDiff(pt, ps)).toBeLessThan(1e-6);
  });

  it('is stable at |logit| 1e4', () => {
    const x = new Float32Array([1e4, -1e4, 1e4 - 1, 1e4]);
    const p = new Float32Array(4);
    const lp = new Float32Array(4);
    K.softmaxRows(p, x, 1, 4);
    K.logSoftmaxRows(lp, x, 1, 4);
    const z = 2 + Math.exp(-1);
    expect(maxDiff(p, [1 / z, 0, Math.exp(-1) / z, 1 / z])).toBeLessThan(1e-7);
    expect(lp[0]).toBeCloseTo(-Math.log(z), 3);
    expect(lp[1]).toBeCloseTo(-2e4 - Math.log(z), 0);
    for (const v of [...p, ...lp]) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('elementwise kernels and reductions', () => {
  const rng = new K.Rng(43);
  const n = 67;
  const x = Float32Array.from({ length: n }, () => 12 * (rng.uniform() - 0.5));
  const out = new Float32Array(n);

  it('sigmoid, tanh and their derivatives from outputs', () => {
    K.sigmoid(out, x, n);
    expect(
      maxDiff(
        out,
        Array.from(x, (v) => 1 / (1 + Math.exp(-v))),
      ),
    ).toBeLessThan(1e-7);
    const y = out.slice();
    K.sigmoidGrad(out, y, n);
    expect(
      maxDiff(
        out,
        Array.from(x, (v) => Math.exp(-v) / (1 + Math.exp(-v)) ** 2),
      ),
    ).toBeLessThan(1e-6);
    K.tanh(out, x, n);
    expect(maxDiff(out, Array.from(x, Math.tanh))).toBeLessThan(1e-7);
    K.tanhGrad(out, out.slice(), n);
    expect(
      maxDiff(
        out,
        Array.from(x, (v) => 1 / Math.cosh(v) ** 2),
      ),
    ).toBeLessThan(1e-6);
  });

  it('addBias, scale, axpy, fill', () => {
    const m = Float32Array.from([1, 2, 3, 4, 5, 6]);
    K.addBias(m, Float32Array.from([10, 20, 30]), 2, 3);
    expect([...m]).toEqual([11, 22, 33, 14, 25, 36]);
    K.scale(m, 0.5, 6);
    expect([...m]).toEqual([5.5, 11, 16.5, 7, 12.5, 18]);
    K.axpy(m, -2, Float32Array.from([1, 1, 1, 1, 1, 1]), 6);
    expect([...m]).toEqual([3.5, 9, 14.5, 5, 10.5, 16]);
    K.fill(m, 7, 6);
    expect([...m]).toEqual([7, 7, 7, 7, 7, 7]);
  });

  it('sumSquares and dot accumulate in float64; maxAbs', () => {
    // 2^24 + 1 ones: a float32 accumulator would stop at 2^24.
    const ones = new Float32Array(2 ** 24 + 1).fill(1);
    expect(K.sumSquares(ones, ones.length)).toBe(2 ** 24 + 1);
    expect(K.dot(ones, ones, ones.length)).toBe(2 ** 24 + 1);
    const v = Float32Array.from([0.5, -3, 2]);
    expect(K.maxAbs(v, 3)).toBe(3);
    expect(K.maxAbs(new Float32Array(0), 0)).toBe(0);
    expect(K.maxAbs(Float32Array.from([1, NaN]), 2)).toBeNaN();
    expect(K.maxAbs(Float32Array.from([NaN, 1, 2]), 3)).toBeNaN();
  });
});

// Initializers: orthogonality (QᵀQ ≈ I or QQᵀ ≈ I, computed in float64), bounds, determinism.
import { describe, expect, it } from 'vitest';
import { initGlorotUniform, initOrthogonal, initUniform, Rng } from '../src/index.js';

/** max |G − I| where G is the float64 Gram matrix of the columns (or rows) of out. */
function gramError(out: Float32Array, rows: number, cols: number, ofColumns: boolean): number {
  const n = ofColumns ? cols : rows;
  const len = ofColumns ? rows : cols;
  const at = (v: number, t: number): number => (ofColumns ? out[t * cols + v]! : out[v * cols + t]!);
  let worst = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let t = 0; t < len; t++) s += at(a, t) * at(b, t);
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

describe('initOrthogonal', () => {
  it.each([
    [40, 12],
    [12, 40],
    [33, 33],
    [1, 5],
    [5, 1],
  ])('rows=%i cols=%i is (semi-)orthogonal', (rows, cols) => {
    const out = new Float32Array(rows * cols);
    initOrthogonal(out, new Rng(3), rows, cols);
    const err = gramError(out, rows, cols, rows >= cols);
    expect(err, `max |QᵀQ − I| = ${err}`).toBeLessThan(1e-6);
  });

  it('applies gain, is deterministic and validates', () => {
    const a = new Float32Array(36);
    const b = new Float32Array(36);
    initOrthogonal(a, new Rng(4), 6, 6, 2);
    initOrthogonal(b, new Rng(4), 6, 6, 2);
    expect(a).toEqual(b);
    expect(
      gramError(
        a.map((v) => v / 2),
        6,
        6,
        true,
      ),
    ).toBeLessThan(1e-6);
    expect(() => initOrthogonal(new Float32Array(5), new Rng(1), 2, 3)).toThrow(
      /initOrthogonal: out length 5, expected rows\*cols = 6/,
    );
  });
});

describe('uniform initializers', () => {
  it('initUniform and initGlorotUniform stay in bounds', () => {
    const out = new Float32Array(5000);
    initUniform(out, new Rng(1), -0.25, 0.5);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(-0.25);
    expect(Math.max(...out)).toBeLessThan(0.5);
    initGlorotUniform(out, new Rng(2), 30, 70);
    const l = Math.sqrt(6 / 100);
    expect(Math.max(...out.map(Math.abs))).toBeLessThanOrEqual(Math.fround(l));
    expect(Math.max(...out.map(Math.abs))).toBeGreaterThan(0.9 * l);
    expect(() => initUniform(out, new Rng(1), 1, 0)).toThrow(/initUniform: expected a <= b/);
    expect(() => initGlorotUniform(out, new Rng(1), 0, 0)).toThrow(/fanIn \+ fanOut must be > 0/);
  });
});

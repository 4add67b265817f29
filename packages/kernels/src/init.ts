// Weight initializers writing into a caller-owned Float32Array from a caller-owned Rng.
// initOrthogonal works in float64 (a temporary it allocates: initialization is not a hot path).
import { Rng } from './rng.js';
import { checkDim, checkF32, checkFinite } from './validate.js';

function checkOut(k: string, out: Float32Array, rng: Rng): void {
  if (!(out instanceof Float32Array)) throw new TypeError(`${k}: out must be a Float32Array`);
  if (!(rng instanceof Rng)) throw new TypeError(`${k}: rng must be an Rng`);
}

/** out[i] ~ U(a, b). */
export function initUniform(out: Float32Array, rng: Rng, a: number, b: number): void {
  checkOut('initUniform', out, rng);
  checkFinite('initUniform', 'a', a);
  checkFinite('initUniform', 'b', b);
  if (!(a <= b)) throw new RangeError(`initUniform: expected a <= b, got a = ${a}, b = ${b}`);
  const w = b - a;
  for (let i = 0; i < out.length; i++) out[i] = a + w * rng.uniform();
}

/** Glorot/Xavier uniform: U(−l, l) with l = gain·√(6 / (fanIn + fanOut)); gain defaults to 1. */
export function initGlorotUniform(out: Float32Array, rng: Rng, fanIn: number, fanOut: number, gain = 1): void {
  checkOut('initGlorotUniform', out, rng);
  checkDim('initGlorotUniform', 'fanIn', fanIn);
  checkDim('initGlorotUniform', 'fanOut', fanOut);
  checkFinite('initGlorotUniform', 'gain', gain);
  if (fanIn + fanOut === 0) throw new RangeError('initGlorotUniform: fanIn + fanOut must be > 0, got 0');
  const l = gain * Math.sqrt(6 / (fanIn + fanOut));
  initUniform(out, rng, -l, l);
}

/**
 * (Semi-)orthogonal out[rows×cols] scaled by gain (default 1): QR of a Gaussian matrix by
 * modified Gram–Schmidt in float64, applied twice for full accuracy, with R's diagonal made
 * positive (the sign correction PyTorch's orthogonal_ applies). rows >= cols gives orthonormal
 * columns (QᵀQ = I); rows < cols gives orthonormal rows (QQᵀ = I).
 */
export function initOrthogonal(out: Float32Array, rng: Rng, rows: number, cols: number, gain = 1): void {
  const k = 'initOrthogonal';
  checkOut(k, out, rng);
  checkDim(k, 'rows', rows);
  checkDim(k, 'cols', cols);
  checkFinite(k, 'gain', gain);
  checkF32(k, 'out', out, rows * cols, 'rows*cols');
  // Work on the tall orientation m×n (m >= n), stored column-major: column j at j*m.
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  const q = new Float64Array(m * n);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < n; j++) {
    const vj = j * m;
    let norm = 0;
    // Two passes of projections ("twice is enough") keep QᵀQ = I to float64 rounding.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const vi = i * m;
        let d = 0;
        for (let t = 0; t < m; t++) d += q[vi + t]! * q[vj + t]!;
        for (let t = 0; t < m; t++) q[vj + t] = q[vj + t]! - d * q[vi + t]!;
      }
    }
    for (let t = 0; t < m; t++) norm += q[vj + t]! * q[vj + t]!;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) throw new RangeError(`${k}: random matrix is rank-deficient at column ${j}`);
    // Gram–Schmidt's R diagonal is the positive norm, so Q is already sign-corrected.
    for (let t = 0; t < m; t++) q[vj + t] = q[vj + t]! / norm;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // tall: out[r, c] = Q[r, c] (column c at c*m); wide: out = Qᵀ, out[r, c] = Q[c, r].
      out[r * cols + c] = gain * (tall ? q[c * m + r]! : q[r * m + c]!);
    }
  }
}

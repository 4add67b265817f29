// Four-lane float32 exp, sigmoid and tanh for the fused gate kernels. Cephes-style range
// reduction and minimax polynomials: within ~2e-7 relative of float64 Math results (tested in
// test/gates.spec.ts at 1e-6), NaN propagates, overflow gives +inf / exact 0 / exact ±1.

// @ts-expect-error: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

// @ts-expect-error: decorator
@inline function madd(a: v128, b: v128, c: f32): v128 {
  return f32x4.add(f32x4.mul(a, b), f32x4.splat(c));
}

/** e^x per lane. x > 88 → +inf, x < −87.3 → 0 (the true values are at the float32 limits). */
// @ts-expect-error: decorator
@inline export function vexp(x: v128): v128 {
  // pmin/pmax (`b < a ? b : a`) are one minps/maxps each in V8; min/max's NaN and ±0 rules cost
  // about eight instructions each. A NaN x still passes through (both comparisons are false).
  const xc = f32x4.pmin(f32x4.pmax(x, splat(-87.3)), splat(88.0));
  // x = n·ln2 + r with |r| <= ln2/2; ln2 split in two so n·C1 is exact.
  const n = f32x4.nearest(f32x4.mul(xc, splat(1.44269504)));
  let r = f32x4.sub(xc, f32x4.mul(n, splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(n, splat(2.12194440e-4)));
  let p = madd(splat(1.9875691500e-4), r, 1.3981999507e-3);
  p = madd(p, r, 8.3334519073e-3);
  p = madd(p, r, 4.1665795894e-2);
  p = madd(p, r, 1.6666665459e-1);
  p = madd(p, r, 5.0000001201e-1);
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), splat(1.0));
  // 2^n built directly in the exponent bits (n in [−126, 127] after the clamp).
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  let y = f32x4.mul(p, pow2);
  y = v128.bitselect(splat(Infinity), y, f32x4.gt(x, splat(88.0)));
  return v128.bitselect(splat(0), y, f32x4.lt(x, splat(-87.3)));
}

/** 1 / (1 + e^−x) per lane. */
// @ts-expect-error: decorator
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(splat(1.0), f32x4.add(splat(1.0), vexp(f32x4.neg(x))));
}

/**
 * tanh per lane: for |x| < 0.625 an odd polynomial (1 − 2/(e^2x + 1) would lose the relative
 * precision of small results to cancellation), otherwise 1 − 2/(e^2|x| + 1); sign restored last.
 */
// @ts-expect-error: decorator
@inline export function vtanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(a, a);
  let p = madd(splat(-5.70498872745e-3), z, 2.06390887954e-2);
  p = madd(p, z, -5.37397155531e-2);
  p = madd(p, z, 1.33314422036e-1);
  p = madd(p, z, -3.33332819422e-1);
  const small = f32x4.add(a, f32x4.mul(f32x4.mul(a, z), p));
  const e = vexp(f32x4.add(a, a));
  const large = f32x4.sub(splat(1.0), f32x4.div(splat(2.0), f32x4.add(e, splat(1.0))));
  const t = v128.bitselect(small, large, f32x4.lt(a, splat(0.625)));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

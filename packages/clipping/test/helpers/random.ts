// Test-only seeded random gradients (mulberry32 + Box-Muller), independent of @rxrnn/kernels so
// that the oracle data does not come from the package under test's dependency.

export function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tensors of the given lengths with N(0, sd²) entries. */
export function randomTensors(seed: number, lengths: number[], sd = 1): Float32Array[] {
  const u = makeRandom(seed);
  return lengths.map((n) => {
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = sd * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    return g;
  });
}

export function copies(tensors: Float32Array[]): Float32Array[] {
  return tensors.map((g) => g.slice());
}

/** float64 oracle: Euclidean norm of all elements via Math.hypot (a different algorithm from Σx²). */
export function hypotAll(tensors: Float32Array[]): number {
  return Math.hypot(...tensors.flatMap((g) => Array.from(g)));
}

export function maxAbsAll(tensors: Float32Array[]): number {
  return Math.max(0, ...tensors.flatMap((g) => Array.from(g, Math.abs)));
}

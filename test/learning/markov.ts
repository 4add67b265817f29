// A seeded k-th order Markov chain over a small alphabet with its exact entropy rate:
// H = Σ_s π(s) · H(P(·|s)) over contexts s (the last k symbols), π the stationary distribution
// of the context chain, found by power iteration in float64. Test-only oracle.

export interface MarkovChain {
  alphabet: string;
  order: number;
  /** P(next | context) rows, context index = base-|A| number of the last k symbols. */
  table: Float64Array[];
  /** Exact entropy rate in bits per symbol. */
  entropyRate: number;
  sample(n: number, seed: number): string;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
}

export function markovChain(o: { alphabet: string; order: number; seed: number; sharpness: number }): MarkovChain {
  const A = o.alphabet.length;
  const C = A ** o.order;
  const rnd = lcg(o.seed);
  // Rows p ∝ u^sharpness: larger sharpness gives more peaked (lower-entropy) transitions.
  const table = Array.from({ length: C }, () => {
    const row = Float64Array.from({ length: A }, () => rnd() ** o.sharpness + 1e-3);
    const z = row.reduce((a, b) => a + b, 0);
    return row.map((p) => p / z);
  });
  // Context c = (x_{t-k+1} ... x_t) moves to (c·A + x) mod C with probability P(x | c).
  let pi = new Float64Array(C).fill(1 / C);
  for (let it = 0; it < 10_000; it++) {
    const next = new Float64Array(C);
    for (let c = 0; c < C; c++) for (let x = 0; x < A; x++) next[(c * A + x) % C]! += pi[c]! * table[c]![x]!;
    const delta = next.reduce((m, v, i) => Math.max(m, Math.abs(v - pi[i]!)), 0);
    pi = next;
    if (delta < 1e-15) break;
  }
  let H = 0;
  for (let c = 0; c < C; c++) for (const p of table[c]!) H -= pi[c]! * p * Math.log2(p);
  return {
    alphabet: o.alphabet,
    order: o.order,
    table,
    entropyRate: H,
    sample(n, seed) {
      const r = lcg(seed);
      let c = 0;
      let out = '';
      for (let i = 0; i < n; i++) {
        let u = r();
        let x = 0;
        while (x < A - 1 && u >= table[c]![x]!) u -= table[c]![x++]!;
        out += o.alphabet[x];
        c = (c * A + x) % C;
      }
      return out;
    },
  };
}

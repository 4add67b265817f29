// Test-only oracle: a plain float64 bidirectional stack written from the formulas (PyTorch's gate
// order, both GRU variants), reading the weights by name from a BidirectionalStack's views(), so
// it shares no code with the float32 implementation. Finite differences run on this one.
import type { ParamView } from '@rxrnn/cells';

export interface RefSpec {
  kind: 'rnn' | 'gru' | 'lstm';
  gruVariant: 'reset-after' | 'reset-before';
  inputSize: number;
  hiddenSize: number;
  layers: number;
  merge: 'concat' | 'sum' | 'mul' | 'ave';
}

const sig = (v: number) => 1 / (1 + Math.exp(-v));

/** W [rows × cols] at `o` times x. */
function matvec(p: Float64Array, o: number, rows: number, cols: number, x: ArrayLike<number>): number[] {
  const y = new Array<number>(rows).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[r]! += p[o + r * cols + c]! * x[c]!;
  return y;
}

/**
 * x: [T][B][n_x]; h0, c0: [L·2][B][H]. Returns out [T][B][merged], hN, cN like h0, and the loss
 * Σ out·G + Σ hN·Gh + Σ cN·Gc for flat G, Gh, Gc in the project's layouts.
 */
export function refForward(
  spec: RefSpec,
  views: ParamView[],
  p: Float64Array,
  x: number[][][],
  h0: number[][][],
  c0: number[][][],
) {
  const off = (name: string) => {
    const v = views.find((w) => w.name === name);
    if (!v) throw new Error(`no tensor ${name}`);
    return v.offset;
  };
  const H = spec.hiddenSize;
  const T = x.length;
  const B = x[0]!.length;
  const hN: number[][][] = [];
  const cN: number[][][] = [];
  let layerIn = x;
  for (let k = 0; k < spec.layers; k++) {
    const nIn = k === 0 ? spec.inputSize : 2 * H;
    const dirOut: number[][][][] = [];
    for (let d = 0; d < 2; d++) {
      const sfx = `_l${k}${d ? '_reverse' : ''}`;
      const wih = off(`weight_ih${sfx}`);
      const whh = off(`weight_hh${sfx}`);
      const bias = off(`bias${sfx}`);
      const bhn = spec.kind === 'gru' && spec.gruVariant === 'reset-after' ? off(`bias_hn${sfx}`) : -1;
      const G = { rnn: 1, gru: 3, lstm: 4 }[spec.kind];
      const outs: number[][][] = Array.from({ length: T }, () => []);
      const hs: number[][] = [];
      const cs: number[][] = [];
      for (let b = 0; b < B; b++) {
        let h = [...h0[k * 2 + d]![b]!];
        let c = [...c0[k * 2 + d]![b]!];
        for (let s = 0; s < T; s++) {
          const t = d === 0 ? s : T - 1 - s;
          const xi = matvec(p, wih, G * H, nIn, layerIn[t]![b]!).map((v, j) => v + p[bias + j]!);
          if (spec.kind === 'rnn') {
            const hh = matvec(p, whh, H, H, h);
            h = xi.map((v, j) => Math.tanh(v + hh[j]!));
          } else if (spec.kind === 'lstm') {
            const hh = matvec(p, whh, 4 * H, H, h);
            const a = xi.map((v, j) => v + hh[j]!);
            c = c.map((cv, j) => sig(a[H + j]!) * cv + sig(a[j]!) * Math.tanh(a[2 * H + j]!));
            h = c.map((cv, j) => sig(a[3 * H + j]!) * Math.tanh(cv));
          } else {
            const hh = matvec(p, whh, 3 * H, H, h);
            const r = h.map((_, j) => sig(xi[j]! + hh[j]!));
            const z = h.map((_, j) => sig(xi[H + j]! + hh[H + j]!));
            let n: number[];
            if (bhn >= 0) n = h.map((_, j) => Math.tanh(xi[2 * H + j]! + r[j]! * (hh[2 * H + j]! + p[bhn + j]!)));
            else {
              const rh = h.map((hv, j) => r[j]! * hv);
              const hn = matvec(p, whh + 2 * H * H, H, H, rh);
              n = h.map((_, j) => Math.tanh(xi[2 * H + j]! + hn[j]!));
            }
            h = h.map((hv, j) => (1 - z[j]!) * n[j]! + z[j]! * hv);
          }
          outs[t]![b] = h;
        }
        hs.push(h);
        cs.push(c);
      }
      dirOut.push(outs);
      hN.push(hs);
      cN.push(cs);
    }
    layerIn = Array.from({ length: T }, (_, t) =>
      Array.from({ length: B }, (_, b) => [...dirOut[0]![t]![b]!, ...dirOut[1]![t]![b]!]),
    );
  }
  const out = layerIn.map((row) =>
    row.map((v) => {
      if (spec.merge === 'concat') return v;
      const f = v.slice(0, H);
      const r = v.slice(H);
      return f.map((a, j) => (spec.merge === 'sum' ? a + r[j]! : spec.merge === 'mul' ? a * r[j]! : (a + r[j]!) / 2));
    }),
  );
  return { out, hN, cN };
}

/** [A][B][C] nested arrays from a flat row-major array. */
export function nest(flat: ArrayLike<number>, A: number, B: number, C: number): number[][][] {
  return Array.from({ length: A }, (_, a) =>
    Array.from({ length: B }, (_, b) => Array.from({ length: C }, (_, c) => flat[(a * B + b) * C + c]!)),
  );
}

export function flat(x: number[][][]): number[] {
  return x.flat(2);
}

// Each optimizer against a float64 reference written here from PyTorch's documented update
// formulas (torch.optim docs, "Algorithm" sections), and on a quadratic it must minimise.
import { describe, expect, it } from 'vitest';
import { createOptimizer, type OptimizerConfig } from '../src/index.js';

// Deterministic pseudo-random numbers for test data (independent of the library's RNG).
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

type Ref = (theta: number[], grad: number[], lr: number, t: number) => void;

// float64 references, one closure per optimizer config, state kept in the closure.
function reference(config: OptimizerConfig, n: number): Ref {
  const z = () => new Array<number>(n).fill(0);
  switch (config.kind) {
    case 'sgd': {
      const mu = config.momentum ?? 0;
      const tau = config.dampening ?? 0;
      const wd = config.weightDecay ?? 0;
      const b = z();
      return (th, gr, lr, t) => {
        for (let i = 0; i < n; i++) {
          let g = gr[i]! + wd * th[i]!;
          if (mu !== 0) {
            b[i] = t > 1 ? mu * b[i]! + (1 - tau) * g : g;
            g = config.nesterov ? g + mu * b[i]! : b[i]!;
          }
          th[i]! -= lr * g;
        }
      };
    }
    case 'adam':
    case 'adamw': {
      const b1 = config.beta1 ?? 0.9;
      const b2 = config.beta2 ?? 0.999;
      const eps = config.eps ?? 1e-8;
      const wd = config.weightDecay ?? (config.kind === 'adamw' ? 0.01 : 0);
      const m = z();
      const v = z();
      return (th, gr, lr, t) => {
        for (let i = 0; i < n; i++) {
          let g = gr[i]!;
          if (config.kind === 'adamw') th[i]! -= lr * wd * th[i]!;
          else g += wd * th[i]!;
          m[i] = b1 * m[i]! + (1 - b1) * g;
          v[i] = b2 * v[i]! + (1 - b2) * g * g;
          const mh = m[i]! / (1 - b1 ** t);
          const vh = v[i]! / (1 - b2 ** t);
          th[i]! -= (lr * mh) / (Math.sqrt(vh) + eps);
        }
      };
    }
    case 'adagrad': {
      const eta = config.lrDecay ?? 0;
      const wd = config.weightDecay ?? 0;
      const eps = config.eps ?? 1e-10;
      const s = new Array<number>(n).fill(config.initialAccumulatorValue ?? 0);
      return (th, gr, lr, t) => {
        const lrt = lr / (1 + (t - 1) * eta);
        for (let i = 0; i < n; i++) {
          const g = gr[i]! + wd * th[i]!;
          s[i]! += g * g;
          th[i]! -= (lrt * g) / (Math.sqrt(s[i]!) + eps);
        }
      };
    }
    case 'rmsprop': {
      const a = config.alpha ?? 0.99;
      const eps = config.eps ?? 1e-8;
      const wd = config.weightDecay ?? 0;
      const mu = config.momentum ?? 0;
      const v = z();
      const ga = z();
      const b = z();
      return (th, gr, lr) => {
        for (let i = 0; i < n; i++) {
          const g = gr[i]! + wd * th[i]!;
          v[i] = a * v[i]! + (1 - a) * g * g;
          let vt = v[i]!;
          if (config.centered) {
            ga[i] = a * ga[i]! + (1 - a) * g;
            vt -= ga[i]! * ga[i]!;
          }
          if (mu > 0) {
            b[i] = mu * b[i]! + g / (Math.sqrt(vt) + eps);
            th[i]! -= lr * b[i]!;
          } else th[i]! -= (lr * g) / (Math.sqrt(vt) + eps);
        }
      };
    }
  }
}

const configs: [string, OptimizerConfig, number][] = [
  ['sgd', { kind: 'sgd' }, 0.1],
  ['sgd momentum + dampening + wd', { kind: 'sgd', momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }, 0.05],
  ['sgd nesterov', { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-3 }, 0.05],
  ['adam', { kind: 'adam' }, 0.01],
  ['adam + l2', { kind: 'adam', weightDecay: 0.05, beta1: 0.8, beta2: 0.99 }, 0.01],
  ['adamw', { kind: 'adamw', weightDecay: 0.1 }, 0.01],
  ['adagrad', { kind: 'adagrad', lrDecay: 0.01, weightDecay: 0.01, initialAccumulatorValue: 0.1 }, 0.1],
  ['rmsprop', { kind: 'rmsprop' }, 0.01],
  [
    'rmsprop centered + momentum + wd',
    { kind: 'rmsprop', centered: true, momentum: 0.5, weightDecay: 0.01, alpha: 0.9 },
    0.005,
  ],
];

describe('optimizers vs float64 references from the PyTorch formulas', () => {
  it.each(configs)('%s: 25 steps match to float32 rounding', (_name, config, lr) => {
    const n = 37;
    const rnd = lcg(7);
    const theta64 = Array.from({ length: n }, () => rnd() * 2);
    const params = Float32Array.from(theta64);
    // Start from the float32-rounded values so both sides see the same inputs.
    for (let i = 0; i < n; i++) theta64[i] = params[i]!;
    const grads = new Float32Array(n);
    const opt = createOptimizer(config, n);
    const ref = reference(config, n);
    for (let t = 1; t <= 25; t++) {
      for (let i = 0; i < n; i++) grads[i] = rnd() * (1 + (i % 5));
      const lrT = lr * (1 - t / 100); // a changing rate, as a schedule would give
      opt.step(params, grads, lrT);
      ref(theta64, Array.from(grads), lrT, t);
    }
    expect(opt.stepCount).toBe(25);
    for (let i = 0; i < n; i++)
      expect(Math.abs(params[i]! - theta64[i]!)).toBeLessThan(2e-5 * (1 + Math.abs(theta64[i]!)));
  });

  it.each(configs)('%s minimises a quadratic', (_name, config, lr) => {
    // f(θ) = Σ c_i (θ_i − a_i)² / 2, gradient c_i (θ_i − a_i); curvatures from 0.5 to 2.
    const n = 8;
    const a = Float64Array.from({ length: n }, (_, i) => (i - 3.5) / 2);
    const c = Float64Array.from({ length: n }, (_, i) => 0.5 + (1.5 * i) / (n - 1));
    const f = (p: Float32Array) => p.reduce((s, x, i) => s + (c[i]! * (x - a[i]!) ** 2) / 2, 0);
    const params = new Float32Array(n);
    const grads = new Float32Array(n);
    const opt = createOptimizer(config, n);
    const f0 = f(params);
    const adaptive = config.kind !== 'sgd';
    for (let t = 0; t < 3000; t++) {
      for (let i = 0; i < n; i++) grads[i] = c[i]! * (params[i]! - a[i]!);
      // Adaptive rules move about lr per step whatever the gradient scale, so give them a larger rate.
      opt.step(params, grads, adaptive ? lr * 5 : lr);
    }
    // Weight decay shifts the optimum towards 0, so allow for it.
    expect(f(params)).toBeLessThan(f0 * 0.02);
  });
});

describe('optimizer state', () => {
  it.each(configs)('%s: getState/setState continues bit-for-bit', (_name, config, lr) => {
    const n = 11;
    const rnd = lcg(3);
    const p1 = Float32Array.from({ length: n }, () => rnd());
    const g = new Float32Array(n);
    const a = createOptimizer(config, n);
    for (let t = 0; t < 5; t++) {
      g.forEach((_, i) => (g[i] = rnd()));
      a.step(p1, g, lr);
    }
    const saved = a.getState();
    const p2 = p1.slice();
    const b = createOptimizer(config, n);
    b.setState(saved);
    expect(b.stepCount).toBe(5);
    for (let t = 0; t < 5; t++) {
      g.forEach((_, i) => (g[i] = rnd()));
      a.step(p1, g, lr);
      b.step(p2, g, lr);
    }
    expect(Buffer.from(p2.buffer).equals(Buffer.from(p1.buffer))).toBe(true);
    // The snapshot is a copy: later steps did not change it.
    expect(saved.step).toBe(5);
  });

  it('rejects state from another kind, other options or another size', () => {
    const adam = createOptimizer({ kind: 'adam' }, 4);
    expect(() => adam.setState(createOptimizer({ kind: 'sgd', momentum: 0.9 }, 4).getState())).toThrow(
      /optimizer 'sgd', expected 'adam'/,
    );
    expect(() => adam.setState(createOptimizer({ kind: 'adam', beta1: 0.5 }, 4).getState())).toThrow(
      /beta1=0.5, expected 0.9/,
    );
    expect(() => adam.setState(createOptimizer({ kind: 'adam' }, 5).getState())).toThrow(/length 5, expected 4/);
  });

  it('rejects bad arguments with errors that say what was expected', () => {
    expect(() => createOptimizer({ kind: 'adam', beta1: 1 }, 3)).toThrow(RangeError);
    expect(() => createOptimizer({ kind: 'sgd', nesterov: true }, 3)).toThrow(/nesterov needs momentum > 0/);
    expect(() => createOptimizer({ kind: 'lion' } as unknown as OptimizerConfig, 3)).toThrow(/got lion/);
    const opt = createOptimizer({ kind: 'sgd' }, 3);
    expect(() => opt.step(new Float32Array(3), new Float32Array(2), 0.1)).toThrow(/grads length 2, expected 3/);
    expect(() => opt.step(new Float32Array(3), new Float32Array(3), NaN)).toThrow(/learning rate/);
  });
});

// RMSprop (plain or centered, with optional momentum), PyTorch's torch.optim.RMSprop rule on one
// flat buffer. Params/grads [n] are the caller's; square average, grad average, momentum [n] are ours.
import {
  checkOption,
  checkStepArgs,
  copyBuffers,
  type Optimizer,
  type OptimizerState,
  restoreState,
} from './optimizer.js';

/** Hyperparameters of {@link Rmsprop}; each defaults to PyTorch's. */
export interface RmspropOptions {
  /** Smoothing constant α of the squared-gradient average. Default 0.99. */
  alpha?: number;
  /** ε added to the root. Default 1e-8. */
  eps?: number;
  /** L2 penalty λ added to the gradient. Default 0. */
  weightDecay?: number;
  /** Momentum factor μ. Default 0. */
  momentum?: number;
  /** Centered variant: normalise by an estimate of the gradient's variance. Default false. */
  centered?: boolean;
}

/**
 * PyTorch's update, per element:
 *   g ← g + λθ;  v ← αv + (1−α)g²;  ṽ ← v
 *   centered: ḡ ← αḡ + (1−α)g;  ṽ ← v − ḡ²
 *   μ > 0: b ← μb + g/(√ṽ + ε);  θ ← θ − lr·b       else θ ← θ − lr·g/(√ṽ + ε)
 */
export class Rmsprop implements Optimizer {
  /** The rule. */
  readonly kind = 'rmsprop' as const;
  /** The hyperparameters, defaults filled in. */
  readonly options: Required<RmspropOptions>;
  private readonly squareAvg: Float32Array;
  private readonly gradAvg: Float32Array;
  private readonly momentumBuf: Float32Array;
  private t = 0;

  /**
   * @param size - the length of the parameter buffers it will update.
   * @param options - hyperparameters (PyTorch's defaults).
   * @throws RangeError for a hyperparameter out of range.
   */
  constructor(
    readonly size: number,
    options: RmspropOptions = {},
  ) {
    this.options = {
      alpha: checkOption('rmsprop', 'alpha', options.alpha ?? 0.99, 0, 1),
      eps: checkOption('rmsprop', 'eps', options.eps ?? 1e-8, 0, Infinity),
      weightDecay: checkOption('rmsprop', 'weightDecay', options.weightDecay ?? 0, 0, Infinity),
      momentum: checkOption('rmsprop', 'momentum', options.momentum ?? 0, 0, Infinity),
      centered: options.centered ?? false,
    };
    this.squareAvg = new Float32Array(size);
    this.gradAvg = new Float32Array(this.options.centered ? size : 0);
    this.momentumBuf = new Float32Array(this.options.momentum > 0 ? size : 0);
  }

  get stepCount(): number {
    return this.t;
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    checkStepArgs('rmsprop', this.size, params, grads, lr);
    const { alpha, eps, weightDecay: wd, momentum: mu, centered } = this.options;
    const { squareAvg: v, gradAvg: ga, momentumBuf: b } = this;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i]! + wd * params[i]!;
      v[i] = alpha * v[i]! + (1 - alpha) * g * g;
      let avg = v[i]!;
      if (centered) {
        ga[i] = alpha * ga[i]! + (1 - alpha) * g;
        avg -= ga[i]! * ga[i]!;
      }
      const denom = Math.sqrt(avg) + eps;
      if (mu > 0) {
        b[i] = mu * b[i]! + g / denom;
        params[i]! -= lr * b[i]!;
      } else {
        params[i]! -= (lr * g) / denom;
      }
    }
    this.t++;
  }

  /** A snapshot of the step count, options and moment buffers (copies). */
  getState(): OptimizerState {
    return { kind: this.kind, options: { ...this.options }, step: this.t, buffers: copyBuffers(this.buffers()) };
  }

  setState(state: OptimizerState): void {
    this.t = restoreState('rmsprop', this.kind, this.options, this.buffers(), state);
  }

  private buffers(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = { squareAvg: this.squareAvg };
    if (this.options.centered) out.gradAvg = this.gradAvg;
    if (this.options.momentum > 0) out.momentum = this.momentumBuf;
    return out;
  }
}

// Adagrad, PyTorch's torch.optim.Adagrad rule on one flat buffer. Params/grads [n] are the
// caller's; the running sum of squared gradients [n] is ours.
import {
  checkOption,
  checkStepArgs,
  copyBuffers,
  type Optimizer,
  type OptimizerState,
  restoreState,
} from './optimizer.js';

/** Hyperparameters of {@link Adagrad}; each defaults to PyTorch's. */
export interface AdagradOptions {
  /** Learning-rate decay η: the step-t rate is lr / (1 + (t−1)η). Default 0. */
  lrDecay?: number;
  /** L2 penalty λ added to the gradient. Default 0. */
  weightDecay?: number;
  /** Starting value of the squared-gradient sum. Default 0. */
  initialAccumulatorValue?: number;
  /** ε added to √sum. Default 1e-10. */
  eps?: number;
}

/**
 * PyTorch's update, per element at step t (1-based):
 *   g ← g + λθ;  γ̃ ← lr / (1 + (t−1)η);  s ← s + g²;  θ ← θ − γ̃ g / (√s + ε)
 */
export class Adagrad implements Optimizer {
  /** The rule. */
  readonly kind = 'adagrad' as const;
  /** The hyperparameters, defaults filled in. */
  readonly options: Required<AdagradOptions>;
  private readonly sum: Float32Array;
  private t = 0;

  /**
   * @param size - the length of the parameter buffers it will update.
   * @param options - hyperparameters (PyTorch's defaults).
   * @throws RangeError for a hyperparameter out of range.
   */
  constructor(
    readonly size: number,
    options: AdagradOptions = {},
  ) {
    this.options = {
      lrDecay: checkOption('adagrad', 'lrDecay', options.lrDecay ?? 0, 0, Infinity),
      weightDecay: checkOption('adagrad', 'weightDecay', options.weightDecay ?? 0, 0, Infinity),
      initialAccumulatorValue: checkOption(
        'adagrad',
        'initialAccumulatorValue',
        options.initialAccumulatorValue ?? 0,
        0,
        Infinity,
      ),
      eps: checkOption('adagrad', 'eps', options.eps ?? 1e-10, 0, Infinity),
    };
    this.sum = new Float32Array(size).fill(this.options.initialAccumulatorValue);
  }

  get stepCount(): number {
    return this.t;
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    checkStepArgs('adagrad', this.size, params, grads, lr);
    const { lrDecay, weightDecay: wd, eps } = this.options;
    const t = ++this.t;
    const clr = lr / (1 + (t - 1) * lrDecay);
    const s = this.sum;
    for (let i = 0; i < params.length; i++) {
      const g = grads[i]! + wd * params[i]!;
      s[i]! += g * g;
      params[i]! -= (clr * g) / (Math.sqrt(s[i]!) + eps);
    }
  }

  /** A snapshot of the step count, options and moment buffers (copies). */
  getState(): OptimizerState {
    return { kind: this.kind, options: { ...this.options }, step: this.t, buffers: copyBuffers({ sum: this.sum }) };
  }

  setState(state: OptimizerState): void {
    this.t = restoreState('adagrad', this.kind, this.options, { sum: this.sum }, state);
  }
}

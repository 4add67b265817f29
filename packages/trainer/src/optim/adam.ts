// Adam and AdamW as one rule that differs by a flag (where weight decay enters), PyTorch's
// torch.optim.Adam / AdamW on one flat buffer. Params/grads [n] are the caller's; m, v [n] are ours.
import { adamUpdate } from '@rxrnn/kernels';
import {
  checkOption,
  checkStepArgs,
  copyBuffers,
  type Optimizer,
  type OptimizerState,
  restoreState,
} from './optimizer.js';

/** Hyperparameters of {@link Adam}; each defaults to PyTorch's. */
export interface AdamOptions {
  /** β1, decay of the first moment. Default 0.9. */
  beta1?: number;
  /** β2, decay of the second moment. Default 0.999. */
  beta2?: number;
  /** ε added to √v̂ in the denominator. Default 1e-8. */
  eps?: number;
  /** Weight decay λ. Default 0 for Adam, 0.01 for AdamW (PyTorch's defaults). */
  weightDecay?: number;
  /** Decoupled weight decay (AdamW): θ ← θ(1 − lr·λ) instead of g ← g + λθ. Default false. */
  decoupled?: boolean;
}

/**
 * PyTorch's update, per element at step t (1-based):
 *   Adam:  g ← g + λθ            AdamW: θ ← θ − lr·λ·θ
 *   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
 *   θ ← θ − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
 * (the last line is PyTorch's arrangement of m̂/(√v̂ + ε); arithmetic is float64 per element).
 */
export class Adam implements Optimizer {
  /** The rule. */
  readonly kind = 'adam' as const;
  /** The hyperparameters, defaults filled in. */
  readonly options: Required<AdamOptions>;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  /**
   * @param size - the length of the parameter buffers it will update.
   * @param options - hyperparameters (PyTorch's defaults).
   * @throws RangeError for a hyperparameter out of range.
   */
  constructor(
    readonly size: number,
    options: AdamOptions = {},
  ) {
    const decoupled = options.decoupled ?? false;
    this.options = {
      beta1: checkOption('adam', 'beta1', options.beta1 ?? 0.9, 0, 1, false),
      beta2: checkOption('adam', 'beta2', options.beta2 ?? 0.999, 0, 1, false),
      eps: checkOption('adam', 'eps', options.eps ?? 1e-8, 0, Infinity),
      weightDecay: checkOption('adam', 'weightDecay', options.weightDecay ?? (decoupled ? 0.01 : 0), 0, Infinity),
      decoupled,
    };
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  get stepCount(): number {
    return this.t;
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    checkStepArgs('adam', this.size, params, grads, lr);
    const { beta1, beta2, eps, weightDecay: wd, decoupled } = this.options;
    const t = ++this.t;
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const decay = decoupled ? 1 - lr * wd : 1;
    const l2 = decoupled ? 0 : wd;
    adamUpdate(params, grads, this.m, this.v, stepSize, bc2Sqrt, beta1, beta2, eps, decay, l2);
  }

  /** A snapshot of the step count, options and moment buffers (copies). */
  getState(): OptimizerState {
    return {
      kind: this.kind,
      options: { ...this.options },
      step: this.t,
      buffers: copyBuffers({ m: this.m, v: this.v }),
    };
  }

  setState(state: OptimizerState): void {
    this.t = restoreState('adam', this.kind, this.options, { m: this.m, v: this.v }, state);
  }
}

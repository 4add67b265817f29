// SGD with momentum, dampening, Nesterov and L2 weight decay, PyTorch's torch.optim.SGD rule on
// one flat buffer. Params/grads [n] are the caller's; the momentum buffer [n] is ours.
import {
  checkOption,
  checkStepArgs,
  copyBuffers,
  type Optimizer,
  type OptimizerState,
  restoreState,
} from './optimizer.js';

/** Hyperparameters of {@link Sgd}; each defaults to PyTorch's. */
export interface SgdOptions {
  /** Momentum factor μ. Default 0 (plain SGD). */
  momentum?: number;
  /** Dampening τ applied to the gradient in the momentum update. Default 0. */
  dampening?: number;
  /** Nesterov momentum (requires momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty λ added to the gradient (g ← g + λθ). Default 0. */
  weightDecay?: number;
}

/**
 * PyTorch's update (docs of torch.optim.SGD), per element:
 *   g ← g + λθ
 *   b ← g on the first step, else μb + (1−τ)g          (only when μ ≠ 0)
 *   g ← g + μb if Nesterov, else b                     (only when μ ≠ 0)
 *   θ ← θ − lr·g
 */
export class Sgd implements Optimizer {
  /** The rule. */
  readonly kind = 'sgd' as const;
  /** The hyperparameters, defaults filled in. */
  readonly options: Required<SgdOptions>;
  private readonly velocity: Float32Array;
  private t = 0;

  /**
   * @param size - the length of the parameter buffers it will update.
   * @param options - hyperparameters (PyTorch's defaults).
   * @throws RangeError for a hyperparameter out of range.
   */
  constructor(
    readonly size: number,
    options: SgdOptions = {},
  ) {
    this.options = {
      momentum: checkOption('sgd', 'momentum', options.momentum ?? 0, 0, Infinity),
      dampening: checkOption('sgd', 'dampening', options.dampening ?? 0, 0, 1),
      nesterov: options.nesterov ?? false,
      weightDecay: checkOption('sgd', 'weightDecay', options.weightDecay ?? 0, 0, Infinity),
    };
    if (this.options.nesterov && (this.options.momentum <= 0 || this.options.dampening !== 0)) {
      throw new RangeError(
        `sgd: nesterov needs momentum > 0 and dampening 0, got momentum ${this.options.momentum}, dampening ${this.options.dampening}`,
      );
    }
    // Plain SGD keeps no state at all.
    this.velocity = new Float32Array(this.options.momentum > 0 ? size : 0);
  }

  get stepCount(): number {
    return this.t;
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    checkStepArgs('sgd', this.size, params, grads, lr);
    const { momentum: mu, dampening, nesterov, weightDecay: wd } = this.options;
    const b = this.velocity;
    const first = this.t === 0;
    for (let i = 0; i < params.length; i++) {
      let g = grads[i]! + wd * params[i]!;
      if (mu !== 0) {
        const v = first ? g : mu * b[i]! + (1 - dampening) * g;
        b[i] = v;
        // Nesterov looks ahead along the freshly stored (float32) velocity, as PyTorch does.
        g = nesterov ? g + mu * b[i]! : b[i]!;
      }
      params[i]! -= lr * g;
    }
    this.t++;
  }

  /** A snapshot of the step count, options and moment buffers (copies). */
  getState(): OptimizerState {
    return { kind: this.kind, options: { ...this.options }, step: this.t, buffers: copyBuffers(this.buffers()) };
  }

  setState(state: OptimizerState): void {
    this.t = restoreState('sgd', this.kind, this.options, this.buffers(), state);
  }

  private buffers(): Record<string, Float32Array> {
    return this.options.momentum > 0 ? { momentum: this.velocity } : {};
  }
}

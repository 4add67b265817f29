// One serializable description of an optimizer (what a checkpoint and a worker carry) and the
// factory that builds it for a parameter buffer of a given size.
import { Adagrad, type AdagradOptions } from './adagrad.js';
import { Adam, type AdamOptions } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { Rmsprop, type RmspropOptions } from './rmsprop.js';
import { Sgd, type SgdOptions } from './sgd.js';

/** The `kind` field that selects a rule in an {@link OptimizerConfig}. */
export interface OptimizerChoice<K extends string> {
  /** Which rule: 'sgd', 'adam', 'adamw' (Adam with decoupled weight decay), 'adagrad' or 'rmsprop'. */
  kind: K;
}

/** An optimizer as plain data: the rule and its hyperparameters (what checkpoints and workers carry). */
export type OptimizerConfig =
  | (OptimizerChoice<'sgd'> & SgdOptions)
  | (OptimizerChoice<'adam'> & Omit<AdamOptions, 'decoupled'>)
  | (OptimizerChoice<'adamw'> & Omit<AdamOptions, 'decoupled'>)
  | (OptimizerChoice<'adagrad'> & AdagradOptions)
  | (OptimizerChoice<'rmsprop'> & RmspropOptions);

/**
 * The optimizer a config describes, for a parameter buffer of `size` floats (PyTorch's formulas
 * and defaults; see the trainer README for each rule's update).
 *
 * @throws RangeError for an unknown kind or a hyperparameter out of range.
 * @example
 * ```ts
 * import { createOptimizer } from '@rxrnn/trainer';
 * const params = Float32Array.of(1, -2), grads = Float32Array.of(0.5, -0.5);
 * const adamw = createOptimizer({ kind: 'adamw', weightDecay: 0.01 }, params.length);
 * adamw.step(params, grads, 1e-3); // params updated in place
 * ```
 */
export function createOptimizer(config: OptimizerConfig, size: number): Optimizer {
  if (!Number.isInteger(size) || size < 0)
    throw new RangeError(`createOptimizer: size must be an integer >= 0, got ${size}`);
  const { kind, ...options } = config ?? ({} as OptimizerConfig);
  switch (kind) {
    case 'sgd':
      return new Sgd(size, options);
    case 'adam':
      return new Adam(size, { ...options, decoupled: false });
    case 'adamw':
      return new Adam(size, { ...options, decoupled: true });
    case 'adagrad':
      return new Adagrad(size, options);
    case 'rmsprop':
      return new Rmsprop(size, options);
    default:
      throw new RangeError(
        `createOptimizer: kind must be one of sgd, adam, adamw, adagrad, rmsprop, got ${String(kind)}`,
      );
  }
}

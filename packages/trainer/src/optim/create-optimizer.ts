// One serializable description of an optimizer (what a checkpoint and a worker carry) and the
// factory that builds it for a parameter buffer of a given size.
import { Adagrad, type AdagradOptions } from './adagrad.js';
import { Adam, type AdamOptions } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { Rmsprop, type RmspropOptions } from './rmsprop.js';
import { Sgd, type SgdOptions } from './sgd.js';

export type OptimizerConfig =
  | ({ kind: 'sgd' } & SgdOptions)
  | ({ kind: 'adam' } & Omit<AdamOptions, 'decoupled'>)
  | ({ kind: 'adamw' } & Omit<AdamOptions, 'decoupled'>)
  | ({ kind: 'adagrad' } & AdagradOptions)
  | ({ kind: 'rmsprop' } & RmspropOptions);

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

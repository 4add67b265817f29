// One serializable description of an optimizer (what a checkpoint and a worker carry) and the
// factory that builds it for a parameter buffer of a given size.
import { Adagrad, type AdagradOptions } from './adagrad.js';
import { Adam, type AdamOptions } from './adam.js';
import type { Optimizer, OptimizerState } from './optimizer.js';
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
 * @throws RangeError on an unknown kind, a bad size or an option out of range (naming it).
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

/** Buffers that hold squares (Adam's v, Adagrad's sum, RMSprop's square average). */
const NON_NEGATIVE = ['v', 'sum', 'squareAvg'];

/** The config a saved optimizer state was made with (Adam with decoupled weight decay is AdamW). */
export function optimizerConfigOf(state: OptimizerState): OptimizerConfig {
  const { decoupled, ...options } = state.options;
  const kind = state.kind === 'adam' && decoupled === true ? 'adamw' : state.kind;
  return { kind, ...options } as OptimizerConfig;
}

/**
 * Checks a saved optimizer state that came from outside (a checkpoint) without allocating its
 * buffers: a known kind, exactly that kind's options with values of the right type and range,
 * a step count, and exactly that kind's buffers, each of `size` finite floats.
 * @returns null when it fits, else what is wrong (`optimizer.buffers.m missing, adam keeps m, v`),
 *   naming the field under `optimizer.`.
 */
export function optimizerStateProblem(state: OptimizerState, size: number): string | null {
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
  if (!isObject(state)) return `optimizer must be an object, got ${state === null ? 'null' : typeof state}`;
  if (!['sgd', 'adam', 'adagrad', 'rmsprop'].includes(state.kind as string))
    return `optimizer.kind must be one of sgd, adam, adagrad, rmsprop, got ${JSON.stringify(state.kind)}`;
  if (!isObject(state.options)) return 'optimizer.options must be an object';
  if (!isObject(state.buffers)) return 'optimizer.buffers must be an object';
  let probe: Optimizer;
  let defaults: OptimizerState;
  try {
    // Size 0: the options are resolved and range-checked, no buffer is allocated.
    const config = optimizerConfigOf(state);
    probe = createOptimizer(config, 0);
    defaults = createOptimizer({ kind: config.kind } as OptimizerConfig, 0).getState();
  } catch (e) {
    return `optimizer.options: ${(e as Error).message}`;
  }
  const want = probe.getState();
  for (const key of Object.keys(state.options)) {
    if (!(key in want.options)) return `optimizer.options.${key} is not an option of ${state.kind}`;
  }
  for (const [key, value] of Object.entries(want.options)) {
    const got = state.options[key];
    if (typeof got !== typeof defaults.options[key] || got !== value)
      return `optimizer.options.${key} must be ${typeof defaults.options[key] === 'boolean' ? 'a boolean' : 'a number'}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`;
  }
  if (!Number.isSafeInteger(state.step) || state.step < 0)
    return `optimizer.step must be an integer >= 0, got ${JSON.stringify(state.step)}`;
  const names = Object.keys(want.buffers);
  const keeps = names.length
    ? `${state.kind} keeps ${names.join(', ')}`
    : `${state.kind} with these options keeps none`;
  for (const key of Object.keys(state.buffers)) {
    if (!names.includes(key)) return `optimizer.buffers.${key} is not a buffer of this optimizer (${keeps})`;
  }
  for (const key of names) {
    const b = state.buffers[key];
    if (b === undefined) return `optimizer.buffers.${key} missing (${keeps})`;
    if (!(b instanceof Float32Array)) return `optimizer.buffers.${key} must be a Float32Array, got ${typeof b}`;
    if (b.length !== size) return `optimizer.buffers.${key} length ${b.length}, expected the parameter count = ${size}`;
    // Second moments and sums of squares are never negative: a negative one makes the next update NaN.
    const min = NON_NEGATIVE.includes(key) ? 0 : -Infinity;
    for (let i = 0; i < b.length; i++) {
      const v = b[i]!;
      if (!Number.isFinite(v) || v < min)
        return `optimizer.buffers.${key}[${i}] must be a finite number${min === 0 ? ' >= 0' : ''}, got ${v}`;
    }
  }
  return null;
}

/**
 * An optimizer for `size` parameters that continues exactly from a saved state (its kind,
 * options, step count and buffers), e.g. a checkpoint's `optimizer`.
 * @throws RangeError naming the field when the state does not fit (see optimizerStateProblem).
 */
export function restoreOptimizer(state: OptimizerState, size: number): Optimizer {
  const problem = optimizerStateProblem(state, size);
  if (problem !== null) throw new RangeError(`restoreOptimizer: ${problem}`);
  const optimizer = createOptimizer(optimizerConfigOf(state), size);
  optimizer.setState(state);
  return optimizer;
}

// The optimizer contract and its serializable state: every rule updates one flat Float32Array of
// parameters in place from a same-length gradient buffer, in one pass, allocating only at
// construction. The caller owns params and grads; the optimizer owns its moment buffers.

/** The update rules (AdamW is `adam` with `decoupled: true`). */
export type OptimizerKind = 'sgd' | 'adam' | 'adagrad' | 'rmsprop';

/** Plain-data snapshot of an optimizer: enough to continue bit-for-bit after a reload. */
export interface OptimizerState {
  /** The rule the state belongs to. */
  readonly kind: OptimizerKind;
  /** Hyperparameters exactly as resolved (defaults filled in). */
  readonly options: Record<string, number | boolean>;
  /** Number of updates applied so far (PyTorch's per-parameter `step`). */
  readonly step: number;
  /** Moment buffers by name, each the length of the parameter buffer. */
  readonly buffers: Record<string, Float32Array>;
}

/**
 * An update rule on one flat parameter buffer: `step(params, grads, lr)` updates `params` in place
 * from a same-length gradient buffer, one pass, no allocation after construction. Build one with
 * {@link createOptimizer}; snapshot and restore its moments with `getState`/`setState`.
 */
export interface Optimizer {
  /** The rule. */
  readonly kind: OptimizerKind;
  /** Parameter count this optimizer was built for. */
  readonly size: number;
  /** Updates applied so far. */
  readonly stepCount: number;
  /** One update of `params` in place from `grads` with learning rate `lr` (from a schedule). */
  step(params: Float32Array, grads: Float32Array, lr: number): void;
  /** A plain-data snapshot (copies of the moment buffers): enough to continue bit for bit. */
  getState(): OptimizerState;
  /** Restores a snapshot taken from an optimizer of the same kind, options and size. */
  setState(state: OptimizerState): void;
}

/** Shared argument checks so each rule's step() stays one loop. */
export function checkStepArgs(name: string, size: number, params: Float32Array, grads: Float32Array, lr: number): void {
  if (params.length !== size) throw new RangeError(`${name}: params length ${params.length}, expected ${size}`);
  if (grads.length !== size) throw new RangeError(`${name}: grads length ${grads.length}, expected ${size}`);
  if (!Number.isFinite(lr) || lr < 0)
    throw new RangeError(`${name}: learning rate must be a finite number >= 0, got ${lr}`);
}

export function checkOption(
  name: string,
  key: string,
  value: number,
  min: number,
  max: number,
  maxInclusive = true,
): number {
  const okMax = maxInclusive ? value <= max : value < max;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || !okMax) {
    throw new RangeError(`${name}: ${key} must be in [${min}, ${max}${maxInclusive ? ']' : ')'}, got ${String(value)}`);
  }
  return value;
}

/** Copies a snapshot's buffers into the live ones after checking kind, options and lengths. */
export function restoreState(
  name: string,
  kind: OptimizerKind,
  options: Record<string, number | boolean>,
  buffers: Record<string, Float32Array>,
  state: OptimizerState,
): number {
  if (state === null || typeof state !== 'object')
    throw new TypeError(`${name}: state must be an object, got ${String(state)}`);
  if (state.kind !== kind)
    throw new RangeError(`${name}: state is for optimizer '${String(state.kind)}', expected '${kind}'`);
  for (const [key, value] of Object.entries(options)) {
    if (state.options?.[key] !== value) {
      throw new RangeError(`${name}: state option ${key}=${String(state.options?.[key])}, expected ${String(value)}`);
    }
  }
  if (!Number.isInteger(state.step) || state.step < 0)
    throw new RangeError(`${name}: state step must be an integer >= 0, got ${String(state.step)}`);
  for (const [key, live] of Object.entries(buffers)) {
    const saved = state.buffers?.[key];
    if (!(saved instanceof Float32Array))
      throw new TypeError(`${name}: state buffer '${key}' must be a Float32Array, got ${typeof saved}`);
    if (saved.length !== live.length)
      throw new RangeError(`${name}: state buffer '${key}' length ${saved.length}, expected ${live.length}`);
    live.set(saved);
  }
  return state.step;
}

/** Deep-copies live buffers for a snapshot (the snapshot must not change when training goes on). */
export function copyBuffers(buffers: Record<string, Float32Array>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [key, b] of Object.entries(buffers)) out[key] = b.slice();
  return out;
}

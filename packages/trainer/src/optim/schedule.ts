// Learning-rate schedules as plain data (so checkpoints and workers carry them) evaluated as a
// pure function of the update index; linear warmup composes with every decay.

export type DecaySchedule =
  | { kind: 'constant' }
  /** lr·γ^floor(step / stepSize). */
  | { kind: 'step'; stepSize: number; gamma: number }
  /** lr·γ^step. */
  | { kind: 'exponential'; gamma: number }
  /** minLr + (lr − minLr)(1 + cos(π·min(step, totalSteps)/totalSteps))/2; minLr defaults to 0. */
  | { kind: 'cosine'; totalSteps: number; minLr?: number };

/** A decay plus an optional linear warmup: for step < warmupSteps the rate is lr·(step+1)/warmupSteps,
 * and the decay then runs on (step − warmupSteps), so warmup delays the decay rather than eating it. */
export type LrSchedule = DecaySchedule & { warmupSteps?: number };

export function validateSchedule(s: LrSchedule): LrSchedule {
  if (s === null || typeof s !== 'object') throw new TypeError(`schedule: expected an object, got ${String(s)}`);
  const pos = (key: string, v: unknown, allowZero = false): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
      throw new RangeError(
        `schedule '${s.kind}': ${key} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${String(v)}`,
      );
    }
  };
  if (s.warmupSteps !== undefined) pos('warmupSteps', s.warmupSteps, true);
  switch (s.kind) {
    case 'constant':
      break;
    case 'step':
      pos('stepSize', s.stepSize);
      pos('gamma', s.gamma, true);
      break;
    case 'exponential':
      pos('gamma', s.gamma, true);
      break;
    case 'cosine':
      pos('totalSteps', s.totalSteps);
      if (s.minLr !== undefined) pos('minLr', s.minLr, true);
      break;
    default:
      throw new RangeError(
        `schedule: kind must be constant, step, exponential or cosine, got ${String((s as { kind: unknown }).kind)}`,
      );
  }
  return s;
}

/** Learning rate for update number `step` (0-based) given the base rate. */
export function learningRate(schedule: LrSchedule, baseLr: number, step: number): number {
  const warm = schedule.warmupSteps ?? 0;
  if (step < warm) return (baseLr * (step + 1)) / warm;
  const k = step - warm;
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * schedule.gamma ** Math.floor(k / schedule.stepSize);
    case 'exponential':
      return baseLr * schedule.gamma ** k;
    case 'cosine': {
      const min = schedule.minLr ?? 0;
      const frac = Math.min(k, schedule.totalSteps) / schedule.totalSteps;
      return min + ((baseLr - min) * (1 + Math.cos(Math.PI * frac))) / 2;
    }
  }
}

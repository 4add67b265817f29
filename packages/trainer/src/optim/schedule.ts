// Learning-rate schedules as plain data (so checkpoints and workers carry them) evaluated as a
// pure function of the update index; linear warmup composes with every decay.

/** The base rate at every step. */
export interface ConstantDecay {
  /** Selects the schedule. */
  kind: 'constant';
}

/** lr·γ^floor(step / stepSize): a drop by γ every `stepSize` updates. */
export interface StepDecay {
  /** Selects the schedule. */
  kind: 'step';
  /** Updates between drops (> 0). */
  stepSize: number;
  /** Factor of each drop (> 0). */
  gamma: number;
}

/** lr·γ^step: a drop by γ every update. */
export interface ExponentialDecay {
  /** Selects the schedule. */
  kind: 'exponential';
  /** Factor per update (> 0). */
  gamma: number;
}

/** minLr + (lr − minLr)(1 + cos(π·min(step, totalSteps)/totalSteps))/2: a half cosine to minLr. */
export interface CosineDecay {
  /** Selects the schedule. */
  kind: 'cosine';
  /** Updates over which the rate falls to `minLr` (> 0); it stays there after. */
  totalSteps: number;
  /** The final rate; default 0. */
  minLr?: number;
}

/** How the learning rate decays over the updates, as plain data (checkpoints carry it). */
export type DecaySchedule = ConstantDecay | StepDecay | ExponentialDecay | CosineDecay;

/** A decay plus an optional linear warmup: for step < warmupSteps the rate is lr·(step+1)/warmupSteps,
 * and the decay then runs on (step − warmupSteps), so warmup delays the decay rather than eating it. */
export type LrSchedule = DecaySchedule & {
  /** Updates of linear warmup before the decay starts; default 0. */
  warmupSteps?: number;
};

/** Checks a schedule's fields (kinds, positive finite numbers) and returns it. @throws RangeError/TypeError */
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

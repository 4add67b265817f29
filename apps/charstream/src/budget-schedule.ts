// The learning-rate schedule of a budgeted file run: a short warmup, then cosine decay to a tenth
// of the base rate at the end of the budget. With --steps the horizon is known; with --seconds it
// is re-estimated from the mean speed so far at every progress report (the rate stays continuous,
// and checkpoints store the latest schedule).
import type { OfflineTrainer, TrainProgress } from '@rxrnn/trainer/node';

const WARMUP = 20;

/** Hooks for trainOffline's onStart/onProgress that keep the trainer's schedule on the budget. */
export function budgetSchedule(lr: number, budget: { steps?: number; seconds?: number }) {
  let trainer: OfflineTrainer | null = null;
  let startedAt = 0;
  let startStep = 0;
  const cosine = (total: number) => ({
    kind: 'cosine' as const,
    warmupSteps: WARMUP,
    totalSteps: Math.max(1, total - WARMUP),
    minLr: lr / 10,
  });
  return {
    onStart(tr: OfflineTrainer): void {
      trainer = tr;
      startedAt = performance.now();
      startStep = tr.step;
      tr.options.schedule =
        budget.steps !== undefined ? cosine(budget.steps) : { kind: 'constant', warmupSteps: WARMUP };
    },
    onProgress(p: TrainProgress): void {
      if (!trainer || budget.seconds === undefined || p.remaining === null) return;
      const done = p.step - startStep;
      if (done < WARMUP) return;
      const perStep = (performance.now() - startedAt) / 1000 / done;
      const bySpeed = Math.round(p.step + p.remaining / perStep);
      trainer.options.schedule = cosine(
        Math.max(WARMUP + 1, budget.steps === undefined ? bySpeed : Math.min(bySpeed, budget.steps)),
      );
    },
  };
}

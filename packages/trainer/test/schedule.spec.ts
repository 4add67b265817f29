import { describe, expect, it } from 'vitest';
import { LossMeter, learningRate, lossMetrics } from '../src/index.js';
import { validateSchedule } from '../src/optim/schedule.js';

describe('learning-rate schedules', () => {
  it('constant, step, exponential and cosine follow their formulas', () => {
    expect(learningRate({ kind: 'constant' }, 0.1, 1000)).toBe(0.1);
    expect(learningRate({ kind: 'step', stepSize: 10, gamma: 0.5 }, 1, 9)).toBe(1);
    expect(learningRate({ kind: 'step', stepSize: 10, gamma: 0.5 }, 1, 25)).toBe(0.25);
    expect(learningRate({ kind: 'exponential', gamma: 0.9 }, 2, 3)).toBeCloseTo(2 * 0.729, 12);
    const cos = { kind: 'cosine', totalSteps: 100, minLr: 0.1 } as const;
    expect(learningRate(cos, 1, 0)).toBeCloseTo(1, 12);
    expect(learningRate(cos, 1, 50)).toBeCloseTo(0.55, 12);
    expect(learningRate(cos, 1, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(cos, 1, 500)).toBeCloseTo(0.1, 12);
  });

  it('linear warmup ramps up and then delays the decay', () => {
    const s = { kind: 'exponential', gamma: 0.5, warmupSteps: 4 } as const;
    expect([0, 1, 2, 3].map((k) => learningRate(s, 1, k))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(learningRate(s, 1, 4)).toBe(1);
    expect(learningRate(s, 1, 6)).toBe(0.25);
  });

  it('rejects malformed schedules', () => {
    expect(() => validateSchedule({ kind: 'cosine', totalSteps: 0 })).toThrow(/totalSteps must be a positive/);
    expect(() => validateSchedule({ kind: 'warp' } as never)).toThrow(/got warp/);
    expect(() => validateSchedule({ kind: 'step', stepSize: 5, gamma: -1 })).toThrow(/gamma/);
  });
});

describe('loss metrics', () => {
  it('labels a mean in nats, bits and perplexity', () => {
    const m = lossMetrics(Math.log(4) * 10, 10);
    expect(m.nats).toBeCloseTo(Math.log(4), 12);
    expect(m.bpc).toBeCloseTo(2, 12);
    expect(m.perplexity).toBeCloseTo(4, 10);
    expect(m.count).toBe(10);
  });

  it('accumulates sums and counts, not means of means', () => {
    const meter = new LossMeter();
    expect(meter.metrics()).toBeNull();
    meter.add(1, 1);
    meter.add(3, 3);
    expect(meter.metrics()!.nats).toBe(1);
    meter.add(8, 2);
    expect(meter.metrics()!.nats).toBe(2);
  });

  it('refuses empty counts and non-finite sums', () => {
    expect(() => lossMetrics(1, 0)).toThrow(/count must be a positive integer, got 0/);
    expect(() => lossMetrics(NaN, 3)).toThrow(/finite/);
  });
});

// The native thread pool under a long run of small shared jobs, as a training run makes them
// (~1,000 a second for hours). Before the job protocol closed each job's generation before waiting
// for its helpers, a helper that registered late could claim a task of the next job and have its
// completion wiped by that job's reset: the caller then spun forever (reproduced after ~650,000
// jobs by this loop run standalone). Here every job must finish and compute what one thread does.
import { afterAll, describe, expect, it } from 'vitest';
import * as K from '../src/index.js';
import { loadNative } from '../src/native.js';

const addon = loadNative();
const initial = K.getBackend();
const threads0 = addon ? addon.info().threads : 1;
afterAll(() => {
  addon?.setThreads(threads0);
  K.setBackend(initial);
});

describe.skipIf(addon === null || addon.info().cpus < 2)('native pool: many small shared jobs', () => {
  it('300,000 jobs on two threads all finish, each result equal to one thread', { timeout: 600_000 }, () => {
    K.setBackend('native');
    // 32×256×128 = 1,048,576 multiply-adds: just past the size the pool shares.
    const [M, N, Kd] = [32, 256, 128];
    const rng = new K.Rng(5);
    const A = Float32Array.from({ length: M * Kd }, () => rng.uniform() - 0.5);
    const B = Float32Array.from({ length: N * Kd }, () => rng.uniform() - 0.5);
    K.setNativeThreads(1);
    const want = new Float32Array(M * N);
    K.gemmABt(want, A, B, M, N, Kd);
    K.setNativeThreads(2);
    const C = new Float32Array(M * N);
    const shared0 = K.backendInfo().native.addon!.shared;
    const jobs = 300_000;
    let mismatches = 0;
    for (let i = 0; i < jobs; i++) {
      K.gemmABt(C, A, B, M, N, Kd);
      if (i % 1000 === 0 && Buffer.compare(Buffer.from(C.buffer), Buffer.from(want.buffer)) !== 0) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(K.backendInfo().native.addon!.shared - shared0).toBeGreaterThan(jobs / 2);
  });
});

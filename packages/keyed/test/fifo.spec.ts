import { describe, expect, it } from 'vitest';
import { Fifo } from '../src/internal/fifo.js';

/** Pushes and shifts against a plain array as the oracle, in a seeded mix of both. */
function exercise(steps: number, pushBias: number, seed: number): void {
  const q = new Fifo<number>();
  const oracle: number[] = [];
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
  let next = 0;
  for (let i = 0; i < steps; i++) {
    if (rand() < pushBias) {
      q.push(next);
      oracle.push(next++);
    } else expect(q.shift()).toBe(oracle.shift());
    expect(q.length).toBe(oracle.length);
    expect(q.peek()).toBe(oracle[0]);
  }
  expect(q.toArray()).toEqual(oracle);
}

describe('Fifo', () => {
  it('keeps first-in first-out order while it empties and refills (slots kept)', () => {
    exercise(2000, 0.5, 1);
  });

  it('keeps its order through compaction of a long queue', () => {
    // Mostly pushes: the queue grows past 1024 consumed slots and compacts on the way.
    exercise(20_000, 0.6, 2);
  });

  it('keeps its order when a long queue drains and a short one follows (slots given back)', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    for (let i = 0; i < 5000; i++) expect(q.shift()).toBe(i);
    expect(q.shift()).toBeUndefined();
    q.push(7);
    q.push(8);
    expect(q.toArray()).toEqual([7, 8]);
    q.clear();
    expect(q.length).toBe(0);
    expect(q.peek()).toBeUndefined();
    q.push(9);
    expect(q.shift()).toBe(9);
  });
});

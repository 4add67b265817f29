// ShareGovernor: from measured job times it decides whether the step helper shares work. Fed
// synthetic times here (a lone job takes 10 µs; a shared one 6 µs on a quiet machine, 15 µs when
// every core is busy), so each decision is checked exactly.
import { describe, expect, it } from 'vitest';
import { ShareGovernor } from '../src/share-governor.js';

const WINDOW = 32;

/** Runs n jobs; each takes `shared` or `alone` µs depending on the governor's mode. Returns how many were shared. */
function feed(g: ShareGovernor, n: number, shared: number, alone = 10): number {
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (g.sharing) count++;
    g.record(g.sharing ? shared : alone, 1);
  }
  return count;
}

describe('ShareGovernor', () => {
  it('times one window alone first, then shares', () => {
    const g = new ShareGovernor();
    expect(feed(g, WINDOW, 6)).toBe(0);
    expect(g.sharing).toBe(true);
    expect(g.alone).toBe(0);
  });

  it('keeps sharing while it pays, with one lone window per 64 to refresh the reference', () => {
    const g = new ShareGovernor();
    feed(g, WINDOW, 6);
    expect(feed(g, 64 * WINDOW, 6)).toBe(64 * WINDOW);
    expect(feed(g, WINDOW, 6)).toBe(0);
    expect(feed(g, 10 * WINDOW, 6)).toBe(10 * WINDOW);
    expect(g.alone).toBe(0);
  });

  it('runs alone when sharing is slower, retrying later and later', () => {
    const g = new ShareGovernor();
    feed(g, WINDOW, 15);
    // One losing window, then 8 windows alone, one more losing window, then 16 alone.
    expect(feed(g, WINDOW, 15)).toBe(WINDOW);
    expect(g.sharing).toBe(false);
    expect(feed(g, 8 * WINDOW, 15)).toBe(0);
    expect(feed(g, WINDOW, 15)).toBe(WINDOW);
    expect(feed(g, 16 * WINDOW, 15)).toBe(0);
    expect(g.alone).toBe(24 * WINDOW);
    expect(g.sharing).toBe(true);
  });

  it('shares again once the machine is quiet again, and loses at most one window when it gets busy', () => {
    const g = new ShareGovernor();
    feed(g, WINDOW, 6);
    feed(g, 5 * WINDOW, 6);
    // Busy from here: the next full shared window loses and the governor goes alone.
    expect(feed(g, WINDOW, 15)).toBe(WINDOW);
    expect(g.sharing).toBe(false);
    feed(g, 8 * WINDOW, 15);
    // Quiet again: the retry wins and sharing stays.
    expect(feed(g, 20 * WINDOW, 6)).toBe(20 * WINDOW);
  });

  it('needs sharing to be clearly faster: 95% of the lone time is not enough', () => {
    const g = new ShareGovernor();
    feed(g, WINDOW, 9.5);
    feed(g, WINDOW, 9.5);
    expect(g.sharing).toBe(false);
  });
});

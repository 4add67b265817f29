// Decides, from measured times, whether sharing work with the step helper pays. On a quiet
// machine a shared step takes ~0.55–0.6 of the one-thread time; with every core busy (another
// process on the second core) the helper's polling takes CPU time from the caller and a shared
// step can take twice as long as a lone one. So the caller times its jobs in both modes and runs
// alone while that is faster — the helper then stops polling and sleeps — probing sharing again
// after a while, at growing intervals while it keeps losing.

/** Jobs per measuring window. */
const WINDOW = 32;
/** Sharing must be at least this much faster than running alone to be kept. */
const KEEP = 0.9;
/** Alone for this many windows after sharing first loses; doubled on every further loss. */
const FIRST_BACKOFF = 8;
const MAX_BACKOFF = 512;
/** While sharing wins, one window in this many runs alone, to keep the lone time fresh. */
const RECHECK = 64;

/** Time per unit of work (µs) in one mode: the sum over the current window, then its result. */
class Rate {
  us = 0;
  units = 0;
  jobs = 0;
  /** Last completed window's µs per unit, or NaN before the first. */
  last = Number.NaN;

  add(us: number, units: number): boolean {
    this.us += us;
    this.units += units;
    if (++this.jobs < WINDOW) return false;
    this.last = this.us / this.units;
    this.us = this.units = this.jobs = 0;
    return true;
  }
}

type Phase = 'reference' | 'shared' | 'backoff';

export class ShareGovernor {
  /** Whether the next job is shared. Starts alone for one window: the reference time. */
  sharing = false;
  /** Jobs run alone because sharing did not pay (reference windows not counted). */
  alone = 0;
  private phase: Phase = 'reference';
  private readonly shared = new Rate();
  private readonly solo = new Rate();
  private backoff = FIRST_BACKOFF;
  /** Windows left in the current phase ('shared': until the reference is refreshed). */
  private left = 1;

  /** Records a job of `units` work that took `us` in the current mode. */
  record(us: number, units: number): void {
    if (this.phase === 'backoff') this.alone++;
    if (!(this.sharing ? this.shared : this.solo).add(us, units)) return;
    if (this.phase === 'shared') {
      if (this.shared.last > KEEP * this.solo.last) {
        // Sharing loses (every core busy, say): run alone — the helper goes to sleep — and try
        // again later, later each time it keeps losing.
        this.enter('backoff', this.backoff);
        this.backoff = Math.min(MAX_BACKOFF, 2 * this.backoff);
      } else if (--this.left === 0) this.enter('reference', 1);
      else this.backoff = FIRST_BACKOFF;
    } else if (--this.left === 0) this.enter('shared', RECHECK);
  }

  private enter(phase: Phase, windows: number): void {
    this.phase = phase;
    this.sharing = phase === 'shared';
    this.left = windows;
  }
}

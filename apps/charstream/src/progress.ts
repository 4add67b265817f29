// Training progress for people: on a TTY one status line rewritten in place with sample lines
// scrolling above it; elsewhere (pipes, CI logs) a plain line every few seconds. Owns no timers.

/** One progress reading. Loss is nats per character; times are seconds. */
export interface ProgressReading {
  step: number;
  tokens: number;
  loss: number;
  /** Validation loss (nats/char), when there is a held-out set. */
  valLoss?: number;
  charsPerSecond: number;
  elapsed: number;
  /** Seconds left of the budget, or null when the run has none (e.g. a stream until EOF). */
  remaining: number | null;
}

/** Options of ProgressDisplay. */
export interface ProgressOptions {
  /** Rewrite one line in place (a terminal). Default: the stream's isTTY. */
  tty?: boolean;
  /** Seconds between plain lines when not a TTY. Default 5. */
  plainInterval?: number;
  /** Seconds between rewrites of the TTY status line. Default 0.1. */
  ttyInterval?: number;
}

/** "1m05s" / "12.3s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.floor(seconds - m * 60)).padStart(2, '0')}s`;
}

export function formatReading(r: ProgressReading): string {
  const bits = r.loss / Math.LN2;
  const val =
    r.valLoss === undefined ? '' : ` | val ${r.valLoss.toFixed(3)} nats, ${(r.valLoss / Math.LN2).toFixed(3)} bpc`;
  const left = r.remaining === null ? '' : ` (${formatDuration(r.remaining)} left)`;
  return `step ${r.step} | loss ${r.loss.toFixed(3)} nats, ${bits.toFixed(3)} bpc${val} | ${Math.round(r.charsPerSecond)} chars/s | ${formatDuration(r.elapsed)}${left}`;
}

export class ProgressDisplay {
  readonly tty: boolean;
  private readonly plainInterval: number;
  private readonly ttyInterval: number;
  private lastPlain = -Infinity;
  private lastTty = -Infinity;
  private status = '';

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    options: ProgressOptions = {},
  ) {
    this.tty = options.tty ?? out.isTTY === true;
    this.plainInterval = options.plainInterval ?? 5;
    this.ttyInterval = options.ttyInterval ?? 0.1;
  }

  /** Shows a reading: in place on a TTY (at most every ttyInterval), otherwise one line per plainInterval. */
  update(r: ProgressReading, force = false): void {
    if (this.tty) {
      // A terminal cannot show a thousand rewrites a second; the last reading wins.
      if (!force && r.elapsed - this.lastTty < this.ttyInterval) return;
      this.lastTty = r.elapsed;
      const line = formatReading(r);
      // Cut to the terminal width so the carriage return really rewrites one line.
      const cols = this.out.columns ?? 120;
      this.status = line.length >= cols ? line.slice(0, cols - 1) : line;
      this.out.write(`\r\x1b[K${this.status}`);
    } else if (force || r.elapsed - this.lastPlain >= this.plainInterval) {
      this.lastPlain = r.elapsed;
      this.out.write(`${formatReading(r)}\n`);
    }
  }

  /** Prints a line of its own (a sample, a note) above the status line. */
  log(text: string): void {
    if (this.tty) this.out.write(`\r\x1b[K${text}\n${this.status}`);
    else this.out.write(`${text}\n`);
  }

  /** Ends the status line so later output starts on a fresh line. */
  finish(): void {
    if (this.tty && this.status) this.out.write('\n');
    this.status = '';
  }
}

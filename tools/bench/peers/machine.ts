// Where and how a benchmark ran: CPU model (/proc/cpuinfo), core count, Node version, load average
// at the start, date and the command line. Written once per run, next to the records.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';

export interface Machine {
  cpu: string;
  nproc: number;
  node: string;
  /** 1, 5 and 15 minute load averages at the start of the run */
  loadavg: number[];
  /** the same at the end, when known */
  loadavgEnd?: number[];
  /** wall-clock duration of the whole run, when known */
  seconds?: number;
  date: string;
  command: string;
  quick: boolean;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // Not Linux: fall through to os.cpus().
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

export function loadNow(): number[] {
  return loadavg().map((x) => Number(x.toFixed(2)));
}

export function machine(argv: string[]): Machine {
  return {
    cpu: cpuModel(),
    nproc: availableParallelism(),
    node: process.version,
    loadavg: loadNow(),
    date: new Date().toISOString(),
    command: `npm run --silent bench -- ${argv.join(' ')}`,
    quick: argv.includes('--quick'),
  };
}

// Workers as separate processes (the CLI from TypeScript source, as `npm run nats` runs it), for
// the chaos tests and the scale-out benchmark: start one, follow which partitions it runs from its
// log lines, kill it (-9) or stop it (SIGTERM). Every child is killed when the process exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts');

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** One line a worker logged, with when this process read it (performance.now()). */
export interface LogLine {
  at: number;
  text: string;
}

/** A worker process and what it has said. */
export class WorkerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  /** Partitions it runs now (from its "running" / "released" / "lost" / "stopped" lines). */
  readonly running = new Map<number, number>();
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: (() => void)[] = [];

  constructor(id: string, args: readonly string[]) {
    this.id = id;
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@rxrnn/source', CLI, 'worker', '--worker-id', id, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
    );
    children.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        children.delete(this.child);
        this.#notify();
        resolve({ code, signal });
      }),
    );
    let buf = '';
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.#line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
    });
  }

  #line(text: string): void {
    const at = performance.now();
    this.lines.push({ at, text });
    const m = /partition (\d+): (running|checkpointed .* released|lost|stopped)/.exec(text);
    if (m) {
      const p = Number(m[1]);
      if (m[2] === 'running') this.running.set(p, at);
      else this.running.delete(p);
    }
    this.#notify();
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next log line or exit. */
  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The log so far, for failure messages. */
  log(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  /** kill -9. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** SIGTERM (graceful: checkpoint, hand over) and wait for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** Starts a worker process running `rxrnn-nats worker --worker-id <id> <args…>`. */
export function startWorker(id: string, args: readonly string[]): WorkerProcess {
  return new WorkerProcess(id, args);
}

/**
 * Resolves once partition p runs on `owner(p)` for every p < partitions (per the workers' logs),
 * checking at each log line; rejects if a worker exits or after `maxLines` lines without it.
 */
export async function waitForAssignment(
  workers: readonly WorkerProcess[],
  partitions: number,
  owner: (p: number) => WorkerProcess,
  maxLines = 10_000,
): Promise<void> {
  for (let i = 0; i < maxLines; i++) {
    let ok = true;
    for (let p = 0; p < partitions && ok; p++) {
      const o = owner(p);
      ok = o.running.has(p) && workers.every((w) => w === o || !w.running.has(p));
    }
    if (ok) return;
    const dead = workers.find((w) => !w.alive);
    if (dead) throw new Error(`worker ${dead.id} exited:\n${dead.log()}`);
    await Promise.race(workers.map((w) => w.next()));
  }
  throw new Error(`partitions never settled:\n${workers.map((w) => `--- ${w.id}\n${w.log()}`).join('\n')}`);
}

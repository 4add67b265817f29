// `npm run bench -- peers [--json] [--quick] [--only A,B] [--impls rxrnn,tfjs-wasm] [--rounds N]`:
// the same workloads on rxrnn and its JavaScript peers, in one invocation. Each (implementation,
// workload) runs in its own child process, one after another, so peers never share a heap or a
// core; the whole sequence is repeated for N rounds (default 3, 1 with --quick) and each value is
// the median over all rounds' runs, so a burst of load on a shared machine hits every peer alike.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNow, type Machine, machine } from './peers/machine.js';
import { median, round } from './peers/measure.js';
import { ratios, textTable } from './peers/report.js';
import { IMPLS, type Impl, type PeerRecord, UNIT, WORKLOADS, type Workload } from './peers/workloads.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface PeersOptions {
  json: boolean;
  quick: boolean;
  workloads: Workload[];
  impls: Impl[];
  rounds: number;
}

export function parseArgs(args: string[]): PeersOptions {
  const list = (flag: string): string[] | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (!v || v.startsWith('--')) throw new RangeError(`peers: ${flag} needs a comma-separated list`);
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const workloads = (list('--only')?.map((w) => w.toUpperCase()) ?? [...WORKLOADS]) as Workload[];
  const impls = (list('--impls') ?? [...IMPLS]) as Impl[];
  for (const w of workloads)
    if (!WORKLOADS.includes(w))
      throw new RangeError(`peers: unknown workload ${w}, expected one of ${WORKLOADS.join(',')}`);
  for (const m of impls)
    if (!IMPLS.includes(m)) throw new RangeError(`peers: unknown impl ${m}, expected one of ${IMPLS.join(',')}`);
  const quick = args.includes('--quick');
  const rounds = Number(list('--rounds')?.[0] ?? (quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`peers: --rounds must be a positive integer`);
  return { json: args.includes('--json'), quick, workloads, impls, rounds };
}

/** Runs one (impl, workload) child; whatever goes wrong comes back as an error record. */
function runChild(impl: Impl, workload: Workload, quick: boolean, onRecord: (r: PeerRecord) => void): Promise<void> {
  const timeoutMs = (quick ? 4 : 20) * 60_000;
  return new Promise((resolve) => {
    // process.execArgv carries tsx's loader and the @rxrnn/source condition to the child.
    const child = spawn(
      process.execPath,
      [...process.execArgv, join(here, 'peers', 'child.ts'), impl, workload, quick ? '1' : '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let got = 0;
    const fail = (error: string): void =>
      onRecord({
        suite: 'peers',
        impl,
        workload,
        cell: 'lstm',
        hidden: 0,
        form: 'process',
        unit: UNIT[workload],
        error,
      });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl).trim();
        out = out.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          onRecord(JSON.parse(line) as PeerRecord);
          got++;
        } catch {
          // A peer printed something JSON-like that is not ours; ignore it.
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err = (err + chunk).slice(-2000);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(`spawn failed: ${e.message}`);
      resolve();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') fail(`timed out after ${timeoutMs / 1000} s`);
      else if (code !== 0) fail(`exited with ${code}${err ? `: ${err.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      else if (got === 0) fail(`produced no records${err ? `: ${err.trim().split('\n').slice(-1)[0]}` : ''}`);
      resolve();
    });
  });
}

/** Merges one configuration's records from several rounds: all samples pooled, median as value. */
function merge(rs: PeerRecord[]): PeerRecord {
  const ok = rs.filter((r) => r.samples?.length);
  const failed = rs.filter((r) => r.error);
  if (!ok.length) return rs[rs.length - 1]!;
  const samples = ok.flatMap((r) => r.samples!);
  const merged: PeerRecord = {
    ...ok[0]!,
    value: round(median(samples)),
    min: Math.min(...samples),
    max: Math.max(...samples),
    runs: samples.length,
    samples,
  };
  if (failed.length) merged.notes = `${merged.notes ?? ''}; failed in ${failed.length} round(s): ${failed[0]!.error}`;
  return merged;
}

/** Runs the selected workloads on the selected implementations, round after round; returns merged records. */
export async function runPeers(opts: PeersOptions): Promise<PeerRecord[]> {
  const byKey = new Map<string, PeerRecord[]>();
  for (let round = 1; round <= opts.rounds; round++) {
    for (const workload of opts.workloads) {
      for (const impl of opts.impls) {
        if (!opts.json) process.stderr.write(`peers: round ${round}/${opts.rounds} ${impl} ${workload}…\n`);
        await runChild(impl, workload, opts.quick, (r) => {
          const key = [r.impl, r.form, r.workload, r.cell, r.hidden].join('|');
          if (!byKey.has(key)) byKey.set(key, []);
          byKey.get(key)!.push(r);
        });
      }
    }
  }
  const merged = [...byKey.values()].map(merge);
  // A child that failed in some round but measured in others: its failure becomes a note on the
  // measured records of that (impl, workload) instead of a record of its own.
  const failures = merged.filter((r) => r.error && !r.hidden);
  return merged.filter((r) => {
    if (!failures.includes(r)) return true;
    const measured = merged.filter((m) => m.impl === r.impl && m.workload === r.workload && m.samples?.length);
    for (const m of measured) m.notes = `${m.notes ?? ''}; in another round the child failed: ${r.error}`;
    return measured.length === 0;
  });
}

export default async function peers(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const meta: { suite: 'peers'; machine: Machine } = { suite: 'peers', machine: machine(['peers', ...args]) };
  const t0 = Date.now();
  const records = await runPeers(opts);
  meta.machine.loadavgEnd = loadNow();
  meta.machine.seconds = Math.round((Date.now() - t0) / 1000);
  const rs = ratios(records);
  if (opts.json) {
    for (const r of [...records, ...rs, meta]) process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const m = meta.machine;
  console.log(
    `${m.cpu}, ${m.nproc} cores, Node ${m.node}, load average ${m.loadavg.join(' ')} at start, ${(m.loadavgEnd ?? []).join(' ')} at the end, ${m.date}\n`,
  );
  console.log(textTable(records));
  console.log(
    `\n"rxrnn x": how many times faster rxrnn's fastest form is than that row (${opts.quick ? '--quick: indicative only' : 'median of runs'}).`,
  );
}

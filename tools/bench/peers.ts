// `npm run bench -- peers [--json] [--quick] [--only A,B] [--impls rxrnn,tfjs-wasm]`: the same
// workloads on rxrnn and its JavaScript peers, in one invocation. Each (implementation, workload)
// runs in its own child process, one after another, so peers never share a heap or a core.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ratios, textTable } from './peers/report.js';
import { IMPLS, WORKLOADS, type Impl, type PeerRecord, type Workload } from './peers/workloads.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface PeersOptions {
  json: boolean;
  quick: boolean;
  workloads: Workload[];
  impls: Impl[];
}

export function parseArgs(args: string[]): PeersOptions {
  const list = (flag: string): string[] | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (!v || v.startsWith('--')) throw new RangeError(`peers: ${flag} needs a comma-separated list`);
    return v.split(',').map((s) => s.trim()).filter(Boolean);
  };
  const workloads = (list('--only')?.map((w) => w.toUpperCase()) ?? [...WORKLOADS]) as Workload[];
  const impls = (list('--impls') ?? [...IMPLS]) as Impl[];
  for (const w of workloads) if (!WORKLOADS.includes(w)) throw new RangeError(`peers: unknown workload ${w}, expected one of ${WORKLOADS.join(',')}`);
  for (const m of impls) if (!IMPLS.includes(m)) throw new RangeError(`peers: unknown impl ${m}, expected one of ${IMPLS.join(',')}`);
  return { json: args.includes('--json'), quick: args.includes('--quick'), workloads, impls };
}

/** Runs one (impl, workload) child; whatever goes wrong comes back as an error record. */
function runChild(impl: Impl, workload: Workload, quick: boolean, onRecord: (r: PeerRecord) => void): Promise<void> {
  const timeoutMs = (quick ? 4 : 20) * 60_000;
  return new Promise((resolve) => {
    // process.execArgv carries tsx's loader and the @rxrnn/source condition to the child.
    const child = spawn(process.execPath, [...process.execArgv, join(here, 'peers', 'child.ts'), impl, workload, quick ? '1' : '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let got = 0;
    const fail = (error: string): void =>
      onRecord({ suite: 'peers', impl, workload, cell: 'lstm', hidden: 0, form: 'process', unit: 'us/step', error });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
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

/** Runs the selected workloads on the selected implementations; returns every record. */
export async function runPeers(opts: PeersOptions, onRecord: (r: PeerRecord) => void = () => {}): Promise<PeerRecord[]> {
  const records: PeerRecord[] = [];
  for (const workload of opts.workloads) {
    for (const impl of opts.impls) {
      if (!opts.json) process.stderr.write(`peers: ${impl} ${workload}…\n`);
      await runChild(impl, workload, opts.quick, (r) => {
        records.push(r);
        onRecord(r);
      });
    }
  }
  return records;
}

export default async function peers(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const records = await runPeers(opts, (r) => {
    if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
  });
  const rs = ratios(records);
  if (opts.json) {
    for (const r of rs) process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  console.log(textTable(records));
  if (rs.length) {
    console.log('\nrxrnn speed-up (its fastest form) over each peer form:');
    for (const r of rs) console.log(`  ${r.workload} ${r.cell}-${r.hidden}: ${r.ratio}x vs ${r.vs} ${r.vsForm}`);
  }
}

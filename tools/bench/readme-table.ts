// `npm run --silent bench -- readme-table [saved.jsonl | peers flags…]`: rewrites the peer table
// of docs/benchmarks.md (between <!-- bench:peers:start --> and <!-- bench:peers:end -->) from a
// saved `peers --json` output, or from a fresh run of the peer harness with the given flags.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNow, type Machine, machine } from './peers/machine.js';
import { markdownTable } from './peers/report.js';
import type { PeerRecord } from './peers/workloads.js';
import { parseArgs, runPeers } from './peers.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'benchmarks.md');
const START = '<!-- bench:peers:start -->';
const END = '<!-- bench:peers:end -->';

function fromFile(path: string): { records: PeerRecord[]; machine?: Machine } {
  const records: PeerRecord[] = [];
  let m: Machine | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    const r = JSON.parse(line) as PeerRecord & { machine?: Machine; ratio?: number };
    if (r.suite !== 'peers') continue;
    if (r.machine) m = r.machine;
    else if (r.impl) records.push(r);
  }
  return { records, machine: m };
}

export function section(records: PeerRecord[], m: Machine): string {
  const notMeasured = records
    .filter((r) => r.error || r.skipped)
    .map(
      (r) =>
        `- ${r.impl}, workload ${r.workload}${r.hidden ? ` (${r.cell}-${r.hidden})` : ''}, ${r.form}: ${r.error ? `error: ${r.error}` : r.skipped}`,
    );
  return [
    START,
    '### Speed against the JavaScript peers',
    '',
    'The same workloads on rxrnn, TensorFlow.js 4.22 (cpu backend; wasm backend with SIMD, without',
    'threads as it runs in Node, and its threaded-SIMD build on 2 threads, loaded by the harness),',
    'brain.js 2.0.0-beta.24 and onnxruntime 1.31 (node: native CPU; web: its WASM build in Node, one',
    "thread; both run the files rxrnn's ONNX exporter writes), each in its own child process, one",
    'after the other. A: one',
    'streaming step at batch 1 with the state carried (n_x = 64). B: char-LM training (V = 65,',
    'embedding 64, T = 64, B = 32, Adam, global-norm clip 5; brain.js: batch 1 with its own update',
    'rule). C: LSTM forward over a [T = 64, B = 64, n_x = 64] window. D: `generate()` from a',
    '2-layer LSTM-256 char model, sampling included. rxrnn runs each workload on one thread and,',
    'where it can use a second, on two (forms named `…-2t`: `setStepThreads(2)` of `@rxrnn/kernels`',
    "for steps, the trainer's second thread for B). Each cell is the fastest form of that library on",
    'those threads (forms named in small type; `tools/bench/README.md` describes them); values are',
    'medians of several runs. The speed-ups compare like with like: rxrnn on one thread against',
    "TF.js WASM (one thread), and rxrnn's fastest form against TF.js's threaded WASM build.",
    '',
    markdownTable(records),
    '',
    ...(notMeasured.length ? ['Not measured:', '', ...notMeasured, ''] : []),
    `Measured ${m.date.slice(0, 10)} with \`${m.command}\` on ${m.cpu}, ${m.nproc} cores, Node ${m.node}` +
      ` (1/5/15-min load average ${m.loadavg.join(', ')} at the start${m.loadavgEnd ? `, ${m.loadavgEnd.join(', ')} at the end` : ''}:` +
      ' a shared machine, so expect noise)' +
      (m.seconds
        ? `; the run took ${m.seconds < 120 ? `${m.seconds} s` : `${Math.round(m.seconds / 60)} min`}.`
        : '.') +
      (m.quick ? ' This was a `--quick` smoke run: indicative only.' : ''),
    'Regenerate with `npm run --silent bench -- readme-table` (or pass a saved `peers --json` output).',
    END,
  ].join('\n');
}

export default async function readmeTable(args: string[]): Promise<void> {
  const file = args.find((a) => !a.startsWith('--') && /\.(json|jsonl|ndjson|txt)$/.test(a));
  let records: PeerRecord[];
  let m: Machine;
  if (file) {
    const saved = fromFile(file);
    records = saved.records;
    m = saved.machine ?? { ...machine(['peers', '--json']), date: 'unknown date', loadavg: [] };
  } else {
    const flags = args.filter((a) => a !== '--json');
    m = machine(['readme-table', ...args]);
    const t0 = Date.now();
    records = await runPeers({ ...parseArgs(flags), json: true });
    m.loadavgEnd = loadNow();
    m.seconds = Math.round((Date.now() - t0) / 1000);
  }
  const readme = readFileSync(README, 'utf8');
  const i = readme.indexOf(START);
  const j = readme.indexOf(END);
  if (i < 0 || j < i) throw new RangeError(`readme-table: ${README} has no ${START} … ${END} section`);
  writeFileSync(README, readme.slice(0, i) + section(records, m) + readme.slice(j + END.length));
  process.stderr.write(`readme-table: wrote ${records.length} records into ${README}\n`);
}

#!/usr/bin/env node
// The sweep behind `npm run train`'s defaults: runs `npm run train` configurations with a time
// budget on given texts and records, per run, the final held-out loss evaluated from a zero state
// on the last --val-fraction of the text (the exported best-validation weights, read by PyTorch
// through tools/sweep/eval_tail.py), with the trainer's own numbers and the machine's load.
//
//   node tools/sweep/train-defaults.mjs --input TEXT [--input TEXT2 ...] [--seconds 600]
//     [--only base,drop25,...] [--config 'name=--hidden 256 --layers 2'] [--out sweep.jsonl]
//     [--rounds 1] [--keep DIR] [--list]
//
// Each run is one JSON line on stdout (and appended to --out): {text, config, flags, seconds,
// steps, tokens, chars_per_sec, train_nats, trainer_val_nats, trainer_val_step, tail_nats,
// tail_bpc, tail_count, evaluator, load_before, load_after, cores, started}. Checkpoints and
// exports go to a temporary folder, removed at the end unless --keep DIR names one to keep them in.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The grid: flags added to `npm run train` (its defaults otherwise). `base` is the defaults as
 * they are; the others change one or two settings each, so a difference has one cause.
 */
const GRID = {
  base: [],
  nodrop: ['--dropout', '0'],
  h384: ['--hidden', '384'],
  drop40: ['--dropout', '0.4'],
  'l2-h384': ['--layers', '2', '--hidden', '384'],
  lr2e3: ['--lr', '0.002'],
  lr5e3: ['--lr', '0.005'],
  seq128: ['--seq', '128'],
  batch64: ['--batch', '64'],
  threads1: ['--threads', '1'],
  adamw: ['--optimizer', 'adamw', '--weight-decay', '0.1'],
  recdrop: ['--recurrent-dropout', '0.1'],
  emb25: ['--embedding-dropout', '0.25'],
};

const USAGE = `usage: node tools/sweep/train-defaults.mjs --input TEXT [--input TEXT ...] [--seconds 600]
         [--only ${Object.keys(GRID).slice(0, 3).join(',')},...] [--config 'name=--flag value ...']
         [--val-fraction 0.05] [--rounds 1] [--out FILE.jsonl] [--keep DIR] [--list]`;

function fail(message) {
  console.error(`train-defaults: ${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      input: { type: 'string', multiple: true },
      seconds: { type: 'string', default: '600' },
      only: { type: 'string' },
      config: { type: 'string', multiple: true },
      'val-fraction': { type: 'string', default: '0.05' },
      rounds: { type: 'string', default: '1' },
      out: { type: 'string' },
      keep: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(e.message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.list) {
  for (const [name, flags] of Object.entries(GRID))
    console.log(`${name.padEnd(16)} ${flags.join(' ') || '(defaults)'}`);
  process.exit(0);
}

const seconds = Number(args.seconds);
if (!(Number.isFinite(seconds) && seconds > 0)) fail(`--seconds must be a positive number, got ${args.seconds}`);
const valFraction = Number(args['val-fraction']);
if (!(valFraction > 0 && valFraction < 1)) fail(`--val-fraction must be in (0, 1), got ${args['val-fraction']}`);
const rounds = Number(args.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) fail(`--rounds must be a positive integer, got ${args.rounds}`);
const inputs = args.input ?? [];
if (inputs.length === 0) fail('--input TEXT is required');
for (const f of inputs) {
  if (!existsSync(f) || !statSync(f).isFile()) fail(`--input ${f} is not a readable file`);
}

const grid = {};
const names = args.only ? args.only.split(',') : args.config ? [] : Object.keys(GRID);
for (const n of names) {
  if (!(n in GRID)) fail(`--only: unknown configuration ${JSON.stringify(n)}; --list shows them`);
  grid[n] = GRID[n];
}
for (const c of args.config ?? []) {
  const eq = c.indexOf('=');
  if (eq <= 0) fail(`--config must be name=flags, got ${JSON.stringify(c)}`);
  const flags = c
    .slice(eq + 1)
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  for (const f of flags) {
    if (/^--(input|seconds|steps|checkpoint|resume|json|val-fraction|plot)$/.test(f))
      fail(`--config ${c.slice(0, eq)}: ${f} is set by the sweep itself`);
  }
  grid[c.slice(0, eq)] = flags;
}

// Debian's PyTorch (apt-get install -y python3-torch) lives with the system Python, as for the tests.
const PY = process.env.RXRNN_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch)
  fail(
    `PyTorch is needed for the independent evaluation: ${PY} cannot import torch (apt-get install -y python3-torch, or set RXRNN_PYTHON)`,
  );

const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'rxrnn-sweep-'));
mkdirSync(work, { recursive: true });

/** Runs a command in the repo; returns stdout, or exits with its stderr on failure. */
function run(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) {
    console.error(`train-defaults: ${what} failed (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-4000)}`);
    process.exit(1);
  }
  return r.stdout;
}

/** The last line of stdout that parses as a JSON object. */
function lastJson(stdout, what) {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line);
    } catch {}
  }
  console.error(`train-defaults: ${what} printed no JSON summary`);
  process.exit(1);
}

const round2 = (x) => Math.round(x * 100) / 100;
try {
  for (let round = 0; round < rounds; round++) {
    for (const input of inputs) {
      for (const [name, flags] of Object.entries(grid)) {
        const tag = `${basename(input).replace(/[^\w.-]/g, '_')}-${name}-${round}`;
        const ckpt = join(work, `${tag}.ckpt`);
        const exported = join(work, `${tag}.json`);
        rmSync(ckpt, { force: true });
        const loadBefore = loadavg().map(round2);
        const started = new Date().toISOString();
        const trainArgs = ['run', '--silent', 'train', '--', '--input', input, '--seconds', String(seconds)];
        trainArgs.push('--val-fraction', String(valFraction), '--checkpoint', ckpt, '--json', ...flags);
        const summary = lastJson(run('npm', trainArgs, `npm ${trainArgs.join(' ')}`), 'train');
        const loadAfter = loadavg().map(round2);
        run('npm', ['run', '--silent', 'export-torch', '--', ckpt, exported], 'export-torch');
        const evalArgs = ['tools/sweep/eval_tail.py', exported, input, '--val-fraction', String(valFraction)];
        const tail = lastJson(run(PY, evalArgs, 'eval_tail.py'), 'eval_tail.py');
        const record = {
          text: input,
          config: name,
          flags: flags.join(' '),
          round,
          seconds: summary.seconds,
          steps: summary.steps,
          tokens: summary.tokens,
          chars_per_sec: Math.round(summary.charsPerSecond),
          train_nats: summary.train?.nats ?? null,
          trainer_val_nats: summary.validation?.nats ?? null,
          trainer_val_step: summary.validation?.step ?? null,
          tail_nats: tail.nats,
          tail_bpc: tail.bpc,
          tail_count: tail.count,
          evaluator: 'pytorch eval_tail.py, zero state, best-validation weights',
          model: summary.model,
          load_before: loadBefore,
          load_after: loadAfter,
          cores: availableParallelism(),
          started,
        };
        const line = JSON.stringify(record);
        console.log(line);
        if (args.out) appendFileSync(args.out, `${line}\n`);
      }
    }
  }
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}

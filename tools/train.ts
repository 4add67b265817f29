// `npm run --silent train -- --input FILE [--seconds N] [--checkpoint OUT] [--json] [...]`: trains a
// char model on a text file for a time budget with @rxrnn/trainer's trainOffline (a thin CLI:
// flags → options, a TTY progress line, a JSON summary, SIGINT → final atomic checkpoint).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CharModel, Vocabulary } from '@rxrnn/cells';
import { loadCheckpoint, trainOffline, type OfflineTrainer, type TrainProgress } from '@rxrnn/trainer/node';

const USAGE = `usage: npm run --silent train -- --input FILE [options]

  --input FILE          text to train on (UTF-8); the last --val-fraction is held out
  --seconds N           time budget in seconds (default 300)
  --checkpoint OUT      checkpoint path, written atomically (default charmodel.ckpt)
  --resume              continue from --checkpoint if it exists (model, optimizer, schedule and
                        data position come from the checkpoint; the flags below are ignored)
  --json                print a one-line JSON summary last (progress stays on stderr)
  --cell lstm|gru|rnn   recurrent cell (default lstm)
  --hidden H            hidden size (default 384)
  --layers L            stacked layers (default 1)
  --embedding E         embedding size (default 64)
  --bptt T              truncated-BPTT window (default 64)
  --batch B             parallel streams (default 32)
  --lr LR               Adam learning rate (default 0.003, cosine-decayed to 1/10 over the budget)
  --clip N              global-norm clip (default 5)
  --threads 1|2         compute half the batch in a worker thread (default 2)
  --val-fraction F      held-out tail (default 0.05)
  --eval-every N        updates between validations (default 100)
  --seed S              model and data seed (default 1)`;

function usage(msg?: string): never {
  if (msg) console.error(`train: ${msg}`);
  console.error(USAGE);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      input: { type: 'string' }, seconds: { type: 'string' }, checkpoint: { type: 'string' }, resume: { type: 'boolean' },
      json: { type: 'boolean' }, cell: { type: 'string' }, hidden: { type: 'string' }, layers: { type: 'string' },
      embedding: { type: 'string' }, bptt: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
      clip: { type: 'string' }, threads: { type: 'string' }, 'val-fraction': { type: 'string' }, 'eval-every': { type: 'string' },
      seed: { type: 'string' }, help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  usage((e as Error).message);
}
if (values.help) usage();

const num = (name: string, fallback: number, check: (x: number) => boolean, what: string): number => {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(x) || !check(x)) usage(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  return x;
};
const int = (x: number) => Number.isInteger(x) && x > 0;

if (typeof values.input !== 'string') usage('--input FILE is required');
const input = values.input;
const seconds = num('seconds', 300, (x) => x > 0, 'a positive number');
const checkpointPath = typeof values.checkpoint === 'string' ? values.checkpoint : 'charmodel.ckpt';
const cell = (values.cell ?? 'lstm') as string;
if (!['lstm', 'gru', 'rnn'].includes(cell)) usage(`--cell must be lstm, gru or rnn, got ${JSON.stringify(cell)}`);
const hidden = num('hidden', 384, int, 'a positive integer');
const layers = num('layers', 1, int, 'a positive integer');
const embeddingDim = num('embedding', 64, int, 'a positive integer');
const bptt = num('bptt', 64, int, 'a positive integer');
const batchSize = num('batch', 32, int, 'a positive integer');
const lr = num('lr', 3e-3, (x) => x > 0, 'a positive number');
const clip = num('clip', 5, (x) => x > 0, 'a positive number');
const threads = num('threads', 2, (x) => x === 1 || x === 2, '1 or 2') as 1 | 2;
const valFraction = num('val-fraction', 0.05, (x) => x > 0 && x < 0.5, 'in (0, 0.5)');
const evalEvery = num('eval-every', 100, int, 'a positive integer');
const seed = num('seed', 1, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');

if (!existsSync(input) || !statSync(input).isFile()) {
  console.error(`train: input file not found: ${input}`);
  process.exit(2);
}
const text = readFileSync(input, 'utf8');
if (text.length < 2) {
  console.error(`train: input file ${input} holds ${text.length} chars, need text to learn from`);
  process.exit(2);
}

const resume = values.resume && existsSync(checkpointPath) ? loadCheckpoint(checkpointPath) : undefined;
const model = resume ? undefined : new CharModel({ cell: cell as 'lstm', vocab: Vocabulary.fromText(text).chars, input: 'embedding', embeddingDim, hidden, layers, seed });

// Ctrl-C: stop after the current update; trainOffline then evaluates and saves atomically.
const abort = new AbortController();
let interruptedAt = 0;
process.on('SIGINT', () => {
  // A terminal's Ctrl-C reaches npm, tsx and this process, and tsx relays it once more: only a
  // second Ctrl-C well after the first means "do not wait for the save".
  if (abort.signal.aborted) {
    if (performance.now() - interruptedAt > 1500) process.exit(130);
    return;
  }
  interruptedAt = performance.now();
  abort.abort();
  if (tty) process.stderr.write('\ninterrupted: saving checkpoint...\n');
});

const tty = process.stderr.isTTY === true;
const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
let lastVal = '';
let lastLine = 0;
const show = (p: TrainProgress) => {
  const line = `step ${p.step} | loss ${p.loss.nats.toFixed(3)} nats ${p.loss.bpc.toFixed(3)} bits/char | ${Math.round(p.tokensPerSecond)} chars/s | ${clock(p.elapsed)} / ${clock(seconds)} (${clock(p.remaining ?? 0)} left)${lastVal}`;
  if (tty) process.stderr.write(`\r\x1b[K${line}`);
  else if (!values.json && p.elapsed - lastLine >= 10) {
    lastLine = p.elapsed;
    console.error(line);
  }
};

// Cosine decay over the budget: the total number of updates is only known from the speed, which
// drifts on a shared machine, so after a short warmup the horizon is re-estimated from the mean
// speed so far at every progress report (the rate stays continuous; checkpoints store the latest).
const WARMUP = 20;
let warmStart = 0;
const onStart = (tr: OfflineTrainer) => {
  if (resume) return;
  tr.options.schedule = { kind: 'constant', warmupSteps: WARMUP };
  warmStart = performance.now();
};
const fixSchedule = (tr: OfflineTrainer, p: TrainProgress) => {
  if (resume || p.step < WARMUP) return;
  const perStep = (performance.now() - warmStart) / 1000 / p.step;
  const total = Math.max(WARMUP + 1, Math.round(p.step + (p.remaining ?? 0) / perStep));
  tr.options.schedule = { kind: 'cosine', warmupSteps: WARMUP, totalSteps: total - WARMUP, minLr: lr / 10 };
};

let trainerRef: OfflineTrainer | null = null;
const summary = await trainOffline({
  model,
  resume,
  text,
  batchSize, bptt, lr, threads, valFraction, evalEvery, seed,
  optimizer: { kind: 'adam' },
  maxGradNorm: clip,
  seconds,
  signal: abort.signal,
  checkpointPath,
  checkpointEvery: 60,
  progressInterval: tty ? 250 : 1000,
  onStart: (tr) => {
    trainerRef = tr;
    onStart(tr);
  },
  onProgress: (p) => {
    if (trainerRef) fixSchedule(trainerRef, p);
    show(p);
  },
  onEval: (e) => {
    lastVal = ` | val ${e.val.nats.toFixed(3)} nats ${e.val.bpc.toFixed(3)} bpc${e.improved ? ' *' : ''}`;
  },
}).catch((e: unknown) => {
  if (tty) process.stderr.write('\n');
  console.error(`train: ${(e as Error).message}`);
  process.exit(e instanceof RangeError || e instanceof TypeError ? 2 : 1);
});
if (tty) process.stderr.write('\n');

const ck = summary.checkpoint;
const result = {
  val_loss: summary.bestVal?.nats ?? null,
  val_bpc: summary.bestVal?.bpc ?? null,
  val_perplexity: summary.bestVal?.perplexity ?? null,
  best_step: summary.bestVal?.step ?? null,
  train_loss: summary.train?.nats ?? null,
  train_bpc: summary.train?.bpc ?? null,
  chars_trained: summary.tokens,
  steps: summary.steps,
  seconds: Number(summary.seconds.toFixed(2)),
  chars_per_sec: Math.round(summary.tokensPerSecond),
  stopped_by: summary.stoppedBy,
  checkpoint: checkpointPath,
  config: { model: { ...ck.model, vocab_size: ck.model.vocab.length }, training: ck.training },
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.error(
    `done: ${summary.steps} updates, ${summary.tokens} chars in ${clock(summary.seconds)}; ` +
      (result.val_loss === null ? 'no validation split' : `best validation ${result.val_loss.toFixed(4)} nats/char = ${result.val_bpc!.toFixed(4)} bits/char (step ${result.best_step})`) +
      `; checkpoint ${checkpointPath}`,
  );
}
process.exit(0);

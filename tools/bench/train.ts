// `npm run bench -- train [--json] [--seconds S] [--cells lstm,gru] [--threads 1,2] [--hidden 256]
// [--layers 1] [--regularize none,dropout,variational,all] [--rounds 1] [--backend native|wasm|js]`:
// training throughput (chars/s) and cost per update of the offline trainer on a char LM (V=65, T=64,
// B=32, Adam, global-norm clip 5), one record per cell × thread form × regularization, the median
// over rounds (the settings interleave inside each round; each cell × thread form in a child process
// of its own). On the native backend the thread budget follows the form: `1` one compute thread in
// all; `2` the trainer's second thread (half batches) with a budget of 2; `2-pool` one trainer
// thread whose products use the addon's pool on 2 threads. Timings only here, never in tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Vocabulary } from '@rxrnn/cells';
import { backendInfo, getBackend, setBackend, setNativeThreads } from '@rxrnn/kernels';
import type { OfflineTrainer } from '@rxrnn/trainer/node';
import { B } from './peers/workloads.js';
import { openTrainRun } from './train-run.js';

const CORPUS = new URL('../../../shared/data/tinyshakespeare.txt', import.meta.url);

function corpus(): string {
  if (existsSync(CORPUS)) return readFileSync(CORPUS, 'utf8');
  // Fallback with the same alphabet size: 65 printable chars from a fixed LCG (throughput does not depend on the text).
  const alphabet = Array.from({ length: 65 }, (_, i) => String.fromCharCode(32 + i)).join('');
  let s = 12345;
  let out = '';
  for (let i = 0; i < 400_000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += alphabet[s % 65];
  }
  return out;
}

/** The dropout settings a --regularize name stands for (p = 0.25 each). */
const REGULARIZE = {
  none: {},
  dropout: { dropout: 0.25, embeddingDropout: 0.25, outputDropout: 0.25 },
  variational: { inputDropout: 0.25, recurrentDropout: 0.25 },
  all: { dropout: 0.25, embeddingDropout: 0.25, outputDropout: 0.25, inputDropout: 0.25, recurrentDropout: 0.25 },
} as const;
type Regularize = keyof typeof REGULARIZE;

/** A thread form: the trainer's threads and the native addon's thread budget. */
interface Form {
  form: string;
  threads: 1 | 2;
  budget: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

/** Times `seconds` of updates after a warm-up; returns chars/s and the CPU ms per update. */
function measure(
  tr: OfflineTrainer,
  seconds: number,
  warmup: number,
): { chars: number; cpuMs: number; steps: number; elapsed: number } {
  for (let k = 0; k < warmup; k++) tr.trainStep();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const tokens0 = tr.tokens;
  let steps = 0;
  while (performance.now() - t0 < seconds * 1000) {
    tr.trainStep();
    steps++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { chars: (tr.tokens - tokens0) / elapsed, cpuMs: (cpu.user + cpu.system) / 1000 / steps, steps, elapsed };
}

export default async function train(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const seconds = Number(arg(args, 'seconds', '8'));
  const cells = arg(args, 'cells', 'lstm,gru').split(',') as ('lstm' | 'gru' | 'rnn')[];
  const threadsList = arg(args, 'threads', '1,2').split(',').map(Number) as (1 | 2)[];
  const hidden = Number(arg(args, 'hidden', String(B.hidden)));
  const layers = Number(arg(args, 'layers', '1'));
  const rounds = Number(arg(args, 'rounds', '1'));
  const modes = arg(args, 'regularize', 'none').split(',') as Regularize[];
  for (const m of modes) {
    if (!(m in REGULARIZE)) {
      console.error(`bench train: --regularize ${m}, expected some of ${Object.keys(REGULARIZE).join(', ')}`);
      process.exit(2);
    }
  }
  const backendArg = arg(args, 'backend', '');
  if (backendArg === 'native' || backendArg === 'wasm' || backendArg === 'js') setBackend(backendArg);
  else if (backendArg !== '') throw new RangeError(`train: --backend ${backendArg}, expected native, wasm or js`);
  const native = getBackend() === 'native';
  const forms: Form[] = [];
  for (const t of threadsList) {
    forms.push({ form: String(t), threads: t, budget: t });
    if (native && t === 2) forms.push({ form: '2-pool', threads: 1, budget: 2 });
  }
  const only = arg(args, 'form', '');
  if (only === '' && cells.length * forms.length > 1) {
    // One child process per (cell, form): models are never freed, so a process that built them
    // all would run out of WASM memory and time the later ones on copied ordinary arrays.
    const rest = args.filter(
      (a, i) => !['--cells', '--form'].includes(a) && !['--cells', '--form'].includes(args[i - 1]!),
    );
    for (const cell of cells) {
      for (const { form } of forms) {
        const child = spawnSync(
          process.execPath,
          [...process.execArgv, process.argv[1]!, 'train', ...rest, '--cells', cell, '--form', form],
          { stdio: ['ignore', 'inherit', 'inherit'] },
        );
        if (child.status !== 0) process.exit(child.status ?? 1);
      }
    }
    return;
  }
  const chosen = only === '' ? forms[0]! : forms.find((f) => f.form === only);
  if (!chosen) throw new RangeError(`train: --form ${only}, expected one of ${forms.map((f) => f.form).join(', ')}`);
  const { form, threads, budget } = chosen;
  const budget0 = native ? backendInfo().native.addon!.threads : 1;
  if (native) setNativeThreads(budget);
  const cell = cells[0]!;
  const text = corpus();
  const vocab = Vocabulary.fromText(text).chars;
  // One trainer per setting, all alive, measured in turn inside each round.
  const runs = [];
  for (const mode of modes) {
    const { trainer } = await openTrainRun({ cell, vocab, text, hidden, threads, layers, dropout: REGULARIZE[mode] });
    runs.push({ mode, trainer, chars: [] as number[], cpu: [] as number[], steps: 0, seconds: 0 });
  }
  try {
    for (let round = 0; round < rounds; round++) {
      for (const r of runs) {
        // Warm-up (JIT, WASM tier-up, worker start) before the first round only.
        const m = measure(r.trainer, seconds, round === 0 ? 3 : 0);
        r.chars.push(m.chars);
        r.cpu.push(m.cpuMs);
        r.steps += m.steps;
        r.seconds += m.elapsed;
      }
    }
  } finally {
    for (const r of runs) await r.trainer.close();
    if (native) setNativeThreads(budget0);
  }
  for (const r of runs) {
    const chars = median(r.chars);
    const rec = {
      suite: 'train',
      cell,
      hidden,
      layers,
      vocab: vocab.length,
      bptt: B.T,
      batch: B.batch,
      threads,
      form,
      regularize: r.mode,
      backend: getBackend(),
      rounds,
      steps: r.steps,
      seconds: Number(r.seconds.toFixed(3)),
      chars_per_sec: Math.round(chars),
      ms_per_step: Number(((B.T * B.batch * 1000) / chars).toFixed(2)),
      // Process CPU time (both threads with --threads 2): steadier than wall time on a shared machine.
      cpu_ms_per_step: Number(median(r.cpu).toFixed(2)),
      chars_per_cpu_sec: Math.round((B.T * B.batch * 1000) / median(r.cpu)),
    };
    console.log(
      json
        ? JSON.stringify(rec)
        : `${cell}-${hidden}x${layers} threads=${form} ${r.mode} (${rec.backend}): ${rec.chars_per_sec} chars/s, ${rec.ms_per_step} ms/update (${rec.cpu_ms_per_step} ms CPU) over ${r.steps} steps`,
    );
  }
}

// `npm run bench -- train [--json] [--seconds S] [--cells lstm,gru] [--threads 1,2] [--hidden 256]
// [--backend native|wasm|js]`: training throughput (chars/s) of the offline trainer on a char LM
// (V=65, T=64, B=32, Adam, global-norm clip 5), one record per cell × thread form. On the native
// backend the thread budget follows the form: `1` one compute thread in all; `2` the trainer's
// second thread (half batches) with a budget of 2; `2-pool` one trainer thread whose products use
// the addon's pool on 2 threads. Timings only here, never in tests.
import { existsSync, readFileSync } from 'node:fs';
import { Vocabulary } from '@rxrnn/cells';
import { backendInfo, getBackend, setBackend, setNativeThreads } from '@rxrnn/kernels';
import { B } from './peers/workloads.js';
import { timeTrainRun } from './train-run.js';

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

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

export default async function train(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const seconds = Number(arg(args, 'seconds', '8'));
  const cells = arg(args, 'cells', 'lstm,gru').split(',') as ('lstm' | 'gru' | 'rnn')[];
  const threadsList = arg(args, 'threads', '1,2').split(',').map(Number) as (1 | 2)[];
  const hidden = Number(arg(args, 'hidden', String(B.hidden)));
  const backendArg = arg(args, 'backend', '');
  if (backendArg === 'native' || backendArg === 'wasm' || backendArg === 'js') setBackend(backendArg);
  else if (backendArg !== '') throw new RangeError(`train: --backend ${backendArg}, expected native, wasm or js`);
  const native = getBackend() === 'native';
  const budget0 = native ? backendInfo().native.addon!.threads : 1;
  const text = corpus();
  const vocab = Vocabulary.fromText(text).chars;
  const forms: { form: string; threads: 1 | 2; budget: number }[] = [];
  for (const t of threadsList) {
    forms.push({ form: String(t), threads: t, budget: t });
    if (native && t === 2) forms.push({ form: '2-pool', threads: 1, budget: 2 });
  }
  for (const cell of cells) {
    for (const { form, threads, budget } of forms) {
      if (native) setNativeThreads(budget);
      const { measured } = await timeTrainRun({ cell, vocab, text, hidden, threads }, async (updates, tr) => {
        // Warm-up: JIT, WASM tier-up, worker start.
        updates(3);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const tokens0 = tr.tokens;
        let steps = 0;
        while (performance.now() - t0 < seconds * 1000) {
          updates(1);
          steps++;
        }
        const elapsed = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(c0);
        return { steps, elapsed, cpu: (cpu.user + cpu.system) / 1e6, tokens: tr.tokens - tokens0 };
      });
      const { steps, elapsed } = measured;
      const rec = {
        suite: 'train',
        cell,
        hidden,
        vocab: vocab.length,
        bptt: B.T,
        batch: B.batch,
        threads,
        form,
        backend: getBackend(),
        steps,
        seconds: Number(elapsed.toFixed(3)),
        chars_per_sec: Math.round(measured.tokens / elapsed),
        // Process CPU time (all threads): on a shared machine the one-thread forms' figure that
        // other processes do not dilute.
        chars_per_cpu_sec: Math.round(measured.tokens / measured.cpu),
      };
      console.log(
        json
          ? JSON.stringify(rec)
          : `${cell}-${hidden} threads=${form} (${rec.backend}): ${rec.chars_per_sec} chars/s over ${steps} steps, ${rec.chars_per_cpu_sec} chars per CPU-second`,
      );
    }
  }
  if (native) setNativeThreads(budget0);
}

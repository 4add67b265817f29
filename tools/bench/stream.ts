// `npm run bench -- stream [--json] [--backend native|wasm|js] [--runs N] [--threads 2 [--min-weights W] [--no-adaptive]]`:
// per-token latency of a batch-1 streaming step, LSTM and GRU, n_x 64, H ∈ {128, 256, 512}: the
// raw Cell.step and the same step through the lstm()/gru() operator (a synchronous source of
// pre-made inputs); then generate() chars/s from a 2-layer LSTM-256 char model (embedding 64,
// V 65), sampling included.
// --threads 2 runs it all with setStepThreads(2) (a helper thread shares the large steps;
// --min-weights sets its threshold, --no-adaptive shares every eligible step).

import { CharModel, createCell, generate, gru, lstm } from '@rxrnn/cells';
import { getBackend, getStepThreads, ready, setBackend, setStepThreads } from '@rxrnn/kernels';
import { asyncScheduler, Observable, queueScheduler, type SchedulerLike } from 'rxjs';

const N_X = 64;
const HIDDEN = [128, 256, 512];
const KINDS = ['lstm', 'gru'] as const;

/** µs per step of each fn (`steps` steps per call), medians over `runs` rounds that alternate
 *  between them, so that both paths see the same load on a shared machine. */
function medianUs(fns: readonly (() => void)[], steps: number, runs: number): number[] {
  const times = fns.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      times[i]!.push(((performance.now() - t0) * 1000) / steps);
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}

export default async function stream(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  await ready();
  const backend = flag('--backend');
  if (backend === 'native' || backend === 'wasm' || backend === 'js') setBackend(backend);
  else if (backend !== undefined) throw new RangeError(`stream: --backend ${backend}, expected native, wasm or js`);
  const runs = Number(flag('--runs') ?? 7);
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`stream: --runs ${flag('--runs')}, expected an integer >= 1`);
  const threads = Number(flag('--threads') ?? 1);
  if (threads !== 1 && threads !== 2) throw new RangeError(`stream: --threads ${flag('--threads')}, expected 1 or 2`);
  const minWeights = flag('--min-weights') === undefined ? undefined : Number(flag('--min-weights'));
  if (minWeights !== undefined && !(Number.isSafeInteger(minWeights) && minWeights >= 0))
    throw new RangeError(`stream: --min-weights ${flag('--min-weights')}, expected an integer >= 0`);
  await setStepThreads(threads, {
    ...(minWeights === undefined ? {} : { minWeights }),
    adaptive: !args.includes('--no-adaptive'),
  });

  // 64 distinct pre-made inputs, cycled: the timed loops allocate nothing but the operator's copy.
  const inputs = Array.from({ length: 64 }, (_, k) =>
    Float32Array.from({ length: N_X }, (_, i) => Math.sin(k * 31 + i)),
  );
  for (const kind of KINDS) {
    for (const hidden of HIDDEN) {
      const cell = createCell({ kind, inputSize: N_X, hiddenSize: hidden, seed: 1 });
      // About 0.1–0.2 s per run whatever the size.
      const steps = Math.round(2_000_000 / (hidden * 8));
      const state = cell.createState(1);
      const raw = (): void => {
        for (let t = 0; t < steps; t++) cell.step(state, inputs[t & 63]!, 1);
      };
      const op = kind === 'lstm' ? lstm(cell) : gru(cell);
      const source = new Observable<Float32Array>((s) => {
        for (let t = 0; t < steps && !s.closed; t++) s.next(inputs[t & 63]!);
        s.complete();
      });
      let sink = 0;
      const piped = source.pipe(op);
      const viaOperator = (): void => {
        piped.subscribe((h) => (sink += h[0]!));
      };
      // Warm up both paths (JIT, WASM tier-up) before timing.
      medianUs([raw, viaOperator], steps, 2);
      const [cellUs, opUs] = medianUs([raw, viaOperator], steps, runs);
      for (const [path, us] of [
        ['cell', cellUs!],
        ['operator', opUs!],
      ] as const) {
        const record = {
          suite: 'stream',
          cell: kind,
          hidden,
          path,
          us_per_step: Number(us.toFixed(2)),
          n_x: N_X,
          batch: 1,
          backend: getBackend(),
          threads,
          runs,
          steps,
        };
        if (json) console.log(JSON.stringify(record));
        else
          console.log(
            `${kind.padEnd(4)} H=${String(hidden).padEnd(4)} ${path.padEnd(8)} ${us.toFixed(2).padStart(8)} µs/step (${getBackend()}, ${threads} thread${threads > 1 ? 's' : ''})`,
          );
      }
      if (!Number.isFinite(sink)) throw new RangeError('stream: the operator emitted non-finite states');
    }
  }

  // generate(): the default asyncScheduler (yields every 4 ms) and queueScheduler (no yields).
  const vocab = Array.from({ length: 65 }, (_, i) => String.fromCharCode(32 + i));
  const model = new CharModel({ cell: 'lstm', vocab, hidden: 256, layers: 2, embeddingDim: 64, seed: 1 });
  const length = 2000;
  const run = (scheduler: SchedulerLike): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      generate(model, { prime: 'T', length, seed: 1, scheduler }).subscribe({
        error: reject,
        complete: () => resolve(length / ((performance.now() - t0) / 1000)),
      });
    });
  const forms = [
    ['generate', asyncScheduler],
    ['generate-sync', queueScheduler],
  ] as const;
  const rates = forms.map(() => [] as number[]);
  for (let r = 0; r < runs + 1; r++) {
    for (let i = 0; i < forms.length; i++) {
      const cps = await run(forms[i]![1]);
      if (r > 0) rates[i]!.push(cps); // the first round warms up
    }
  }
  forms.forEach(([path], i) => {
    const t = rates[i]!.sort((a, b) => a - b);
    const cps = t[Math.floor(t.length / 2)]!;
    const record = {
      suite: 'stream',
      cell: 'lstm',
      hidden: 256,
      layers: 2,
      path,
      chars_per_sec: Math.round(cps),
      embedding: 64,
      vocab: 65,
      batch: 1,
      backend: getBackend(),
      threads,
      runs,
      length,
    };
    if (json) console.log(JSON.stringify(record));
    else
      console.log(
        `lstm H=256 ×2 ${path.padEnd(13)} ${String(Math.round(cps)).padStart(8)} chars/s (${getBackend()}, ${threads} thread${threads > 1 ? 's' : ''})`,
      );
  });
  if (threads === 2) {
    const info = getStepThreads();
    if (!json)
      console.log(
        `step threads: ${info.steps} steps large enough to share, ${info.alone} of them run alone (sharing timed slower); the helper's rows used for ${info.helperChunks} of ${info.chunks} shared chunks, ${info.takenOver} taken over`,
      );
    await setStepThreads(1);
  }
}

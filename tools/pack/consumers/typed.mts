// TypeScript consumer (module/moduleResolution NodeNext, strict), type-checked with tsc --noEmit
// against the installed packages' .d.ts: the same pipeline as scenario.cjs, fully typed.

import { type BidirectionalOptions, BidirectionalStack, bidirectional } from '@rxrnn/bidirectional';
import { type Cell, CharModel, createCell, generate, lstm, Vocabulary } from '@rxrnn/cells';
import { clipByGlobalNorm, type GlobalNormResult } from '@rxrnn/clipping';
import { type Backend, gemv, getBackend } from '@rxrnn/kernels';
import {
  createKeyedStates,
  type KeyedEvent,
  type KeyedMetrics,
  type KeyedResult,
  keyed,
  keyedCharModel,
  type TokenInput,
} from '@rxrnn/keyed';
import { DirectoryStateStore } from '@rxrnn/keyed/node';
import { partitionOf, type WorkerOptions } from '@rxrnn/nats';
import {
  type Checkpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  type OnlineTrainEvent,
  type TrainSummary,
  trainOnline,
} from '@rxrnn/trainer';
import { loadCheckpoint, saveCheckpoint, trainOfflineToFile } from '@rxrnn/trainer/node';
import { from, lastValueFrom, type Observable, toArray } from 'rxjs';

const text: string = 'the cat sat on the mat. '.repeat(40);
const backend: Backend = getBackend();
const y = new Float32Array(2);
gemv(y, Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(1, 0, -1), 2, 3);

const vocab: Vocabulary = Vocabulary.fromText(text);
const cell: Cell = createCell({ kind: 'lstm', inputSize: vocab.size, hiddenSize: 8, seed: 3 });
const inputs: Float32Array[] = Array.from(vocab.encode('the cat'), (id) => {
  const x = new Float32Array(vocab.size);
  x[id] = 1;
  return x;
});
const hidden: Observable<Float32Array> = from(inputs).pipe(lstm(cell));
const hs: Float32Array[] = await lastValueFrom(hidden.pipe(toArray()));

const stack = new BidirectionalStack({ kind: 'gru', inputSize: vocab.size, hiddenSize: 6, layers: 1, seed: 5 });
const biOptions: BidirectionalOptions = { window: { size: 4 } };
const windows: Float32Array[][] = await lastValueFrom(from(inputs).pipe(bidirectional(stack, biOptions), toArray()));

const clip: GlobalNormResult = clipByGlobalNorm(Float32Array.of(3, 4), 1);

const model: CharModel = new CharModel({ cell: 'lstm', vocab: vocab.chars, hidden: 32, embeddingDim: 16, seed: 1 });
const events: OnlineTrainEvent[] = await lastValueFrom(
  from([text]).pipe(trainOnline(model, { bptt: 24, lr: 0.01 }), toArray()),
);
const losses: number[] = events.map((e) => e.loss);

const generated: Observable<string> = generate(model, { prime: 'the ', length: 48, seed: 7 });
const sample: string = (await lastValueFrom(generated.pipe(toArray()))).join('');

const states = createKeyedStates(keyedCharModel(model), { maxKeys: 2, store: new DirectoryStateStore('keys') });
const keyedIn: KeyedEvent<TokenInput, string>[] = Array.from(vocab.encode('the cat'), (value, i) => ({
  key: `u${i % 3}`,
  value,
}));
const keyedOut: KeyedResult<Float32Array | null, string>[] = await lastValueFrom(
  from(keyedIn).pipe(keyed(states, { maxBatch: 4 }), toArray()),
);
const metrics: KeyedMetrics = states.metrics();

const run: TrainSummary = await trainOfflineToFile({ model, text, batchSize: 4, bptt: 16, maxSteps: 1, threads: 2 });
const restored: Checkpoint = decodeCheckpoint(encodeCheckpoint(run.checkpoint));
const bytes: number = saveCheckpoint('model.ckpt', restored);
const loaded: Checkpoint = loadCheckpoint('model.ckpt');

const workerOptions: WorkerOptions = { servers: 'nats://127.0.0.1:4222', model: 'sha256:…', output: 'surprisal' };
const partition: number = partitionOf('alice', 8);

// @ts-expect-error kind must be one of the CellKind literals
createCell({ kind: 'transformer', inputSize: 1, hiddenSize: 1 });

export const summary = {
  backend,
  y,
  hs: hs.length,
  clip: clip.totalNorm,
  losses,
  sample,
  steps: restored.counters.step,
  bytes,
  loaded,
  windows: windows.length,
  keyed: keyedOut.length,
  evictions: metrics.evictions,
  workerOptions,
  partition,
};

// Data parallelism over the batch: a worker thread holds a replica of the model and its own
// streams [B/2, B); per update it copies the parameters in, runs lossAndGrad on its half and
// hands back gradients to be summed. Shared buffers are allocated here (see protocol.ts).

import type { Worker } from 'node:worker_threads';
import { getBackend } from '@rxrnn/kernels';
import { spawnWorker } from '../internal/spawn-worker.js';
import type { CharModelConfig, DropoutDraw } from '../model.js';
import { allocShared, CTRL, ERROR_BYTES, type HalfBatchWorkerData, OP } from './protocol.js';

/**
 * The second thread of a threads-2 OfflineTrainer: a model replica computing the gradients of the
 * streams [B/2, B). createHalfBatchWorker (Node) makes one; the trainer drives it.
 */
export interface HalfBatchWorker {
  /** Window tokens for the worker's streams, time-major [T×B2]; the trainer fills them. */
  readonly inputs: Int32Array;
  /** The next-token targets of those windows, same layout. */
  readonly targets: Int32Array;
  /**
   * Starts the worker's forward/backward with these parameters; returns immediately. `dropout`:
   * the draw of the worker's rows (firstRow = their index in the whole batch), for a model with dropout.
   */
  begin(params: Float32Array, resetState: boolean, dropout?: DropoutDraw): void;
  /**
   * Waits for the worker; returns its loss sum, prediction count and gradients (of ITS mean loss,
   * like CharModel.lossAndGrad), a view of shared memory valid until the next begin().
   */
  end(): {
    /** Sum of the cross-entropies, nats. */
    lossSum: number;
    /** Predictions in lossSum. */
    count: number;
    /** Gradients of the worker's mean loss. */
    grads: Float32Array;
  };
  /** A copy of the worker's carried stream state [B2 rows]. */
  getState(): Float32Array;
  /** Sets the worker's carried stream state (a resume). */
  setState(state: Float32Array): void;
  /** Ends the worker thread. */
  close(): Promise<void>;
}

/** Starts a worker for streams of width B2 = B − ⌊B/2⌋ and resolves once its model is built. */
export async function createHalfBatchWorker(
  config: CharModelConfig,
  paramCount: number,
  stateLen: number,
  T: number,
  B2: number,
): Promise<HalfBatchWorker> {
  const buffers = allocShared(paramCount, T, B2, stateLen);
  const data: HalfBatchWorkerData = { config, T, B2, buffers, backend: getBackend() };
  const worker = spawnWorker(import.meta.url, './half-batch-worker-main', data);
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m) =>
      m === 'ready' ? resolve() : reject(new Error(`trainer worker: unexpected first message ${String(m)}`)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`trainer worker: exited with code ${code} before it was ready`)));
  });
  return new SharedHalfBatchWorker(worker, buffers);
}

class SharedHalfBatchWorker implements HalfBatchWorker {
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
  private readonly ctrl: Int32Array;
  private readonly params: Float32Array;
  private readonly grads: Float32Array;
  private readonly state: Float32Array;
  private readonly result: Float64Array;
  private readonly error: Uint8Array;
  private seq = 0;
  private running = false;
  private closed = false;

  constructor(
    private readonly worker: Worker,
    b: HalfBatchWorkerData['buffers'],
  ) {
    this.ctrl = new Int32Array(b.ctrl);
    this.params = new Float32Array(b.params);
    this.grads = new Float32Array(b.grads);
    this.inputs = new Int32Array(b.inputs);
    this.targets = new Int32Array(b.targets);
    this.state = new Float32Array(b.state);
    this.result = new Float64Array(b.result);
    this.error = new Uint8Array(b.error);
    // An idle worker blocked in Atomics.wait must not keep the process alive.
    worker.unref();
  }

  begin(params: Float32Array, resetState: boolean, dropout?: DropoutDraw): void {
    if (this.closed) throw new Error('trainer worker: already closed');
    this.params.set(params);
    this.ctrl[CTRL.RESET] = resetState ? 1 : 0;
    this.ctrl[CTRL.MASK_SEED] = (dropout?.seed ?? 0) | 0;
    this.ctrl[CTRL.FIRST_ROW] = dropout?.firstRow ?? 0;
    this.post(OP.STEP);
    this.running = true;
  }

  end(): { lossSum: number; count: number; grads: Float32Array } {
    if (!this.running) throw new Error('trainer worker: end() without begin()');
    this.running = false;
    this.wait();
    return { lossSum: this.result[0]!, count: this.result[1]!, grads: this.grads };
  }

  getState(): Float32Array {
    return this.state.slice();
  }

  setState(state: Float32Array): void {
    if (state.length !== this.state.length)
      throw new RangeError(`trainer worker: state length ${state.length}, expected ${this.state.length}`);
    this.state.set(state);
    this.post(OP.LOAD_STATE);
    this.wait();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    // Keep the process alive until the worker has really gone (it was unref'ed while idle).
    this.worker.ref();
    this.post(OP.STOP);
    await exited;
  }

  private post(op: number): void {
    Atomics.store(this.ctrl, CTRL.OP, op);
    this.seq = Atomics.add(this.ctrl, CTRL.SEQ, 1) + 1;
    Atomics.notify(this.ctrl, CTRL.SEQ);
  }

  private wait(): void {
    // Block until the worker reports this sequence number done (the update needs its half anyway).
    for (;;) {
      const done = Atomics.load(this.ctrl, CTRL.DONE);
      if (done === this.seq) break;
      Atomics.wait(this.ctrl, CTRL.DONE, done, 60_000);
    }
    if (Atomics.load(this.ctrl, CTRL.ERROR) !== 0) {
      const end = this.error.indexOf(0);
      const msg = new TextDecoder().decode(this.error.slice(0, end < 0 ? ERROR_BYTES : end));
      throw new Error(`trainer worker: ${msg}`);
    }
  }
}

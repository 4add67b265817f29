// Shared-memory protocol between the trainer and its half-batch gradient worker: one control
// Int32Array (sequence numbers, op, flags) and SharedArrayBuffers for params, grads, the window's
// tokens, the worker's stream state and the loss result. The trainer allocates; both sides view.
import type { Backend } from '@rxrnn/kernels';

export const CTRL = { SEQ: 0, DONE: 1, OP: 2, RESET: 3, ERROR: 4 } as const;
export const OP = { STEP: 1, LOAD_STATE: 2, STOP: 3 } as const;
export const ERROR_BYTES = 1024;

export interface SharedBuffers {
  ctrl: SharedArrayBuffer; // Int32 × 8
  params: SharedArrayBuffer; // f32 × n
  grads: SharedArrayBuffer; // f32 × n
  inputs: SharedArrayBuffer; // i32 × T·B2
  targets: SharedArrayBuffer; // i32 × T·B2
  state: SharedArrayBuffer; // f32 × B2·S
  result: SharedArrayBuffer; // f64 × 2: lossSum, count
  error: SharedArrayBuffer; // utf-8 message bytes
}

export interface HalfBatchWorkerData {
  config: unknown; // CharModelConfig
  T: number;
  B2: number;
  buffers: SharedBuffers;
  /** The kernels backend of the thread that started the worker: both halves run the same code. */
  backend: Backend;
}

export function allocShared(n: number, T: number, B2: number, stateLen: number): SharedBuffers {
  return {
    ctrl: new SharedArrayBuffer(8 * 4),
    params: new SharedArrayBuffer(n * 4),
    grads: new SharedArrayBuffer(n * 4),
    inputs: new SharedArrayBuffer(T * B2 * 4),
    targets: new SharedArrayBuffer(T * B2 * 4),
    state: new SharedArrayBuffer(stateLen * 4),
    result: new SharedArrayBuffer(16),
    error: new SharedArrayBuffer(ERROR_BYTES),
  };
}

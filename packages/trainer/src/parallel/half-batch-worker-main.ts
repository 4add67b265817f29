// Worker-thread entry for half-batch gradients: builds a model replica from the config, then
// serves STEP / LOAD_STATE / STOP commands over the shared buffers until told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import { setBackend } from '@rxrnn/kernels';
import { type CharModelConfig, createCharModel } from '../model.js';
import { CTRL, ERROR_BYTES, type HalfBatchWorkerData, OP } from './protocol.js';

const { config, T, B2, buffers, backend } = workerData as HalfBatchWorkerData;
setBackend(backend);
const params = new Float32Array(buffers.params);
// The replica starts from the shared weights (every step copies them again): no initialization.
const model = createCharModel(config as CharModelConfig, params);
const ctrl = new Int32Array(buffers.ctrl);
const grads = new Float32Array(buffers.grads);
const inputs = new Int32Array(buffers.inputs);
const targets = new Int32Array(buffers.targets);
const sharedState = new Float32Array(buffers.state);
const result = new Float64Array(buffers.result);
const errorBytes = new Uint8Array(buffers.error);
const state = model.createState(B2);

parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, CTRL.SEQ, seen);
  seen = Atomics.load(ctrl, CTRL.SEQ);
  const op = Atomics.load(ctrl, CTRL.OP);
  if (op === OP.STOP) break;
  try {
    if (op === OP.STEP) {
      model.params.set(params);
      model.zeroGrads();
      if (ctrl[CTRL.RESET] === 1) state.fill(0);
      const r = model.lossAndGrad(inputs, targets, T, B2, state, {
        seed: ctrl[CTRL.MASK_SEED]! >>> 0,
        firstRow: ctrl[CTRL.FIRST_ROW]!,
      });
      grads.set(model.grads);
      sharedState.set(state);
      result[0] = r.lossSum;
      result[1] = r.count;
    } else if (op === OP.LOAD_STATE) {
      state.set(sharedState);
    }
  } catch (e) {
    const msg = new TextEncoder().encode(String((e as Error)?.message ?? e)).subarray(0, ERROR_BYTES - 1);
    errorBytes.fill(0);
    errorBytes.set(msg);
    Atomics.store(ctrl, CTRL.ERROR, 1);
  }
  Atomics.store(ctrl, CTRL.DONE, seen);
  Atomics.notify(ctrl, CTRL.DONE);
}

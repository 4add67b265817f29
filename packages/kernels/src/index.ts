// @rxrnn/kernels public API: float32 kernels on Float32Array (output first, dims last), the
// backend switch and WASM-memory allocator, the seeded Rng and initializers, and the reference twin.

/**
 * Float32 kernels for recurrent networks on `Float32Array`s (output first, dims last): GEMV/GEMM,
 * fused LSTM/GRU/RNN gates and steps, softmax cross-entropy, reductions, a seeded Rng and
 * initializers. Three backends behind the same exports (setBackend): a native addon in Node, a
 * WebAssembly SIMD128 module, and the plain-TypeScript reference twin.
 *
 * @module @rxrnn/kernels
 */

export type { Backend, BackendInfo, WasmMemoryInfo } from './backend.js';
export {
  allocF32,
  backendInfo,
  freeF32,
  getBackend,
  ready,
  setBackend,
  setNativeThreads,
  wasmMemoryInfo,
  wasmSupported,
} from './backend.js';
export { initGlorotUniform, initOrthogonal, initUniform } from './init.js';
export {
  gemmAB,
  gemmABt,
  gemmAtB,
  gemv,
  gemvT,
  ger,
  gruBackward,
  gruForward,
  gruNBackward,
  gruNForward,
  gruRzBackward,
  gruRzForward,
  lstmBackward,
  lstmForward,
  rnnBackward,
  rnnForward,
} from './kernels.js';
export type { NativeAddonInfo } from './native.js';
export { adamUpdate } from './optimizer.js';
export { addBias, axpy, fill, scale, sigmoid, sigmoidGrad, tanh, tanhGrad } from './reference/elementwise.js';
export * as reference from './reference/index.js';
export { dot, maxAbs, sumSquares } from './reference/reductions.js';
export { logSoftmaxRows, softmaxRows } from './reference/softmax.js';
export { RNG_STATE_LENGTH, Rng } from './rng.js';
export { gruSequence, lstmSequence } from './sequence.js';
export { softmaxCrossEntropy } from './softmax.js';
export type { StepThreadsInfo, StepThreadsOptions } from './step-threads.js';
export { getStepThreads, setStepThreads } from './step-threads.js';
export { gruStep, lstmStep, rnnStep } from './steps.js';

// @rxrnn/kernels public API: float32 kernels on Float32Array (output first, dims last), the
// backend switch and WASM-memory allocator, the seeded Rng and initializers, and the reference twin.
export {
  gemv, gemvT, gemmABt, gemmAtB, gemmAB, ger,
  rnnForward, rnnBackward, lstmForward, lstmBackward, gruForward, gruBackward,
  gruRzForward, gruNForward, gruNBackward, gruRzBackward, lstmStep, gruStep, rnnStep,
} from './kernels.js';
export { sigmoid, tanh, sigmoidGrad, tanhGrad, addBias, scale, axpy, fill } from './reference/elementwise.js';
export { softmaxRows, logSoftmaxRows, softmaxCrossEntropy } from './reference/softmax.js';
export { sumSquares, maxAbs, dot } from './reference/reductions.js';
export { setBackend, getBackend, wasmSupported, ready, allocF32, freeF32, wasmMemoryInfo } from './backend.js';
export type { Backend } from './backend.js';
export { setStepThreads, getStepThreads } from './step-threads.js';
export type { StepThreadsOptions, StepThreadsInfo } from './step-threads.js';
export { Rng, RNG_STATE_LENGTH } from './rng.js';
export { initUniform, initGlorotUniform, initOrthogonal } from './init.js';
export * as reference from './reference/index.js';

// The clean reference twin of every kernel, exported as the `reference` namespace: naive loops,
// float64 arithmetic per element, the oracle the wasm backend is validated against.

export { addBias, axpy, fill, scale, sigmoid, sigmoidGrad, tanh, tanhGrad } from './elementwise.js';
export {
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
} from './gates.js';
export { gemmAB, gemmABt, gemmAtB, gemv, gemvT, ger } from './linalg.js';
export { dot, maxAbs, sumSquares } from './reductions.js';
export { gruSequence, lstmSequence } from './sequence.js';
export { logSoftmaxRows, softmaxCrossEntropy, softmaxRows } from './softmax.js';
export { gruStep, lstmStep, rnnStep } from './step.js';

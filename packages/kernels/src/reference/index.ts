// The clean reference twin of every kernel, exported as the `reference` namespace: naive loops,
// float64 arithmetic per element, the oracle the wasm backend is validated against.
export { gemv, gemvT, gemmABt, gemmAtB, gemmAB, ger } from './linalg.js';
export {
  rnnForward, rnnBackward, lstmForward, lstmBackward, gruForward, gruBackward,
  gruRzForward, gruNForward, gruNBackward, gruRzBackward,
} from './gates.js';
export { lstmStep, gruStep, rnnStep } from './step.js';
export { sigmoid, tanh, sigmoidGrad, tanhGrad, addBias, scale, axpy, fill } from './elementwise.js';
export { softmaxRows, logSoftmaxRows, softmaxCrossEntropy } from './softmax.js';
export { sumSquares, maxAbs, dot } from './reductions.js';

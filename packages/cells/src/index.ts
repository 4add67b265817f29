// @rxrnn/cells public API: tanh RNN / GRU / LSTM cells with BPTT, stacks, embedding, dense head,
// the char-level model, PyTorch state_dict interop, and (operators/) the RxJS operators.
// Glossary: n_x input size, H (= n_a) hidden size, n_y/V output or vocabulary size, B batch,
// T timesteps, G gate blocks (rnn 1, gru 3, lstm 4), E embedding size, L layers.
// What the other rxrnn packages share but users do not need is in internal.ts (@rxrnn/cells/internal).

/**
 * tanh RNN, GRU and LSTM cells on flat buffers with BPTT, stacks, embedding, dense head and the
 * char-level model; PyTorch state_dict interop; and the RxJS operators rnn(), gru(), lstm(),
 * embed(), dense(), softmax(), sample() and generate() with state handles.
 *
 * @module @rxrnn/cells
 */
export type { Cell, CellMasks, CellStorage, StateGradientObserver, TorchNamer } from './cell.js';
export { RecurrentCell } from './cell.js';
export { CellTape } from './cell-tape.js';
export type {
  CharModelConfig,
  CharModelDropoutMasks,
  CharModelLayout,
  CharModelTorchOptions,
  LossResult,
  ResolvedCharModelConfig,
} from './char-model.js';
export { CHAR_MODEL_LIMITS, CharModel, checkCharModelConfig, resolveCharModelConfig } from './char-model.js';
export { createCell } from './create-cell.js';
export type { DenseConfig } from './dense.js';
export { Dense } from './dense.js';
export type { EmbeddingConfig } from './embedding.js';
export { Embedding } from './embedding.js';
export type { GradientFlow, GradientFlowOptions, LayerGradientFlow } from './gradient-flow.js';
export { decayStep, gradientFlow } from './gradient-flow.js';
export { GruCell } from './gru-cell.js';
export { LstmCell } from './lstm-cell.js';
export * from './operators/index.js';
export { RnnCell } from './rnn-cell.js';
export type {
  LayerDropoutMasks,
  RnnStackConfig,
  StackDropoutMasks,
  StackGradientObserver,
  TorchNameOptions,
} from './rnn-stack.js';
export { RnnStack } from './rnn-stack.js';
export type {
  CellConfig,
  CellKind,
  DropoutDraw,
  GruVariant,
  ParamView,
  TorchStateDict,
  TorchTensor,
  TorchTensorF32,
} from './types.js';
export { Vocabulary } from './vocabulary.js';

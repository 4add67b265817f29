// @rxrnn/cells public API: tanh RNN / GRU / LSTM cells with BPTT, stacks, embedding, dense head,
// the char-level model, PyTorch state_dict interop, and (operators/) the RxJS operators.
// Glossary: n_x input size, H (= n_a) hidden size, n_y/V output or vocabulary size, B batch,
// T timesteps, G gate blocks (rnn 1, gru 3, lstm 4), E embedding size, L layers.
export const PACKAGE_NAME = '@rxrnn/cells';
export type { CellKind, CellConfig, GruVariant, ParamView, TorchTensor, TorchTensorF32, TorchStateDict } from './types.js';
export { RecurrentCell, cellLayout, resolveCellConfig } from './cell.js';
export type { Cell, CellStorage, TorchNamer, ResolvedCellConfig } from './cell.js';
export { CellTape } from './cell-tape.js';
export { RnnCell } from './rnn-cell.js';
export { GruCell } from './gru-cell.js';
export { LstmCell } from './lstm-cell.js';
export { createCell } from './create-cell.js';
export { RnnStack } from './rnn-stack.js';
export type { RnnStackConfig, TorchNameOptions } from './rnn-stack.js';
export { Embedding } from './embedding.js';
export type { EmbeddingConfig } from './embedding.js';
export { Dense } from './dense.js';
export type { DenseConfig } from './dense.js';
export { Vocabulary } from './vocabulary.js';
export { CharModel, resolveCharModelConfig } from './char-model.js';
export type { CharModelConfig, ResolvedCharModelConfig, LossResult, CharModelTorchOptions } from './char-model.js';
export * from './operators/index.js';

// The cells' RxJS operators, state handles and generate(), re-exported by the package index.
export { rnn } from './rnn.js';
export { gru } from './gru.js';
export { lstm } from './lstm.js';
export type { RecurrentOptions } from './internal/recurrent.js';
export { embed, type EmbedOptions } from './embed.js';
export { dense, type DenseOptions } from './dense.js';
export { softmax, type SoftmaxOptions } from './softmax.js';
export { sample, type SampleOptions } from './sample.js';
export type { SamplingOptions } from './internal/sampling.js';
export { generate, type GenerateOptions } from './generate.js';
export { createStateHandle, StateHandle, type StateSpec } from '../state-handle.js';
export type { StepCell, StepModel, StepModelConfig, TokenEmbedding, DenseLayer } from './internal/contract-types.js';

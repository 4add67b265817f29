// The cells' RxJS operators, state handles and generate(), re-exported by the package index.

export { createStateHandle, StateHandle, type StateSpec } from '../state-handle.js';
export { type DenseOptions, dense } from './dense.js';
export { type EmbedOptions, embed } from './embed.js';
export { type GenerateOptions, generate } from './generate.js';
export { gru } from './gru.js';
export type { DenseLayer, StepCell, StepModel, StepModelConfig, TokenEmbedding } from './internal/contract-types.js';
export type { RecurrentOptions } from './internal/recurrent.js';
export { type ResolvedSampling, resolveSampling, type SamplingOptions, TokenSampler } from './internal/sampling.js';
export { lstm } from './lstm.js';
export { rnn } from './rnn.js';
export { type SampleOptions, sample } from './sample.js';
export { type SoftmaxOptions, softmax } from './softmax.js';

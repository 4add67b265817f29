// @rxrnn/bidirectional public API: bidirectional stacks (BPTT through both directions, PyTorch
// interop with `_reverse` names), merge modes, the windowed bidirectional() operator, and
// trainable many-to-many (tagger) and many-to-one (classifier) models on flat buffers.
// Glossary: n_x input size, H hidden size per direction, B batch, T timesteps, L layers.
export const PACKAGE_NAME = '@rxrnn/bidirectional';
export { BidirectionalStack, type BidirectionalStackConfig, type BidirectionalTorchOptions } from './bidirectional-stack.js';
export { MERGE_MODES, mergedSize, mergeForward, mergeBackward, type MergeMode } from './merge.js';
export { bidirectional, type BidirectionalOptions, type WindowOptions } from './operators/bidirectional.js';
export { SequenceTagger, type SequenceTaggerConfig } from './sequence-tagger.js';
export { SequenceClassifier, type SequenceClassifierConfig } from './sequence-classifier.js';
export type { SequenceModelConfig } from './internal/sequence-model.js';

// @rxrnn/bidirectional public API: bidirectional stacks (BPTT through both directions, PyTorch
// interop with `_reverse` names), merge modes, the windowed bidirectional() operator, and
// trainable many-to-many (tagger) and many-to-one (classifier) models on flat buffers.
// Glossary: n_x input size, H hidden size per direction, B batch, T timesteps, L layers.

/**
 * Bidirectional recurrent stacks (BPTT through both directions, PyTorch `_reverse` names), merge
 * modes, the windowed bidirectional() operator over a stream, and sequence taggers and classifiers.
 *
 * @module @rxrnn/bidirectional
 */
export {
  BidirectionalStack,
  type BidirectionalStackConfig,
  type BidirectionalTorchOptions,
} from './bidirectional-stack.js';
export type { SequenceModelConfig } from './internal/sequence-model.js';
export { MERGE_MODES, type MergeMode, mergeBackward, mergedSize, mergeForward } from './merge.js';
export { type BidirectionalOptions, bidirectional, type WindowOptions } from './operators/bidirectional.js';
export { SequenceClassifier, type SequenceClassifierConfig } from './sequence-classifier.js';
export { SequenceTagger, type SequenceTaggerConfig } from './sequence-tagger.js';

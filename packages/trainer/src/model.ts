// What the trainer needs from a model (the @rxrnn/cells CharModel contract in docs/contracts.md):
// flat params/grads of one layout, flat states [B×stateSize], a fused loss+BPTT over [T×B] windows.
import { CharModel, type CharModelConfig, type DropoutDraw, type LossResult } from '@rxrnn/cells';

export type { CharModelConfig, DropoutDraw };

/** The slice of CharModel the training loops drive. */
export interface TrainableModel {
  /** The model's config (a checkpoint stores it). */
  readonly config: CharModelConfig;
  /** All parameters, one flat buffer; optimizers update it in place. */
  readonly params: Float32Array;
  /** Their gradients, same layout. */
  readonly grads: Float32Array;
  /** Sets grads to 0. */
  zeroGrads(): void;
  /** Zeros for B rows. */
  createState(B: number): Float32Array;
  /**
   * Forward and backward over a [T × B] window; adds the gradients of the mean loss to grads,
   * advances state. `dropout` draws the window's dropout masks (models without dropout ignore it).
   */
  lossAndGrad(
    inputs: Int32Array,
    targets: Int32Array,
    T: number,
    B: number,
    state: Float32Array,
    dropout?: DropoutDraw,
  ): LossResult;
  /** Forward and loss only (dropout off). */
  evaluate(inputs: Int32Array, targets: Int32Array, T: number, B: number, state: Float32Array): LossResult;
  /** tokens [B] → logits [B × V], state advanced. */
  step(tokens: Int32Array, state: Float32Array): Float32Array;
}

/**
 * Builds a CharModel initialised from config.seed, or holding a copy of `params`; its `config`
 * is the resolved one, as checkpoints store it. Internal to the trainer.
 */
export function createCharModel(config: CharModelConfig, params?: Float32Array): CharModel {
  return new CharModel(config, params);
}

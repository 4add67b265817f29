// What the trainer needs from a model (the @rxrnn/cells CharModel contract in docs/contracts.md):
// flat params/grads of one layout, flat states [B×stateSize], a fused loss+BPTT over [T×B] windows.
import { CharModel, type CharModelConfig, type DropoutDraw } from '@rxrnn/cells';

export type { CharModelConfig, DropoutDraw };

/** The slice of CharModel the training loops drive. */
export interface TrainableModel {
  readonly config: CharModelConfig;
  readonly params: Float32Array;
  readonly grads: Float32Array;
  zeroGrads(): void;
  createState(B: number): Float32Array;
  /** A training window; `dropout` draws its dropout masks (models without dropout ignore it). */
  lossAndGrad(
    inputs: Int32Array,
    targets: Int32Array,
    T: number,
    B: number,
    state: Float32Array,
    dropout?: DropoutDraw,
  ): { lossSum: number; count: number };
  evaluate(
    inputs: Int32Array,
    targets: Int32Array,
    T: number,
    B: number,
    state: Float32Array,
  ): { lossSum: number; count: number };
  step(tokens: Int32Array, state: Float32Array): Float32Array;
}

/** Builds a fresh CharModel (initialised from config.seed); its `config` is the resolved one, as checkpoints store it. */
export function createCharModel(config: CharModelConfig): CharModel {
  return new CharModel(config);
}

// Shared types of @rxrnn/cells: cell kinds and configs, named parameter views, PyTorch tensors.
// Glossary: n_x input size, H (= n_a) hidden size, n_y/V output or vocabulary size, B batch,
// T timesteps, G gate blocks (rnn 1, gru 3, lstm 4), E embedding size, L layers.

/** The recurrent cell: 'rnn' (tanh RNN, G = 1 gate block), 'gru' (G = 3) or 'lstm' (G = 4). */
export type CellKind = 'rnn' | 'gru' | 'lstm';

/**
 * GRU candidate form. 'reset-after' (default): n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), the
 * PyTorch/cuDNN/Keras form, so PyTorch GRU weights import exactly; costs H extra parameters (b_hn).
 * 'reset-before': n = tanh(W_in x + b_n + W_hn (r ⊙ h)), Cho et al. and the course notes.
 */
export type GruVariant = 'reset-after' | 'reset-before';

/** What a cell is: its kind, sizes and initialization (createCell, RnnCell, GruCell, LstmCell). */
export interface CellConfig {
  /** 'rnn' (tanh), 'gru' or 'lstm'. */
  kind: CellKind;
  /** n_x, a positive integer. */
  inputSize: number;
  /** H (n_a), a positive integer. */
  hiddenSize: number;
  /** GRU only; default 'reset-after' (PyTorch-exact import, see GruVariant). */
  gruVariant?: GruVariant;
  /** Seed of the initializer's Rng; default 0. */
  seed?: number;
  /**
   * LSTM only: the initial forget-gate bias b_f (the f block of `bias`). Default 1: f = σ(1) ≈ 0.73
   * at the start, so the cell state and its gradient pass through many steps (Jozefowicz et al.,
   * 2015); 0 gives f ≈ 0.5 and a faster decay. Ignored by 'rnn' and 'gru'; a finite number.
   */
  forgetBias?: number;
}

/**
 * Which dropout masks a training window draws (`CharModel.lossAndGrad`, `RnnStack.forward`).
 * The masks are a pure function of `seed`, the global row `firstRow + b` of each batch row and
 * the mask's place in the model, so the same draw gives the same masks, and the rows [0, B/2) and
 * [B/2, B) of a batch drawn separately (firstRow 0 and B/2) equal the rows of one draw over all B.
 */
export interface DropoutDraw {
  /** Seed of this window's masks: an integer, its low 32 bits are used. */
  seed: number;
  /** Global index of the first of these B rows in the whole batch. Default 0. */
  firstRow?: number;
}

/** A named slice of a flat parameter buffer: `buffer.subarray(offset, offset + size(shape))`. */
export interface ParamView {
  /** The tensor's name: PyTorch's base name ('weight_ih', 'bias', …) or a model's dotted path. */
  name: string;
  /** Index of its first float in the flat buffer. */
  offset: number;
  /** Its dims, row-major ([rows, cols] for a matrix, [n] for a vector). */
  shape: number[];
}

/** A PyTorch tensor as JSON or in memory: row-major `data`, `shape` its dims. */
export interface TorchTensor {
  /** The dims, as `tensor.shape` in PyTorch. */
  shape: number[];
  /** The values, row-major; the product of `shape` of them. */
  data: ArrayLike<number>;
}

/** A PyTorch state_dict: tensor name → tensor. */
export type TorchStateDict = Record<string, TorchTensor>;

/** A tensor this package produced: always a fresh Float32Array. */
export interface TorchTensorF32 {
  /** The dims, as `tensor.shape` in PyTorch. */
  shape: number[];
  /** The values, row-major, a copy the caller owns. */
  data: Float32Array;
}

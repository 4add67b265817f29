// PyTorch export: a checkpoint's model as {config, params} JSON in torch.nn.Embedding /
// RNN|GRU|LSTM / Linear state_dict names, loadable by tools/torch/load_export.py.
// Validates the checkpoint as every consumer does (checkCheckpoint), then builds a throwaway
// CharModel to produce the state dict; returns fresh plain arrays.
import { type Checkpoint, checkCheckpoint } from './checkpoint.js';
import { createCharModel } from './model.js';

/** A model in PyTorch layout: the torch.nn config and the state_dict tensors as plain arrays. */
export interface TorchExport {
  /** The torch.nn modules to build (tools/torch/load_export.py reads it). */
  config: {
    /** The recurrent module: nn.LSTM, nn.GRU or nn.RNN (tanh). */
    mode: 'LSTM' | 'GRU' | 'RNN_TANH';
    /** The characters in id order. */
    vocab: string[];
    /** nn.Embedding, or one-hot input. */
    input: 'embedding' | 'onehot';
    /** E (0 for one-hot). */
    embedding_dim: number;
    /** H. */
    hidden_size: number;
    /** L. */
    num_layers: number;
    /** nn.LSTM/GRU/RNN(dropout=p): between stacked layers (the model's `dropout`). */
    dropout: number;
    /** nn.Dropout(p) on the embedding output and before the head (`embeddingDropout`, `outputDropout`). */
    embedding_dropout: number;
    /** See embedding_dropout. */
    output_dropout: number;
    /**
     * Variational dropout of the layers' inputs and of h in the recurrent products (Keras's
     * `dropout` / `recurrent_dropout`): torch.nn has no such module; recorded for training
     * elsewhere. All five are identity at evaluation, so the logits do not depend on them.
     */
    input_dropout: number;
    /** See input_dropout. */
    recurrent_dropout: number;
  };
  /** The state_dict: name → row-major tensor. */
  params: Record<
    string,
    {
      /** Dims, as tensor.shape. */
      shape: number[];
      /** Values, row-major. */
      data: number[];
    }
  >;
}

/** Which parameters exportTorch writes. */
export interface ExportOptions {
  /** 'best' (default): the best-validation parameters when the checkpoint has them; 'latest': the last ones. */
  which?: 'best' | 'latest';
}

const MODES = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN_TANH' } as const;

/**
 * A checkpoint's model as `{config, params}` in the state_dict names of torch.nn.Embedding,
 * RNN|GRU|LSTM and Linear (`embedding.weight`, `rnn.weight_ih_l{k}`, ..., `linear.bias`).
 * The checkpoint is validated first, the same way decodeCheckpoint does (so export refuses what
 * `sample` and `score` refuse).
 * @throws CheckpointError naming the field (or the tensor a short `params` would cut:
 *   `params length 25901, expected ... = 26001 (100 values short: linear.bias [65] at offset
 *   25936 and what follows would be missing)`); RangeError for a reset-before GRU (PyTorch has no
 *   such module) or a bad `which`.
 * @example
 * ```ts
 * import { CharModel, Vocabulary } from '@rxrnn/cells';
 * import { exportTorch, trainOffline } from '@rxrnn/trainer';
 * const text = 'abcab cabca bcabc '.repeat(10);
 * const model = new CharModel({ cell: 'lstm', vocab: Vocabulary.fromText(text).chars, hidden: 8, seed: 1 });
 * const { checkpoint } = await trainOffline({ model, text, maxSteps: 2, batchSize: 2, bptt: 8 });
 * const torch = exportTorch(checkpoint); // JSON.stringify it for tools/torch/load_export.py
 * console.log(torch.config.mode, Object.keys(torch.params)); // LSTM [ 'embedding.weight', 'rnn.weight_ih_l0', … ]
 * ```
 */
export function exportTorch(ckpt: Checkpoint, options: ExportOptions = {}): TorchExport {
  const valid = checkCheckpoint(ckpt);
  const cfg = valid.model;
  if (cfg.cell === 'gru' && cfg.gruVariant === 'reset-before') {
    // Porting note: torch.nn.GRU computes n with r applied after W_hn; reset-before weights would load but compute something else.
    throw new RangeError(
      "exportTorch: a 'reset-before' GRU has no torch.nn.GRU equivalent (PyTorch is reset-after); train with gruVariant 'reset-after' to export",
    );
  }
  const which = options.which ?? 'best';
  if (which !== 'best' && which !== 'latest')
    throw new RangeError(`exportTorch: which must be 'best' or 'latest', got ${String(which)}`);
  const model = createCharModel(cfg, which === 'best' && valid.best ? valid.best.params : valid.params);
  const dict = model.toTorchStateDict();
  const params: TorchExport['params'] = {};
  for (const [name, t] of Object.entries(dict)) params[name] = { shape: [...t.shape], data: Array.from(t.data) };
  const input = cfg.input ?? 'embedding';
  return {
    config: {
      mode: MODES[cfg.cell],
      vocab: [...cfg.vocab],
      input,
      embedding_dim: input === 'embedding' ? (cfg.embeddingDim ?? 32) : 0,
      hidden_size: cfg.hidden,
      num_layers: cfg.layers ?? 1,
      dropout: cfg.dropout ?? 0,
      embedding_dropout: cfg.embeddingDropout ?? 0,
      output_dropout: cfg.outputDropout ?? 0,
      input_dropout: cfg.inputDropout ?? 0,
      recurrent_dropout: cfg.recurrentDropout ?? 0,
    },
    params,
  };
}

// Flags shared by the commands that create a model (train, demo, serve), their defaults, and
// the model config they describe. `train` raises the model defaults to its quality settings
// (TRAIN_MODEL_DEFAULTS); demo and serve keep the small model that visibly learns in a minute.
import type { CharModelConfig } from '@rxrnn/cells';
import type { Flags, FlagTable } from '../args.js';

export const MODEL_FLAGS: FlagTable = {
  cell: { type: 'string', choices: ['lstm', 'gru', 'rnn'], default: 'lstm', help: 'recurrent cell' },
  hidden: { type: 'int', min: 1, max: 4096, default: 128, help: 'hidden units per layer' },
  layers: { type: 'int', min: 1, max: 8, default: 1, help: 'stacked layers' },
  embedding: { type: 'int', min: 1, max: 4096, default: 32, help: 'embedding size (characters in)' },
  seq: { type: 'int', min: 2, max: 4096, default: 64, help: 'characters per truncated-BPTT window' },
  lr: { type: 'number', min: 0, exclusiveMin: true, max: 10, default: 3e-3, help: 'learning rate (Adam)' },
  seed: {
    type: 'int',
    min: 0,
    max: 2 ** 31 - 1,
    default: 1,
    help: 'seed of the initial weights, data order, dropout masks and samples',
  },
  // Dropout (training only; the model config and checkpoint keep it). See @rxrnn/cells "Dropout".
  dropout: {
    type: 'number',
    min: 0,
    max: 0.99,
    default: 0,
    help: 'dropout on the embedding output, between stacked layers and before the head (PyTorch language-model recipe)',
  },
  'embedding-dropout': {
    type: 'number',
    min: 0,
    max: 0.99,
    help: 'dropout on the embedding output alone',
    defaultFrom: 'dropout',
  },
  'output-dropout': {
    type: 'number',
    min: 0,
    max: 0.99,
    help: 'dropout before the head alone',
    defaultFrom: 'dropout',
  },
  'input-dropout': {
    type: 'number',
    min: 0,
    max: 0.99,
    default: 0,
    help: "variational dropout of every layer's input, one mask per stream and window (Keras dropout)",
  },
  'recurrent-dropout': {
    type: 'number',
    min: 0,
    max: 0.99,
    default: 0,
    help: 'variational dropout of h in the recurrent products, one mask per stream and window (Keras recurrent_dropout)',
  },
};

/** The model and optimizer flags with other defaults (same names, ranges and help). */
export function withDefaults(table: FlagTable, defaults: Record<string, number | string>): FlagTable {
  const out: FlagTable = { ...table };
  for (const [name, value] of Object.entries(defaults)) {
    const spec = out[name];
    if (!spec || spec.type === 'boolean') throw new Error(`withDefaults: no flag --${name} takes a default`);
    out[name] = { ...spec, default: value } as typeof spec;
  }
  return out;
}

/** The model config the flags describe, for a vocabulary. */
export function modelConfig(flags: Flags, vocab: string[]): CharModelConfig {
  const dropout = (flags.dropout as number | undefined) ?? 0;
  return {
    cell: flags.cell as CharModelConfig['cell'],
    hidden: flags.hidden as number,
    layers: flags.layers as number,
    vocab,
    embeddingDim: flags.embedding as number,
    seed: flags.seed as number,
    dropout,
    embeddingDropout: (flags['embedding-dropout'] as number | undefined) ?? dropout,
    outputDropout: (flags['output-dropout'] as number | undefined) ?? dropout,
    inputDropout: (flags['input-dropout'] as number | undefined) ?? 0,
    recurrentDropout: (flags['recurrent-dropout'] as number | undefined) ?? 0,
  };
}

/**
 * The vocabulary of text whose characters are not known in advance (stdin): tab, newline and
 * printable ASCII. Anything else in the stream is skipped and counted.
 */
export function streamVocabulary(): string[] {
  const chars = ['\t', '\n'];
  for (let c = 32; c < 127; c++) chars.push(String.fromCharCode(c));
  return chars;
}

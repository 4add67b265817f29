// `npm run --silent import-onnx -- MODEL.onnx OUT.ckpt [--vocab vocab.json]`: reads an ONNX char
// model (PyTorch's exporter, tf2onnx or export-onnx wrote it) into a charstream checkpoint that
// sample, score and serve load like a trained one. The vocabulary: --vocab, else the file's metadata.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fromOnnx } from '@rxrnn/cells/onnx';
import { Rng } from '@rxrnn/kernels';
import { type Checkpoint, createOptimizer, saveCheckpoint } from '@rxrnn/trainer/node';
import { parseToolArgs } from './tool-args.js';

const USAGE = `usage: npm run --silent import-onnx -- MODEL.onnx OUT.ckpt [--vocab vocab.json]

  reads an ONNX model of the shape tokens → Gather (or OneHot) → LSTM/GRU/RNN layers → MatMul+Add
  (or Gemm) → logits and writes a charstream checkpoint. Peepholes, clip, other activations,
  input_forget, reverse-only layers and other ops on the path are refused with the node's name.
  --vocab F   a JSON array of the V characters in id order (needed when the file has no "vocab"
              metadata; PyTorch's exporter writes none)

example: npm run --silent import-onnx -- model.onnx model.ckpt --vocab vocab.json
         npm run charstream -- sample --checkpoint model.ckpt --prime "The "`;

const parsed = parseToolArgs('import-onnx', USAGE, { vocab: { type: 'string' } }, ['MODEL.onnx', 'OUT.ckpt']);
const [modelPath, outPath] = parsed.positionals as [string, string];

/** A problem with the user's files: one line, exit code 2. */
class InputError extends Error {}

function readVocab(path: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`--vocab ${path}: expected a JSON array of characters (${(e as Error).message})`);
  }
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'string'))
    throw new InputError(`--vocab ${path}: expected a JSON array of characters in id order`);
  return v as string[];
}

try {
  const vocab = typeof parsed.values.vocab === 'string' ? readVocab(parsed.values.vocab) : undefined;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(modelPath));
  } catch (e) {
    throw new InputError(`cannot read ${modelPath}: ${(e as Error).message}`);
  }
  const r = fromOnnx(bytes, { vocab });
  if (r.kind !== 'char-model') {
    throw new InputError(
      `${modelPath} holds an RnnStack over float features (input "${r.info.inputs.data}"), not a char model (token ids → logits over a vocabulary); load it in code with fromOnnx`,
    );
  }
  const model = r.model;
  const config = model.config;
  // An online checkpoint around the imported weights (Adam at step 0, zero stream state), so that
  // `charstream train --input - --resume` and `serve --checkpoint` continue learning from it.
  const ckpt: Checkpoint = {
    model: { ...config, vocab: [...config.vocab] },
    params: model.params.slice(),
    training: { mode: 'online', source: 'onnx', file: basename(modelPath), producer: r.info.producer },
    optimizer: createOptimizer({ kind: 'adam' }, model.paramCount()).getState(),
    rng: new Rng(config.seed).getState(),
    cursor: { position: 0, epoch: 0, shift: 0, state: model.createState(1) },
    counters: { step: 0, tokens: 0, seconds: 0 },
    history: [],
    best: null,
  };
  saveCheckpoint(outPath, ckpt);
  console.error(
    `import-onnx: ${r.info.producer || 'unknown producer'} opset ${r.info.opset}: ${config.cell}${config.cell === 'gru' ? ` ${config.gruVariant}` : ''} ${config.layers}×${config.hidden}, ${config.input === 'embedding' ? `embedding ${config.embeddingDim}` : 'one-hot'}, V = ${config.vocab.length}, ${model.paramCount()} parameters → ${outPath}`,
  );
} catch (e) {
  const message = (e as Error).message.replace('pass options.vocab,', 'pass --vocab FILE with');
  console.error(`import-onnx: ${message}`);
  process.exit(e instanceof InputError || e instanceof RangeError || e instanceof TypeError ? 2 : 1);
}

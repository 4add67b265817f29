// `npm run --silent export-onnx -- CHECKPOINT OUT.onnx [--latest]`: writes a checkpoint's char
// model as an ONNX file (opset 14, LSTM/GRU/RNN nodes, vocabulary in the metadata) that
// onnxruntime runs: inputs tokens [T, B] (int64), h0 (c0) [L, B, H]; outputs logits, hn (cn).
import { writeFileSync } from 'node:fs';
import { CharModel } from '@rxrnn/cells';
import { toOnnx } from '@rxrnn/cells/onnx';
import { CheckpointError, loadCheckpoint } from '@rxrnn/trainer/node';
import { parseToolArgs } from './tool-args.js';

const USAGE = `usage: npm run --silent export-onnx -- CHECKPOINT OUT.onnx [--latest]

  writes the checkpoint's char model as ONNX (opset 14): inputs tokens (int64 [T, B]), h0 [L, B, H]
  (and c0 for LSTM); outputs logits [T, B, V], hn (and cn). T and B are dynamic: T = 1 with the
  states carried is one streaming step. The vocabulary is the metadata entry "vocab" (JSON).
  --latest   export the last parameters instead of the best-validation ones

example: npm run --silent export-onnx -- charstream.ckpt model.onnx
         (then in Node: new (require('onnxruntime-node').InferenceSession)... or see docs/onnx.md)`;

const parsed = parseToolArgs('export-onnx', USAGE, { latest: { type: 'boolean' } }, ['CHECKPOINT', 'OUT.onnx']);
const [ckptPath, outPath] = parsed.positionals as [string, string];
try {
  const ckpt = loadCheckpoint(ckptPath);
  const model = new CharModel(ckpt.model, !parsed.values.latest && ckpt.best ? ckpt.best.params : ckpt.params);
  const bytes = toOnnx(model);
  writeFileSync(outPath, bytes);
  const c = model.config;
  console.error(
    `export-onnx: ${c.cell} ${c.layers}×${c.hidden}, V = ${model.vocabSize}, ${model.paramCount()} parameters, ${bytes.length} bytes → ${outPath}`,
  );
} catch (e) {
  console.error(`export-onnx: ${(e as Error).message}`);
  process.exit(e instanceof CheckpointError || e instanceof RangeError ? 2 : 1);
}

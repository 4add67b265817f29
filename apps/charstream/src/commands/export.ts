// `charstream export`: writes a checkpoint's model for other runtimes — ONNX (onnxruntime in Node,
// browsers, Python...) or PyTorch state_dict JSON (tools/torch/load_export.py loads it).
import { writeFileSync } from 'node:fs';
import { CharModel } from '@rxrnn/cells';
import { toOnnx } from '@rxrnn/cells/onnx';
import { exportTorch } from '@rxrnn/trainer/node';
import { CliError, type Command } from '../cli-io.js';
import { loadModel } from '../model-io.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a checkpoint as ONNX or PyTorch state_dict JSON',
  usage: 'export --checkpoint FILE --out FILE [--format onnx|torch --latest]',
  examples: [
    'charstream export --checkpoint charstream.ckpt --out model.onnx',
    'charstream export --checkpoint charstream.ckpt --out model.json --format torch',
  ],
  flags: {
    checkpoint: { type: 'string', arg: 'FILE', help: 'checkpoint written by train or serve' },
    out: { type: 'string', arg: 'FILE', help: 'the file to write' },
    format: {
      type: 'string',
      choices: ['onnx', 'torch'],
      default: 'onnx',
      help: 'onnx: opset 14, inputs tokens [T, B], h0 (c0), outputs logits, hn (cn); torch: state_dict JSON',
    },
    latest: { type: 'boolean', help: 'the last parameters instead of the best-validation ones' },
    verbose: { type: 'boolean', help: 'stack traces on errors' },
  },
  async run(flags, io) {
    if (flags.checkpoint === undefined) throw new CliError('--checkpoint F is required');
    if (flags.out === undefined) throw new CliError('--out F is required');
    const out = flags.out as string;
    const { checkpoint } = loadModel(flags.checkpoint as string);
    const latest = flags.latest === true;
    let bytes: Uint8Array;
    try {
      if (flags.format === 'torch') {
        const json = JSON.stringify(exportTorch(checkpoint, { which: latest ? 'latest' : 'best' }));
        bytes = new TextEncoder().encode(json);
      } else {
        const model = new CharModel(
          checkpoint.model,
          !latest && checkpoint.best ? checkpoint.best.params : checkpoint.params,
        );
        bytes = toOnnx(model);
      }
    } catch (e) {
      // A model the format cannot hold (PyTorch has no reset-before GRU) is the user's to fix.
      if (e instanceof RangeError) throw new CliError(e.message);
      throw e;
    }
    try {
      writeFileSync(out, bytes);
    } catch (e) {
      throw new CliError(`cannot write ${out}: ${(e as Error).message}`);
    }
    const c = checkpoint.model;
    io.stderr.write(
      `charstream export: ${c.cell} ${c.layers ?? 1}×${c.hidden}, V = ${c.vocab.length} (${latest || !checkpoint.best ? 'latest' : 'best'} parameters) → ${out} (${flags.format}, ${bytes.length} bytes)\n`,
    );
    return 0;
  },
};

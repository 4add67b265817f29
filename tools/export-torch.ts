// `npm run --silent export-torch -- CHECKPOINT OUT.json [--latest]`: writes a trained checkpoint's
// model in PyTorch state_dict layout ({config, params}) for tools/torch/load_export.py.
import { writeFileSync } from 'node:fs';
import { CheckpointError, exportTorch, loadCheckpoint } from '@rxrnn/trainer/node';
import { parseToolArgs } from './tool-args.js';

const USAGE = `usage: npm run --silent export-torch -- CHECKPOINT OUT.json [--latest]

  writes {"config": {mode, vocab, input, embedding_dim, hidden_size, num_layers, dropout,
                     embedding_dropout, output_dropout, input_dropout, recurrent_dropout},
          "params": {name: {shape, data}}} with torch.nn.Embedding / RNN|GRU|LSTM / Linear names
  --latest   export the last parameters instead of the best-validation ones

example: npm run --silent export-torch -- charstream.ckpt model.json
         python3 tools/torch/load_export.py model.json --text "The "   # the logits from torch.nn`;

const parsed = parseToolArgs('export-torch', USAGE, { latest: { type: 'boolean' } }, ['CHECKPOINT', 'OUT.json']);
const [ckptPath, outPath] = parsed.positionals as [string, string];
try {
  const exp = exportTorch(loadCheckpoint(ckptPath), { which: parsed.values.latest ? 'latest' : 'best' });
  writeFileSync(outPath, JSON.stringify(exp));
  const n = Object.values(exp.params).reduce((s, t) => s + t.data.length, 0);
  console.error(
    `export-torch: ${exp.config.mode} ${exp.config.num_layers}×${exp.config.hidden_size}, ${n} parameters → ${outPath}`,
  );
} catch (e) {
  console.error(`export-torch: ${(e as Error).message}`);
  process.exit(e instanceof CheckpointError || e instanceof RangeError ? 2 : 1);
}

// PyTorch export: the exported JSON loads into torch.nn modules (tools/torch/load_export.py) and
// gives the same logits as the project's model (≤ 1e-4). Skipped when python3 + torch is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CharModel, type CharModelConfig } from '@rxrnn/cells';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, exportTorch, OfflineTrainer } from '../src/index.js';

const PY = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../../tools/torch/load_export.py', import.meta.url));
const hasTorch = existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch)
  console.warn('export-torch.spec: SKIPPING the PyTorch round trip: /usr/bin/python3 with torch not found');
const dir = mkdtempSync(join(tmpdir(), 'rxrnn-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = 'to be or not to be, that is the question. '.repeat(40);
const vocab = [...new Set(text)].sort();

const cases: [string, Partial<CharModelConfig>][] = [
  ['LSTM, embedding, 2 layers', { cell: 'lstm', layers: 2 }],
  ['GRU (reset-after), embedding', { cell: 'gru' }],
  ['tanh RNN, one-hot, 2 layers', { cell: 'rnn', input: 'onehot', layers: 2 }],
  // Trained with dropout: the export carries the rates, and both sides evaluate without it.
  [
    'LSTM, 2 layers, every dropout',
    {
      cell: 'lstm',
      layers: 2,
      dropout: 0.3,
      embeddingDropout: 0.2,
      outputDropout: 0.25,
      inputDropout: 0.1,
      recurrentDropout: 0.15,
    },
  ],
];

describe('exportTorch', () => {
  it.skipIf(!hasTorch).each(cases)('%s: torch logits match the project within 1e-4', async (_name, cfg) => {
    const model = new CharModel({
      cell: 'lstm',
      vocab,
      hidden: 12,
      embeddingDim: 6,
      seed: 4,
      ...cfg,
    } as CharModelConfig);
    // A few updates so the weights are not the initializer's (biases especially).
    const tr = new OfflineTrainer(model, text, { batchSize: 4, bptt: 16, evalEvery: 4, lr: 1e-2 });
    for (let i = 0; i < 8; i++) tr.trainStep();
    const ckpt = decodeCheckpoint(encodeCheckpoint(tr.toCheckpoint()));
    const exp = exportTorch(ckpt, { which: 'latest' });
    const path = join(dir, `${_name.replace(/\W+/g, '-')}.json`);
    writeFileSync(path, JSON.stringify(exp));
    const probe = 'not that question';
    const r = spawnSync(PY, [script, path, '--text', probe], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const torchLogits = (JSON.parse(r.stdout) as { logits: number[][] }).logits;
    // The project's logits, one step at a time from a zero state.
    const state = model.createState(1);
    const ids = [...probe].map((c) => vocab.indexOf(c));
    let maxDiff = 0;
    ids.forEach((id, t) => {
      const logits = model.step(Int32Array.of(id), state);
      for (let v = 0; v < vocab.length; v++) maxDiff = Math.max(maxDiff, Math.abs(logits[v]! - torchLogits[t]![v]!));
    });
    expect(torchLogits.length).toBe(ids.length);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it.skipIf(!hasTorch)('load_export.py refuses a dropout rate outside [0, 1)', () => {
    const model = new CharModel({ cell: 'lstm', vocab, hidden: 4, embeddingDim: 2, seed: 1 });
    const exp = exportTorch(new OfflineTrainer(model, text, { batchSize: 2, bptt: 8 }).toCheckpoint());
    const path = join(dir, 'bad-dropout.json');
    writeFileSync(path, JSON.stringify({ ...exp, config: { ...exp.config, recurrent_dropout: 1.5 } }));
    const r = spawnSync(PY, [script, path, '--text', 'to be'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/load_export: config recurrent_dropout must be a number in \[0, 1\), got 1.5/);
  });

  it('writes the documented layout and refuses a reset-before GRU', () => {
    const model = new CharModel({ cell: 'lstm', vocab, hidden: 8, embeddingDim: 4, seed: 1 });
    const tr = new OfflineTrainer(model, text, { batchSize: 2, bptt: 8 });
    const exp = exportTorch(tr.toCheckpoint());
    expect(exp.config).toEqual({
      mode: 'LSTM',
      vocab,
      input: 'embedding',
      embedding_dim: 4,
      hidden_size: 8,
      num_layers: 1,
      dropout: 0,
      embedding_dropout: 0,
      output_dropout: 0,
      input_dropout: 0,
      recurrent_dropout: 0,
    });
    const dropped = new OfflineTrainer(
      new CharModel({ cell: 'gru', vocab, hidden: 8, layers: 3, dropout: 0.5, recurrentDropout: 0.2, seed: 1 }),
      text,
      { batchSize: 2, bptt: 8 },
    );
    expect(exportTorch(dropped.toCheckpoint()).config).toMatchObject({
      mode: 'GRU',
      num_layers: 3,
      dropout: 0.5,
      embedding_dropout: 0,
      recurrent_dropout: 0.2,
    });
    expect(Object.keys(exp.params).sort()).toEqual([
      'embedding.weight',
      'linear.bias',
      'linear.weight',
      'rnn.bias_hh_l0',
      'rnn.bias_ih_l0',
      'rnn.weight_hh_l0',
      'rnn.weight_ih_l0',
    ]);
    expect(exp.params['rnn.weight_ih_l0']!.shape).toEqual([32, 4]);
    const gru = new OfflineTrainer(
      new CharModel({ cell: 'gru', gruVariant: 'reset-before', vocab, hidden: 8, seed: 1 }),
      text,
      { batchSize: 2, bptt: 8 },
    );
    expect(() => exportTorch(gru.toCheckpoint())).toThrow(/reset-before.*no torch.nn.GRU equivalent/);
  });
});

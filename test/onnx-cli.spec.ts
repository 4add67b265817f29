// The ONNX commands as a user runs them (node + tsx from the sources): `export-onnx`,
// `import-onnx` and `charstream export --format onnx|torch`. The exported file runs in
// onnxruntime-node with the checkpoint model's logits; a PyTorch-exported file imports into a
// checkpoint that `charstream sample` uses; bad input exits 2 with one line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CharModel } from '@rxrnn/cells';
import { exportTorch, loadCheckpoint } from '@rxrnn/trainer/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, ortRun, ortSession } from './support/onnxruntime.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rxrnn-onnx-cli-'));
const ENTRY: Record<string, string[]> = {
  charstream: ['apps/charstream/src/main.ts'],
  'export-onnx': ['tools/export-onnx.ts'],
  'import-onnx': ['tools/import-onnx.ts'],
};
const run = (script: string, args: string[], input = '') =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@rxrnn/source', ...ENTRY[script]!, ...args], {
    cwd: root,
    encoding: 'utf8',
    input,
  });
const ckpt = join(dir, 'm.ckpt');

beforeAll(() => {
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'the cat sat on the mat and the dog ran far away from home.\n'.repeat(100));
  const r = run('charstream', [
    'train',
    '--input',
    input,
    '--steps',
    '10',
    '--hidden',
    '16',
    '--layers',
    '2',
    '--embedding',
    '8',
    '--seq',
    '16',
    '--batch',
    '4',
    '--threads',
    '1',
    '--checkpoint',
    ckpt,
  ]);
  expect(r.status, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The checkpoint's model (best parameters) and its logits for `text` from a zero state. */
function reference(text: string): { model: CharModel; ids: Int32Array; logits: Float32Array } {
  const c = loadCheckpoint(ckpt);
  const model = new CharModel(c.model);
  model.params.set(c.best ? c.best.params : c.params);
  const ids = model.vocab.encode(text);
  return { model, ids, logits: model.logits(ids, ids.length, 1, model.createState(1)).slice() };
}

async function ortLogits(file: string, model: CharModel, ids: Int32Array): Promise<Float32Array> {
  const { hidden: H, layers: L } = model.config;
  const session = await ortSession(new Uint8Array(readFileSync(file)));
  const zeros = { data: new Float32Array(L * H), dims: [L, 1, H] };
  const out = await ortRun(session, { tokens: { data: ids, dims: [ids.length, 1] }, h0: zeros, c0: zeros });
  return out.logits!;
}

describe('export-onnx / import-onnx / charstream export', () => {
  it('export-onnx writes a file onnxruntime runs with the checkpoint model’s logits', async () => {
    const out = join(dir, 'a.onnx');
    const r = run('export-onnx', [ckpt, out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/export-onnx: lstm 2×16, V = \d+, \d+ parameters, \d+ bytes →/);
    const { model, ids, logits } = reference('the dog sat');
    expect(maxAbsDiff(await ortLogits(out, model, ids), logits)).toBeLessThan(1e-5);
  });

  it('charstream export --format onnx gives the same file as export-onnx; --format torch the torch layout', () => {
    const a = join(dir, 'a2.onnx');
    const b = join(dir, 'b.onnx');
    expect(run('export-onnx', [ckpt, a]).status).toBe(0);
    const r = run('charstream', ['export', '--checkpoint', ckpt, '--out', b]);
    expect(r.status, r.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
    const t = join(dir, 'm.json');
    expect(run('charstream', ['export', '--checkpoint', ckpt, '--out', t, '--format', 'torch']).status).toBe(0);
    expect(JSON.parse(readFileSync(t, 'utf8'))).toEqual(JSON.parse(JSON.stringify(exportTorch(loadCheckpoint(ckpt)))));
  });

  it('import-onnx turns an exported file back into a checkpoint with the same parameters that sample uses', () => {
    const file = join(dir, 'c.onnx');
    const back = join(dir, 'back.ckpt');
    expect(run('export-onnx', [ckpt, file]).status).toBe(0);
    const r = run('import-onnx', [file, back]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/import-onnx: rxrnn opset 14: lstm 2×16, embedding 8, V = \d+/);
    const a = loadCheckpoint(ckpt);
    const b = loadCheckpoint(back);
    // The ONNX graph is the inference model: training-time dropout does not travel in it.
    expect(b.model).toEqual({ ...a.model, seed: 0, dropout: 0, embeddingDropout: 0, outputDropout: 0 });
    expect(Array.from(b.params)).toEqual(Array.from(a.best ? a.best.params : a.params));
    const s = run('charstream', ['sample', '--checkpoint', back, '--prime', 'the ', '--length', '40', '--seed', '1']);
    const s0 = run('charstream', ['sample', '--checkpoint', ckpt, '--prime', 'the ', '--length', '40', '--seed', '1']);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toBe(s0.stdout);
    // An online checkpoint: training from stdin continues from the imported weights.
    const text = 'the cat sat on the mat. '.repeat(20);
    const t = run(
      'charstream',
      ['train', '--input', '-', '--steps', '2', '--seq', '16', '--checkpoint', back, '--resume', '--json'],
      text,
    );
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/resuming from .*back\.ckpt at step 0/);
    expect(JSON.parse(t.stdout.trim().split('\n').at(-1)!)).toMatchObject({ mode: 'online', steps: 2 });
  });

  it('import-onnx reads a PyTorch-exported model with --vocab', () => {
    const fx = JSON.parse(readFileSync(join(root, 'test/fixtures/onnx/gru_char.json'), 'utf8'));
    const vocab = join(dir, 'vocab.json');
    writeFileSync(vocab, JSON.stringify(fx.vocab));
    const out = join(dir, 'pt.ckpt');
    const r = run('import-onnx', ['test/fixtures/onnx/gru_char.onnx', out, '--vocab', vocab]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pytorch 1\.13\.\d+ opset 14: gru reset-after 1×8, embedding 6, V = 19/);
    const s = run('charstream', ['sample', '--checkpoint', out, '--prime', 'the ', '--length', '30', '--seed', '2']);
    expect(s.status, s.stderr).toBe(0);
    expect([...s.stdout.trim()].length).toBe(34);
  });

  it('bad input exits 2 with one line', () => {
    const noVocab = run('import-onnx', ['test/fixtures/onnx/gru_char.onnx', join(dir, 'x.ckpt')]);
    expect(noVocab.status).toBe(2);
    expect(noVocab.stderr).toMatch(/has no "vocab" metadata; pass --vocab FILE with the 19 characters in id order/);
    const stack = run('import-onnx', ['test/fixtures/onnx/rnn2_stack.onnx', join(dir, 'x.ckpt')]);
    expect(stack.status).toBe(2);
    expect(stack.stderr).toMatch(/holds an RnnStack over float features/);
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, 'not a model');
    const g = run('import-onnx', [garbage, join(dir, 'x.ckpt')]);
    expect(g.status).toBe(2);
    expect(g.stderr.trim().split('\n')).toHaveLength(1);
    expect(run('export-onnx', [join(dir, 'missing.ckpt'), join(dir, 'x.onnx')]).status).toBe(2);
    expect(run('export-onnx', [ckpt]).status).toBe(2);
    const noOut = run('charstream', ['export', '--checkpoint', ckpt]);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/--out F is required/);
  });
});

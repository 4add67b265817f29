// `npm run train` (= charstream train) and `export-torch` as a user runs them (node + tsx from the
// sources): JSON summary, exit codes for bad flags and missing files, and (RXRNN_LONG=1) the
// quality target on tiny Shakespeare (read from ../shared/data when present; never in the repo).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rxrnn-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ENTRY: Record<string, string[]> = {
  train: ['apps/charstream/src/main.ts', 'train'],
  'export-torch': ['tools/export-torch.ts'],
};
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@rxrnn/source', ...ENTRY[script]!, ...args], {
    cwd: root,
    encoding: 'utf8',
  });

describe('npm run train / export-torch', () => {
  it('trains for a time budget and prints a JSON summary last; export-torch writes the torch layout', () => {
    const input = join(dir, 'in.txt');
    const text = 'the cat sat on the mat and the dog ran far away from home. '.repeat(300);
    writeFileSync(input, text);
    const ckpt = join(dir, 'm.ckpt');
    const r = run('train', [
      '--input',
      input,
      '--seconds',
      '3',
      '--checkpoint',
      ckpt,
      '--json',
      '--hidden',
      '32',
      '--threads',
      '1',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary.validation.nats).toBeGreaterThan(0);
    expect(summary.validation.bpc).toBeCloseTo(summary.validation.nats / Math.LN2, 10);
    expect(summary.tokens).toBeGreaterThan(0);
    expect(summary.seconds).toBeGreaterThan(2);
    expect(summary.stoppedBy).toBe('time');
    expect(summary.model).toMatchObject({ cell: 'lstm', hidden: 32, embedding: 64, vocabSize: new Set(text).size });
    const out = join(dir, 'm.json');
    const e = run('export-torch', [ckpt, out]);
    expect(e.status, e.stderr).toBe(0);
    const exp = JSON.parse(readFileSync(out, 'utf8'));
    expect(exp.config).toMatchObject({
      mode: 'LSTM',
      hidden_size: 32,
      num_layers: 1,
      input: 'embedding',
      embedding_dim: 64,
    });
    expect(exp.params['rnn.weight_hh_l0'].shape).toEqual([128, 32]);
  });

  it('bad flags print the usage and exit 2; a missing input is a one-line error, exit 2', () => {
    const bad = run('train', ['--input', 'x', '--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/usage: charstream train/);
    const badValue = run('train', ['--input', 'x', '--hidden', 'big']);
    expect(badValue.status).toBe(2);
    expect(badValue.stderr).toMatch(/--hidden "big", expected an integer/);
    const missing = run('train', ['--input', join(dir, 'nope.txt')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toEqual([
      `charstream train: cannot read --input ${join(dir, 'nope.txt')}: ENOENT`,
    ]);
    const exp = run('export-torch', [join(dir, 'nope.ckpt'), join(dir, 'o.json')]);
    expect(exp.status).toBe(2);
    expect(exp.stderr).toMatch(/export-torch: checkpoint: cannot read file/);
  });

  const corpus = join(root, '..', 'shared', 'data', 'tinyshakespeare.txt');
  it.runIf(process.env.RXRNN_LONG === '1' && existsSync(corpus))(
    'RXRNN_LONG: the defaults reach validation loss ≤ 1.60 nats/char on tinyshakespeare in 600 s',
    () => {
      const r = run('train', [
        '--input',
        corpus,
        '--seconds',
        '600',
        '--checkpoint',
        join(dir, 'shakespeare.ckpt'),
        '--json',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      console.log(
        `tinyshakespeare: val ${summary.validation.nats} nats/char, ${summary.tokens} chars, ${summary.charsPerSecond} chars/s`,
      );
      expect(summary.validation.nats).toBeLessThanOrEqual(1.6);
    },
  );
});

// `charstream gradients` end to end (child processes) and its SVG plots: the JSON records equal the
// mean of gradientFlow() over the documented windows, recomputed here; the default run shows the
// vanishing-gradient property on the built-in corpus; --scale grows it; --explode clips every
// update to θ; checkpoints, skipped characters and usage errors.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CharModel, gradientFlow, Vocabulary } from '@rxrnn/cells';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCorpus } from '../src/default-corpus.js';
import { clippingSvg, decadeTicks, gradientFlowSvg, wrapText } from '../src/gradient-plot.js';
import { runCli, stopChildren, tempDir, writeCorpus } from './helpers.js';

const tmp = tempDir();
let corpus: string;
let ckpt: string;

beforeAll(async () => {
  corpus = writeCorpus(tmp.dir);
  ckpt = join(tmp.dir, 'g.ckpt');
  const r = await runCli([
    'train',
    ...['--input', corpus, '--hidden', '16', '--embedding', '8', '--seq', '16', '--batch', '4'],
    ...['--threads', '1', '--steps', '20', '--checkpoint', ckpt],
  ]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => {
  stopChildren();
  tmp.cleanup();
});

interface FlowRecord {
  cell: string;
  layer: number;
  k: number;
  norm: number;
  cNorm?: number;
}
const records = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FlowRecord & Record<string, unknown>);
const rel = (rs: FlowRecord[], cell: string, k: number) => {
  const of = rs.filter((r) => r.cell === cell && r.layer === 0);
  return of[k]!.norm / of[0]!.norm;
};

describe('charstream gradients', () => {
  it('default run: fresh RNN, GRU, LSTM on the built-in corpus; the RNN keeps ≥ 100× less at k = 50', async () => {
    const r = await runCli(['gradients', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rs = records(r.stdout);
    expect(rs).toHaveLength(3 * 100);
    expect(new Set(rs.map((x) => x.cell))).toEqual(new Set(['rnn', 'gru', 'lstm']));
    expect(rs.filter((x) => x.cell === 'lstm').every((x) => typeof x.cNorm === 'number')).toBe(true);
    expect(rs.filter((x) => x.cell !== 'lstm').every((x) => x.cNorm === undefined)).toBe(true);
    expect(rs.filter((x) => x.cell === 'rnn').map((x) => x.k)).toEqual([...Array(100).keys()]);
    expect(rel(rs, 'rnn', 50)).toBeLessThan(rel(rs, 'lstm', 50) / 100);
  });

  it('the records are the mean of gradientFlow over N evenly spaced windows (recomputed here)', async () => {
    const T = 40;
    const N = 3;
    const r = await runCli(
      ['gradients', '--json', '--hidden', '24', '--layers', '2', '--window', String(T)].concat([
        '--windows',
        String(N),
        '--cells',
        'lstm,gru',
        '--seed',
        '5',
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    const rs = records(r.stdout);
    expect(rs).toHaveLength(2 * 2 * T);
    const text = defaultCorpus({ seed: 2026, chars: 200_000 });
    const vocab = Vocabulary.fromText(text).chars;
    const ids = new CharModel({ cell: 'rnn', vocab, hidden: 1 }).vocab.encode(text);
    for (const cell of ['lstm', 'gru'] as const) {
      const model = new CharModel({ cell, vocab, hidden: 24, layers: 2, embeddingDim: 32, seed: 5 });
      const span = ids.length - T - 1;
      const flows = [0, 1, 2].map((w) =>
        gradientFlow(model, ids.subarray(Math.floor((w * span) / (N - 1))).subarray(0, T + 1)),
      );
      for (const layer of [0, 1]) {
        const got = rs.filter((x) => x.cell === cell && x.layer === layer);
        for (let k = 0; k < T; k++) {
          const mean = flows.reduce((s, f) => s + f.layers[layer]!.h[k]! / N, 0);
          expect(Math.abs(got[k]!.norm - mean) / mean, `${cell} layer ${layer} k ${k}`).toBeLessThan(1e-12);
          if (cell === 'lstm') {
            const c = flows.reduce((s, f) => s + f.layers[layer]!.c![k]! / N, 0);
            expect(Math.abs(got[k]!.cNorm! - c) / c).toBeLessThan(1e-12);
          }
        }
      }
    }
  });

  it('text: a summary with the step where it falls below 1e-3, the per-step table, and the plot', async () => {
    const plot = join(tmp.dir, 'flow.svg');
    const r = await runCli(['gradients', '--hidden', '32', '--window', '60', '--plot', plot]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mean over 8 windows of T = 60 characters of the built-in corpus/);
    expect(r.stdout).toMatch(/^rnn +\d\.\d\de[+-]\d+ .* at k = \d+$/m);
    expect(r.stdout).toMatch(/^lstm c +\d/m);
    const table = r.stdout.split('per step, relative to k = 0:\n')[1]!.split('\nplot written')[0]!.split('\n');
    expect(table).toHaveLength(1 + 60);
    expect(table[1]!.trim().split(/ +/)).toEqual(['0', '1.00e+0', '1.00e+0', '1.00e+0', '1.00e+0']);
    expect(r.stdout).toContain(`plot written to ${plot}`);
    const svg = readFileSync(plot, 'utf8');
    const paths = [...svg.matchAll(/class="flow" data-label="([^"]+)" d="([^"]+)"/g)];
    expect(paths.map((m) => m[1])).toEqual(['rnn', 'gru', 'lstm', 'lstm c']);
    for (const m of paths) expect(m[2]!.split(/[ML]/).filter(Boolean)).toHaveLength(60);
  });

  it('--scale 3: the RNN gradient grows with k', async () => {
    const r = await runCli(['gradients', '--json', '--cells', 'rnn', '--scale', '3']);
    expect(r.code, r.stderr).toBe(0);
    const rs = records(r.stdout);
    expect(rs).toHaveLength(100);
    expect(rel(rs, 'rnn', 50)).toBeGreaterThan(100);
  });

  it('--explode: every update clipped to θ while the norm before clipping explodes; the plot draws θ', async () => {
    const plot = join(tmp.dir, 'clip.svg');
    const r = await runCli(['gradients', '--explode', '--steps', '6', '--clip', '2', '--json', '--plot', plot]);
    expect(r.code, r.stderr).toBe(0);
    const rs = records(r.stdout);
    const updates = rs.filter((x) => 'update' in x);
    expect(rs.length - updates.length).toBe(100);
    expect(updates.map((u) => u.update)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const u of updates) {
      expect(u.clipped).toBe(true);
      expect(u.threshold).toBe(2);
      expect(u.gradNorm as number).toBeGreaterThan(1000);
      expect(Math.abs((u.applied as number) - 2)).toBeLessThan(1e-6);
    }
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toContain('class="threshold"');
    expect(svg.match(/class="clipped"/g)).toHaveLength(6);
    expect(svg).toContain('θ = 2, the clip threshold');
  });

  it('a checkpoint on a file: its own model, characters it does not know skipped and counted', async () => {
    const text = join(tmp.dir, 'odd.txt');
    writeFileSync(text, `${readFileSync(corpus, 'utf8').slice(0, 3000)}€€€`);
    const r = await runCli(['gradients', '--checkpoint', ckpt, '--input', text, '--window', '30', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`3 characters of ${text} are not in the model's vocabulary; skipped`);
    const rs = records(r.stdout);
    expect(rs).toHaveLength(30);
    expect(rs.every((x) => x.cell === 'lstm' && x.layer === 0 && x.cNorm! > 0)).toBe(true);
  });

  it('usage errors exit 2 with a message', async () => {
    const cases: [string[], RegExp][] = [
      [['--checkpoint', 'x.ckpt', '--hidden', '8'], /--hidden describes fresh models; a --checkpoint brings its own/],
      [['--cells', 'rnn,lstmm'], /"lstmm" is not one of rnn, gru, lstm/],
      [['--cells', 'gru,gru'], /names gru twice/],
      [['--explode', '--cells', 'rnn,gru'], /--explode trains one model; give --cells one kind/],
      [['--input', join(tmp.dir, 'missing.txt')], /cannot read --input .*missing.txt: ENOENT/],
      [['--input', tmp.dir], /cannot read --input .*: not a file/],
      [['--window', '0'], /--window 0, expected >= 1/],
      [['--scale', '0'], /--scale 0, expected > 0/],
    ];
    const short = join(tmp.dir, 'short.txt');
    writeFileSync(short, 'abcdefghij');
    cases.push([
      ['--input', short, '--window', '10'],
      /has 10 characters the model knows; --window 10 needs at least 11/,
    ]);
    for (const [args, message] of cases) {
      const r = await runCli(['gradients', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(tmp.dir, 'x.ckpt'))).toBe(false);
  });
});

describe('gradient plots', () => {
  it('flow: one path per series relative to k = 0, gaps where a norm is zero, the threshold line', () => {
    const svg = gradientFlowSvg(
      [
        { label: 'a <1>', norms: [2, 1, 0.02, 0.0002] },
        { label: 'b', norms: [1, 0, 1e-6, 1e-9], dashed: true },
      ],
      { subtitle: 'x '.repeat(80) },
    );
    const d = (label: string) => svg.match(new RegExp(`data-label="${label}" d="([^"]+)"`))![1]!;
    expect(d('a &lt;1&gt;').split(/[ML]/).filter(Boolean)).toHaveLength(4);
    // The zero norm at k = 1 breaks the line: two moves, one line segment.
    expect(d('b').match(/M/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).toContain('1e-3 of k = 0');
    // Relative norms: a's curve starts at 1, whatever its absolute value.
    const firstY = (label: string) =>
      Number(
        d(label)
          .split(/[ML ,]/)
          .filter(Boolean)[1],
      );
    expect(firstY('a &lt;1&gt;')).toBeCloseTo(firstY('b'), 5);
    expect(svg.match(/font-size="11"/g)!.length).toBeGreaterThanOrEqual(2);
  });

  it('clipping: dots filled where clipped, the applied norms, θ on top', () => {
    const svg = clippingSvg(
      [
        { gradNorm: 1e6, applied: 1, clipped: true },
        { gradNorm: 0.5, applied: 0.5, clipped: false },
        { gradNorm: 1e8, applied: 1, clipped: true },
      ],
      1,
    );
    expect(svg.match(/class="clipped"/g)).toHaveLength(2);
    expect(svg.match(/class="kept"/g)).toHaveLength(1);
    expect(svg.indexOf('class="applied"')).toBeLessThan(svg.indexOf('class="threshold"'));
    expect(svg).toContain('2 of 3');
  });

  it('decade ticks and wrapping', () => {
    expect(decadeTicks(1e-3, 1)).toEqual([-3, -2, -1, 0]);
    expect(decadeTicks(1e-16, 1)).toEqual([-16, -14, -12, -10, -8, -6, -4, -2, 0]);
    expect(wrapText('aa bb cc dd', 5)).toEqual(['aa bb', 'cc dd']);
  });
});

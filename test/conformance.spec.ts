// PyTorch conformance: every fixture of the kinds rnn_cell, rnn_module (bidirectional ones through
// @rxrnn/bidirectional), char_model and param_counts from test/fixtures/torch and
// ../shared/conformance/examples, run through the runner's kind modules on every kernels backend
// this process runs (native, wasm, js); every tensor and loss must match PyTorch within 1e-4.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Backend, getBackend, setBackend } from '@rxrnn/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import charModel from '../tools/conformance/kinds/char_model.js';
import paramCounts from '../tools/conformance/kinds/param_counts.js';
import rnnCell from '../tools/conformance/kinds/rnn_cell.js';
import rnnModule from '../tools/conformance/kinds/rnn_module.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOL = 1e-4;
const KINDS: Record<string, (f: any) => any> = {
  rnn_cell: rnnCell,
  rnn_module: rnnModule,
  char_model: charModel,
  param_counts: paramCounts,
};
/** The computed fields each kind must report (SCHEMA.md, "The runner's output"). */
const FIELDS: Record<string, string[]> = {
  rnn_cell: ['h1', 'c1', 'loss', 'grads'],
  rnn_module: ['output', 'h_n', 'c_n', 'loss', 'grads'],
  char_model: ['logits', 'loss', 'grads'],
};

function fixturesIn(dir: string): { name: string; fixture: any }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      name: `${dir.includes('shared') ? 'shared' : 'own'}/${f}`,
      fixture: JSON.parse(readFileSync(join(dir, f), 'utf8')),
    }))
    .filter(({ fixture }) => fixture.kind in KINDS);
}

const isTensor = (v: any) => v !== null && typeof v === 'object' && Array.isArray(v.shape) && v.data !== undefined;

/** Walks the fixture's expected value; returns [path, max |diff|] for every tensor and number. */
function diffs(expected: any, actual: any, path: string, out: [string, number][]): void {
  if (typeof expected === 'number') {
    out.push([path, typeof actual === 'number' ? Math.abs(expected - actual) : Infinity]);
  } else if (isTensor(expected)) {
    if (!isTensor(actual) || JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) {
      out.push([`${path} (shape ${JSON.stringify(actual?.shape)} vs ${JSON.stringify(expected.shape)})`, Infinity]);
      return;
    }
    let m = 0;
    for (let i = 0; i < expected.data.length; i++) {
      const d = Math.abs(expected.data[i] - actual.data[i]);
      m = Number.isNaN(d) ? Infinity : Math.max(m, d);
    }
    out.push([path, m]);
  } else if (expected !== null && typeof expected === 'object') {
    for (const k of Object.keys(expected)) diffs(expected[k], actual?.[k], `${path}.${k}`, out);
  }
}

const own = fixturesIn(join(root, 'test', 'fixtures', 'torch'));
const sharedDir = join(root, '..', 'shared', 'conformance', 'examples');
const shared = fixturesIn(sharedDir);

const initial = getBackend();
const BACKENDS = (['native', 'wasm', 'js'] as Backend[]).filter((b) => {
  try {
    setBackend(b);
    return true;
  } catch {
    return false;
  } finally {
    setBackend(initial);
  }
});
afterAll(() => setBackend(initial));

describe.each(BACKENDS)('PyTorch conformance (cells kinds) on %s', (backend) => {
  beforeAll(() => setBackend(backend));
  it('finds the committed fixtures', () => {
    expect(own.length).toBeGreaterThanOrEqual(20);
  });
  it.skipIf(!existsSync(sharedDir))(`finds the shared examples in ${sharedDir}`, () => {
    expect(shared.length).toBeGreaterThan(0);
  });

  for (const { name, fixture } of [...own, ...shared]) {
    const bidirectional = fixture.kind === 'rnn_module' && fixture.config?.bidirectional;
    it(`${name}: ${fixture.kind} ${fixture.mode ?? ''}${bidirectional ? ' (bidirectional)' : ''}`, () => {
      const run = KINDS[fixture.kind]!;
      const result = run(fixture);
      if (fixture.kind === 'param_counts') {
        expect(result.entries.length).toBe(fixture.entries.length);
        fixture.entries.forEach((e: any, i: number) => {
          const r = result.entries[i];
          expect(r.classic_cell_params, `${e.mode} n_x=${e.n_x} n_a=${e.n_a}`).toBe(e.classic_cell_params);
          expect(r.output_layer_params).toBe(e.output_layer_params);
          // Only reset-after GRU adds parameters to the course formula: its separate b_hn (H floats).
          expect(r.project_cell_params).toBe(e.classic_cell_params + (e.mode === 'GRU' ? e.n_a : 0));
          expect(e.pytorch_cell_params - r.project_cell_params).toBe(
            e.mode === 'GRU' ? 2 * e.n_a : (e.mode === 'LSTM' ? 4 : 1) * e.n_a,
          );
        });
        return;
      }
      const out: [string, number][] = [];
      for (const field of FIELDS[fixture.kind]!) {
        if (fixture[field] !== undefined) diffs(fixture[field], result[field], field, out);
      }
      expect(out.length).toBeGreaterThan(3);
      const worst = out.reduce((a, b) => (b[1] > a[1] ? b : a));
      expect(worst[1], `worst tensor ${worst[0]}: max |project - PyTorch| = ${worst[1]}`).toBeLessThanOrEqual(TOL);
    });
  }
});

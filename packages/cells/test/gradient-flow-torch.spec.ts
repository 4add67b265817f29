// gradientFlow() against PyTorch autograd: the per-step gradients dL_T/dh_t (and dL_T/dc_t) that
// h.retain_grad() records in test/fixtures/torch/gradient_flow.json (tools/torch/gen_gradient_flow.py,
// float64), rebuilt through the conformance kind `npm run conformance` runs. Bar: 1e-5.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtureFile = join(repoRoot, 'test/fixtures/torch/gradient_flow.json');
const kindModule = join(repoRoot, 'tools/conformance/kinds/gradient_flow.ts');

interface Tensor {
  shape: number[];
  data: number[];
}
interface FlowLayer {
  h_grads: Tensor;
  h_grad_norms: Tensor;
  c_grads?: Tensor;
  c_grad_norms?: Tensor;
}
interface FlowModel {
  mode: string;
  loss: number;
  config: { seq_len: number; hidden_size: number; num_layers: number };
  layers: FlowLayer[];
}

const fixture = JSON.parse(readFileSync(fixtureFile, 'utf8')) as { kind: string; models: FlowModel[] };
const maxDiff = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  return Math.max(...a.data.map((v, i) => Math.abs(v - b.data[i]!)));
};

describe('gradientFlow vs PyTorch autograd (h.retain_grad())', () => {
  it('the fixture holds the three cell kinds', () => {
    expect(fixture.kind).toBe('gradient_flow');
    expect(fixture.models.map((m) => m.mode)).toEqual(['RNN_TANH', 'GRU', 'LSTM']);
  });

  for (const [i, want] of fixture.models.entries()) {
    it(`${want.mode}: ${want.config.num_layers} layers, T = ${want.config.seq_len}, every step within 1e-5`, async () => {
      // A computed path keeps the tools file out of this package's TypeScript project.
      const run = (
        (await import(pathToFileURL(kindModule).href)) as { default: (f: unknown) => { models: FlowModel[] } }
      ).default;
      const got = run(fixture).models[i]!;
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-5);
      expect(got.layers).toHaveLength(want.layers.length);
      want.layers.forEach((layer, l) => {
        const g = got.layers[l]!;
        expect(maxDiff(g.h_grads, layer.h_grads), `layer ${l} dL/dh`).toBeLessThanOrEqual(1e-5);
        expect(maxDiff(g.h_grad_norms, layer.h_grad_norms), `layer ${l} ||dL/dh||`).toBeLessThanOrEqual(1e-5);
        if (want.mode === 'LSTM') {
          expect(maxDiff(g.c_grads!, layer.c_grads!), `layer ${l} dL/dc`).toBeLessThanOrEqual(1e-5);
          expect(maxDiff(g.c_grad_norms!, layer.c_grad_norms!), `layer ${l} ||dL/dc||`).toBeLessThanOrEqual(1e-5);
        } else expect(g.c_grads).toBeUndefined();
        // Gradients that reach the window start: a wrong early step would show.
        expect(Math.min(...layer.h_grad_norms.data)).toBeGreaterThan(1e-4);
      });
    });
  }
});

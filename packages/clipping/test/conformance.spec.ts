// Replays PyTorch grad_clipping fixtures through the conformance kind the CLI runner uses
// (tools/conformance/kinds/grad_clipping.ts): the example in ../shared/conformance/examples and
// every grad_clipping fixture in test/fixtures/torch. Target: ≤ 1e-6 from PyTorch's float64 values.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const example = resolve(repoRoot, '../shared/conformance/examples/clip_grad.json');
const torchDir = join(repoRoot, 'test/fixtures/torch');
const kindModule = join(repoRoot, 'tools/conformance/kinds/grad_clipping.ts');

interface Tensor {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  fn: string;
  total_norm?: number;
  grads_after: Tensor[];
}
interface Output {
  cases: { total_norm: number | null; grads_after: Tensor[] }[];
}

function gradClippingFixtures(): string[] {
  if (!existsSync(torchDir)) return [];
  return readdirSync(torchDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(torchDir, f))
    .filter((f) => JSON.parse(readFileSync(f, 'utf8')).kind === 'grad_clipping');
}

async function check(file: string): Promise<void> {
  const fixture = JSON.parse(readFileSync(file, 'utf8')) as { kind: string; cases: FixtureCase[] };
  expect(fixture.kind).toBe('grad_clipping');
  // A computed path keeps the tools file out of this package's TypeScript project; vitest still
  // transforms it, so this is the same code `npm run conformance` runs.
  const run = ((await import(pathToFileURL(kindModule).href)) as { default: (f: unknown) => Output }).default;
  const out = run(fixture);
  expect(out.cases).toHaveLength(fixture.cases.length);
  fixture.cases.forEach((want, k) => {
    const got = out.cases[k]!;
    if (want.fn === 'clip_grad_norm_')
      expect(Math.abs(got.total_norm! - want.total_norm!), `case ${k} total_norm`).toBeLessThanOrEqual(1e-6);
    expect(got.grads_after).toHaveLength(want.grads_after.length);
    want.grads_after.forEach((t, i) => {
      expect(got.grads_after[i]!.shape).toEqual(t.shape);
      const err = Math.max(0, ...t.data.map((v, j) => Math.abs(got.grads_after[i]!.data[j]! - v)));
      expect(err, `case ${k} (${want.fn}) tensor ${i}`).toBeLessThanOrEqual(1e-6);
    });
  });
}

describe('PyTorch conformance (grad_clipping)', () => {
  const found = existsSync(example);
  it.skipIf(!found)(`example fixture${found ? '' : ` — skipped: ${example} not found`}`, () => check(example));

  const fixtures = gradClippingFixtures();
  it.skipIf(fixtures.length === 0)(
    `test/fixtures/torch has grad_clipping fixtures${fixtures.length ? '' : ' — skipped: none found'}`,
    () => {
      expect(fixtures.length).toBeGreaterThan(0);
    },
  );
  for (const file of fixtures) it(`fixture ${file.slice(repoRoot.length + 1)}`, () => check(file));
});

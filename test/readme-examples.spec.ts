// The complete programs of the package READMEs (```ts blocks with an import) are code users copy:
// each is written to a module of its own (.tmp/readme-examples/) and type-checked with the
// project's compiler options against the public entry points. They are not run (some read a file
// the reader brings or train for minutes); the doc-comment examples are the ones that run.
// Fragments without an import continue the block before them and are left to the reader.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { typeCheckExamples } from './support/type-check.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.tmp', 'readme-examples');

interface Block {
  /** Where it came from: README path:line. */
  from: string;
  file: string;
}

const readmes = readdirSync(join(root, 'packages'))
  .map((p) => join(root, 'packages', p, 'README.md'))
  .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const blocks: Block[] = [];
for (const readme of readmes) {
  const text = readFileSync(readme, 'utf8');
  const fence = /^```ts\n([\s\S]*?)^```/gm;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    const code = m[1]!;
    if (!/^import .* from '/m.test(code)) continue;
    const from = `${relative(root, readme)}:${text.slice(0, m.index).split('\n').length}`;
    const file = join(out, `readme-${String(blocks.length).padStart(3, '0')}.ts`);
    writeFileSync(file, `// ${from}\n${code}\nexport {};\n`);
    blocks.push({ from, file });
  }
}
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('README examples', () => {
  it('finds the complete programs of every package README', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(readmes.length);
  });

  it('type-check against the public entry points', () => {
    const problems = typeCheckExamples(root, blocks, 'block');
    expect(problems).toEqual([]);
  });
});

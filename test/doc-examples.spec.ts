// The `@example` blocks of the packages' doc comments are code users copy: each one is extracted
// into a module of its own (.tmp/doc-examples/), type-checked with the project's compiler options
// against the public entry points, then run. An example that no longer compiles or throws fails.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { typeCheckExamples } from './support/type-check.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.tmp', 'doc-examples');

interface Example {
  /** Where it came from: file:line. */
  from: string;
  code: string;
  file: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'generated' ? [] : sources(p);
    return p.endsWith('.ts') && !p.endsWith('.spec.ts') ? [p] : [];
  });
}

/** The ```ts blocks under @example tags of /** … *\/ comments. */
function examplesIn(file: string): Omit<Example, 'file'>[] {
  const text = readFileSync(file, 'utf8');
  const found: Omit<Example, 'file'>[] = [];
  const block = /@example\s*\n\s*\* ```ts\n([\s\S]*?)\n\s*\* ```/g;
  for (let m = block.exec(text); m !== null; m = block.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length;
    const code = m[1]!
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''))
      .join('\n');
    found.push({ from: `${relative(root, file)}:${line}`, code });
  }
  return found;
}

const packages = readdirSync(join(root, 'packages')).filter((p) =>
  statSync(join(root, 'packages', p, 'src')).isDirectory(),
);
const examples: Example[] = packages
  .flatMap((p) => sources(join(root, 'packages', p, 'src')))
  .flatMap(examplesIn)
  .map((e, i) => ({ ...e, file: join(out, `example-${String(i).padStart(3, '0')}.ts`) }));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const e of examples) writeFileSync(e.file, `// ${e.from}\n${e.code}\nexport {};\n`);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('doc-comment examples', () => {
  it('type-check against the public entry points', () => {
    const problems = typeCheckExamples(root, examples, 'example');
    expect(problems).toEqual([]);
  });

  it.each(examples.map((e) => [e.from, e] as const))('%s runs', async (_from, e) => {
    await import(pathToFileURL(e.file).href);
  });
});

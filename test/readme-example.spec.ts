// The README's "A taste" block is examples/taste.ts: the two stay identical, and the example runs
// on a fresh checkout and prints text learned from its corpus.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README example', () => {
  it('is the code of examples/taste.ts', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## A taste\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const file = readFileSync(join(root, 'examples/taste.ts'), 'utf8').split('\n').slice(1).join('\n');
    expect(block).toBe(file);
  });

  it('runs and generates the sentence it learned', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@rxrnn/source', 'examples/taste.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out).toHaveLength(80);
    expect(out).toContain('quick brown fox');
  });
});

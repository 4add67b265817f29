// Backend selection from outside the code: RXRNN_BACKEND chooses the backend of a process, and a
// value that names no backend is an error at first use, not a silent fallback. Child processes,
// because the variable is read once per process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const probe = `import('${index}').then((K) => {
  try { K.gemv(new Float32Array(1), new Float32Array(1), new Float32Array(1), 1, 1); console.log(K.getBackend()); }
  catch (e) { console.log(e.name + ': ' + e.message); }
});`;
const run = (value: string | undefined) =>
  spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], {
    encoding: 'utf8',
    env: { ...process.env, RXRNN_BACKEND: value },
  }).stdout.trim();

describe('RXRNN_BACKEND', () => {
  it('chooses the backend of the process', () => {
    expect(run('js')).toBe('js');
    expect(run('wasm')).toBe('wasm');
  });

  it('unset or empty leaves the default (wasm where it loads)', () => {
    expect(run(undefined)).toBe('wasm');
    expect(run('')).toBe('wasm');
  });

  it('refuses a value that names no backend, saying which values exist', () => {
    expect(run('gpu')).toBe('RangeError: RXRNN_BACKEND must be one of wasm, js, got "gpu"');
  });
});

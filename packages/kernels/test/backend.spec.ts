// Backend selection from outside the code: RXRNN_BACKEND chooses the backend of a process, and a
// value that names no backend is an error at first use, not a silent fallback; a native addon that
// cannot load leaves wasm in charge with the reason in backendInfo(). Child processes, because the
// variables are read once per process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../src/index.js';

const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const probe = `import('${index}').then((K) => {
  try { K.gemv(new Float32Array(1), new Float32Array(1), new Float32Array(1), 1, 1); console.log(K.getBackend()); }
  catch (e) { console.log(e.name + ': ' + e.message); }
  if (process.env.PROBE_INFO) console.log(JSON.stringify(K.backendInfo().native));
});`;
const spawn = (env: Record<string, string | undefined>) =>
  spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], {
    encoding: 'utf8',
    env: { ...process.env, RXRNN_BACKEND: undefined, RXRNN_NATIVE_PATH: undefined, ...env },
  }).stdout.trim();
const run = (value: string | undefined) => spawn({ RXRNN_BACKEND: value });
/** The default where the addon loads in this process (it does after `npm ci` on linux-x64). */
const nativeLoads = backendInfo().native.loaded;
const byDefault = nativeLoads ? 'native' : 'wasm';

describe('RXRNN_BACKEND', () => {
  it('chooses the backend of the process', () => {
    expect(run('js')).toBe('js');
    expect(run('wasm')).toBe('wasm');
    expect(run('native')).toBe(byDefault);
  });

  it('unset or empty leaves the default (native where the addon loads, else wasm)', () => {
    expect(run(undefined)).toBe(byDefault);
    expect(run('')).toBe(byDefault);
  });

  it('refuses a value that names no backend, saying which values exist', () => {
    expect(run('gpu')).toBe('RangeError: RXRNN_BACKEND must be one of native, wasm, js, got "gpu"');
  });
});

describe('a native addon that cannot load', () => {
  it('leaves wasm in charge and says why (missing binary, not an addon)', () => {
    const missing = spawn({ RXRNN_NATIVE_PATH: '/nonexistent/rxrnn.node', PROBE_INFO: '1' }).split('\n');
    expect(missing[0]).toBe('wasm');
    expect(JSON.parse(missing[1]!)).toMatchObject({
      loaded: false,
      error: 'no binary at RXRNN_NATIVE_PATH=/nonexistent/rxrnn.node',
    });
    // Asking for native explicitly does not change that: wasm runs, the reason stays available.
    const asked = spawn({ RXRNN_BACKEND: 'native', RXRNN_NATIVE_PATH: '/nonexistent/rxrnn.node' });
    expect(asked).toBe('wasm');
    const notAddon = spawn({ RXRNN_NATIVE_PATH: fileURLToPath(import.meta.url), PROBE_INFO: '1' }).split('\n');
    expect(notAddon[0]).toBe('wasm');
    expect(JSON.parse(notAddon[1]!).error).toMatch(/^load error: .*backend\.spec\.ts: /);
  });
});

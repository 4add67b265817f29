// Backend selection: which implementation every kernel runs on (the WASM SIMD module or the
// plain-TypeScript twin), chosen by setBackend, by the RXRNN_BACKEND environment variable in Node,
// or by default (wasm where it loads); and allocF32/freeF32, which hand out arrays that the
// chosen backend reads without copying.
import {
  loadWasm,
  loadWasmSync,
  type WasmKernels,
  wasmAllocF32,
  wasmFreeF32,
  wasmKernels,
  wasmLoadError,
  wasmSupported,
} from './wasm-memory.js';

export type { WasmKernels } from './wasm-memory.js';

/**
 * A kernel implementation: `'wasm'`, the WebAssembly SIMD128 module (the default where it loads),
 * or `'js'`, the plain-TypeScript reference twin (everywhere; the oracle the tests compare with).
 */
export type Backend = 'wasm' | 'js';

const BACKENDS: readonly Backend[] = ['wasm', 'js'];
const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** The backend asked for (setBackend or RXRNN_BACKEND); null: the default. */
let chosen: Backend | null = null;
let envRead = false;

/** RXRNN_BACKEND, read once on first use; a value that names no backend is an error. */
function fromEnvironment(): void {
  envRead = true;
  const value = isNode ? process.env.RXRNN_BACKEND : undefined;
  if (value === undefined || value === '') return;
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new RangeError(`RXRNN_BACKEND must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  setBackend(value as Backend);
}

/**
 * Resolves once the chosen backend can run. In Node the WASM module is compiled synchronously on
 * first use anyway; in browsers await this before relying on the wasm backend: kernels called
 * earlier run on the js twin, and allocF32 hands out plain arrays.
 */
export function ready(): Promise<void> {
  if (!envRead) fromEnvironment();
  return chosen === 'js' ? Promise.resolve() : loadWasm();
}

/**
 * Chooses the backend of every kernel in this JS realm (it overrides RXRNN_BACKEND).
 *
 * @param backend - `'wasm'` or `'js'`.
 * @throws RangeError for another value, or for `'wasm'` where the runtime has no WebAssembly
 *   SIMD128 or the module failed to load (the message says why).
 * @example
 * ```ts
 * import { getBackend, setBackend } from '@rxrnn/kernels';
 * setBackend('js'); // the reference twin: slow, but the oracle
 * console.log(getBackend()); // 'js'
 * ```
 */
export function setBackend(backend: Backend): void {
  if (!(BACKENDS as readonly unknown[]).includes(backend)) {
    throw new RangeError(`setBackend: backend must be one of ${BACKENDS.join(', ')}, got ${String(backend)}`);
  }
  if (backend === 'wasm') {
    if (!wasmSupported()) {
      throw new RangeError('setBackend: wasm requested but this runtime does not validate WebAssembly SIMD128');
    }
    if (isNode) loadWasmSync();
    const error = wasmLoadError();
    if (error) throw new RangeError(`setBackend: wasm module failed to load: ${String(error)}`);
  }
  envRead = true;
  chosen = backend;
}

/** The backend kernels run on right now: `'js'` until the wasm module is ready in a browser. */
export function getBackend(): Backend {
  return active() ? 'wasm' : 'js';
}

/** The WASM kernels when the wasm backend is active and loaded, else null (run the twin). */
export function active(): WasmKernels | null {
  if (!envRead) fromEnvironment();
  if (chosen === 'js') return null;
  const k = wasmKernels();
  if (k !== null || !isNode) return k;
  loadWasmSync();
  return wasmKernels();
}

/**
 * A zeroed Float32Array of length `n` that the active backend reads and writes without copying:
 * on the wasm backend it lives in WASM memory; otherwise (js backend, a browser before `ready()`,
 * or WASM memory exhausted) it is an ordinary array. Every kernel accepts any Float32Array; these
 * are merely faster on wasm. The caller owns the array until `freeF32`.
 *
 * @throws RangeError unless `n` is a non-negative safe integer.
 * @example
 * ```ts
 * import { allocF32, freeF32, gemv } from '@rxrnn/kernels';
 * const W = allocF32(4 * 3), x = allocF32(3), y = allocF32(4);
 * W.fill(1); x.set([1, 2, 3]);
 * gemv(y, W, x, 4, 3); // y = [6, 6, 6, 6]
 * freeF32(W); freeF32(x); freeF32(y);
 * ```
 */
export function allocF32(n: number): Float32Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`allocF32: n must be a non-negative integer, got ${String(n)}`);
  }
  return active() ? wasmAllocF32(n) : new Float32Array(n);
}

/**
 * Returns an array from `allocF32` to the allocator; it must not be used afterwards. Ordinary
 * arrays are left to the garbage collector (a no-op).
 *
 * @throws TypeError for anything but a Float32Array; RangeError for a view into WASM memory that
 *   `allocF32` did not return or that was freed already.
 */
export function freeF32(arr: Float32Array): void {
  if (!(arr instanceof Float32Array)) throw new TypeError('freeF32: expected a Float32Array');
  wasmFreeF32(arr);
}

export { type WasmMemoryInfo, wasmMemoryInfo, wasmSupported } from './wasm-memory.js';

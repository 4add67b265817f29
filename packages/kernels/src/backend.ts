// Backend selection: which implementation every kernel runs on (the native addon in Node, the WASM
// SIMD module, or the plain-TypeScript twin), chosen by setBackend, by the RXRNN_BACKEND
// environment variable in Node, or by default (native where the addon loads, else wasm where it
// loads, else js); and allocF32/freeF32, which hand out arrays the chosen backend reads without
// copying.
import {
  loadNative,
  type NativeAddonInfo,
  type NativeKernels,
  nativeAllocF32,
  nativeLoadError,
  nativePath,
} from './native.js';
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
 * A kernel implementation: `'native'`, the Node-API addon with AVX-512/AVX2/portable kernels (the
 * default in Node where it loads), `'wasm'`, the WebAssembly SIMD128 module (the default
 * elsewhere), or `'js'`, the plain-TypeScript reference twin (everywhere; the oracle the tests
 * compare with).
 */
export type Backend = 'native' | 'wasm' | 'js';

const BACKENDS: readonly Backend[] = ['native', 'wasm', 'js'];
const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** The backend asked for (setBackend or RXRNN_BACKEND); null: the default. */
let chosen: Backend | null = null;
let envRead = false;
/** The addon while the native backend is in use (chosen, or the default where it loads). */
let nat: NativeKernels | null = null;
let natResolved = false;

/** Decides once per choice whether kernels run natively. */
function resolveNative(): void {
  natResolved = true;
  nat = chosen === 'native' || (chosen === null && isNode) ? loadNative() : null;
}

/** RXRNN_BACKEND, read once on first use; a value that names no backend is an error. */
function fromEnvironment(): void {
  envRead = true;
  const value = isNode ? process.env.RXRNN_BACKEND : undefined;
  if (value === undefined || value === '') return;
  if (value === 'native') {
    // Asked for but unavailable: the default order decides, and backendInfo() keeps the reason.
    if (loadNative() === null) return;
  }
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
  if (!natResolved) resolveNative();
  return chosen === 'js' || nat !== null ? Promise.resolve() : loadWasm();
}

/**
 * Chooses the backend of every kernel in this JS realm (it overrides RXRNN_BACKEND).
 *
 * @param backend - `'native'`, `'wasm'` or `'js'`.
 * @throws RangeError for another value, for `'native'` where the addon does not load (outside
 *   Node, no binary for this platform, a load error; the message and `backendInfo()` say why), or
 *   for `'wasm'` where the runtime has no WebAssembly SIMD128 or the module failed to load.
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
  if (backend === 'native' && loadNative() === null) {
    throw new RangeError(`setBackend: native requested but the addon did not load: ${nativeLoadError()}`);
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
  resolveNative();
}

/** The backend kernels run on right now: `'js'` until the wasm module is ready in a browser. */
export function getBackend(): Backend {
  if (activeNative()) return 'native';
  return active() ? 'wasm' : 'js';
}

/** The addon when the native backend is active, else null. */
export function activeNative(): NativeKernels | null {
  if (!envRead) fromEnvironment();
  if (!natResolved) resolveNative();
  return nat;
}

/** The WASM kernels when the wasm backend is active and loaded, else null (native or the twin). */
export function active(): WasmKernels | null {
  if (!envRead) fromEnvironment();
  if (!natResolved) resolveNative();
  if (chosen === 'js' || nat !== null) return null;
  const k = wasmKernels();
  if (k !== null || !isNode) return k;
  loadWasmSync();
  return wasmKernels();
}

/**
 * A zeroed Float32Array of length `n` that the active backend reads and writes without copying:
 * on the wasm backend it lives in WASM memory; on the native backend it is an ordinary array
 * whose data starts on a 64-byte boundary; otherwise (js backend, a browser before `ready()`, or
 * WASM memory exhausted) it is an ordinary array. Every kernel accepts any Float32Array; these
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
  const k = activeNative();
  if (k !== null) return nativeAllocF32(k, n);
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

/** Diagnostics of the backends: which one runs, and why native or wasm is not in use. */
export interface BackendInfo {
  /** The backend kernels run on now (getBackend()). */
  backend: Backend;
  /** What setBackend or RXRNN_BACKEND asked for; null: the default order (native, wasm, js). */
  requested: Backend | null;
  /** The environment variable as read ('' when unset or outside Node). */
  env: string;
  /** The native addon (Node only). */
  native: {
    /** Whether the addon is loaded in this thread. */
    loaded: boolean;
    /** The binary loaded, or null. */
    path: string | null;
    /** Why it is not loaded (no binary for this platform, a load error, not Node), or null. */
    error: string | null;
    /** The addon's own report (instruction set, threads, …) when loaded. */
    addon: NativeAddonInfo | null;
  };
  /** The WebAssembly SIMD128 module. */
  wasm: {
    /** Whether this runtime validates WebAssembly SIMD128. */
    supported: boolean;
    /** Whether the module is compiled and instantiated. */
    loaded: boolean;
    /** Why it failed to load, or null. */
    error: string | null;
  };
}

/**
 * Which backend runs and why: the addon's path, instruction set and thread budget, or the reason
 * it did not load; whether WASM SIMD is supported and loaded. Tries to load the addon in Node.
 *
 * @example
 * ```ts
 * import { backendInfo } from '@rxrnn/kernels';
 * const info = backendInfo();
 * console.log(info.backend, info.native.addon?.isa ?? info.native.error);
 * ```
 */
export function backendInfo(): BackendInfo {
  const backend = getBackend();
  const k = isNode ? loadNative() : null;
  const err = wasmLoadError();
  return {
    backend,
    requested: chosen,
    env: (isNode ? process.env.RXRNN_BACKEND : undefined) ?? '',
    native: { loaded: k !== null, path: nativePath(), error: nativeLoadError(), addon: k ? k.info() : null },
    wasm: { supported: wasmSupported(), loaded: wasmKernels() !== null, error: err ? String(err) : null },
  };
}

/**
 * Sets the process-wide budget of compute threads the native kernels may use (clamped to
 * 1 … the CPUs this process may run on; default min(CPUs, 8), or RXRNN_THREADS). Every JS thread
 * inside a large native kernel counts against it, and a helper thread joins a product only while
 * there is room, so worker threads that each run kernels never oversubscribe the cores. Results
 * are identical with any budget. Returns the budget in force.
 *
 * @throws RangeError unless `threads` is a positive integer; Error when the addon is not loaded.
 */
export function setNativeThreads(threads: number): number {
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new RangeError(`setNativeThreads: threads must be a positive integer, got ${String(threads)}`);
  }
  const k = loadNative();
  if (k === null) throw new Error(`setNativeThreads: the native addon is not loaded: ${nativeLoadError()}`);
  return k.setThreads(threads);
}

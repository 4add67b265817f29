// The native backend: loads the Node-API addon (native/ in this package; a prebuilt binary in
// prebuilds/<platform>-<arch>/, or the one `node-gyp` built from source) once, through
// process.getBuiltinModule so that bundlers and browsers never see a Node built-in, and keeps the
// reason when it cannot be loaded. Kernels take the caller's Float32Arrays and run in place.

import type { AdamArgs } from './optimizer.js';
import type { GruSequenceArgs, LstmSequenceArgs } from './reference/sequence.js';
import type { SoftmaxCEArgs } from './reference/softmax.js';

type F = Float32Array;

/** The addon's exports: the kernels with the wasm exports' argument order, arrays as Float32Arrays. */
export interface NativeKernels {
  gemv(y: F, W: F, x: F, rows: number, cols: number, acc: number): void;
  gemvT(y: F, W: F, x: F, rows: number, cols: number, acc: number): void;
  ger(A: F, x: F, y: F, rows: number, cols: number, alpha: number): void;
  gemmABt(C: F, A: F, Bm: F, M: number, N: number, K: number, acc: number): void;
  gemmAtB(C: F, A: F, Bm: F, M: number, N: number, K: number, acc: number): void;
  gemmAB(C: F, A: F, Bm: F, M: number, N: number, K: number, acc: number): void;
  lstmStep(h: F, c: F, act: F, pre: F, Wih: F, x: F, Whh: F, b: F, nX: number, H: number): void;
  gruStep(h: F, act: F, xPre: F, hPre: F, Wih: F, x: F, Whh: F, bIh: F, bHh: F, nX: number, H: number): void;
  rnnStep(h: F, pre: F, Wih: F, x: F, Whh: F, b: F, nX: number, H: number): void;
  info(): NativeAddonInfo;
  setIsa(name: string): boolean;
  setThreads(n: number): number;
  setStepSharing(minWeights: number): void;
  softmaxCrossEntropy?(...args: SoftmaxCEArgs): number;
  adamUpdate?(...args: AdamArgs): void;
  lstmSequence?(...args: LstmSequenceArgs): void;
  gruSequence?(...args: GruSequenceArgs): void;
  address64(a: F): number;
  bindStep(slot: number, ...arrays: F[]): number;
  stepBound(slot: number, token: number, kind: number, nX: number, H: number): boolean;
  [kernel: string]: unknown;
}

/** What the addon reports about itself (backendInfo().native). */
export interface NativeAddonInfo {
  /** The instruction set the kernels run: 'avx512', 'avx2' or 'portable'. */
  isa: string;
  /** Why that one ('best this CPU supports', or 'asked for …' through RXRNN_NATIVE_ISA). */
  isaReason: string;
  /** The instruction sets this CPU and OS can run, best first. */
  available: string[];
  /** CPUs this process may run on. */
  cpus: number;
  /** The process-wide budget of compute threads (setNativeThreads, RXRNN_THREADS). */
  threads: number;
  /** Batch-1 steps reading at least this many weights share rows (setStepThreads(2)); 0: never. */
  stepMinWeights: number;
  /** Kernel calls large enough to use threads. */
  jobs: number;
  /** How many of them did. */
  shared: number;
  /** Tasks the helper threads ran. */
  helperTasks: number;
  /** Helper threads started (they start with the first shared call). */
  helpers: number;
}

/** Arity of each table kernel (optional trailing arguments filled in by dispatch). */
export const NATIVE_ARITY: Readonly<Record<string, number>> = {
  gemv: 6,
  gemvT: 6,
  ger: 6,
  rnnForward: 4,
  rnnBackward: 5,
  lstmForward: 7,
  lstmBackward: 9,
  gruForward: 7,
  gruBackward: 9,
  gruRzForward: 7,
  gruNForward: 7,
  gruNBackward: 8,
  gruRzBackward: 8,
};

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

let addon: NativeKernels | null = null;
let loadedFrom: string | null = null;
let tried = false;
let reason: string | null = null;

/** File name of the binary inside prebuilds/<platform>-<arch>/. */
export const NATIVE_BINARY = 'rxrnn-kernels.node';

interface NodeModule {
  createRequire(url: string | URL): (id: string) => unknown;
}
interface NodeFs {
  existsSync(p: string | URL): boolean;
}
interface NodeUrl {
  fileURLToPath(u: string | URL): string;
  pathToFileURL(p: string): URL;
}

function builtin<T>(name: string): T | null {
  const get = (process as unknown as { getBuiltinModule?: (n: string) => unknown }).getBuiltinModule;
  return typeof get === 'function' ? (get.call(process, name) as T) : null;
}

/** Loads the addon on first call (Node only); afterwards returns the same result. */
export function loadNative(): NativeKernels | null {
  if (tried) return addon;
  tried = true;
  if (!isNode) {
    reason = 'not Node.js: the native backend is for Node only';
    return null;
  }
  const mod = builtin<NodeModule>('node:module');
  const fs = builtin<NodeFs>('node:fs');
  const url = builtin<NodeUrl>('node:url');
  if (!mod || !fs || !url) {
    reason = 'process.getBuiltinModule is missing (Node >= 20.16 needed to load the addon)';
    return null;
  }
  const platform = `${process.platform}-${process.arch}`;
  // src/native.ts and dist/native.js both sit one level below the package root.
  const candidates = [
    new URL(`../native/build/Release/rxrnn_kernels.node`, import.meta.url),
    new URL(`../prebuilds/${platform}/${NATIVE_BINARY}`, import.meta.url),
  ];
  // RXRNN_NATIVE_PATH names the one binary to load instead (diagnostics, tests, custom builds).
  const override = process.env.RXRNN_NATIVE_PATH;
  if (override !== undefined && override !== '') candidates.splice(0, candidates.length, url.pathToFileURL(override));
  const found = candidates.filter((u) => fs.existsSync(u));
  if (found.length === 0) {
    reason =
      override !== undefined && override !== ''
        ? `no binary at RXRNN_NATIVE_PATH=${override}`
        : `no binary for ${platform}: looked for prebuilds/${platform}/${NATIVE_BINARY} (and a local node-gyp build)`;
    return null;
  }
  const errors: string[] = [];
  for (const u of found) {
    const path = url.fileURLToPath(u);
    try {
      const k = mod.createRequire(import.meta.url)(path) as NativeKernels;
      if (typeof k?.gemmABt !== 'function' || typeof k.info !== 'function') {
        errors.push(`${path}: not the rxrnn kernels addon`);
        continue;
      }
      addon = k;
      loadedFrom = path;
      reason = null;
      return addon;
    } catch (e) {
      errors.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  reason = `load error: ${errors.join('; ')}`;
  return null;
}

/** Why the addon is not loaded (null when it is, or before the first attempt). */
export function nativeLoadError(): string | null {
  return reason;
}

/** The loaded addon's file, or null. */
export function nativePath(): string | null {
  return loadedFrom;
}

/**
 * A 64-byte-aligned zeroed Float32Array of length n in an ordinary ArrayBuffer (vector loads of
 * aligned rows never straddle a cache line). Small arrays are plain.
 */
export function nativeAllocF32(k: NativeKernels, n: number): Float32Array {
  if (n < 16) return new Float32Array(n);
  const buf = new ArrayBuffer(4 * n + 64);
  const mis = k.address64(new Float32Array(buf, 0, 1));
  return new Float32Array(buf, (64 - mis) & 63, n);
}

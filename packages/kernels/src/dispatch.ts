// One dispatch for every kernel that takes Float32Arrays and dims: check the arguments, then run
// on the active backend (the native addon takes the arrays themselves). A kernel is one table entry (defineKernel) instead of a copy of this
// logic. On wasm, arrays that live in WASM memory (allocF32) pass by pointer; other arrays are
// copied through a scratch region (correct, slower); when no scratch fits, the twin runs.
import { active, activeNative, type WasmKernels } from './backend.js';
import { NATIVE_ARITY } from './native.js';
import { ptr, viaScratch } from './wasm-memory.js';

/** How a Float32Array argument is used: read, written, or both (what the scratch path copies). */
export const IN = 1;
export const OUT = 2;
export const INOUT = 3;

/** A kernel of the table: its WASM export, how its array arguments are used, its check and twin. */
export interface KernelSpec<A extends unknown[]> {
  /** The WASM export with the same argument order (arrays as byte offsets, booleans as 0/1). */
  wasm: keyof WasmKernels;
  /** IN/OUT/INOUT for each leading Float32Array argument; the arguments after them are numbers. */
  io: readonly number[];
  /** Throws on a bad argument, with the same message on every backend. */
  check: (...args: A) => void;
  /** The reference twin's computation, run unchecked after `check`. */
  twin: (...args: A) => void;
  /** Values of optional trailing number arguments left out, by argument index (default 0). */
  defaults?: Readonly<Record<number, number>>;
}

/**
 * Builds a kernel from its spec. The per-call work is the check, one `ptr` lookup per array and
 * an `apply` on a reused argument list: within tens of nanoseconds of a hand-written dispatch.
 */
export function defineKernel<A extends unknown[]>(spec: KernelSpec<A>): (...args: A) => void {
  const { io, check, twin, defaults = {} } = spec;
  const arrays = io.length;
  // Reused argument list for the WASM call, as long as the export's parameter list: kernels never
  // re-enter, so one per kernel suffices. Optional arguments left out are 0 (false).
  let argv: number[] = [];
  // The same for the native call: arrays as they are, then the numbers.
  const nArity = NATIVE_ARITY[spec.wasm] ?? 0;
  const nargv: unknown[] = new Array<unknown>(nArity).fill(0);
  return (...args: A): void => {
    check(...args);
    const n = activeNative();
    if (n !== null) {
      for (let i = 0; i < arrays; i++) nargv[i] = args[i];
      for (let i = arrays; i < nArity; i++) {
        const a = args[i];
        nargv[i] = a === undefined ? (defaults[i] ?? 0) : a === false ? 0 : a === true ? 1 : a;
      }
      (n[spec.wasm] as (...a: unknown[]) => void).apply(null, nargv);
      for (let i = 0; i < arrays; i++) nargv[i] = 0;
      return;
    }
    const w = active();
    if (w === null) {
      twin(...args);
      return;
    }
    const f = w[spec.wasm] as (...a: number[]) => void;
    if (argv.length !== f.length) argv = new Array<number>(f.length).fill(0);
    let inWasm = true;
    for (let i = 0; i < arrays; i++) {
      const p = ptr(args[i] as Float32Array);
      argv[i] = p;
      if (p < 0) inWasm = false;
    }
    for (let i = arrays; i < argv.length; i++) {
      const a = args[i];
      argv[i] = a === undefined ? (defaults[i] ?? 0) : a === false ? 0 : a === true ? 1 : (a as number);
    }
    if (inWasm) {
      f.apply(null, argv);
      return;
    }
    const viaCopies = viaScratch(args.slice(0, arrays) as Float32Array[], io, (p) => {
      for (let i = 0; i < arrays; i++) argv[i] = p[i]!;
      f.apply(null, argv);
    });
    if (!viaCopies) twin(...args);
  };
}

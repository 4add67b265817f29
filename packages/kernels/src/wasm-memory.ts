// WASM memory: instantiates the SIMD kernel module, owns its linear memory, the allocator behind
// allocF32/freeF32 (arrays handed out are owned by the caller until freed), the kernels' private
// workspace, and the scratch region that copies plain arrays in and out of WASM memory.
import { WASM_MAX_PAGES, wasmPlain, wasmShared } from './generated/kernels-wasm.js';

/** Pointer-level kernel exports of the WASM module (byte offsets, element counts). */
export interface WasmKernels {
  heapBase(): number;
  gemv(y: number, W: number, x: number, rows: number, cols: number, acc: number): void;
  gemvT(y: number, W: number, x: number, rows: number, cols: number, acc: number): void;
  gemmABt(C: number, A: number, Bm: number, M: number, N: number, K: number, acc: number): void;
  gemmAtB(C: number, A: number, Bm: number, M: number, N: number, K: number, acc: number, ws: number): void;
  gemmAB(C: number, A: number, Bm: number, M: number, N: number, K: number, acc: number): void;
  ger(A: number, x: number, y: number, rows: number, cols: number, alpha: number): void;
  rnnForward(h: number, pre: number, B: number, H: number): void;
  rnnBackward(dPre: number, dh: number, h: number, B: number, H: number): void;
  lstmForward(h: number, c: number, act: number, pre: number, cPrev: number, B: number, H: number): void;
  lstmBackward(
    dPre: number,
    dcPrev: number,
    dh: number,
    dc: number,
    act: number,
    cPrev: number,
    c: number,
    B: number,
    H: number,
  ): void;
  gruForward(h: number, act: number, xPre: number, hPre: number, hPrev: number, B: number, H: number): void;
  gruBackward(
    dxPre: number,
    dhPre: number,
    dhPrev: number,
    dh: number,
    act: number,
    hPre: number,
    hPrev: number,
    B: number,
    H: number,
  ): void;
  gruRzForward(act: number, rh: number, xPre: number, hPreRz: number, hPrev: number, B: number, H: number): void;
  gruNForward(h: number, act: number, xPre: number, hn: number, hPrev: number, B: number, H: number): void;
  gruNBackward(
    dxPre: number,
    dhn: number,
    dhPrev: number,
    dh: number,
    act: number,
    hPrev: number,
    B: number,
    H: number,
  ): void;
  gruRzBackward(
    dxPre: number,
    dhPreRz: number,
    dhPrev: number,
    drh: number,
    act: number,
    hPrev: number,
    B: number,
    H: number,
  ): void;
  lstmStep(
    h: number,
    c: number,
    act: number,
    pre: number,
    Wih: number,
    x: number,
    Whh: number,
    b: number,
    nX: number,
    H: number,
  ): void;
  gruStep(
    h: number,
    act: number,
    xPre: number,
    hPre: number,
    Wih: number,
    x: number,
    Whh: number,
    bIh: number,
    bHh: number,
    nX: number,
    H: number,
  ): void;
  rnnStep(h: number, pre: number, Wih: number, x: number, Whh: number, b: number, nX: number, H: number): void;
  stepRows(
    y1: number,
    s1: number,
    A1: number,
    v1: number,
    c1: number,
    y2: number,
    s2: number,
    A2: number,
    v2: number,
    c2: number,
    r0: number,
    r1: number,
  ): void;
  copyF32(dst: number, src: number, n: number): void;
  addF32(dst: number, src: number, n: number): void;
}

const PAGE = 65536;
/** Shared memory starts at 16 MiB and grows on demand up to WASM_MAX_PAGES (1 GiB). */
const SHARED_INITIAL_PAGES = 256;
/** A plain memory never grows (growth would detach every array handed out): 64 MiB, fixed. */
const PLAIN_PAGES = 1024;
const ALIGN = 16;

// The smallest module using a v128 instruction: one function returning v128.const 0.
// biome-ignore format: a byte table reads best in rows.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
]);

interface Wasm {
  k: WasmKernels;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  shared: boolean;
}

let wasm: Wasm | null = null;
let simd: boolean | null = null;
let loading: Promise<void> | null = null;
let loadError: unknown = null;

/** True when this runtime validates WebAssembly SIMD128 (the wasm backend's requirement). */
export function wasmSupported(): boolean {
  if (simd === null) {
    try {
      simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simd = false;
    }
  }
  return simd;
}

function sharedMemory(): WebAssembly.Memory | null {
  // Without cross-origin isolation browsers have no SharedArrayBuffer and refuse shared memory.
  if (typeof SharedArrayBuffer !== 'function') return null;
  try {
    return new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: WASM_MAX_PAGES, shared: true });
  } catch {
    return null;
  }
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

function install(module: WebAssembly.Module, memory: WebAssembly.Memory, shared: boolean): void {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const k = instance.exports as unknown as WasmKernels;
  wasm = { k, module, memory, shared };
  heapStart = heapTop = alignUp(k.heapBase());
  refreshView();
}

function pickMemory(): { memory: WebAssembly.Memory; shared: boolean; bytes: string } {
  const mem = sharedMemory();
  if (mem) return { memory: mem, shared: true, bytes: wasmShared };
  return { memory: new WebAssembly.Memory({ initial: PLAIN_PAGES }), shared: false, bytes: wasmPlain };
}

/** Compiles and instantiates the module synchronously (fine in Node for a module this small). */
export function loadWasmSync(): void {
  if (wasm || loadError || !wasmSupported()) return;
  try {
    const { memory, shared, bytes } = pickMemory();
    install(new WebAssembly.Module(decode(bytes)), memory, shared);
  } catch (e) {
    loadError = e;
  }
}

/** Compiles and instantiates the module without blocking (what browsers need). */
export function loadWasm(): Promise<void> {
  if (wasm || loadError || !wasmSupported()) return Promise.resolve();
  loading ??= (async () => {
    try {
      const { memory, shared, bytes } = pickMemory();
      install(await WebAssembly.compile(decode(bytes)), memory, shared);
    } catch (e) {
      loadError = e;
    }
  })();
  return loading;
}

/** The loaded WASM kernels, or null before loading (or when loading failed). */
export function wasmKernels(): WasmKernels | null {
  return wasm ? wasm.k : null;
}

/** Why the module could not be loaded, or null. */
export function wasmLoadError(): unknown {
  return loadError;
}

/**
 * The compiled module and its memory when the module runs on a shared memory — what a helper
 * thread needs to run the same kernels on the same arrays (step-threads.ts) — else null.
 */
export function sharedWasm(): { k: WasmKernels; module: WebAssembly.Module; memory: WebAssembly.Memory } | null {
  return wasm?.shared ? { k: wasm.k, module: wasm.module, memory: wasm.memory } : null;
}

// ---- Memory ------------------------------------------------------------------------------
// Every ArrayBuffer/SharedArrayBuffer object memory.buffer ever returned: an array lives in WASM
// memory iff its .buffer is one of them (after a shared grow, memory.buffer is a new object over
// the same memory, while arrays made earlier keep the old one — both are valid views).
const buffers = new WeakSet<ArrayBufferLike>();
let heap: Float32Array = new Float32Array(0);
let heapStart = 0;
let heapTop = 0;
/** Live allocations: byte offset → bytes. */
const live = new Map<number, number>();
/** Free blocks sorted by offset, coalesced. */
const free: { off: number; bytes: number }[] = [];

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** The newest buffer object: a plain comparison answers the common case before the WeakSet. */
let current: ArrayBufferLike | null = null;

function refreshView(): void {
  const buf = wasm!.memory.buffer;
  buffers.add(buf);
  current = buf;
  heap = new Float32Array(buf);
}

/** Byte offset of arr inside WASM memory, or −1 when arr is an ordinary array. */
export function ptr(arr: Float32Array): number {
  const b = arr.buffer;
  return b === current || buffers.has(b) ? arr.byteOffset : -1;
}

/** Reserves `bytes` (16-aligned) of WASM memory; −1 when memory cannot hold it. */
function reserve(bytes: number): number {
  const need = alignUp(Math.max(bytes, ALIGN));
  for (let i = 0; i < free.length; i++) {
    const b = free[i]!;
    if (b.bytes >= need) {
      const off = b.off;
      if (b.bytes === need) free.splice(i, 1);
      else {
        b.off += need;
        b.bytes -= need;
      }
      live.set(off, need);
      return off;
    }
  }
  const w = wasm!;
  const end = heapTop + need;
  if (end > w.memory.buffer.byteLength) {
    if (!w.shared) return -1;
    const pages = Math.ceil((end - w.memory.buffer.byteLength) / PAGE);
    try {
      w.memory.grow(pages);
    } catch {
      return -1;
    }
    refreshView();
  }
  const off = heapTop;
  heapTop = end;
  live.set(off, need);
  return off;
}

function release(off: number): void {
  const bytes = live.get(off)!;
  live.delete(off);
  let i = 0;
  while (i < free.length && free[i]!.off < off) i++;
  free.splice(i, 0, { off, bytes });
  // Merge with the next, then the previous block.
  if (i + 1 < free.length && off + bytes === free[i + 1]!.off) {
    free[i]!.bytes += free[i + 1]!.bytes;
    free.splice(i + 1, 1);
  }
  if (i > 0 && free[i - 1]!.off + free[i - 1]!.bytes === free[i]!.off) {
    free[i - 1]!.bytes += free[i]!.bytes;
    free.splice(i, 1);
    i--;
  }
  // A free block at the top goes back to the bump pointer.
  const last = free[free.length - 1];
  if (last && last.off + last.bytes === heapTop) {
    heapTop = last.off;
    free.pop();
  }
}

/**
 * A zeroed Float32Array of length n in WASM memory (the module must be loaded), or an ordinary
 * array when memory cannot hold it. The caller owns it until wasmFreeF32.
 */
export function wasmAllocF32(n: number): Float32Array {
  const off = reserve(n * 4);
  if (off < 0) return new Float32Array(n);
  const arr = new Float32Array(wasm!.memory.buffer, off, n);
  arr.fill(0);
  return arr;
}

/**
 * Returns an array from wasmAllocF32 to the allocator; ordinary arrays are left to the garbage
 * collector (no-op). Throws on a view that wasmAllocF32 did not return or that was already freed.
 */
export function wasmFreeF32(arr: Float32Array): void {
  if (ptr(arr) < 0) return;
  if (!live.has(arr.byteOffset)) {
    throw new RangeError(
      `freeF32: byte offset ${arr.byteOffset} is not a live allocation (freed twice, or a subarray?)`,
    );
  }
  release(arr.byteOffset);
}

/** Statistics of the WASM memory and its allocator (for tests and diagnostics). */
export interface WasmMemoryInfo {
  /** Whether the memory is a SharedArrayBuffer (needed by setStepThreads). */
  shared: boolean;
  /** Size of the memory in bytes. */
  bytes: number;
  /** Bytes between the start of the heap and its top, free blocks included. */
  heapUsed: number;
  /** Arrays handed out by allocF32 and not freed yet. */
  live: number;
}

/** The WASM memory's statistics, or null while the module is not loaded. */
export function wasmMemoryInfo(): WasmMemoryInfo | null {
  if (!wasm) return null;
  return { shared: wasm.shared, bytes: wasm.memory.buffer.byteLength, heapUsed: heapTop - heapStart, live: live.size };
}

// ---- Workspace: kernel-private temporaries (gemmAtB's transposed A) --------------------------
let workOff = -1;
let workBytes = 0;

/** Pointer to at least `bytes` of WASM memory owned by the kernels, or −1 if it cannot fit. */
export function workspace(bytes: number): number {
  if (bytes > workBytes) {
    if (workOff >= 0) release(workOff);
    workOff = reserve(bytes);
    workBytes = workOff < 0 ? 0 : bytes;
  }
  return workOff;
}

// ---- Scratch: plain arrays on the wasm backend ---------------------------------------------
let scratchOff = -1;
let scratchBytes = 0;

/**
 * Runs `run` with pointers for `arrs`: arrays already in WASM memory pass through; others are
 * copied into a scratch region (inputs, mask bit 1) and copied back out after (outputs, bit 2).
 * Returns false when scratch cannot be reserved (plain memory full): the caller uses the js twin.
 */
export function viaScratch(
  arrs: readonly Float32Array[],
  modes: readonly number[],
  run: (p: number[]) => void,
): boolean {
  let need = 0;
  for (const a of arrs) if (ptr(a) < 0) need += alignUp(a.byteLength);
  if (need > scratchBytes) {
    if (scratchOff >= 0) release(scratchOff);
    scratchOff = reserve(need);
    scratchBytes = scratchOff < 0 ? 0 : need;
    if (scratchOff < 0) return false;
  }
  const p: number[] = [];
  let at = scratchOff;
  for (let i = 0; i < arrs.length; i++) {
    const a = arrs[i]!;
    const q = ptr(a);
    if (q >= 0) {
      p.push(q);
      continue;
    }
    if (modes[i]! & 1) heap.set(a, at >> 2);
    p.push(at);
    at += alignUp(a.byteLength);
  }
  run(p);
  for (let i = 0; i < arrs.length; i++) {
    const a = arrs[i]!;
    if (ptr(a) < 0 && modes[i]! & 2) a.set(heap.subarray(p[i]! >> 2, (p[i]! >> 2) + a.length));
  }
  return true;
}

// The helper thread's program: instantiate the WASM module on the shared memory, then claim and
// run row chunks of the jobs the calling thread publishes (step-threads.ts) until told to stop.
// It runs as an eval'd worker in Node and as a Blob-URL worker in browsers, so it must not import
// anything: step-threads.ts sends it as the source text of stepHelperMain, and the job layout
// (step-job.ts) arrives in the start message.
import type { StepJobLayout } from './step-job.js';
import type { WasmKernels } from './wasm-memory.js';

/** What the calling thread sends to start the helper. */
export interface HelperStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  layout: StepJobLayout;
}

/** The message port of either kind of worker. */
interface Port {
  post(message: unknown): void;
  once(listener: (data: HelperStart) => void): void;
  close(): void;
}

/**
 * The helper's whole program. Self-contained: it is turned into source text and evaluated in a
 * new thread, so it may use only its own locals and the globals every worker has.
 */
export function stepHelperMain(): void {
  const port = workerPort();
  port.once((data) => {
    const L = data.layout;
    let k: WasmKernels;
    try {
      k = new WebAssembly.Instance(data.module, { env: { memory: data.memory } }).exports as unknown as WasmKernels;
    } catch (e) {
      port.post({ error: String(e) });
      return;
    }
    const ctrl = new Int32Array(data.ctrl);
    port.post('ready');
    serve(k, ctrl, L);
    port.close();
  });

  function workerPort(): Port {
    // In Node the worker's port comes from the built-in module; browser workers have self.
    const node = (globalThis as { process?: { getBuiltinModule?: NodeJS.Process['getBuiltinModule'] } }).process;
    if (typeof node?.getBuiltinModule === 'function') {
      const p = node.getBuiltinModule('node:worker_threads').parentPort!;
      return { post: (m) => p.postMessage(m), once: (f) => p.once('message', f), close: () => p.close() };
    }
    const scope = globalThis as unknown as {
      postMessage(m: unknown): void;
      onmessage: ((e: { data: HelperStart }) => void) | null;
      close(): void;
    };
    return {
      post: (m) => scope.postMessage(m),
      once: (f) => {
        scope.onmessage = (e) => {
          scope.onmessage = null;
          f(e.data);
        };
      },
      close: () => scope.close(),
    };
  }

  /** Spins for the spin time, then sleeps, until a job newer than `seq` is published. */
  function idle(ctrl: Int32Array, seq: number, L: StepJobLayout): number {
    let until = performance.now() + ctrl[L.JOB + L.F_SPIN]! / 1000;
    let v = Atomics.load(ctrl, L.CLAIM);
    for (let i = 0; v >>> 8 === seq; v = Atomics.load(ctrl, L.CLAIM)) {
      if ((++i & 1023) !== 0 || performance.now() < until) continue;
      Atomics.store(ctrl, L.SLEEP, 1);
      v = Atomics.load(ctrl, L.CLAIM);
      if (v >>> 8 === seq) Atomics.wait(ctrl, L.CLAIM, v);
      Atomics.store(ctrl, L.SLEEP, 0);
      until = performance.now() + ctrl[L.JOB + L.F_SPIN]! / 1000;
    }
    return v >>> 8;
  }

  /** Records the first error for the calling thread, which reports it and drops the helper. */
  function fail(ctrl: Int32Array, e: unknown, L: StepJobLayout): void {
    if (Atomics.load(ctrl, L.ERROR) !== 0) return;
    const text = new TextEncoder().encode(String((e as Error)?.stack ?? e)).slice(0, L.ERROR_BYTES);
    new Uint8Array(ctrl.buffer, L.ERROR_TEXT * 4, L.ERROR_BYTES).set(text);
    Atomics.store(ctrl, L.ERROR, Math.max(1, text.length));
  }

  function serve(k: WasmKernels, ctrl: Int32Array, L: StepJobLayout): void {
    const J = L.JOB;
    let seq = Atomics.load(ctrl, L.CLAIM) >>> 8;
    for (;;) {
      seq = idle(ctrl, seq, L);
      const op = ctrl[J + L.F_OP]!;
      if (op === L.OP_STOP) return;
      const y1 = ctrl[J + L.F_Y1]!;
      const s1 = ctrl[J + L.F_S1]!;
      const A1 = ctrl[J + L.F_A1]!;
      const v1 = ctrl[J + L.F_V1]!;
      const c1 = ctrl[J + L.F_C1]!;
      const y2 = ctrl[J + L.F_Y2]!;
      const s2 = ctrl[J + L.F_S2]!;
      const A2 = ctrl[J + L.F_A2]!;
      const v2 = ctrl[J + L.F_V2]!;
      const c2 = ctrl[J + L.F_C2]!;
      const rows = ctrl[J + L.F_ROWS]!;
      const chunkRows = ctrl[J + L.F_CHUNK_ROWS]!;
      const chunks = ctrl[J + L.F_CHUNKS]!;
      for (;;) {
        const v = Atomics.load(ctrl, L.CLAIM);
        const c = v & 255;
        if (v >>> 8 !== seq || c >= chunks) break;
        if (Atomics.compareExchange(ctrl, L.CLAIM, v, v + 1) !== v) continue;
        // Already taken over by the caller (this thread was late): skip it.
        const before = Atomics.load(ctrl, L.MARK + c);
        if (before === seq * 4 + L.TAKEN) continue;
        const r0 = c * chunkRows;
        const r1 = Math.min(rows, r0 + chunkRows);
        try {
          if (op === L.OP_GEMM) k.gemmABt(y1 + 4 * r0 * v1, s1 + 4 * r0 * c1, A1, r1 - r0, v1, c1, 0);
          else k.stepRows(y1, s1, A1, v1, c1, y2, s2, A2, v2, c2, r0, r1);
        } catch (e) {
          fail(ctrl, e, L);
          continue;
        }
        // Fails when the caller took the chunk over meanwhile; then these rows are never read.
        const done = seq * 4 + L.FINISHED;
        if (Atomics.compareExchange(ctrl, L.MARK + c, before, done) === before) Atomics.add(ctrl, L.HELPED, 1);
      }
    }
  }
}

/**
 * The helper's source text: its program, called at once. Tools that compile TypeScript with
 * esbuild's keepNames (tsx) wrap inner functions in a `__name(fn, "name")` call to a module-level
 * helper, which a new thread lacks: an identity stand-in covers it.
 */
export const STEP_HELPER_SOURCE = `'use strict';\nvar __name = (fn) => fn;\n(${stepHelperMain.toString()})();\n`;

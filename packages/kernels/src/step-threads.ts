// A second thread for the batch-1 step kernels. A large streaming step is bound by reading its
// weights from cache (LSTM-512: 4.5 MB per step), which one core does at its own bandwidth. A
// helper worker runs the same WASM module on the same shared memory and takes row chunks of the
// step's two products, so both cores read weights. Results are bitwise those of the one-thread
// step (chunks start at multiples of six rows; see stepRows in assembly/step.ts). Large batched
// forward products (gemmABt, B ≥ 8) are shared the same way, by rows of C in four-row blocks.
//
// The calling thread never depends on the helper: chunks are claimed through one atomic word, so
// the caller takes every chunk the helper has not started, and a chunk the helper started but did
// not finish in time (its thread descheduled on a busy machine) is taken over. That is safe because
// the helper writes only into its own scratch rows, which the caller copies out after the helper
// has marked the chunk done; a chunk taken over is marked so first, and the helper's late result
// for it is never read.
import { active, activeNative, allocF32, freeF32 } from './backend.js';
import { ShareGovernor } from './share-governor.js';
import { type HelperStart, STEP_HELPER_SOURCE } from './step-helper.js';
import { STEP_JOB } from './step-job.js';
import { ptr, sharedWasm, type WasmKernels } from './wasm-memory.js';

const { CLAIM, SLEEP, HELPED, ERROR, JOB, MARK, ERROR_TEXT, CTRL_INTS, OP_ROWS, OP_STOP, OP_GEMM } = STEP_JOB;
const { F_OP, F_Y1, F_S1, F_A1, F_V1, F_C1, F_Y2, F_S2, F_A2, F_V2, F_C2, F_ROWS, F_CHUNK_ROWS, F_CHUNKS, F_SPIN } =
  STEP_JOB;
const { SEQ_MASK, TAKEN, FINISHED } = STEP_JOB;
/**
 * Chunks per step: at most 8 (enough for the two threads to balance), each of at least 16384
 * weights (~2 µs of reading), so that the cross-core claims stay a small part of a step. Chosen
 * by timing lstmStep/gruStep/rnnStep at H = 128/256/512 with 4–64 chunks and 4096–32768 weights.
 */
const MAX_CHUNKS = 8;
const MIN_CHUNK_WEIGHTS = 16384;
/**
 * The caller takes over a helper's chunk it has waited on for this many of its own chunk times
 * (plus 2 µs, from when it starts waiting): a running helper finishes within it, a descheduled
 * one would cost a scheduler time slice.
 */
const PATIENCE = 1.5;

/** The parts of a Node or browser Worker the helper uses. */
interface HelperWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

/** Options of {@link setStepThreads}. */
export interface StepThreadsOptions {
  /** Microseconds the helper keeps polling for the next step before it sleeps (default 2000). */
  spinMicros?: number;
  /**
   * Smallest step that is shared, in weights read per step: rows × (n_x + H), e.g. 4H(n_x + H)
   * for an LSTM (default 131072 — LSTM from H = 152, GRU from H = 180, tanh RNN from H = 332 at
   * n_x = 64). Smaller steps run on the calling thread alone: on a quiet machine sharing them gains
   * ~1 µs, and with every core busy the spinning helper costs them more than that.
   */
  minWeights?: number;
  /**
   * Time both ways and share only while sharing is faster (default true): with every core busy
   * the helper's polling would cost the caller more than it saves. false shares every eligible
   * job (for measurements and tests).
   */
  adaptive?: boolean;
}

/** What {@link getStepThreads} reports: the settings and how the work was split so far. */
export interface StepThreadsInfo {
  /** 2 while a helper thread shares large batch-1 steps, else 1. */
  threads: 1 | 2;
  /** The helper's polling time after a job (see {@link StepThreadsOptions.spinMicros}). */
  spinMicros: number;
  /** The smallest shared step, in weights read (see {@link StepThreadsOptions.minWeights}). */
  minWeights: number;
  /** Steps large enough to share, since the helper started (`alone` of them ran unshared). */
  steps: number;
  /** Batched products (gemmABt, B ≥ 8) large enough to share. */
  gemms: number;
  /** Row chunks of those steps, and how many the helper ran (the rest ran on the caller). */
  chunks: number;
  /** Chunks of `chunks` that the helper thread computed. */
  helperChunks: number;
  /** Chunks the helper had started but the caller took over because it was late. */
  takenOver: number;
  /** Whether sharing is timed and used only while it is faster ({@link StepThreadsOptions.adaptive}). */
  adaptive: boolean;
  /** Eligible jobs run on the caller alone because sharing was measured slower (adaptive). */
  alone: number;
  /**
   * Who shares the steps: `'wasm'` (the helper worker above) or `'native'` (the addon's own
   * thread pool, within the budget of setNativeThreads; the counters above then stay 0 and
   * backendInfo().native.addon counts the shared calls).
   */
  backend: 'wasm' | 'native';
}

interface Helper {
  worker: HelperWorker;
  ctrl: Int32Array;
  k: WasmKernels;
  exited: Promise<void>;
  seq: number;
  steps: number;
  gemms: number;
  chunks: number;
  takenOver: number;
  /** Per op (steps, GEMMs): whether sharing currently pays, from timing both ways. */
  governors: [ShareGovernor, ShareGovernor];
  /**
   * The caller's recent time per unit of a chunk's work (µs; a step's weights, a GEMM's
   * multiply-adds), per op: how long to wait for the helper's chunk.
   */
  usPerUnit: [number, number];
  /** The helper's output area (byte offset) and its size in floats. */
  scratch: number;
  scratchFloats: number;
  /**
   * Every scratch array ever handed to the helper. Never freed while it lives: a late helper may
   * still write into an old one, which must not become someone else's memory.
   */
  scratchArrays: Float32Array[];
}

const DEFAULTS = { spinMicros: 2000, minWeights: 131072, adaptive: true };
let helper: Helper | null = null;
let settings = { ...DEFAULTS };
/** setStepThreads' choice while the native backend runs the steps (its pool shares them). */
let nativeThreads: 1 | 2 = 1;
let changing: Promise<void> = Promise.resolve();

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

function checkOptions(options: StepThreadsOptions): typeof DEFAULTS {
  if (options === null || typeof options !== 'object') throw new TypeError('setStepThreads: options must be an object');
  const out = { ...settings };
  for (const key of ['spinMicros', 'minWeights'] as const) {
    const v = options[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`setStepThreads: ${key} must be a non-negative integer, got ${String(v)}`);
    out[key] = v;
  }
  if (options.adaptive !== undefined) {
    if (typeof options.adaptive !== 'boolean')
      throw new TypeError(`setStepThreads: adaptive must be a boolean, got ${String(options.adaptive)}`);
    out.adaptive = options.adaptive;
  }
  return out;
}

interface Spawned {
  worker: HelperWorker;
  on(event: 'message' | 'error' | 'exit', f: (v: unknown) => void): void;
  /** Drops the start-up listeners once the helper is ready (in Node they keep a process alive). */
  started(): void;
}

function spawn(): Spawned {
  if (isNode) {
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(STEP_HELPER_SOURCE, { eval: true });
    return {
      worker,
      on: (event, f) => worker.on(event, f),
      // A helper in its loop must not keep the process alive: unref, and no 'message' listener
      // (one re-refs the worker's port). Its 'error' listener stays: an unhandled one would throw.
      started: () => {
        worker.removeAllListeners('message').unref();
      },
    };
  }
  const W = (globalThis as { Worker?: new (url: string) => Worker }).Worker;
  if (typeof W !== 'function') throw new Error('setStepThreads: this runtime has no Worker');
  const url = URL.createObjectURL(new Blob([STEP_HELPER_SOURCE], { type: 'text/javascript' }));
  const worker = new W(url);
  URL.revokeObjectURL(url);
  let exit: ((v: unknown) => void) | null = null;
  const terminate = (): void => {
    worker.terminate();
    exit?.(0);
  };
  return {
    worker: { postMessage: (m) => worker.postMessage(m), terminate },
    started: () => undefined,
    on: (event, f) => {
      if (event === 'message') worker.addEventListener('message', (e) => f(e.data));
      else if (event === 'error') worker.addEventListener('error', (e) => f(new Error(e.message)));
      else exit = f;
    },
  };
}

async function start(): Promise<Helper> {
  const wasm = active() ? sharedWasm() : null;
  if (!wasm) {
    throw new Error(
      'setStepThreads(2): needs the wasm backend on a shared WebAssembly.Memory (SharedArrayBuffer; in browsers a cross-origin isolated page), ' +
        'but kernels run on the js backend or a plain memory here',
    );
  }
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_INTS * 4));
  ctrl[JOB + F_SPIN] = settings.spinMicros;
  const { worker, on, started } = spawn();
  const exited = new Promise<void>((resolve) => on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    on('message', (m) =>
      m === 'ready'
        ? resolve()
        : reject(new Error(`setStepThreads: helper failed to start: ${(m as { error?: string }).error ?? String(m)}`)),
    );
    on('error', reject);
    void exited.then(() => reject(new Error('setStepThreads: helper exited before it was ready')));
    const message: HelperStart = { module: wasm.module, memory: wasm.memory, ctrl: ctrl.buffer, layout: STEP_JOB };
    worker.postMessage(message);
  });
  started();
  const h: Helper = {
    worker,
    ctrl,
    k: wasm.k,
    exited,
    seq: 0,
    steps: 0,
    gemms: 0,
    chunks: 0,
    takenOver: 0,
    governors: [new ShareGovernor(), new ShareGovernor()],
    usPerUnit: [1e-4, 1e-5],
    scratch: -1,
    scratchFloats: 0,
    scratchArrays: [],
  };
  // A helper that dies (its thread ended or crashed) is dropped: steps go back to one thread.
  void exited.then(() => {
    if (helper === h) helper = null;
  });
  warmUp(h);
  return h;
}

/**
 * A few thousand small shared jobs (~10 ms) right at the start, so that the code both threads run
 * per chunk is compiled before the first real step: a new worker otherwise spends its first
 * thousands of steps in V8's slower tiers.
 */
function warmUp(h: Helper): void {
  const rows = 48;
  const cols = 2048;
  const A = allocF32(rows * cols);
  const v = allocF32(cols);
  const y = allocF32(rows);
  const bias = allocF32(rows);
  if (ensureScratch(h, 2 * rows) && (ptr(A) | ptr(v) | ptr(y) | ptr(bias)) >= 0) {
    const pA = ptr(A);
    const pv = ptr(v);
    const py = ptr(y);
    // Every warm-up job shared, whatever the timing says.
    const kept = settings;
    settings = { ...settings, adaptive: false };
    try {
      for (let i = 0; i < 2000; i++) sharedRows(h, py, ptr(bias), pA, pv, 0, py, py, pA, pv, cols, rows);
    } finally {
      settings = kept;
    }
  }
  // A late helper may still read these, never write them: freeing them is safe.
  for (const a of [A, v, y, bias]) freeF32(a);
  h.steps = h.gemms = h.chunks = h.takenOver = 0;
  h.governors = [new ShareGovernor(), new ShareGovernor()];
  Atomics.store(h.ctrl, HELPED, 0);
}

async function stop(h: Helper): Promise<void> {
  const { ctrl } = h;
  ctrl[JOB + F_OP] = OP_STOP;
  h.seq = (h.seq + 1) & SEQ_MASK;
  Atomics.store(ctrl, CLAIM, h.seq << 8);
  Atomics.notify(ctrl, CLAIM);
  await h.worker.terminate();
  // The helper thread is gone: nothing can write into its scratch any more.
  for (const a of h.scratchArrays) freeF32(a);
  h.scratchArrays.length = 0;
  h.scratchFloats = 0;
}

/**
 * Starts (2) or stops (1) a helper thread that shares the large batch-1 steps of lstmStep,
 * gruStep and rnnStep — what createCell().step, RnnStack steps and generate() use — and large
 * batched gemmABt products with the calling thread. Results are bitwise the same either way. Needs the wasm backend on shared
 * memory (Node; browsers when cross-origin isolated). The helper polls for `spinMicros` after a
 * step, so it keeps a second core busy only while steps keep coming. Calling again with 2 updates
 * the options. In Node the helper never keeps the process alive.
 *
 * On the native backend no worker starts: 2 lets the addon's thread pool split the rows of steps
 * reading at least `minWeights` weights (results bitwise those of one thread), within the budget
 * of `setNativeThreads`; 1 keeps steps on the calling thread. `spinMicros` and `adaptive` apply to
 * the WASM helper only.
 */
export function setStepThreads(threads: 1 | 2, options: StepThreadsOptions = {}): Promise<void> {
  if (threads !== 1 && threads !== 2)
    throw new RangeError(`setStepThreads: expected 1 or 2 threads, got ${String(threads)}`);
  const next = checkOptions(options);
  const run = async (): Promise<void> => {
    settings = next;
    const n = activeNative();
    if (n !== null) {
      // Native steps share rows through the addon's pool; no WASM worker is needed.
      nativeThreads = threads;
      n.setStepSharing(threads === 2 ? Math.max(1, settings.minWeights) : 0);
      return;
    }
    if (threads === 1) {
      const h = helper;
      helper = null;
      if (h) await stop(h);
      return;
    }
    if (helper) helper.ctrl[JOB + F_SPIN] = settings.spinMicros;
    else helper = await start();
  };
  changing = changing.then(run, run);
  return changing;
}

/** Whether steps are shared right now, the settings, and how the work was split so far. */
export function getStepThreads(): StepThreadsInfo {
  const h = helper;
  if (activeNative() !== null) {
    const zero = { steps: 0, gemms: 0, chunks: 0, helperChunks: 0, takenOver: 0, alone: 0 };
    return { threads: nativeThreads, ...settings, ...zero, backend: 'native' };
  }
  return {
    backend: 'wasm',
    threads: h ? 2 : 1,
    ...settings,
    steps: h?.steps ?? 0,
    gemms: h?.gemms ?? 0,
    chunks: h?.chunks ?? 0,
    helperChunks: h ? Atomics.load(h.ctrl, HELPED) : 0,
    takenOver: h?.takenOver ?? 0,
    alone: h ? h.governors[0].alone + h.governors[1].alone : 0,
  };
}

/** The helper when a step of `rows` rows over `cols` columns is worth sharing, else null. */
export function stepHelper(rows: number, cols: number): Helper | null {
  const h = helper;
  return h !== null && rows * cols >= settings.minWeights && ensureScratch(h, 2 * rows) ? h : null;
}

/**
 * The helper when C[M×N] = A[M×K]·Bmᵀ is worth sharing, else null: at least 8 rows and 32 ×
 * minWeights multiply-adds (2²² by default, ~80 µs on one thread here).
 */
export function gemmHelper(M: number, N: number, K: number): Helper | null {
  const h = helper;
  return h !== null && M >= 8 && M * N * K >= 32 * settings.minWeights && ensureScratch(h, M * N) ? h : null;
}

/** Gives the helper `floats` of scratch; false when WASM memory is exhausted. */
function ensureScratch(h: Helper, floats: number): boolean {
  if (floats <= h.scratchFloats) return true;
  const a = allocF32(floats);
  // An ordinary array came back: no room in WASM memory, so the work runs on one thread.
  if (ptr(a) < 0) return false;
  h.scratchArrays.push(a);
  h.scratch = a.byteOffset;
  h.scratchFloats = floats;
  return true;
}

/** The job being shared, as the caller sees it (outputs in place, not in the helper's scratch). */
const job = {
  op: OP_ROWS as number,
  y1: 0,
  s1: 0,
  A1: 0,
  v1: 0,
  c1: 0,
  y2: 0,
  s2: 0,
  A2: 0,
  v2: 0,
  c2: 0,
  rows: 0,
  chunkRows: 0,
  acc: 0,
  S2: 0,
};

/** The caller computes chunk c of the job itself, into the outputs. */
function runChunk(k: WasmKernels, c: number): void {
  const r0 = c * job.chunkRows;
  const r1 = Math.min(job.rows, r0 + job.chunkRows);
  if (job.op === OP_GEMM)
    k.gemmABt(job.y1 + 4 * r0 * job.v1, job.s1 + 4 * r0 * job.c1, job.A1, r1 - r0, job.v1, job.c1, job.acc);
  else k.stepRows(job.y1, job.s1, job.A1, job.v1, job.c1, job.y2, job.s2, job.A2, job.v2, job.c2, r0, r1);
}

/**
 * Moves the helper's result for chunk c from its scratch into the outputs. A GEMM with acc adds
 * it: C + (A·Bᵀ) is bitwise the kernel's own (A·Bᵀ) + C.
 */
function collectChunk(h: Helper, c: number): void {
  const { k } = h;
  const r0 = c * job.chunkRows;
  const n = Math.min(job.rows, r0 + job.chunkRows) - r0;
  if (job.op === OP_GEMM) {
    const at = 4 * r0 * job.v1;
    if (job.acc) k.addF32(job.y1 + at, h.scratch + at, n * job.v1);
    else k.copyF32(job.y1 + at, h.scratch + at, n * job.v1);
    return;
  }
  k.copyF32(job.y2 + 4 * r0, (job.y2 === job.y1 ? h.scratch : job.S2) + 4 * r0, n);
  if (job.y1 !== job.y2) k.copyF32(job.y1 + 4 * r0, h.scratch + 4 * r0, n);
}

/** The caller's view of a job: op, its first product (or GEMM) fields and chunk geometry. */
function setJob(
  op: number,
  y1: number,
  s1: number,
  A1: number,
  v1: number,
  c1: number,
  rows: number,
  chunkRows: number,
): void {
  job.op = op;
  job.y1 = y1;
  job.s1 = s1;
  job.A1 = A1;
  job.v1 = v1;
  job.c1 = c1;
  job.rows = rows;
  job.chunkRows = chunkRows;
}

/** The helper's view of the first product (its output in the helper's scratch). */
function postFirst(ctrl: Int32Array, y1: number, s1: number, A1: number, v1: number, c1: number): void {
  ctrl[JOB + F_Y1] = y1;
  ctrl[JOB + F_S1] = s1;
  ctrl[JOB + F_A1] = A1;
  ctrl[JOB + F_V1] = v1;
  ctrl[JOB + F_C1] = c1;
}

/**
 * Rows [0, rows) of y1 = s1 + A1·v1 (c1 = 0: y1 = s1), then y2 = s2 + A2·v2 where s2 may be y1,
 * shared with the helper (byte offsets into the shared memory). Returns once every row is written.
 * Throws, before the caller updates any state, if the helper reported an error.
 */
export function sharedRows(
  h: Helper,
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
  rows: number,
): void {
  const { ctrl } = h;
  const per = Math.max(Math.ceil(rows / MAX_CHUNKS), Math.ceil(MIN_CHUNK_WEIGHTS / (c1 + c2)));
  const chunkRows = Math.ceil(per / 6) * 6;
  setJob(OP_ROWS, y1, s1, A1, v1, c1, rows, chunkRows);
  job.y2 = y2;
  job.s2 = s2;
  job.A2 = A2;
  job.v2 = v2;
  job.c2 = c2;
  job.S2 = h.scratch + 4 * rows;
  // The helper computes into its scratch: the first output there, the second after it (or the
  // first again when both are one array, as for the LSTM's pre).
  const S1 = h.scratch;
  postFirst(ctrl, S1, s1, A1, v1, c1);
  ctrl[JOB + F_Y2] = y2 === y1 ? S1 : job.S2;
  ctrl[JOB + F_S2] = s2 === y1 ? S1 : s2;
  ctrl[JOB + F_A2] = A2;
  ctrl[JOB + F_V2] = v2;
  ctrl[JOB + F_C2] = c2;
  share(h, OP_ROWS, rows, chunkRows, chunkRows * (c1 + c2));
  h.steps++;
}

/**
 * C[M×N] = A[M×K]·Bm[N×K]ᵀ (+ C when acc), rows of C shared with the helper in chunks that start
 * at multiples of four (the kernel's row block), so the result is bitwise the one-thread call's.
 */
export function sharedGemmABt(
  h: Helper,
  C: number,
  A: number,
  Bm: number,
  M: number,
  N: number,
  K: number,
  acc: number,
): void {
  const { ctrl } = h;
  const per = Math.max(Math.ceil(M / MAX_CHUNKS), Math.ceil(MIN_CHUNK_WEIGHTS / (N * K)));
  const chunkRows = Math.ceil(per / 4) * 4;
  // Its first product's fields carry the GEMM: y1 = C, s1 = A, A1 = Bm, v1 = N, c1 = K.
  setJob(OP_GEMM, C, A, Bm, N, K, M, chunkRows);
  job.acc = acc;
  postFirst(ctrl, h.scratch, A, Bm, N, K);
  share(h, OP_GEMM, M, chunkRows, chunkRows * N * K);
  h.gemms++;
}

/**
 * Publishes the job whose arguments are in `job` and ctrl[JOB + 1…], runs chunks on the caller
 * until none is left unclaimed, then collects the helper's chunks (or takes over a late one).
 */
function share(h: Helper, op: number, rows: number, chunkRows: number, unitsPerChunk: number): void {
  const { ctrl, k } = h;
  const chunks = Math.ceil(rows / chunkRows);
  const slot = op === OP_GEMM ? 1 : 0;
  const governor = settings.adaptive ? h.governors[slot] : null;
  const start = governor ? performance.now() : 0;
  if (governor !== null && !governor.sharing) {
    for (let c = 0; c < chunks; c++) runChunk(k, c);
    governor.record((performance.now() - start) * 1000, chunks * unitsPerChunk);
    return;
  }
  ctrl[JOB + F_OP] = op;
  ctrl[JOB + F_ROWS] = rows;
  ctrl[JOB + F_CHUNK_ROWS] = chunkRows;
  ctrl[JOB + F_CHUNKS] = chunks;
  h.seq = (h.seq + 1) & SEQ_MASK;
  const seq = h.seq;
  Atomics.store(ctrl, CLAIM, seq << 8);
  // Wake a sleeping helper once: whoever clears SLEEP notifies, so a helper that is slow to get a
  // core back does not cost the caller a system call on every job meanwhile.
  if (Atomics.load(ctrl, SLEEP) !== 0 && Atomics.compareExchange(ctrl, SLEEP, 1, 0) === 1) Atomics.notify(ctrl, CLAIM);
  // Every 32nd job times the caller's chunks: the estimate of how long a helper chunk takes.
  const timed = (seq & 31) === 0;
  const t0 = timed ? performance.now() : 0;
  let mine = 0;
  let mineCount = 0;
  for (;;) {
    const v = Atomics.load(ctrl, CLAIM);
    const c = v & 255;
    if (c >= chunks) break;
    if (Atomics.compareExchange(ctrl, CLAIM, v, v + 1) !== v) continue;
    runChunk(k, c);
    mine |= 1 << c;
    mineCount++;
  }
  if (timed && mineCount > 0) h.usPerUnit[slot] = ((performance.now() - t0) * 1000) / mineCount / unitsPerChunk;
  const patienceMs = (PATIENCE * h.usPerUnit[slot] * unitsPerChunk + 2) / 1000;
  for (let c = 0; c < chunks; c++) {
    if (mine & (1 << c)) continue;
    if (helperFinished(h, c, seq, patienceMs)) collectChunk(h, c);
    else {
      runChunk(k, c);
      h.takenOver++;
    }
  }
  h.chunks += chunks;
  governor?.record((performance.now() - start) * 1000, chunks * unitsPerChunk);
  if (Atomics.load(ctrl, ERROR) !== 0) helperFailed(h);
}

/**
 * Waits until the helper has marked chunk c of job seq finished (true), or, once it has waited
 * patienceMs, takes the chunk over by marking it first (false: the caller computes it).
 */
function helperFinished(h: Helper, c: number, seq: number, patienceMs: number): boolean {
  const { ctrl } = h;
  const finished = seq * 4 + FINISHED;
  let deadline = 0;
  for (let i = 1; ; i++) {
    const m = Atomics.load(ctrl, MARK + c);
    if (m === finished) return true;
    if ((i & 63) !== 0) continue;
    // The clock is read only once the caller really waits.
    const now = performance.now();
    if (deadline === 0) deadline = now + patienceMs;
    else if (now > deadline) {
      // Whoever marks first wins: the helper's mark means its rows are complete.
      return Atomics.compareExchange(ctrl, MARK + c, m, seq * 4 + TAKEN) !== m;
    }
  }
}

/** Drops the helper (later steps run on one thread) and reports its error. */
function helperFailed(h: Helper): never {
  const len = Atomics.load(h.ctrl, ERROR);
  const text = new TextDecoder().decode(new Uint8Array(h.ctrl.buffer, ERROR_TEXT * 4, len).slice());
  if (helper === h) helper = null;
  void stop(h);
  throw new Error(`step helper thread failed: ${text}; steps run on one thread from now on`);
}

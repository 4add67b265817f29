// The job layout shared by the calling thread (step-threads.ts) and the helper thread
// (step-helper.ts): indices of the Int32 control words in one SharedArrayBuffer. The helper gets
// this object in its start message, so both sides read one definition.

/**
 * Shared control words (Int32 indices), the busy ones on separate 64-byte lines:
 * CLAIM  (job sequence << 8) | chunks claimed; a job is published by storing seq << 8 and each
 *        chunk is claimed by compare-exchange, so a late helper can never claim a newer job's chunk
 * SLEEP  1 while the helper blocks in Atomics.wait; the poster that clears it notifies CLAIM
 * HELPED chunks whose helper result was used, over all jobs
 * ERROR  byte length of the helper's error message (0: none), message at ERROR_TEXT
 * JOB    the job, fields at JOB + F_*: the op, the helper's stepRows arguments (its outputs in its
 *        scratch), the chunk geometry and the spin time
 * MARK   per chunk: seq·4 + FINISHED when the helper finished it, seq·4 + TAKEN when the caller
 *        took it over
 */
export const STEP_JOB = {
  CLAIM: 0,
  SLEEP: 16,
  HELPED: 32,
  ERROR: 48,
  JOB: 64,
  MARK: 96,
  ERROR_TEXT: 128,
  /** Bytes of error text the helper may write at ERROR_TEXT. */
  ERROR_BYTES: 252,
  CTRL_INTS: 128 + 64,
  /** Job fields, offsets from JOB. OP_ROWS uses y1…c2 (two products); OP_GEMM y1 = C, s1 = A, A1 = Bm, v1 = N, c1 = K. */
  F_OP: 0,
  F_Y1: 1,
  F_S1: 2,
  F_A1: 3,
  F_V1: 4,
  F_C1: 5,
  F_Y2: 6,
  F_S2: 7,
  F_A2: 8,
  F_V2: 9,
  F_C2: 10,
  F_ROWS: 11,
  F_CHUNK_ROWS: 12,
  F_CHUNKS: 13,
  F_SPIN: 14,
  OP_ROWS: 1,
  OP_STOP: 2,
  OP_GEMM: 3,
  SEQ_MASK: 0x7fffff,
  TAKEN: 2,
  FINISHED: 3,
} as const;

export type StepJobLayout = typeof STEP_JOB;

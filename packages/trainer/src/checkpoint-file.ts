// Checkpoint files (Node only): atomic save (temp file in the same directory, fsync, rename) and
// validated load. The bytes come from encodeCheckpoint/decodeCheckpoint in checkpoint.ts.
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  CHECKPOINT_LIMITS,
  type Checkpoint,
  CheckpointError,
  type CheckpointExpectations,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint.js';

/** Minimal file-system surface used for saving; tests inject failures through it. */
export interface CheckpointIo {
  /** `fs.openSync(path, 'w', mode)`: a new file descriptor. */
  openSync(path: string, flags: 'w', mode: number): number;
  /** `fs.writeSync`: bytes written. */
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  /** `fs.fsyncSync`. */
  fsyncSync(fd: number): void;
  /** `fs.closeSync`. */
  closeSync(fd: number): void;
  /** `fs.renameSync`. */
  renameSync(from: string, to: string): void;
  /** `fs.unlinkSync`. */
  unlinkSync(path: string): void;
}

const defaultIo: CheckpointIo = nodeFs;

/**
 * Writes atomically: the bytes go to a temp file in the same directory, are fsynced, and the temp
 * file is renamed over `path` (atomic on POSIX). A failure at any point removes the temp file and
 * leaves the previous checkpoint untouched. Returns the number of bytes written.
 *
 * @example
 * ```ts
 * import { mkdtempSync, rmSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { CharModel } from '@rxrnn/cells';
 * import { loadCheckpoint, OfflineTrainer, saveCheckpoint } from '@rxrnn/trainer/node';
 * const text = 'abc abc abc '.repeat(20);
 * const trainer = await OfflineTrainer.create(new CharModel({ cell: 'rnn', vocab: [...'abc '], hidden: 8 }), text, {
 *   batchSize: 2,
 *   bptt: 8,
 * });
 * trainer.trainStep();
 * const dir = mkdtempSync(join(tmpdir(), 'rxrnn-'));
 * saveCheckpoint(join(dir, 'run.ckpt'), trainer.toCheckpoint());
 * const ckpt = loadCheckpoint(join(dir, 'run.ckpt'), { paramCount: trainer.model.params.length });
 * const again = OfflineTrainer.fromCheckpoint(ckpt, text); // continues exactly where trainer is
 * console.log(again.step); // 1
 * rmSync(dir, { recursive: true });
 * ```
 */
export function saveCheckpoint(path: string, ckpt: Checkpoint, io: CheckpointIo = defaultIo): number {
  const bytes = encodeCheckpoint(ckpt);
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  let fd: number | undefined;
  try {
    fd = io.openSync(tmp, 'w', 0o644);
    let off = 0;
    while (off < bytes.length) off += io.writeSync(fd, bytes, off, bytes.length - off);
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = undefined;
    io.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        io.closeSync(fd);
      } catch {
        // Already failing; the original error is the one worth reporting.
      }
    }
    try {
      io.unlinkSync(tmp);
    } catch {
      // The temp file may never have been created.
    }
    throw e;
  }
  // Persist the rename itself; directories cannot be fsynced on every platform, so best effort.
  try {
    const dfd = nodeFs.openSync(dirname(path), 'r');
    try {
      nodeFs.fsyncSync(dfd);
    } finally {
      nodeFs.closeSync(dfd);
    }
  } catch {
    // Not supported here (e.g. Windows); the rename is still atomic.
  }
  return bytes.length;
}

/**
 * Reads and validates a checkpoint file (decodeCheckpoint): only a regular file of at most
 * CHECKPOINT_LIMITS.fileBytes is read, so a device, a pipe or a huge file is refused before any
 * read, and the bytes are checked before anything is built from them.
 * @throws CheckpointError naming the file and the problem (missing, unreadable, not a file, too
 *   large, empty, truncated, corrupt, foreign, or inconsistent content).
 */
export function loadCheckpoint(path: string, expect: CheckpointExpectations = {}): Checkpoint {
  let bytes: Uint8Array;
  let fd: number | undefined;
  try {
    fd = nodeFs.openSync(path, 'r');
    const st = nodeFs.fstatSync(fd);
    if (!st.isFile()) throw new CheckpointError('checkpoint: not a regular file', path);
    if (st.size > CHECKPOINT_LIMITS.fileBytes)
      throw new CheckpointError(
        `checkpoint: file of ${st.size} bytes, larger than any checkpoint (at most ${CHECKPOINT_LIMITS.fileBytes})`,
        path,
      );
    bytes = new Uint8Array(st.size);
    let off = 0;
    while (off < bytes.length) {
      const got = nodeFs.readSync(fd, bytes, off, bytes.length - off, off);
      if (got === 0) break;
      off += got;
    }
    if (off !== bytes.length) bytes = bytes.subarray(0, off);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`checkpoint: cannot read file: ${(e as Error).message}`, path);
  } finally {
    if (fd !== undefined) nodeFs.closeSync(fd);
  }
  return decodeCheckpoint(bytes, expect, path);
}

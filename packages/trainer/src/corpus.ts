// Corpus handling for offline training: text → token ids through a vocabulary, the held-out tail
// split, and char-rnn style batching of B parallel streams into time-major [T×B] windows.
// The batcher owns its Int32Array window buffers and rewrites them on every call.
import type { Rng } from '@rxrnn/kernels';

/** Encodes text with a vocabulary given as chars in id order; an unknown char is a RangeError. */
export function encodeText(text: string, vocab: readonly string[]): Int32Array {
  if (typeof text !== 'string') throw new TypeError(`encodeText: expected a string, got ${typeof text}`);
  const index = vocabIndex(vocab);
  const chars = Array.from(text); // code points, so astral chars are one token each
  const ids = new Int32Array(chars.length);
  for (let i = 0; i < chars.length; i++) {
    const id = index.get(chars[i]!);
    if (id === undefined) {
      throw new RangeError(
        `encodeText: char ${JSON.stringify(chars[i])} at position ${i} is not in the vocabulary of ${vocab.length} chars`,
      );
    }
    ids[i] = id;
  }
  return ids;
}

export function vocabIndex(vocab: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  vocab.forEach((ch, i) => index.set(ch, i));
  return index;
}

/** Splits ids into a training head and a held-out tail of `valFraction` of the tokens. */
export function splitCorpus(
  ids: Int32Array,
  valFraction: number,
): {
  /** The head, for training (a view). */
  train: Int32Array;
  /** The held-out tail (a view). */
  val: Int32Array;
} {
  if (!(valFraction >= 0 && valFraction < 1))
    throw new RangeError(`splitCorpus: valFraction must be in [0, 1), got ${valFraction}`);
  const nVal = Math.floor(ids.length * valFraction);
  return { train: ids.subarray(0, ids.length - nVal), val: ids.subarray(ids.length - nVal) };
}

/** Where the batcher is: window index within the epoch, epoch number, and the epoch's offset. */
export interface BatchCursor {
  /** Window index within the epoch. */
  position: number;
  /** Epochs completed. */
  epoch: number;
  /** This epoch's random offset of the window boundaries, in [0, T). */
  shift: number;
}

/**
 * B streams start at evenly spaced offsets b·⌊(N−1)/B⌋ (+ a per-epoch random shift in [0, T) so
 * window boundaries move between epochs); each call yields the next T inputs and targets of every
 * stream, time-major: element (t, b) at t*B + b. Streams are split into ranges [b0, b1) so that
 * data-parallel workers each get their own contiguous block of streams.
 */
export class StreamBatcher {
  /** Tokens per stream: ⌊(N − 1)/B⌋. */
  readonly streamLen: number;
  private cursor: BatchCursor;

  /**
   * @param ids - the corpus as token ids.
   * @param B - parallel streams.
   * @param T - tokens per window.
   * @param rng - draws each epoch's shift (the trainer's seeded Rng).
   * @throws RangeError when the corpus is too short for B streams of T + 1 tokens.
   */
  constructor(
    /** The corpus as token ids. */
    readonly ids: Int32Array,
    /** Parallel streams. */
    readonly B: number,
    /** Tokens per window. */
    readonly T: number,
    private readonly rng: Rng,
  ) {
    if (!Number.isInteger(B) || B < 1)
      throw new RangeError(`StreamBatcher: batch size must be a positive integer, got ${B}`);
    if (!Number.isInteger(T) || T < 1)
      throw new RangeError(`StreamBatcher: bptt length must be a positive integer, got ${T}`);
    this.streamLen = Math.floor((ids.length - 1) / B);
    if (this.streamLen < T) {
      throw new RangeError(
        `StreamBatcher: corpus of ${ids.length} tokens is too short for ${B} streams of at least ${T + 1} tokens (need ${B * T + 1})`,
      );
    }
    this.cursor = { position: 0, epoch: 0, shift: this.drawShift() };
  }

  /** Windows per epoch for the current shift (the shift never leaves fewer than one). */
  get windowsPerEpoch(): number {
    return Math.floor((this.streamLen - this.cursor.shift) / this.T);
  }

  /** Where the batcher is (a copy), for a checkpoint. */
  getCursor(): BatchCursor {
    return { ...this.cursor };
  }

  /** Continues from a cursor of {@link StreamBatcher.getCursor} (checked against this corpus). */
  setCursor(c: BatchCursor): void {
    const { position, epoch, shift } = c;
    if (!Number.isInteger(shift) || shift < 0 || shift > this.streamLen - this.T) {
      throw new RangeError(`StreamBatcher: cursor shift ${shift} out of range [0, ${this.streamLen - this.T}]`);
    }
    this.cursor = { position, epoch, shift };
    if (!Number.isInteger(position) || position < 0 || position >= this.windowsPerEpoch) {
      throw new RangeError(`StreamBatcher: cursor position ${position} out of range [0, ${this.windowsPerEpoch})`);
    }
  }

  /**
   * Writes the current window of streams [b0, b1) into inputs/targets [T×(b1−b0)]. Call once per
   * range for the same window (check `atEpochStart` first: the streams jumped, so the carried
   * state must be zeroed), then `advance()`.
   */
  fill(inputs: Int32Array, targets: Int32Array, b0: number, b1: number): void {
    const { T, streamLen, ids } = this;
    const n = b1 - b0;
    if (inputs.length !== T * n || targets.length !== T * n) {
      throw new RangeError(
        `StreamBatcher.fill: buffers of length ${inputs.length}/${targets.length}, expected ${T * n}`,
      );
    }
    const base = this.cursor.shift + this.cursor.position * T;
    for (let b = b0; b < b1; b++) {
      const start = b * streamLen + base;
      for (let t = 0; t < T; t++) {
        inputs[t * n + (b - b0)] = ids[start + t]!;
        targets[t * n + (b - b0)] = ids[start + t + 1]!;
      }
    }
  }

  /** True when the current window is the first of its epoch (the carried state must be reset). */
  get atEpochStart(): boolean {
    return this.cursor.position === 0;
  }

  /** Moves to the next window, wrapping to a new epoch (with a new shift) at the end. */
  advance(): void {
    this.cursor.position++;
    if (this.cursor.position >= this.windowsPerEpoch) {
      this.cursor = { position: 0, epoch: this.cursor.epoch + 1, shift: this.drawShift() };
    }
  }

  private drawShift(): number {
    return this.rng.nextU32() % Math.min(this.T, this.streamLen - this.T + 1);
  }
}

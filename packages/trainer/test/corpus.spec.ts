// Corpus batching: evenly spaced streams, time-major windows, targets one step ahead, epoch
// wrap with a seeded shift, and the held-out split. Oracle: indices computed here by hand.
import { Rng } from '@rxrnn/kernels';
import { describe, expect, it } from 'vitest';
import { encodeText, StreamBatcher, splitCorpus } from '../src/index.js';

describe('StreamBatcher', () => {
  const ids = Int32Array.from({ length: 101 }, (_, i) => i);
  it('yields [T×B] time-major windows from B evenly spaced streams, targets shifted by one', () => {
    const b = new StreamBatcher(ids, 4, 5, new Rng(1));
    expect(b.streamLen).toBe(25);
    const { shift } = b.getCursor();
    expect(shift).toBeGreaterThanOrEqual(0);
    expect(shift).toBeLessThan(5);
    const inp = new Int32Array(20);
    const tgt = new Int32Array(20);
    b.fill(inp, tgt, 0, 4);
    for (let t = 0; t < 5; t++) {
      for (let s = 0; s < 4; s++) {
        expect(inp[t * 4 + s]).toBe(s * 25 + shift + t);
        expect(tgt[t * 4 + s]).toBe(s * 25 + shift + t + 1);
      }
    }
    // A sub-range of streams gets its own compact [T×2] block.
    const i2 = new Int32Array(10);
    const t2 = new Int32Array(10);
    b.fill(i2, t2, 2, 4);
    expect(Array.from(i2.subarray(0, 2))).toEqual([50 + shift, 75 + shift]);
  });

  it('covers an epoch window by window, then wraps to a new epoch with a new shift, never reading past the end', () => {
    const b = new StreamBatcher(ids, 4, 5, new Rng(3));
    const inp = new Int32Array(20);
    const tgt = new Int32Array(20);
    let epochs = 0;
    for (let k = 0; k < 40; k++) {
      if (b.atEpochStart && k > 0) epochs++;
      b.fill(inp, tgt, 0, 4);
      expect(Math.max(...tgt)).toBeLessThanOrEqual(100);
      b.advance();
    }
    expect(epochs).toBeGreaterThanOrEqual(7);
    expect(b.getCursor().epoch).toBe(epochs + (b.atEpochStart ? 1 : 0));
  });

  it('rejects a corpus too short for the streams', () => {
    expect(() => new StreamBatcher(ids.subarray(0, 20), 4, 5, new Rng(1))).toThrow(/too short for 4 streams/);
  });
});

describe('encodeText and splitCorpus', () => {
  it('encodes code points through the vocabulary and holds out the tail', () => {
    expect(Array.from(encodeText('ba😀', ['a', 'b', '😀']))).toEqual([1, 0, 2]);
    expect(() => encodeText('abc', ['a', 'b'])).toThrow(/char "c" at position 2/);
    const { train, val } = splitCorpus(
      Int32Array.from({ length: 100 }, (_, i) => i),
      0.05,
    );
    expect(train.length).toBe(95);
    expect(Array.from(val)).toEqual([95, 96, 97, 98, 99]);
    expect(() => splitCorpus(new Int32Array(3), 1)).toThrow(/valFraction/);
  });
});

// CRC-32 of @rxrnn/kernels/internal against its published check value and Node's zlib.crc32 (an
// independent implementation) on seeded random byte strings of many lengths.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/internal.js';

describe('crc32', () => {
  it('gives the standard check value 0xCBF43926 for "123456789", and 0 for no bytes', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('equals zlib.crc32 on random byte strings (views at an offset included)', () => {
    let s = 12345;
    const next = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s >>> 24;
    };
    for (const n of [1, 2, 3, 7, 64, 255, 256, 1000, 4099]) {
      const backing = Uint8Array.from({ length: n + 5 }, next);
      const view = backing.subarray(5);
      expect(crc32(view), `length ${n}`).toBe(zlibCrc32(view));
    }
  });
});

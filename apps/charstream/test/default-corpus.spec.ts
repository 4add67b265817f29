// The built-in corpus: deterministic per seed, about the asked length, structured plain ASCII.
import { describe, expect, it } from 'vitest';
import { defaultCorpus } from '../src/default-corpus.js';

describe('defaultCorpus', () => {
  it('is the same text for the same seed and different for another', () => {
    expect(defaultCorpus({ seed: 3, chars: 5000 })).toBe(defaultCorpus({ seed: 3, chars: 5000 }));
    expect(defaultCorpus({ seed: 4, chars: 5000 })).not.toBe(defaultCorpus({ seed: 3, chars: 5000 }));
  });

  it('reaches the asked length, ends at a section end, and uses printable ASCII and newlines', () => {
    const text = defaultCorpus({ chars: 20_000 });
    expect(text.length).toBeGreaterThanOrEqual(20_000);
    expect(text.length).toBeLessThan(22_000);
    expect(text.endsWith('\n\n')).toBe(true);
    expect(/^[\n\x20-\x7e]+$/.test(text)).toBe(true);
    expect(text).toMatch(/^## notes 1\n/);
    expect(text).toMatch(/step=\d{5} loss=\d\.\d\d bpc=\d\.\d\d clip=(yes|no)/);
  });

  it('refuses a bad length or seed', () => {
    expect(() => defaultCorpus({ chars: 0 })).toThrow(/chars 0, expected a positive integer/);
    expect(() => defaultCorpus({ seed: 1.5 })).toThrow(/seed 1.5, expected an integer/);
  });
});

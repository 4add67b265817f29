import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from './index.js';

describe('clipping', () => {
  it('names itself', () => {
    expect(PACKAGE_NAME).toBe('@rxrnn/clipping');
  });
});

import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from './index.js';

describe('bidirectional', () => {
  it('names itself', () => {
    expect(PACKAGE_NAME).toBe('@rxrnn/bidirectional');
  });
});

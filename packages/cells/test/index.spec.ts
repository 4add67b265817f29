import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from '../src/index.js';

describe('cells', () => {
  it('names itself', () => {
    expect(PACKAGE_NAME).toBe('@rxrnn/cells');
  });
});

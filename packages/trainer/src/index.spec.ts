import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from './index.js';

describe('trainer', () => {
  it('names itself', () => {
    expect(PACKAGE_NAME).toBe('@rxrnn/trainer');
  });
});

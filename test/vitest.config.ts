import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@rxrnn/source'] },
  test: {
    name: 'cross-package',
    include: ['**/*.spec.ts'],
    environment: 'node',
    testTimeout: 120_000,
  },
});

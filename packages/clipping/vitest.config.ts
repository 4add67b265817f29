import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@rxrnn/source'] },
  test: {
    name: '@rxrnn/clipping',
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    passWithNoTests: false,
  },
});

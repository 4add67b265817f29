import { defineConfig } from 'vitest/config';

// The app's specs spawn the CLI and servers as child processes; each file keeps its own budget.
export default defineConfig({
  resolve: { conditions: ['@rxrnn/source'] },
  test: {
    name: '@rxrnn/charstream',
    include: ['test/**/*.spec.ts'],
    environment: 'node',
    passWithNoTests: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from 'vitest/config';

// The app's specs spawn the CLI and servers as child processes; each file keeps its own budget.
export default defineConfig({
  // Vitest runs tests in Vite's SSR environment, which reads ssr.resolve.conditions: both are set
  // so @rxrnn/* resolve to TypeScript source, never to a stale dist/.
  resolve: { conditions: ['@rxrnn/source'] },
  ssr: { resolve: { conditions: ['@rxrnn/source'], externalConditions: ['@rxrnn/source'] } },
  test: {
    name: '@rxrnn/charstream',
    include: ['test/**/*.spec.ts'],
    environment: 'node',
    passWithNoTests: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

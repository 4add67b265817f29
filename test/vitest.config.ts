import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Vitest runs tests in Vite's SSR environment, which reads ssr.resolve.conditions: both are set
  // so @rxrnn/* resolve to TypeScript source, never to a stale dist/.
  resolve: { conditions: ['@rxrnn/source'] },
  ssr: { resolve: { conditions: ['@rxrnn/source'], externalConditions: ['@rxrnn/source'] } },
  test: {
    name: 'cross-package',
    include: ['**/*.spec.ts'],
    environment: 'node',
    testTimeout: 120_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Vitest runs tests in Vite's SSR environment, which reads ssr.resolve.conditions, not
  // resolve.conditions; both are set so @rxrnn/* resolve to TypeScript source, not a stale dist/.
  resolve: { conditions: ['@rxrnn/source'] },
  ssr: { resolve: { conditions: ['@rxrnn/source'], externalConditions: ['@rxrnn/source'] } },
  test: {
    name: '@rxrnn/clipping',
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    passWithNoTests: false,
  },
});

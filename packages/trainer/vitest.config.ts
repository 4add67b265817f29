import { defineConfig } from 'vitest/config';

// Vite applies resolve.conditions to the client environment only; vitest's node environment
// resolves through ssr.resolve, so the source condition goes in both (else stale dist/ loads).
export default defineConfig({
  resolve: { conditions: ['@rxrnn/source'] },
  ssr: { resolve: { conditions: ['@rxrnn/source'] } },
  test: {
    name: '@rxrnn/trainer',
    include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    passWithNoTests: false,
  },
});

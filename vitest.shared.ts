// The vitest settings every project shares: @rxrnn/* resolve to TypeScript sources, and no test
// or hook has a wall-clock limit short enough for a loaded machine to break (a stuck test still
// fails, after ten minutes).
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const NO_LOAD_LIMIT_MS = 600_000;

/** The config of one vitest project: its name and, optionally, its own spec globs. */
export function projectConfig(name: string, include: string[] = ['test/**/*.spec.ts']): ViteUserConfig {
  return defineConfig({
    // Vitest runs tests in Vite's SSR environment, which reads ssr.resolve.conditions: both are
    // set so @rxrnn/* resolve to TypeScript source, never to a stale dist/.
    resolve: { conditions: ['@rxrnn/source'] },
    ssr: { resolve: { conditions: ['@rxrnn/source'], externalConditions: ['@rxrnn/source'] } },
    test: {
      name,
      include,
      environment: 'node',
      passWithNoTests: false,
      testTimeout: NO_LOAD_LIMIT_MS,
      hookTimeout: NO_LOAD_LIMIT_MS,
    },
  });
}

import { defineConfig } from 'vitest/config';

// The whole suite: every package's own specs plus the cross-package tests in test/.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'test'],
  },
});

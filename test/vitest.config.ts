import { projectConfig } from '../vitest.shared.js';

// The cross-package tests: conformance, learning, packaging, browser.
export default projectConfig('cross-package', ['**/*.spec.ts']);

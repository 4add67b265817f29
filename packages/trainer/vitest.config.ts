import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('@rxrnn/trainer', ['src/**/*.spec.ts', 'test/**/*.spec.ts']);

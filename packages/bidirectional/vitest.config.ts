import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('@rxrnn/bidirectional', ['src/**/*.spec.ts', 'test/**/*.spec.ts']);

import { projectConfig } from '../../vitest.shared.js';

export default projectConfig('@rxrnn/kernels', ['src/**/*.spec.ts', 'test/**/*.spec.ts']);

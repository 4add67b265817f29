// @rxrnn/cells public API.
export const PACKAGE_NAME = '@rxrnn/cells';
export * from './operators/index.js';

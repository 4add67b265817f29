// @rxrnn/clipping public API.
export const PACKAGE_NAME = '@rxrnn/clipping';

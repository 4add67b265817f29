// @rxrnn/trainer public API.
export const PACKAGE_NAME = '@rxrnn/trainer';

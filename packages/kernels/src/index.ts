// @rxrnn/kernels public API.
export const PACKAGE_NAME = '@rxrnn/kernels';

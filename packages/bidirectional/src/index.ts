// @rxrnn/bidirectional public API.
export const PACKAGE_NAME = '@rxrnn/bidirectional';

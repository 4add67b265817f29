// @rxrnn/kernels/internal: the argument checks every rxrnn package shares (one message style).
// For the rxrnn packages themselves, not for applications: no compatibility promise.
export * from './internal/checks.js';

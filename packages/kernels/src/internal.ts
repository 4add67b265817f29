// @rxrnn/kernels/internal: the argument checks every rxrnn package shares (one message style) and
// the CRC-32 of their stored formats. For the rxrnn packages themselves, not for applications: no
// compatibility promise.
export * from './internal/checks.js';
export { crc32 } from './internal/crc32.js';

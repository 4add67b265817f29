// Entry of the WASM kernel module (built by tools/build-wasm.mjs): imports its memory, exports
// the kernels and where the JS-side allocator may start handing out memory.

export * from './gates';
export * from './linalg';
export * from './step';

/** First byte after the module's static data: the JS allocator's heap starts here. */
export function heapBase(): usize {
  return __heap_base;
}

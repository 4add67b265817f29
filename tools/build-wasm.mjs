#!/usr/bin/env node
// Placeholder until the kernels' WASM build lands: nothing to build yet.

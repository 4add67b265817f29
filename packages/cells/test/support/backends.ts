// Test-only: the kernel backends this process can run (js always; wasm where SIMD128 validates;
// native where the addon loads), so specs run once on each.
import { type Backend, getBackend, setBackend } from '@rxrnn/kernels';

export const BACKENDS: Backend[] = (['js', 'wasm', 'native'] as const).filter((b) => {
  const before = getBackend();
  try {
    setBackend(b);
    return true;
  } catch {
    return false;
  } finally {
    setBackend(before);
  }
});

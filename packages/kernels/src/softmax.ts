// Fused softmax cross-entropy on the active backend: the native addon where it is loaded (its
// exp runs in vectors), else the reference twin (WASM has no kernel of its own for it: its cost
// is the exp calls, not memory). Same checks and messages everywhere.
import { activeNative } from './backend.js';
import { softmaxCrossEntropyCheck, softmaxCrossEntropyCore } from './reference/softmax.js';

/**
 * Fused softmax cross-entropy over `rows` rows of `cols` logits: `lossPerRow[r]` =
 * logsumexp(logits_r) − logits_r[targets[r]] (nats), `dLogits` = softmax(logits) − onehot(targets)
 * (the gradient of the summed loss, unscaled). Returns the float64 sum of the row losses.
 *
 * On the native backend the exponentials run in vectors (float32, within 2 units in the last
 * place), so results agree with the reference twin to about 1e-6 relative, not bit for bit.
 *
 * @throws RangeError/TypeError when a length does not match its dims or a target is outside
 * [0, cols) (no array is touched).
 * @example
 * ```ts
 * import { softmaxCrossEntropy } from '@rxrnn/kernels';
 * const d = new Float32Array(2), loss = new Float32Array(1);
 * softmaxCrossEntropy(d, loss, Float32Array.of(0, 0), Int32Array.of(1), 1, 2); // loss[0] = ln 2
 * ```
 */
export function softmaxCrossEntropy(
  dLogits: Float32Array,
  lossPerRow: Float32Array,
  logits: Float32Array,
  targets: Int32Array,
  rows: number,
  cols: number,
): number {
  softmaxCrossEntropyCheck(dLogits, lossPerRow, logits, targets, rows, cols);
  // A binary built before this kernel existed lacks it: the twin then.
  const native = activeNative();
  if (typeof native?.softmaxCrossEntropy === 'function') {
    return native.softmaxCrossEntropy(dLogits, lossPerRow, logits, targets, rows, cols);
  }
  return softmaxCrossEntropyCore(dLogits, lossPerRow, logits, targets, rows, cols);
}

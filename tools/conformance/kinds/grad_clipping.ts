// Conformance for kind "grad_clipping": replays each case of a PyTorch fixture through
// @rxrnn/clipping on float32 storage and reports total_norm and grads_after in fixture order.
import { clipByGlobalNorm, clipByValue } from '@rxrnn/clipping';

interface Tensor {
  shape: number[];
  data: number[];
}

interface Case {
  fn: string;
  max_norm?: number;
  norm_type?: number | string;
  clip_value?: number;
  grads_before: Tensor[];
}

function normType(value: number | string | undefined): number {
  if (value === 2 || value === 2.0) return 2;
  if (value === 'inf' || value === Infinity) return Infinity;
  throw new RangeError(`grad_clipping: norm_type ${JSON.stringify(value)} is unsupported, expected 2.0 or "inf"`);
}

export default function gradClipping(fixture: { cases?: Case[] }): object {
  if (!Array.isArray(fixture.cases)) throw new TypeError('grad_clipping: fixture has no cases array');
  const cases = fixture.cases.map((c, i) => {
    // The fixture's float64 gradients land in float32 storage, as a model's gradients would.
    const grads = c.grads_before.map((t) => Float32Array.from(t.data));
    let total_norm: number | null = null;
    if (c.fn === 'clip_grad_norm_') {
      total_norm = clipByGlobalNorm(grads, c.max_norm as number, { normType: normType(c.norm_type) }).totalNorm;
    } else if (c.fn === 'clip_grad_value_') {
      clipByValue(grads, c.clip_value as number);
    } else {
      throw new RangeError(`grad_clipping: case ${i} has fn "${c.fn}", expected clip_grad_norm_ or clip_grad_value_`);
    }
    const grads_after = grads.map((g, k) => ({ shape: c.grads_before[k]!.shape, data: Array.from(g) }));
    return { total_norm, grads_after };
  });
  return { cases };
}

// Conformance kind "gradient_flow": each model of the fixture (embedding → L stacked cells →
// linear on the last step) rebuilt as an @rxrnn/cells CharModel from its state_dict, measured with
// gradientFlow() from the fixture's h0 (c0); per layer the dL_T/dh_t rows (t order) and norms.
import { CharModel, gradientFlow, type TorchStateDict } from '@rxrnn/cells';
import { enc, MODES } from '../tensors.js';

export default function gradientFlowKind(f: any): object {
  const models = (f.models as any[]).map((m) => {
    const kind = MODES[m.mode as string];
    if (!kind) throw new Error(`unsupported: gradient_flow mode ${String(m.mode)}`);
    const { vocab_size: V, embedding_dim: E, hidden_size: H, num_layers: L, seq_len: T } = m.config;
    const vocab = Array.from({ length: V }, (_, i) => String.fromCodePoint(0x4e00 + i));
    const config = { cell: kind, vocab, input: 'embedding' as const, embeddingDim: E, hidden: H, layers: L };
    const model = CharModel.fromTorchStateDict(config, m.params as TorchStateDict);
    const state = model.rnn.packState(1, m.h0.data, kind === 'lstm' ? m.c0.data : undefined);
    const flow = gradientFlow(model, Int32Array.from(m.tokens.data), { state, vectors: true });
    // gradientFlow counts k back from the last step; the fixture lists t = 0..T−1.
    const rows = (v: Float32Array) => {
      const out = new Float64Array(T * H);
      for (let t = 0; t < T; t++) out.set(v.subarray((T - 1 - t) * H, (T - t) * H), t * H);
      return enc([T, H], out);
    };
    const norms = (v: Float64Array) => enc([T], Array.from(v).reverse());
    return {
      mode: m.mode,
      loss: flow.loss,
      layers: flow.layers.map((l) => ({
        h_grads: rows(l.dh!),
        h_grad_norms: norms(l.h),
        ...(l.c ? { c_grads: rows(l.dc!), c_grad_norms: norms(l.c) } : {}),
      })),
    };
  });
  return { models };
}

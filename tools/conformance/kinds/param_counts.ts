// Conformance kind "param_counts": what the project's own cells and output layer hold, next to the
// course formula (classic) — GRU's default reset-after cell holds H more (its separate b_hn).
import { createCell, Dense } from '@rxrnn/cells';
import { MODES } from '../tensors.js';

export default function paramCounts(f: any): object {
  const entries = (f.entries as any[]).map((e) => {
    const kind = MODES[e.mode];
    if (!kind) throw new Error(`unsupported: param_counts mode ${JSON.stringify(e.mode)}`);
    const cfg = { kind, inputSize: e.n_x, hiddenSize: e.n_a };
    return {
      mode: e.mode,
      n_x: e.n_x,
      n_a: e.n_a,
      // The classic (one bias per gate block) form is the project's reset-before GRU and its only RNN/LSTM.
      classic_cell_params: createCell({ ...cfg, gruVariant: 'reset-before' }).paramCount(),
      project_cell_params: createCell(cfg).paramCount(),
      output_layer_params: new Dense({ inSize: e.n_a, outSize: e.n_y }).paramCount(),
    };
  });
  return { entries };
}

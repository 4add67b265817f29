// Conformance kind "rnn_cell": one step of nn.RNNCell/GRUCell/LSTMCell rebuilt through @rxrnn/cells
// (createCell → fromTorch → forwardSequence over T = 1 → backwardSequence), SCHEMA.md output fields.
import { createCell, type TorchStateDict } from '@rxrnn/cells';
import { enc, MODES, sumProd } from '../tensors.js';

export default function rnnCell(f: any): object {
  const kind = MODES[f.mode];
  if (!kind) throw new Error(`unsupported: rnn_cell mode ${JSON.stringify(f.mode)} (expected RNN_TANH, GRU or LSTM)`);
  const { input_size: nX, hidden_size: H, batch: B } = f.config;
  const lstm = kind === 'lstm';
  const n = B * H;
  const cell = createCell({ kind, inputSize: nX, hiddenSize: H });
  cell.fromTorch(f.params as TorchStateDict);

  const tape = cell.createTape(1, B);
  const state0 = new Float32Array(B * cell.stateSize);
  state0.set(f.h0.data);
  if (lstm) state0.set(f.c0.data, n);
  cell.forwardSequence(tape, Float32Array.from(f.input.data), state0);
  const s1 = new Float32Array(B * cell.stateSize);
  cell.finalState(tape, s1);
  const h1 = s1.subarray(0, n);
  const c1 = s1.subarray(n);

  // loss = Σ h1·Gh (+ Σ c1·Gc), so dL/dh1 = Gh and dL/dc1 = Gc.
  const Gh = f.loss_weights.Gh.data;
  const Gc = lstm ? f.loss_weights.Gc.data : null;
  const loss = sumProd(h1, Gh) + (lstm ? sumProd(c1, Gc) : 0);
  const dState = new Float32Array(B * cell.stateSize);
  dState.set(Gh);
  if (lstm) dState.set(Gc, n);
  const dx = new Float32Array(B * nX);
  const dState0 = new Float32Array(B * cell.stateSize);
  cell.backwardSequence(tape, null, dState, dx, dState0);

  const params: Record<string, object> = {};
  for (const [name, t] of Object.entries(cell.toTorch('grads'))) params[name] = enc(t.shape, t.data);
  return {
    mode: f.mode,
    h1: enc([B, H], h1),
    ...(lstm ? { c1: enc([B, H], c1) } : {}),
    loss,
    grads: {
      params,
      input: enc([B, nX], dx),
      h0: enc([B, H], dState0.subarray(0, n)),
      ...(lstm ? { c0: enc([B, H], dState0.subarray(n)) } : {}),
    },
  };
}

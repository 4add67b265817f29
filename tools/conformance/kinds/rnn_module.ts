// Conformance kind "rnn_module": nn.RNN/GRU/LSTM (1–2 layers) rebuilt as an @rxrnn/cells RnnStack,
// or with bidirectional: true as an @rxrnn/bidirectional BidirectionalStack (fromTorch → forward →
// backward with dOutput = G, dh_n = Gh, dc_n = Gc). State index layer*D + direction, as PyTorch.

import { BidirectionalStack } from '@rxrnn/bidirectional';
import { RnnStack, type TorchStateDict } from '@rxrnn/cells';
import { enc, MODES, sumProd } from '../tensors.js';

export default function rnnModule(f: any): object {
  const kind = MODES[f.mode];
  if (!kind) throw new Error(`unsupported: rnn_module mode ${JSON.stringify(f.mode)} (expected RNN_TANH, GRU or LSTM)`);
  const c = f.config;
  if (c.batch_first) throw new Error('unsupported: batch_first rnn_module (the project is time-major)');
  const { input_size: nX, hidden_size: H, num_layers: L, seq_len: T, batch: B } = c;
  const lstm = kind === 'lstm';
  const D = c.bidirectional ? 2 : 1;
  // Both stacks offer the same window API; only the bidirectional one reads `_reverse` tensors.
  const stack =
    D === 2
      ? new BidirectionalStack({ kind, inputSize: nX, hiddenSize: H, layers: L })
      : new RnnStack({ kind, inputSize: nX, hiddenSize: H, layers: L });
  stack.fromTorch(f.params as TorchStateDict);

  const state = stack.packState(B, f.h0.data, lstm ? f.c0.data : undefined);
  const output = Float32Array.from(stack.forward(Float32Array.from(f.input.data), T, B, state));
  const { h: hN, c: cN } = stack.unpackState(B, state);

  // loss = Σ output·G + Σ h_n·Gh (+ Σ c_n·Gc): the upstream gradients are G, Gh, Gc.
  const { G, Gh, Gc } = f.loss_weights;
  const loss = sumProd(output, G.data) + sumProd(hN, Gh.data) + (lstm ? sumProd(cN!, Gc.data) : 0);
  const dState = stack.packState(B, Gh.data, lstm ? Gc.data : undefined, new Float32Array(B * stack.stateSize));
  const dInput = new Float32Array(T * B * nX);
  const dState0 = new Float32Array(B * stack.stateSize);
  stack.backward(Float32Array.from(G.data), dState, dInput, dState0);
  const { h: dH0, c: dC0 } = stack.unpackState(B, dState0);

  const params: Record<string, object> = {};
  for (const [name, t] of Object.entries(stack.toTorch('grads'))) params[name] = enc(t.shape, t.data);
  return {
    mode: f.mode,
    output: enc([T, B, D * H], output),
    h_n: enc([L * D, B, H], hN),
    ...(lstm ? { c_n: enc([L * D, B, H], cN!) } : {}),
    loss,
    grads: {
      params,
      input: enc([T, B, nX], dInput),
      h0: enc([L * D, B, H], dH0),
      ...(lstm ? { c0: enc([L * D, B, H], dC0!) } : {}),
    },
  };
}

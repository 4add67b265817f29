// Conformance kind "char_model": Embedding → LSTM (or GRU/RNN, from the gate count) → Linear rebuilt
// as an @rxrnn/cells CharModel from the state_dict (the recurrent module's prefix read from its names).
import { type CellKind, CharModel, type TorchStateDict } from '@rxrnn/cells';
import { enc } from '../tensors.js';

const KINDS: Record<number, CellKind> = { 1: 'rnn', 3: 'gru', 4: 'lstm' };

export default function charModel(f: any): object {
  const params = f.params as TorchStateDict;
  const rnnKey = Object.keys(params).find((k) => /^[^.]+\.weight_ih_l0$/.test(k));
  if (!rnnKey || !params['embedding.weight'])
    throw new Error('unsupported: char_model without embedding.weight and <module>.weight_ih_l0');
  const prefix = rnnKey.slice(0, rnnKey.indexOf('.'));
  const [V, E] = params['embedding.weight'].shape as [number, number];
  const [GH, H] = params[`${prefix}.weight_hh_l0`]!.shape as [number, number];
  const kind = KINDS[GH / H];
  if (!kind) throw new Error(`unsupported: char_model recurrent module with ${GH / H} gate blocks`);
  let layers = 0;
  while (params[`${prefix}.weight_ih_l${layers}`]) layers++;
  if (Object.keys(params).some((k) => k.endsWith('_reverse'))) throw new Error('unsupported: bidirectional char_model');
  const [T1, B] = f.sequence.shape as [number, number];
  const T = T1 - 1;

  // Any V distinct characters: the fixture works on ids.
  const vocab = Array.from({ length: V }, (_, i) => String.fromCodePoint(0x4e00 + i));
  const config = { cell: kind, vocab, input: 'embedding' as const, embeddingDim: E, hidden: H, layers };
  const model = CharModel.fromTorchStateDict(config, params, { prefix });
  const inputs = Int32Array.from(f.inputs.data);
  const targets = Int32Array.from(f.targets.data);
  const logits = Float32Array.from(model.logits(inputs, T, B, model.createState(B)));
  model.zeroGrads();
  const { lossSum, count } = model.lossAndGrad(inputs, targets, T, B, model.createState(B));

  const grads: Record<string, object> = {};
  for (const [name, t] of Object.entries(model.toTorchStateDict({ which: 'grads', prefix })))
    grads[name] = enc(t.shape, t.data);
  return { logits: enc([T, B, V], logits), loss: lossSum / count, grads: { params: grads } };
}

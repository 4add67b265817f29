#!/usr/bin/env python3
# Writes the ONNX import fixtures of test/fixtures/onnx/: NAME.onnx written by PyTorch's exporter
# (torch.onnx.export, opset 14, T and B dynamic) and NAME.json with the inputs and the outputs
# PyTorch computes from them (float64 forward of the same float32 weights), plus the vocabulary
# for the token models. Run: /usr/bin/python3 tools/torch/gen_onnx_fixtures.py
# Needs only torch (Debian python3-torch 1.13 produced the committed files).
import json
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'onnx')
VOCAB = list(' .,;:abcdehilmnorst')


def tensor(t):
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'data': [float(v) for v in t.reshape(-1).tolist()]}


def int_tensor(t):
    return {'shape': list(t.shape), 'data': [int(v) for v in t.reshape(-1).tolist()]}


class CharNet(torch.nn.Module):
    """Embedding → nn.LSTM/GRU/RNN → Linear: the char model's shape, time-major or batch-first."""

    def __init__(self, mode, V, E, H, L, batch_first=False):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E)
        self.rnn = getattr(torch.nn, mode)(E, H, num_layers=L, batch_first=batch_first)
        self.linear = torch.nn.Linear(H, V)
        self.lstm = mode == 'LSTM'

    def forward(self, tokens, *state):
        x = self.embedding(tokens)
        if not state:
            y, _ = self.rnn(x)
            return self.linear(y)
        y, hn = self.rnn(x, (state[0], state[1]) if self.lstm else state[0])
        if self.lstm:
            return self.linear(y), hn[0], hn[1]
        return self.linear(y), hn


class FeatureNet(torch.nn.Module):
    """nn.LSTM/GRU/RNN over float features, optionally bidirectional, optionally a Linear head."""

    def __init__(self, mode, n_x, H, L, bidirectional, head):
        super().__init__()
        kw = {'nonlinearity': 'tanh'} if mode == 'RNN' else {}
        self.rnn = getattr(torch.nn, mode)(n_x, H, num_layers=L, bidirectional=bidirectional, **kw)
        self.linear = torch.nn.Linear(H * (2 if bidirectional else 1), head) if head else None
        self.lstm = mode == 'LSTM'

    def forward(self, x, *state):
        y, hn = self.rnn(x, (state[0], state[1]) if self.lstm else state[0])
        out = self.linear(y) if self.linear is not None else y
        if self.lstm:
            return out, hn[0], hn[1]
        return out, hn


def randomize(module, gen):
    # Every parameter ~ U(-0.5, 0.5) in float32, from the fixture's generator.
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) - 0.5)


def write(name, module, args, input_names, output_names, dynamic, note, vocab=None):
    os.makedirs(OUT, exist_ok=True)
    module.eval()
    path = os.path.join(OUT, name + '.onnx')
    torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic, opset_version=14, do_constant_folding=True)
    # The oracle: the same float32 weights and inputs, computed in float64.
    with torch.no_grad():
        wide = module.double()
        outs = wide(*[a.double() if a.is_floating_point() else a for a in args])
    if not isinstance(outs, tuple):
        outs = (outs,)
    inputs = {n: (tensor(a) if a.is_floating_point() else int_tensor(a)) for n, a in zip(input_names, args)}
    fixture = {'schema_version': 1, 'torch_version': torch.__version__, 'opset': 14, 'note': note,
               'inputs': inputs, 'outputs': {n: tensor(o) for n, o in zip(output_names, outs)}}
    if vocab is not None:
        fixture['vocab'] = vocab
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(fixture, f, allow_nan=False)
    print(f'{path}: {os.path.getsize(path)} bytes', file=sys.stderr)


def char_model(name, mode, L, batch_first, with_state, seed):
    gen = torch.Generator().manual_seed(seed)
    V, E, H, T, B = len(VOCAB), 6, 8, 7, 3
    net = CharNet(mode, V, E, H, L, batch_first)
    randomize(net, gen)
    tokens = torch.randint(0, V, (B, T) if batch_first else (T, B), generator=gen)
    tok_axes = {0: 'B', 1: 'T'} if batch_first else {0: 'T', 1: 'B'}
    out_axes = {0: 'B', 1: 'T'} if batch_first else {0: 'T', 1: 'B'}
    args = [tokens]
    names = ['tokens']
    outs = ['logits']
    dynamic = {'tokens': tok_axes, 'logits': out_axes}
    if with_state:
        args.append(torch.randn(L, B, H, generator=gen) * 0.5)
        names.append('h0')
        outs.append('hn')
        dynamic.update({'h0': {1: 'B'}, 'hn': {1: 'B'}})
        if mode == 'LSTM':
            args.append(torch.randn(L, B, H, generator=gen) * 0.5)
            names.append('c0')
            outs.append('cn')
            dynamic.update({'c0': {1: 'B'}, 'cn': {1: 'B'}})
    note = (f'Embedding({V}, {E}) -> nn.{mode}({E}, {H}, num_layers={L}, batch_first={batch_first}) -> '
            f'Linear({H}, {V}); parameters ~ U(-0.5, 0.5) float32; outputs computed in float64.')
    write(name, net, tuple(args), names, outs, dynamic, note, VOCAB)


def feature_model(name, mode, n_x, H, L, bidirectional, head, seed):
    gen = torch.Generator().manual_seed(seed)
    T, B = 6, 2
    D = 2 if bidirectional else 1
    net = FeatureNet(mode, n_x, H, L, bidirectional, head)
    randomize(net, gen)
    args = [torch.randn(T, B, n_x, generator=gen), torch.randn(L * D, B, H, generator=gen) * 0.5]
    names = ['input', 'h0']
    outs = ['logits' if head else 'output', 'hn']
    if mode == 'LSTM':
        args.append(torch.randn(L * D, B, H, generator=gen) * 0.5)
        names.append('c0')
        outs.append('cn')
    dynamic = {n: {0: 'T', 1: 'B'} if n in ('input', 'logits', 'output') else {1: 'B'} for n in names + outs}
    note = (f'nn.{mode}({n_x}, {H}, num_layers={L}, bidirectional={bidirectional})'
            + (f' -> Linear({H * D}, {head})' if head else '')
            + '; parameters ~ U(-0.5, 0.5) float32; outputs computed in float64.')
    write(name, net, tuple(args), names, outs, dynamic, note)


if __name__ == '__main__':
    char_model('gru_char', 'GRU', 1, False, True, 11)
    char_model('lstm2_char', 'LSTM', 2, False, True, 12)
    char_model('lstm_char_batch_first', 'LSTM', 1, True, False, 13)
    feature_model('rnn2_stack', 'RNN', 5, 6, 2, False, 0, 14)
    feature_model('gru2_bi_head', 'GRU', 4, 5, 2, True, 3, 15)
    feature_model('lstm_bi', 'LSTM', 3, 4, 1, True, 0, 16)

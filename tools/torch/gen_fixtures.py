#!/usr/bin/env python3
# Writes the PyTorch conformance fixtures of test/fixtures/torch/*.json (schema:
# docs/conformance.md, float64). Run: /usr/bin/python3 tools/torch/gen_fixtures.py
# Needs only torch (Debian python3-torch 1.13 is what produced the committed files).
import json
import math
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'torch')

COMMON = (
    'All tensors are row-major (C order) flattened. Weight matrices are [out_rows, in_cols] and act as '
    'W @ x (x a column vector), i.e. the batched pre-activation is x @ W^T + b. PyTorch has TWO bias '
    'vectors per gate block (bias_ih and bias_hh); they are simply added, so a single-bias '
    'implementation should use b = bias_ih + bias_hh for the forward pass; the gradient w.r.t. bias_ih '
    'equals the gradient w.r.t. bias_hh (both equal dL/db).'
)
GATES = {
    'RNN_TANH': "tanh RNN: one block, h' = tanh(W_ih x + b_ih + W_hh h + b_hh).",
    'GRU': "GRU, PyTorch layout: rows stacked as [r, z, n]; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) "
           "(reset-after); h' = (1 - z) * n + z * h.",
    'LSTM': "LSTM, PyTorch layout: rows stacked as [i, f, g, o]; c' = f * c + i * g; h' = o * tanh(c'). "
            "No peepholes, no projection.",
}
GATE_COUNT = {'RNN_TANH': 1, 'GRU': 3, 'LSTM': 4}


def tensor(t):
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'data': [float(v) for v in t.reshape(-1).tolist()]}


def int_tensor(t):
    return {'shape': list(t.shape), 'data': [int(v) for v in t.reshape(-1).tolist()]}


def header(kind, seed, mode=None, torch_class=None):
    h = {'schema_version': 1, 'kind': kind, 'torch_version': torch.__version__, 'dtype': 'float64',
         'seed': seed}
    if mode is not None:
        h['mode'] = mode
    if torch_class is not None:
        h['torch_class'] = torch_class
    return h


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + '.json')
    with open(path, 'w') as f:
        json.dump(obj, f, allow_nan=False)
    print(f'{path}: {os.path.getsize(path)} bytes', file=sys.stderr)


def uniform_params(module, gen):
    # Every parameter ~ U(-0.5, 0.5), in state_dict order, from the fixture's generator.
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) - 0.5)


def normal(shape, gen):
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def rnn_cell(mode, n_x, H, B, seed):
    gen = torch.Generator().manual_seed(seed)
    cls = {'RNN_TANH': lambda: torch.nn.RNNCell(n_x, H, nonlinearity='tanh'),
           'GRU': lambda: torch.nn.GRUCell(n_x, H), 'LSTM': lambda: torch.nn.LSTMCell(n_x, H)}[mode]
    cell = cls().double()
    uniform_params(cell, gen)
    x = normal((B, n_x), gen).requires_grad_()
    h0 = normal((B, H), gen).requires_grad_()
    lstm = mode == 'LSTM'
    c0 = normal((B, H), gen).requires_grad_() if lstm else None
    Gh = normal((B, H), gen)
    Gc = normal((B, H), gen) if lstm else None
    if lstm:
        h1, c1 = cell(x, (h0, c0))
        loss = (h1 * Gh).sum() + (c1 * Gc).sum()
    else:
        h1 = cell(x, h0)
        c1 = None
        loss = (h1 * Gh).sum()
    loss.backward()
    names = ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']
    sd = dict(cell.named_parameters())
    out = header('rnn_cell', seed, mode, type(cell).__module__.replace('.modules.rnn', '') + '.' + type(cell).__name__)
    out.update({
        'config': {'input_size': n_x, 'hidden_size': H, 'batch': B, 'bias': True, 'num_gates': GATE_COUNT[mode]},
        'notes': {'gates': GATES[mode], 'layout': 'One step. input [B, input_size]; h0/h1 (and c0/c1) [B, H]. '
                  'Loss: L = sum(h1 * Gh) (+ sum(c1 * Gc) for LSTM).', 'common': COMMON,
                  'init': 'every parameter ~ U(-0.5, 0.5); input, h0, c0, Gh, Gc ~ N(0, 1); drawn in that '
                          'order from one torch.Generator seeded with seed.'},
        'param_names': names,
        'params': {n: tensor(sd[n]) for n in names},
        'input': tensor(x), 'h0': tensor(h0),
    })
    if lstm:
        out['c0'] = tensor(c0)
    out['h1'] = tensor(h1)
    if lstm:
        out['c1'] = tensor(c1)
    out['loss_weights'] = {'Gh': tensor(Gh), **({'Gc': tensor(Gc)} if lstm else {})}
    out['loss'] = float(loss)
    grads = {'params': {n: tensor(sd[n].grad) for n in names}, 'input': tensor(x.grad), 'h0': tensor(h0.grad)}
    if lstm:
        grads['c0'] = tensor(c0.grad)
    out['grads'] = grads
    return out


def rnn_module(mode, n_x, H, L, bidir, T, B, seed):
    gen = torch.Generator().manual_seed(seed)
    D = 2 if bidir else 1
    kw = dict(input_size=n_x, hidden_size=H, num_layers=L, bidirectional=bidir, batch_first=False, bias=True)
    mod = {'RNN_TANH': lambda: torch.nn.RNN(nonlinearity='tanh', **kw), 'GRU': lambda: torch.nn.GRU(**kw),
           'LSTM': lambda: torch.nn.LSTM(**kw)}[mode]().double()
    uniform_params(mod, gen)
    lstm = mode == 'LSTM'
    x = normal((T, B, n_x), gen).requires_grad_()
    h0 = normal((L * D, B, H), gen).requires_grad_()
    c0 = normal((L * D, B, H), gen).requires_grad_() if lstm else None
    G = normal((T, B, D * H), gen)
    Gh = normal((L * D, B, H), gen)
    Gc = normal((L * D, B, H), gen) if lstm else None
    if lstm:
        output, (h_n, c_n) = mod(x, (h0, c0))
        loss = (output * G).sum() + (h_n * Gh).sum() + (c_n * Gc).sum()
    else:
        output, h_n = mod(x, h0)
        c_n = None
        loss = (output * G).sum() + (h_n * Gh).sum()
    loss.backward()
    names = [n for n, _ in mod.named_parameters()]
    sd = dict(mod.named_parameters())
    out = header('rnn_module', seed, mode, 'torch.nn.' + type(mod).__name__)
    out.update({
        'config': {'input_size': n_x, 'hidden_size': H, 'num_layers': L, 'bidirectional': bidir,
                   'num_directions': D, 'batch_first': False, 'bias': True, 'dropout': 0.0, 'seq_len': T,
                   'batch': B, 'num_gates': GATE_COUNT[mode]},
        'notes': {'gates': GATES[mode],
                  'layout': 'batch_first=False: input [T, B, input_size]; output [T, B, D*H], [..., :H] forward, '
                            '[..., H:] reverse. h0/c0/h_n/c_n [num_layers*D, B, H] indexed by layer*D + direction. '
                            'The reverse direction runs t = T-1 .. 0 from its own h0 slice. Layer k>0 reads the '
                            'layer k-1 output [forward | reverse]. Loss: L = sum(output * G) + sum(h_n * Gh) '
                            '(+ sum(c_n * Gc) for LSTM).',
                  'common': COMMON,
                  'init': 'every parameter ~ U(-0.5, 0.5); input, h0, c0, G, Gh, Gc ~ N(0, 1); all drawn in that '
                          'order from one torch.Generator seeded with seed.'},
        'param_names': names,
        'params': {n: tensor(sd[n]) for n in names},
        'input': tensor(x), 'h0': tensor(h0),
    })
    if lstm:
        out['c0'] = tensor(c0)
    out['output'] = tensor(output)
    out['h_n'] = tensor(h_n)
    if lstm:
        out['c_n'] = tensor(c_n)
    out['loss_weights'] = {'G': tensor(G), 'Gh': tensor(Gh), **({'Gc': tensor(Gc)} if lstm else {})}
    out['loss'] = float(loss)
    grads = {'params': {n: tensor(sd[n].grad) for n in names}, 'input': tensor(x.grad), 'h0': tensor(h0.grad)}
    if lstm:
        grads['c0'] = tensor(c0.grad)
    out['grads'] = grads
    return out


class CharLSTM(torch.nn.Module):
    def __init__(self, V, E, H):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E)
        self.lstm = torch.nn.LSTM(E, H)
        self.linear = torch.nn.Linear(H, V)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.linear(out)


def char_model(V, E, H, T, B, seed):
    gen = torch.Generator().manual_seed(seed)
    model = CharLSTM(V, E, H).double()
    uniform_params(model, gen)
    sequence = torch.randint(0, V, (T + 1, B), generator=gen)
    inputs, targets = sequence[:-1], sequence[1:]
    logits = model(inputs)
    log_probs = torch.log_softmax(logits, dim=-1)
    loss_pp = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    loss = loss_pp.mean()
    loss.backward()
    names = [n for n, _ in model.named_parameters()]
    sd = dict(model.named_parameters())
    out = header('char_model', seed, 'LSTM', 'Embedding -> torch.nn.LSTM -> torch.nn.Linear')
    out.update({
        'config': {'vocab_size': V, 'embedding_dim': E, 'hidden_size': H, 'num_layers': 1, 'seq_len': T,
                   'batch': B},
        'notes': {'layout': 'tokens [T, B] (time-major) -> nn.Embedding(V, E) -> nn.LSTM(E, H) (zero initial state) '
                            '-> nn.Linear(H, V) at every step. inputs = sequence[:-1], targets = sequence[1:]. '
                            'loss = mean over T*B positions of the cross-entropy.',
                  'common': COMMON,
                  'init': 'every parameter ~ U(-0.5, 0.5) in state_dict order, then sequence ~ randint(0, V), '
                          'from one torch.Generator seeded with seed.'},
        'param_names': names,
        'params': {n: tensor(sd[n]) for n in names},
        'sequence': int_tensor(sequence), 'inputs': int_tensor(inputs), 'targets': int_tensor(targets),
        'logits': tensor(logits), 'log_probs': tensor(log_probs), 'loss_per_position': tensor(loss_pp),
        'loss': float(loss),
        'grads': {'params': {n: tensor(sd[n].grad) for n in names}},
    })
    return out


def param_counts(seed):
    entries = []
    for mode in ('RNN_TANH', 'GRU', 'LSTM'):
        for n_x, n_a, n_y in ((1, 1, 1), (3, 5, 7), (27, 64, 27), (64, 256, 96)):
            g = GATE_COUNT[mode]
            cell = {'RNN_TANH': lambda: torch.nn.RNNCell(n_x, n_a), 'GRU': lambda: torch.nn.GRUCell(n_x, n_a),
                    'LSTM': lambda: torch.nn.LSTMCell(n_x, n_a)}[mode]()
            head = torch.nn.Linear(n_a, n_y)
            entries.append({
                'mode': mode, 'n_x': n_x, 'n_a': n_a, 'n_y': n_y,
                'pytorch_cell_params': sum(p.numel() for p in cell.parameters()),
                'classic_cell_params': g * ((n_a + n_x) * n_a + n_a),
                'output_layer_params': sum(p.numel() for p in head.parameters()),
            })
    out = header('param_counts', seed)
    out.update({
        'notes': {'pytorch_cell_params': 'numel of weight_ih, weight_hh, bias_ih, bias_hh (two bias vectors per block)',
                  'classic_cell_params': 'gates * ((n_a + n_x) * n_a + n_a): one bias vector per gate block',
                  'output_layer_params': 'n_a * n_y + n_y (nn.Linear(n_a, n_y))'},
        'entries': entries,
    })
    return out


def grad_clipping(seed):
    gen = torch.Generator().manual_seed(seed)
    shapes = [[2, 3], [4], [3, 1, 2]]
    rand = [normal(s, gen) * 0.8 for s in shapes]
    sets = {
        'random': rand,
        'one_zero_tensor': [rand[0], torch.zeros(shapes[1], dtype=torch.float64), rand[2]],
        'all_zero': [torch.zeros(s, dtype=torch.float64) for s in shapes],
    }
    cases = []
    for set_name, grads in sets.items():
        for norm_type in (2.0, math.inf):
            ps = [torch.nn.Parameter(g.clone()) for g in grads]
            for p, g in zip(ps, grads):
                p.grad = g.clone()
            with torch.no_grad():
                ref = (torch.cat([g.reshape(-1) for g in grads]).norm(norm_type)).item()
            # One max_norm below the norm (clips) and one above it (leaves the gradients alone).
            for max_norm in (0.5 * ref if ref > 0 else 0.5, 2.0 * ref + 1.0):
                for p, g in zip(ps, grads):
                    p.grad = g.clone()
                total = float(torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type))
                coef = max_norm / (total + 1e-6)
                cases.append({
                    'fn': 'clip_grad_norm_', 'grad_set': set_name, 'max_norm': max_norm,
                    'norm_type': 'inf' if norm_type == math.inf else norm_type,
                    'grads_before': [tensor(g) for g in grads], 'total_norm': total, 'clip_coef': coef,
                    'clip_coef_clamped': min(coef, 1.0), 'clipped': coef < 1.0,
                    'grads_after': [tensor(p.grad) for p in ps],
                })
    for set_name in ('random', 'one_zero_tensor'):
        grads = sets[set_name]
        ps = [torch.nn.Parameter(g.clone()) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        torch.nn.utils.clip_grad_value_(ps, 0.3)
        cases.append({'fn': 'clip_grad_value_', 'grad_set': set_name, 'clip_value': 0.3,
                      'grads_before': [tensor(g) for g in grads], 'grads_after': [tensor(p.grad) for p in ps]})
    out = header('grad_clipping', seed)
    out.update({
        'notes': {'clip_grad_norm_': 'total_norm = norm of the concatenation (2 or inf) BEFORE clipping; '
                                     'clip_coef = max_norm / (total_norm + 1e-6); grads *= min(clip_coef, 1). '
                                     'max_norm is 0.5x the norm (clips) or 2x+1 (does not); all-zero grads stay zero.',
                  'clip_grad_value_': 'each element clamped to [-clip_value, clip_value].',
                  'grad_sets': 'random: N(0,1)*0.8 tensors of the listed shapes; one_zero_tensor: the second '
                               'tensor is zeros; all_zero: all zeros.',
                  'dtype': 'float64'},
        'shapes': shapes,
        'cases': cases,
    })
    return out


def main():
    torch.set_default_dtype(torch.float64)
    seed = 9100
    for mode, tag in (('RNN_TANH', 'rnn'), ('GRU', 'gru'), ('LSTM', 'lstm')):
        seed += 1
        write(f'cell_{tag}', rnn_cell(mode, 4, 5, 3, seed))
        seed += 1
        write(f'cell_{tag}_b1', rnn_cell(mode, 3, 4, 1, seed))
        for L in (1, 2):
            for bidir in (False, True):
                seed += 1
                # Bidirectional stacks are twice the size: keep their files under ~30 KB.
                H, T = (4, 5) if not bidir else (3, 4)
                write(f'module_{tag}_L{L}_{"bi" if bidir else "uni"}',
                      rnn_module(mode, 3, H, L, bidir, T, 2, seed))
    # Bidirectional stacks with n_x != H and B = 3, so a mixed-up width or row order cannot hide.
    for mode, tag, seed in (('GRU', 'gru', 9301), ('LSTM', 'lstm', 9302)):
        write(f'module_{tag}_L2_bi_nx5', rnn_module(mode, 5, 3, 2, True, 5, 3, seed))
    write('char_model', char_model(7, 5, 6, 5, 2, 9201))
    write('param_counts', param_counts(9202))
    write('grad_clipping', grad_clipping(9203))


if __name__ == '__main__':
    main()

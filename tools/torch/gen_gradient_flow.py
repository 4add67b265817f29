#!/usr/bin/env python3
# Writes test/fixtures/torch/gradient_flow.json: PyTorch autograd's per-step state gradients
# dL_T/dh_t (and dL_T/dc_t for the LSTM) of small char models, via h.retain_grad(), for the
# gradientFlow() tests; and measures the vanishing-gradient property at initialization on models of
# rxrnn's shape and initialization scheme. Run: /usr/bin/python3 tools/torch/gen_gradient_flow.py
# Needs only torch (Debian python3-torch 1.13 produced the committed file). Format: docs/conformance.md.
import json
import math
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'torch')
GATES = {'RNN_TANH': 1, 'GRU': 3, 'LSTM': 4}


def tensor(t):
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'data': [float(v) for v in t.reshape(-1).tolist()]}


def int_tensor(t):
    return {'shape': list(t.shape), 'data': [int(v) for v in t.reshape(-1).tolist()]}


def make_cells(mode, E, H, L):
    cls = {'RNN_TANH': lambda n: torch.nn.RNNCell(n, H, nonlinearity='tanh'),
           'GRU': lambda n: torch.nn.GRUCell(n, H), 'LSTM': lambda n: torch.nn.LSTMCell(n, H)}[mode]
    return [cls(E if k == 0 else H).double() for k in range(L)]


def lstm_step(cell, x, h, c):
    # The LSTM step written out, so that c_t is a node of its own whose gradient includes the
    # path through h_t = o * tanh(c_t) (a fused LSTMCell may hand back c without that path).
    gates = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h2 = torch.sigmoid(o) * torch.tanh(c2)
    return h2, c2


def run(mode, emb, cells, linear, tokens, h0, c0, retain):
    """Forward over tokens[:-1] (batch 1), loss = cross-entropy of the last position."""
    T = tokens.shape[0] - 1
    lstm = mode == 'LSTM'
    x = emb(tokens[:-1])  # [T, E]
    hs = [[None] * T for _ in cells]
    cs = [[None] * T for _ in cells]
    inp = [x[t:t + 1] for t in range(T)]
    for k, cell in enumerate(cells):
        h = h0[k:k + 1]
        c = c0[k:k + 1] if lstm else None
        for t in range(T):
            if lstm:
                h, c = lstm_step(cell, inp[t], h, c)
                if retain:
                    c.retain_grad()
                cs[k][t] = c
            else:
                h = cell(inp[t], h)
            if retain:
                h.retain_grad()
            hs[k][t] = h
            inp[t] = h
    logits = linear(hs[-1][-1])
    loss = torch.nn.functional.cross_entropy(logits, tokens[-1:])
    return loss, hs, cs


def fixture_model(mode, V, E, H, L, T, seed):
    gen = torch.Generator().manual_seed(seed)
    emb = torch.nn.Embedding(V, E).double()
    cells = make_cells(mode, E, H, L)
    linear = torch.nn.Linear(H, V).double()
    params = {'embedding.weight': emb.weight}
    for k, cell in enumerate(cells):
        for base in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
            params[f'rnn.{base}_l{k}'] = getattr(cell, base)
    params['linear.weight'] = linear.weight
    params['linear.bias'] = linear.bias
    with torch.no_grad():
        for p in params.values():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) - 0.5)
    tokens = torch.randint(0, V, (T + 1,), generator=gen)
    h0 = 0.5 * torch.randn((L, H), generator=gen, dtype=torch.float64)
    c0 = 0.5 * torch.randn((L, H), generator=gen, dtype=torch.float64)
    lstm = mode == 'LSTM'
    if lstm:
        # The written-out step computes what nn.LSTMCell computes.
        ref_h, ref_c = cells[0](emb(tokens[:1]), (h0[:1], c0[:1]))
        my_h, my_c = lstm_step(cells[0], emb(tokens[:1]), h0[:1], c0[:1])
        assert torch.allclose(ref_h, my_h, atol=1e-14) and torch.allclose(ref_c, my_c, atol=1e-14)
    loss, hs, cs = run(mode, emb, cells, linear, tokens, h0, c0, retain=True)
    loss.backward()
    layers = []
    for k in range(L):
        dh = torch.cat([hs[k][t].grad for t in range(T)])  # [T, H], row t
        entry = {'h_grads': tensor(dh), 'h_grad_norms': tensor(dh.norm(dim=1))}
        if lstm:
            dc = torch.cat([cs[k][t].grad for t in range(T)])
            entry.update({'c_grads': tensor(dc), 'c_grad_norms': tensor(dc.norm(dim=1))})
        layers.append(entry)
    return {
        'mode': mode,
        'config': {'vocab_size': V, 'embedding_dim': E, 'hidden_size': H, 'num_layers': L, 'seq_len': T,
                   'num_gates': GATES[mode]},
        'params': {n: tensor(p) for n, p in params.items()},
        'tokens': int_tensor(tokens),
        'h0': tensor(h0.reshape(L, 1, H)),
        **({'c0': tensor(c0.reshape(L, 1, H))} if lstm else {}),
        'loss': float(loss),
        'layers': layers,
    }


def init_like_rxrnn(mode, emb, cells, linear, gen, forget_bias):
    """rxrnn's initialization scheme (packages/cells/README.md, Initialization), in its order."""
    with torch.no_grad():
        emb.weight.copy_(torch.randn(emb.weight.shape, generator=gen, dtype=torch.float64))
        for cell in cells:
            G = GATES[mode]
            H = cell.hidden_size
            n_x = cell.input_size
            limit = math.sqrt(6 / (n_x + H))
            cell.weight_ih.copy_((torch.rand((G * H, n_x), generator=gen, dtype=torch.float64) * 2 - 1) * limit)
            for g in range(G):
                a = torch.randn((H, H), generator=gen, dtype=torch.float64)
                q, r = torch.linalg.qr(a)
                cell.weight_hh[g * H:(g + 1) * H].copy_(q * torch.sign(torch.diagonal(r)))
            cell.bias_ih.zero_()
            cell.bias_hh.zero_()
            if mode == 'LSTM':
                cell.bias_ih[H:2 * H] = forget_bias
        V, H = linear.weight.shape
        limit = math.sqrt(6 / (H + V))
        linear.weight.copy_((torch.rand((V, H), generator=gen, dtype=torch.float64) * 2 - 1) * limit)
        linear.bias.zero_()


def init_property(V, E, H, T, k, windows, seeds):
    """Mean over models and windows of ||dL_T/dh_{T-k}|| / ||dL_T/dh_T|| at initialization."""
    out = {}
    for mode, scheme in (('RNN_TANH', 'rxrnn'), ('LSTM', 'rxrnn'), ('RNN_TANH', 'pytorch'), ('LSTM', 'pytorch')):
        ratios = []
        for seed in seeds:
            gen = torch.Generator().manual_seed(seed)
            torch.manual_seed(seed)
            emb = torch.nn.Embedding(V, E).double()
            cells = make_cells(mode, E, H, 1)
            linear = torch.nn.Linear(H, V).double()
            if scheme == 'rxrnn':
                init_like_rxrnn(mode, emb, cells, linear, gen, 1.0)
            elif mode == 'LSTM':
                with torch.no_grad():
                    # PyTorch's own U(-1/sqrt(H), 1/sqrt(H)) weights, forget bias set to 1 (summed biases).
                    cells[0].bias_ih[H:2 * H] = 1.0
                    cells[0].bias_hh[H:2 * H] = 0.0
            for _ in range(windows):
                tokens = torch.randint(0, V, (T + 1,), generator=gen)
                zeros = torch.zeros((1, H), dtype=torch.float64)
                loss, hs, _ = run(mode, emb, cells, linear, tokens, zeros, zeros, retain=True)
                loss.backward()
                g = [hs[0][t].grad.norm().item() for t in range(T)]
                ratios.append(g[T - 1 - k] / g[T - 1])
        out[f'{mode}_{scheme}_init'] = {'mean_ratio': sum(ratios) / len(ratios), 'min_ratio': min(ratios),
                                        'max_ratio': max(ratios), 'samples': len(ratios)}
        print(f'{mode:8s} {scheme:7s} init: ||dL/dh_(T-{k})|| / ||dL/dh_T|| mean {out[f"{mode}_{scheme}_init"]["mean_ratio"]:.3e} '
              f'(min {min(ratios):.3e}, max {max(ratios):.3e}, {len(ratios)} windows)', file=sys.stderr)
    return out


def main():
    torch.set_default_dtype(torch.float64)
    models = [fixture_model(mode, 7, 5, 6, 2, 9, seed) for mode, seed in
              (('RNN_TANH', 9401), ('GRU', 9402), ('LSTM', 9403))]
    prop = init_property(V=46, E=32, H=128, T=100, k=50, windows=4, seeds=range(9501, 9505))
    fixture = {
        'schema_version': 1, 'kind': 'gradient_flow', 'torch_version': torch.__version__, 'dtype': 'float64',
        'seed': 9400,
        'notes': {
            'layout': 'Per mode a char model: tokens [T+1] -> nn.Embedding(V, E) -> L stacked cells (RNNCell, '
                      'GRUCell, or the LSTM step written out from LSTMCell weights) run step by step from h0 (and '
                      'c0) [L, 1, H] -> nn.Linear(H, V) on the LAST step only. loss = cross-entropy of tokens[T] '
                      'given the logits of the last step (batch 1). Parameters use nn.RNN state_dict names with '
                      'the prefix "rnn." (rnn.weight_ih_l{k}, ...), plus embedding.weight, linear.weight/bias.',
            'gradients': 'layers[k].h_grads [T, H]: row t = dloss/dh_t of layer k (the output of step t, '
                         't = 0..T-1), taken with h.retain_grad(); h_grad_norms [T] their L2 norms. LSTM: c_grads '
                         'and c_grad_norms likewise for c_t, whose gradient includes the path through '
                         'h_t = o * tanh(c_t). gradientFlow index k = T-1-t.',
            'init': 'every parameter ~ U(-0.5, 0.5) in the listed order, then tokens ~ randint(0, V), '
                    'h0, c0 ~ 0.5 * N(0, 1), from one torch.Generator seeded with the model seed (9401-9403).',
            'init_property': 'Vanishing gradients at initialization (H 128, E 32, V 46, T 100, k 50, batch 1, '
                             'zero initial state, random tokens): ||dL_T/dh_(T-k)|| / ||dL_T/dh_T||, 4 models x 4 '
                             'windows. "rxrnn" init: embedding N(0,1), W_ih Glorot-uniform per gate block, '
                             'W_hh orthogonal per block, zero biases, LSTM forget bias 1, linear Glorot; "pytorch": '
                             'its default U(-1/sqrt(H), 1/sqrt(H)) weights (LSTM forget bias set to 1).',
        },
        'models': models,
        'init_property': prop,
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, 'gradient_flow.json')
    with open(path, 'w') as f:
        json.dump(fixture, f, allow_nan=False)
    print(f'{path}: {os.path.getsize(path)} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()

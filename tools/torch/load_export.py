#!/usr/bin/env python3
"""Load an rxrnn export-torch JSON into torch.nn modules and print logits for a sequence.

usage: python3 tools/torch/load_export.py EXPORT.json (--text TEXT | --ids 1,2,3)

Builds torch.nn.Embedding (or one-hot input), torch.nn.RNN/GRU/LSTM and torch.nn.Linear from
the export's config, loads the params with load_state_dict(strict=True), runs the sequence from
a zero state and prints {"logits": [[V floats] per position]} as JSON on stdout.

Dropout: the config's `dropout` goes to the recurrent module (between stacked layers, as rxrnn
applies it), `embedding_dropout` and `output_dropout` become torch.nn.Dropout modules after the
embedding and before the head. `input_dropout` and `recurrent_dropout` (variational, Keras-style)
have no torch.nn module and are only checked. The model runs in eval mode, where every dropout
is the identity, as in rxrnn's evaluation.
"""
import argparse
import json
import sys

import torch


class CharModel(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        vocab_size = len(cfg["vocab"])
        self.onehot = cfg["input"] == "onehot"
        input_size = vocab_size if self.onehot else cfg["embedding_dim"]
        if not self.onehot:
            self.embedding = torch.nn.Embedding(vocab_size, cfg["embedding_dim"])
        kind = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN_TANH": torch.nn.RNN}[cfg["mode"]]
        extra = {"nonlinearity": "tanh"} if cfg["mode"] == "RNN_TANH" else {}
        rates = {k: dropout_rate(cfg, k) for k in DROPOUT_KEYS}
        # With one layer PyTorch's dropout is a no-op (and warns): pass it only where it acts.
        between = rates["dropout"] if cfg["num_layers"] > 1 else 0.0
        self.rnn = kind(input_size, cfg["hidden_size"], num_layers=cfg["num_layers"], dropout=between, **extra)
        self.embedding_dropout = torch.nn.Dropout(rates["embedding_dropout"])
        self.output_dropout = torch.nn.Dropout(rates["output_dropout"])
        self.linear = torch.nn.Linear(cfg["hidden_size"], vocab_size)
        self.vocab_size = vocab_size

    def forward(self, ids):  # ids: [T] -> logits [T, V]
        if self.onehot:
            x = torch.nn.functional.one_hot(ids, self.vocab_size).to(torch.float32)
        else:
            x = self.embedding_dropout(self.embedding(ids))
        out, _ = self.rnn(x.unsqueeze(1))  # [T, 1, H], zero initial state
        return self.linear(self.output_dropout(out.squeeze(1)))


DROPOUT_KEYS = ("dropout", "embedding_dropout", "output_dropout", "input_dropout", "recurrent_dropout")


def dropout_rate(cfg, key):
    """A dropout probability of the config: absent (older exports) is 0; else a number in [0, 1)."""
    p = cfg.get(key, 0.0)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        sys.exit(f"load_export: config {key} must be a number in [0, 1), got {p!r}")
    return float(p)


def load(path):
    with open(path, encoding="utf-8") as f:
        exp = json.load(f)
    cfg = exp["config"]
    model = CharModel(cfg)
    state = {name: torch.tensor(t["data"], dtype=torch.float32).reshape(t["shape"]) for name, t in exp["params"].items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--text")
    group.add_argument("--ids")
    args = ap.parse_args()
    model, cfg = load(args.export)
    if args.text is not None:
        index = {ch: i for i, ch in enumerate(cfg["vocab"])}
        missing = [ch for ch in args.text if ch not in index]
        if missing:
            sys.exit(f"load_export: char {missing[0]!r} is not in the export's vocabulary")
        ids = [index[ch] for ch in args.text]
    else:
        ids = [int(s) for s in args.ids.split(",") if s]
    with torch.no_grad():
        logits = model(torch.tensor(ids, dtype=torch.long))
    json.dump({"logits": logits.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()

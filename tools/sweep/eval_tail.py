#!/usr/bin/env python3
"""Held-out loss of an rxrnn export-torch JSON, measured by PyTorch: the last --val-fraction of a text.

usage: python3 tools/sweep/eval_tail.py EXPORT.json TEXT_FILE [--val-fraction 0.05]

The text is split as the rxrnn trainer splits it (code points; the tail is the last
floor(n * fraction) of them). The model (tools/torch/load_export.py: torch.nn.Embedding,
RNN/GRU/LSTM, Linear, eval mode, so every dropout is the identity) reads the tail from a zero
state in one pass and predicts each next character: the mean cross-entropy over len(tail) - 1
predictions. Prints {"nats": ..., "bpc": ..., "count": ...} as JSON on stdout.
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from load_export import load  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export")
    ap.add_argument("text")
    ap.add_argument("--val-fraction", type=float, default=0.05)
    args = ap.parse_args()
    if not 0.0 < args.val_fraction < 1.0:
        sys.exit(f"eval_tail: --val-fraction must be in (0, 1), got {args.val_fraction}")
    with open(args.text, encoding="utf-8") as f:
        chars = list(f.read())
    n_val = math.floor(len(chars) * args.val_fraction)
    tail = chars[len(chars) - n_val :]
    if len(tail) < 2:
        sys.exit(f"eval_tail: the held-out tail has {len(tail)} characters, need at least 2")
    model, cfg = load(args.export)
    index = {ch: i for i, ch in enumerate(cfg["vocab"])}
    missing = [ch for ch in tail if ch not in index]
    if missing:
        sys.exit(f"eval_tail: char {missing[0]!r} of the tail is not in the export's vocabulary")
    ids = torch.tensor([index[ch] for ch in tail], dtype=torch.long)
    torch.set_num_threads(1)
    with torch.no_grad():
        logits = model(ids[:-1])
        loss = torch.nn.functional.cross_entropy(logits.double(), ids[1:], reduction="mean").item()
    json.dump({"nats": loss, "bpc": loss / math.log(2), "count": len(tail) - 1}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes tests/data/gpt_fixture_<case>.json: a tiny GPT, the benchmark's PyTorch reference
model (bench/torch_reference.py), its weights, one batch, the loss, the logits and every
parameter gradient, computed in float64. test_gpt_torch_fixture.cpp loads the weights by name
and must reproduce loss and gradients.

Run by hand (Debian python3-torch):  /usr/bin/python3 tests/make_torch_gpt_fixture.py

Parameter names are the C++ model's: the MLP under "mlp", the MultiMax t/r of a layer under
"attn.multimax" (the head's under "head_multimax").
"""
import json, os, sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
# One model for the fixtures and the benchmark: the one in bench/.
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from torch_reference import GPT

CONFIG = dict(vocab=11, d_model=16, layers=2, heads=2, seq_len=8, dropout=0.0)
BATCH = 2
CASES = {
    "softmax": dict(attention="softmax", multimax_per_head=False, multimax_logits=False),
    "multimax": dict(attention="multimax", multimax_per_head=False, multimax_logits=False),
    "multimax_per_head_logits": dict(attention="multimax", multimax_per_head=True,
                                     multimax_logits=True),
}


def far_from_zero(shape):
    """t, r for MultiMaxParameters: far from zero, so the modulator changes the result (the
    benchmark's N(0, .02) would not); a generator per set, seeded by its shape."""
    g = torch.Generator().manual_seed(sum(shape) + 7)
    t = torch.tensor([0.4, 0.3, 0.2, 0.25]) + 0.1 * torch.rand(shape, generator=g)
    r = torch.tensor([-0.3, 0.3, -0.5, 0.5]) + 0.1 * torch.rand(shape, generator=g)
    return t, r


def tensor_json(t):
    # 10 significant digits: exact for the float32 weights, far below the test's tolerance.
    return {"shape": list(t.shape), "data": [float(f"{v:.10g}") for v in t.detach().flatten().tolist()]}


def make_case(name, case):
    torch.manual_seed(0)
    c = dict(CONFIG, multimax_order=2, **case)
    model = GPT(c, far_from_zero)
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}  # float32 values
    model = model.double()
    idx = torch.randint(0, c["vocab"], (BATCH, c["seq_len"]))
    tgt = torch.randint(0, c["vocab"], (BATCH, c["seq_len"]))
    logits = model(idx)
    loss = F.cross_entropy(logits.view(-1, c["vocab"]), tgt.view(-1))
    loss.backward()
    fixture = {
        "config": c,
        "batch": BATCH,
        "ids": idx.flatten().tolist(),
        "targets": tgt.flatten().tolist(),
        "loss": loss.item(),
        "logits": tensor_json(logits),
        "parameters": {n: tensor_json(w) for n, w in weights.items()},
        "gradients": {n: tensor_json(p.grad) for n, p in model.named_parameters()},
    }
    path = os.path.join(HERE, "data", f"gpt_fixture_{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{path}: loss {loss.item():.6f}, {sum(w.numel() for w in weights.values())} parameters")


if __name__ == "__main__":
    for case_name, case_options in CASES.items():
        make_case(case_name, case_options)

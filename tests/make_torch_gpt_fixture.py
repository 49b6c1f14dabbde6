#!/usr/bin/python3
"""Writes tests/data/gpt_fixture_<case>.json: a tiny GPT, the benchmark's PyTorch reference
model (bench/torch_reference.py), its weights, one batch, the loss, the logits and every
parameter gradient, computed in float64. test_gpt_torch_fixture.cpp loads the weights by name
and must reproduce loss and gradients on every path (fused, attention capture, KV cache).

The first three cases are short (T = 8) with t > 0. The rest cover what the kernels branch on:
order 1 and 2, T from 17 to 40 (one full 16-lane chunk and a partial one, or two and a partial),
t of both signs, and scores made large enough (the qkv weights scaled) that every breakpoint r
of every layer, and of the output logits, has scores on both sides: the script checks it.

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

CONFIG = dict(vocab=11, d_model=16, layers=2, heads=2, dropout=0.0)


def far_from_zero(shape):
    """t, r for MultiMaxParameters: far from zero, so the modulator changes the result (the
    benchmark's N(0, .02) would not); a generator per set, seeded by its shape."""
    g = torch.Generator().manual_seed(sum(shape) + 7)
    t = torch.tensor([0.4, 0.3, 0.2, 0.25]) + 0.1 * torch.rand(shape, generator=g)
    r = torch.tensor([-0.3, 0.3, -0.5, 0.5]) + 0.1 * torch.rand(shape, generator=g)
    return t, r


def both_signs(shape):
    """t of both signs (a negative t1 flattens the top, a negative t2 lifts the bottom) and r
    inside the scores' range, so every piece of sigma is taken; seeded by the shape."""
    g = torch.Generator().manual_seed(sum(shape) + 11)
    t = torch.tensor([0.6, -0.4, -0.15, 0.2]) + 0.1 * torch.rand(shape, generator=g)
    r = torch.tensor([-0.8, 0.6, -1.2, 1.0]) + 0.2 * torch.rand(shape, generator=g)
    return t, r


def case(seq_len, batch, attention, order=2, per_head=False, logits=False, init=far_from_zero,
         qkv_scale=1.0):
    return dict(model=dict(CONFIG, seq_len=seq_len, attention=attention, multimax_order=order,
                           multimax_per_head=per_head, multimax_logits=logits),
                batch=batch, init=init, qkv_scale=qkv_scale)


WIDE = 2.5  # the qkv weights' scale in the wide cases: scores of about +-6 instead of +-1
CASES = {
    "softmax": case(8, 2, "softmax"),
    "multimax": case(8, 2, "multimax"),
    "multimax_per_head_logits": case(8, 2, "multimax", per_head=True, logits=True),
    "order1_t17": case(17, 2, "multimax", order=1, init=both_signs, qkv_scale=WIDE),
    "order2_per_head_logits_t33": case(33, 2, "multimax", per_head=True, logits=True,
                                       init=both_signs, qkv_scale=WIDE),
    "order1_per_head_logits_t40": case(40, 1, "multimax", order=1, per_head=True, logits=True,
                                       init=both_signs, qkv_scale=WIDE),
    "softmax_t40": case(40, 1, "softmax", qkv_scale=WIDE),
}


def tensor_json(t):
    # 10 significant digits: exact for the float32 weights, far below the test's tolerance.
    return {"shape": list(t.shape), "data": [float(f"{v:.10g}") for v in t.detach().flatten().tolist()]}


def check_straddles(model, c):
    """Every breakpoint r of every MultiMax (attention: the causal scores only) has scores on
    both sides, so the fixture takes every branch of sigma and of its gradient."""
    causal = torch.tril(torch.ones(c["seq_len"], c["seq_len"], dtype=torch.bool))
    sets = [(f"blocks.{i}.attn", b.attn.multimax, b.attn.scores, causal)
            for i, b in enumerate(model.blocks)]
    if c["multimax_logits"]:
        sets.append(("head", model.head_multimax, model.scores, None))
    for where, params, scores, keep in sets:
        for k in range(2 * c["multimax_order"]):
            r = params.r[..., k]
            if r.dim() == 1:  # per head: [H] against scores [B, H, T, T]
                r = r[None, :, None, None]
            below, above = scores < r, scores > r
            if keep is not None:
                below, above = below & keep, above & keep
            if not (below.any() and above.any()):
                sys.exit(f"{where}: breakpoint r{k} has scores on one side only; widen them")


def make_case(name, spec):
    torch.manual_seed(0)
    c, batch = spec["model"], spec["batch"]
    model = GPT(c, spec["init"])
    with torch.no_grad():
        for block in model.blocks:
            block.attn.qkv.weight.mul_(spec["qkv_scale"])
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}  # float32 values
    model = model.double()
    idx = torch.randint(0, c["vocab"], (batch, c["seq_len"]))
    tgt = torch.randint(0, c["vocab"], (batch, c["seq_len"]))
    logits = model(idx)
    if c["attention"] == "multimax" and spec["init"] is both_signs:
        check_straddles(model, c)
    loss = F.cross_entropy(logits.view(-1, c["vocab"]), tgt.view(-1))
    loss.backward()
    fixture = {
        "config": c,
        "batch": batch,
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
    for case_name, spec in CASES.items():
        make_case(case_name, spec)

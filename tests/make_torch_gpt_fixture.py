#!/usr/bin/python3
"""Writes tests/data/gpt_fixture_<case>.json: a tiny GPT built like the benchmark's PyTorch
reference (/work/shared/anchors/torch_reference.py), its weights, one batch, the loss, the
logits and every parameter gradient, computed in float64. test_gpt_torch_fixture.cpp loads the
weights by name and must reproduce loss and gradients.

Run by hand (Debian python3-torch):  /usr/bin/python3 tests/make_torch_gpt_fixture.py

Parameter names follow the C++ model: the reference's Block.fc/out live under "mlp", and the
MultiMax t/r of a layer under "attn.multimax" (the head's under "head_multimax").
"""
import json, math, os

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = dict(vocab=11, d_model=16, layers=2, heads=2, seq_len=8, dropout=0.0)
BATCH = 2
CASES = {
    "softmax": dict(attention="softmax", multimax_per_head=False, multimax_logits=False),
    "multimax": dict(attention="multimax", multimax_per_head=False, multimax_logits=False),
    "multimax_per_head_logits": dict(attention="multimax", multimax_per_head=True,
                                     multimax_logits=True),
}


def modulate(x, t, r):  # t, r: [..., 4] broadcast against x by the caller
    return (x + t[..., 0] * torch.relu(r[..., 0] - x) + t[..., 1] * torch.relu(x - r[..., 1])
            + t[..., 2] * torch.relu(r[..., 2] - x) ** 2 + t[..., 3] * torch.relu(x - r[..., 3]) ** 2)


class MultiMaxParameters(nn.Module):
    def __init__(self, shape):
        super().__init__()
        # Far from zero, so the modulator changes the result (the fresh N(0, .02) would not).
        g = torch.Generator().manual_seed(sum(shape) + 7)
        self.t = nn.Parameter(torch.tensor([0.4, 0.3, 0.2, 0.25]) + 0.1 * torch.rand(shape, generator=g))
        self.r = nn.Parameter(torch.tensor([-0.3, 0.3, -0.5, 0.5]) + 0.1 * torch.rand(shape, generator=g))


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d = c["d_model"]
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        if c["attention"] == "multimax":
            self.multimax = MultiMaxParameters([c["heads"], 4] if c["multimax_per_head"] else [4])
        T = c["seq_len"]
        self.register_buffer("mask", torch.triu(torch.full((T, T), float("-inf")), 1))

    def forward(self, x):
        B, T, D = x.shape
        H = self.c["heads"]
        q, k, v = self.qkv(x).view(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        if self.c["attention"] == "multimax":
            t, r = self.multimax.t, self.multimax.r
            if t.dim() == 2:  # per head: [H, 4] -> [H, 1, 1, 4] against a [B, H, T, T]
                t, r = t[:, None, None, :], r[:, None, None, :]
            a = modulate(a, t, r)
        a = (a + self.mask[:T, :T]).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, T, D))


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        return self.out(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln1 = nn.LayerNorm(c["d_model"])
        self.attn = Attention(c)
        self.ln2 = nn.LayerNorm(c["d_model"])
        self.mlp = MLP(c["d_model"])

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.tok = nn.Embedding(c["vocab"], c["d_model"])
        self.pos = nn.Parameter(torch.randn(c["seq_len"], c["d_model"]) * 0.02)
        self.blocks = nn.Sequential(*[Block(c) for _ in range(c["layers"])])
        self.ln = nn.LayerNorm(c["d_model"])
        self.head = nn.Linear(c["d_model"], c["vocab"], bias=False)
        if c["multimax_logits"]:
            self.head_multimax = MultiMaxParameters([4])

    def forward(self, idx):
        x = self.blocks(self.tok(idx) + self.pos[: idx.shape[1]])
        logits = self.head(self.ln(x))
        if self.c["multimax_logits"]:
            logits = modulate(logits, self.head_multimax.t, self.head_multimax.r)
        return logits


def tensor_json(t):
    # 10 significant digits: exact for the float32 weights, far below the test's tolerance.
    return {"shape": list(t.shape), "data": [float(f"{v:.10g}") for v in t.detach().flatten().tolist()]}


def make_case(name, case):
    torch.manual_seed(0)
    c = dict(CONFIG, multimax_order=2, **case)
    model = GPT(c)
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
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", f"gpt_fixture_{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{path}: loss {loss.item():.6f}, {sum(w.numel() for w in weights.values())} parameters")


if __name__ == "__main__":
    for case_name, case_options in CASES.items():
        make_case(case_name, case_options)

#!/usr/bin/python3
"""Writes tests/data/vit_fixture_<case>.json: the vision transformer of nn/models/vit.cpp in
PyTorch (the benchmark reference's blocks, not causal), its weights, a batch of images and
labels, the loss, the classifier logits and every parameter gradient, computed in float64.
test_vit_torch_fixture.cpp loads the weights by name and must reproduce them.

Run by hand (Debian python3-torch):  /usr/bin/python3 tests/make_torch_vit_fixture.py

12 x 12 images in patches of 2: 36 tokens, past the 16 SIMD lanes, every patch attending to
every other. t has both signs and the q/k/v weights are scaled so that every breakpoint of every
layer has scores on both sides; with logit MultiMax the classifier's breakpoints too.
"""
import json, os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
sys.path.insert(0, HERE)
from torch_reference import Block, MultiMaxParameters, modulate
from make_torch_gpt_fixture import both_signs, tensor_json


class ViT(nn.Module):
    """nn/models/vit.hpp, parameter for parameter: patch embedding "patch", positions "pos",
    pre-LayerNorm blocks, the mean over tokens, then LayerNorm "ln" and the classifier "head"."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        p, d = c["patch_size"], c["d_model"]
        tokens = (c["image_size"] // p) ** 2
        block = dict(c, seq_len=tokens, causal=False)
        self.patch = nn.Linear(c["channels"] * p * p, d)
        self.pos = nn.Parameter(torch.randn(tokens, d) * 0.02)
        self.blocks = nn.Sequential(*[Block(block, both_signs) for _ in range(c["layers"])])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, c["classes"])
        if c["multimax_logits"]:
            self.head_multimax = MultiMaxParameters([4], both_signs)

    def forward(self, images):
        B, C, S, _ = images.shape
        p = self.c["patch_size"]
        g = S // p
        # [B, C, g, p, g, p] -> [B, g, g, C, p, p]: patch (row, col) is one token of C*p*p pixels
        x = images.view(B, C, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(B, g * g, C * p * p)
        x = self.blocks(self.patch(x) + self.pos)
        logits = self.head(self.ln(x.mean(1)))
        if self.c["multimax_logits"]:
            self.scores = logits.detach()
            logits = modulate(logits, self.head_multimax.t, self.head_multimax.r,
                              self.c["multimax_order"])
        return logits


CONFIG = dict(image_size=12, channels=1, patch_size=2, classes=10, d_model=16, layers=2,
              heads=2, dropout=0.0, attention="multimax")
CASES = {
    "order2_logits": dict(multimax_order=2, multimax_per_head=False, multimax_logits=True),
    "order1_per_head": dict(multimax_order=1, multimax_per_head=True, multimax_logits=False),
}
BATCH = 4
QKV_SCALE, HEAD_SCALE = 2.5, 4.0  # scores of about +-6; logits wide enough for the head's r


def check_straddles(model):
    sets = [(f"blocks.{i}", b.attn.multimax, b.attn.scores) for i, b in enumerate(model.blocks)]
    if model.c["multimax_logits"]:
        sets.append(("head", model.head_multimax, model.scores))
    for where, params, scores in sets:
        for k in range(2 * model.c["multimax_order"]):
            r = params.r[..., k]
            if r.dim() == 1:
                r = r[None, :, None, None]
            if not ((scores < r).any() and (scores > r).any()):
                sys.exit(f"{where}: breakpoint r{k} has scores on one side only; widen them")


def make_case(name, multimax):
    torch.manual_seed(0)
    c = dict(CONFIG, **multimax)
    model = ViT(c)
    with torch.no_grad():
        for block in model.blocks:
            block.attn.qkv.weight.mul_(QKV_SCALE)
        model.head.weight.mul_(HEAD_SCALE)
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}  # float32 values
    model = model.double()
    images = torch.rand(BATCH, c["channels"], c["image_size"], c["image_size"], dtype=torch.float64)
    images = images.float().double()  # values the C++ side reads exactly as float32
    labels = torch.randint(0, c["classes"], (BATCH,))
    logits = model(images)
    check_straddles(model)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    fixture = {
        "config": c,
        "images": tensor_json(images),
        "labels": labels.tolist(),
        "loss": loss.item(),
        "logits": tensor_json(logits),
        "parameters": {n: tensor_json(w) for n, w in weights.items()},
        "gradients": {n: tensor_json(p.grad) for n, p in model.named_parameters()},
    }
    path = os.path.join(HERE, "data", f"vit_fixture_{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{path}: loss {loss.item():.6f}, {sum(w.numel() for w in weights.values())} parameters")


if __name__ == "__main__":
    for case_name, multimax in CASES.items():
        make_case(case_name, multimax)

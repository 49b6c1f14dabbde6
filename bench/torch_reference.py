#!/usr/bin/python3
"""Our GPT in PyTorch on the CPU: the side-by-side reference for `mmx bench train`.

bench/compare_torch.py runs it one process per (config, attn) pair; tests/make_torch_gpt_fixture.py
builds its fixtures from the same model. Run with the Python that has PyTorch (Debian:
`apt-get install python3-torch libopenblas0-openmp`, then /usr/bin/python3). One JSON line per
run on stdout, keys in the order `mmx bench train --json` starts with:

  /usr/bin/python3 bench/torch_reference.py --config tiny --attn multimax --steps 10 --threads 2
  /usr/bin/python3 bench/torch_reference.py --config small --precision bf16   # autocast

--precision bf16 runs the forward and the loss under torch.autocast("cpu", dtype=torch.bfloat16)
(PyTorch's own mixed precision: bf16 matmuls, fp32 weights and optimizer), beside
`mmx bench train --precision bf16`.

Model, as nn/models/gpt.hpp builds it (same parameter names): token embedding "tok" + learned
positions "pos", pre-LayerNorm blocks (causal attention, GELU MLP 4x), final LayerNorm "ln",
head "head" without bias. MultiMax: the second-order modulator in front of the attention's
SoftMax, its t[4] and r[4] shared by a layer's heads (or one set per head), optionally on the
output logits too. Training: AdamW(lr 1e-3, betas .9/.95, weight decay .1 on 2-D weights only)
on one fixed batch of random tokens, seed 0. Weights start from PyTorch's default inits.
"""
import argparse, json, math, os, resource, time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Field for field the C++ side's (cli/bench_support.cpp, kReferenceConfigs).
CONFIGS = {
    "tiny": dict(vocab=96, d_model=128, layers=4, heads=4, seq=128, batch=16),
    "small": dict(vocab=96, d_model=256, layers=6, heads=8, seq=256, batch=8),
}


def modulate(x, t, r, order=2):
    """MultiMax's sigma(x) of order 1 or 2 (docs/multimax.md); t, r: [..., 4] (order 1 reads the
    first two pairs), broadcast against x by the caller."""
    sigma = x + t[..., 0] * torch.relu(r[..., 0] - x) + t[..., 1] * torch.relu(x - r[..., 1])
    if order == 2:
        sigma = (sigma + t[..., 2] * torch.relu(r[..., 2] - x) ** 2
                 + t[..., 3] * torch.relu(x - r[..., 3]) ** 2)
    return sigma


def multimax_normal(seed):
    """An init for MultiMaxParameters: t, r ~ N(0, 0.02) (near zero, so MultiMax starts as
    SoftMax), drawn from a generator of their own, as the engine draws them: the global stream
    is left alone, so the MultiMax model gets the same other weights as the SoftMax one."""
    gen = torch.Generator().manual_seed(seed)
    return lambda shape: (0.02 * torch.randn(shape, generator=gen),
                          0.02 * torch.randn(shape, generator=gen))


class MultiMaxParameters(nn.Module):
    def __init__(self, shape, init):  # init: shape -> (t, r)
        super().__init__()
        t, r = init(shape)
        self.t, self.r = nn.Parameter(t), nn.Parameter(r)


class Attention(nn.Module):
    def __init__(self, c, multimax_init):
        super().__init__()
        self.c = c
        d = c["d_model"]
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        if c["attention"] == "multimax":  # SoftMax has no t, r: the same parameters as ours
            self.multimax = MultiMaxParameters(
                [c["heads"], 4] if c["multimax_per_head"] else [4], multimax_init)
        T = c["seq_len"]
        # Causal (the GPT) unless c says otherwise (the ViT's patches see each other).
        self.register_buffer("mask", torch.triu(torch.full((T, T), float("-inf")), 1)
                             if c.get("causal", True) else torch.zeros(T, T))

    def forward(self, x):
        B, T, D = x.shape
        H = self.c["heads"]
        q, k, v = self.qkv(x).view(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        if self.c["attention"] == "multimax":
            t, r = self.multimax.t, self.multimax.r
            if t.dim() == 2:  # per head: [H, 4] -> [H, 1, 1, 4] against a [B, H, T, T]
                t, r = t[:, None, None, :], r[:, None, None, :]
            self.scores = a.detach()  # for the fixtures' check that they straddle every r
            a = modulate(a, t, r, self.c["multimax_order"])  # before the mask: masked stay -inf
        a = (a + self.mask[:T, :T]).softmax(-1)
        return self.proj((a @ v).transpose(1, 2).reshape(B, T, D))


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        return self.out(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, c, multimax_init):
        super().__init__()
        self.ln1 = nn.LayerNorm(c["d_model"])
        self.attn = Attention(c, multimax_init)
        self.ln2 = nn.LayerNorm(c["d_model"])
        self.mlp = MLP(c["d_model"])

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """c: vocab, d_model, layers, heads, seq_len, attention ("softmax" or "multimax"),
    multimax_order, multimax_per_head, multimax_logits (the fields of nn/models/gpt_config.hpp's
    it models).
    multimax_init: shape -> (t, r), for every set of MultiMax parameters."""

    def __init__(self, c, multimax_init):
        super().__init__()
        self.c = c
        self.tok = nn.Embedding(c["vocab"], c["d_model"])
        self.pos = nn.Parameter(torch.randn(c["seq_len"], c["d_model"]) * 0.02)
        self.blocks = nn.Sequential(*[Block(c, multimax_init) for _ in range(c["layers"])])
        self.ln = nn.LayerNorm(c["d_model"])
        self.head = nn.Linear(c["d_model"], c["vocab"], bias=False)
        if c["multimax_logits"]:
            self.head_multimax = MultiMaxParameters([4], multimax_init)

    def forward(self, idx):
        """idx: [batch, seq] token ids -> logits [batch, seq, vocab] (modulated, with MultiMax
        on the logits, so that softmax of them is MultiMax of the head's output)."""
        x = self.blocks(self.tok(idx) + self.pos[: idx.shape[1]])
        logits = self.head(self.ln(x))
        if self.c["multimax_logits"]:
            self.scores = logits.detach()
            logits = modulate(logits, self.head_multimax.t, self.head_multimax.r,
                              self.c["multimax_order"])
        return logits


def gpt_config(config, attn):
    """The model config of a benchmark config: MultiMax shared by the heads, as `mmx bench`."""
    c = CONFIGS[config]
    return dict(vocab=c["vocab"], d_model=c["d_model"], layers=c["layers"], heads=c["heads"],
                seq_len=c["seq"], attention=attn, multimax_order=2, multimax_per_head=False,
                multimax_logits=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=CONFIGS, default="tiny")
    ap.add_argument("--attn", choices=["softmax", "multimax"], default="softmax")
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps before them")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: forward and loss under CPU autocast to bfloat16")
    a = ap.parse_args()
    if a.steps < 1 or a.warmup < 0 or a.threads < 1:
        ap.error("--steps and --threads must be at least 1, --warmup at least 0")
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    c = CONFIGS[a.config]
    model = GPT(gpt_config(a.config, a.attn), multimax_normal(seed=1))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]  # biases, LayerNorms, t and r
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": rest, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.95))
    idx = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
    tgt = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            logits = model(idx)
            loss = F.cross_entropy(logits.view(-1, c["vocab"]), tgt.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    # The upper median, times[n // 2]: `mmx bench train` takes the same one (bench::upper_median).
    times.sort()
    ms = times[len(times) // 2] * 1e3
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({
        "engine": f"pytorch-{torch.__version__}", "config": a.config, "attn": a.attn,
        "threads": a.threads, "params": params, "ms_per_step": round(ms, 2),
        "tokens_per_s": round(c["batch"] * c["seq"] / ms * 1e3, 1),
        # ru_maxrss is in KiB on Linux
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "final_loss": round(loss.item(), 4), "precision": a.precision}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes tests/data/seq2seq_fixture_<case>.json: the encoder-decoder translator of
nn/models/seq2seq.cpp in PyTorch, its weights, one padded batch, the loss, the logits and every
parameter gradient, computed in float64. test_seq2seq_torch_fixture.cpp loads the weights by
name and must reproduce them, teacher-forced and with the cached decoder step.

Run by hand (Debian python3-torch):  /usr/bin/python3 tests/make_torch_seq2seq_fixture.py

What it covers that the GPT fixtures cannot: the non-causal encoder with a key padding mask,
cross-attention to a padded memory, padded targets (ignored by the loss), MultiMax in all three
attentions or only in self-attention, order 1 and 2, logit MultiMax on and off. The sources
and targets run to 17-20 positions (a full 16-lane chunk and a partial one); t has both signs
and the q/kv weights are scaled so that every breakpoint has scores on both sides.
"""
import json, math, os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
sys.path.insert(0, HERE)
from torch_reference import MLP, MultiMaxParameters, modulate
from make_torch_gpt_fixture import both_signs, tensor_json

PAD, BOS, EOS, FIRST_CHAR = 0, 1, 2, 3  # nn/models/seq2seq_config.hpp


class Attention(nn.Module):
    """nn/layers/attention.cpp with the Split projection: q from the queries, keys and values
    from one `kv` projection of the memory (keys its first d outputs). The normalizer runs on
    sigma(scores) + mask: the mask comes after the modulation."""

    def __init__(self, c, kind, causal):
        super().__init__()
        d = c["d_model"]
        self.c, self.kind, self.causal = c, kind, causal
        self.q, self.kv, self.proj = nn.Linear(d, d), nn.Linear(d, 2 * d), nn.Linear(d, d)
        if kind == "multimax":
            self.multimax = MultiMaxParameters(
                [c["heads"], 4] if c["multimax_per_head"] else [4], both_signs)

    def heads(self, x):
        B, T, D = x.shape
        H = self.c["heads"]
        return x.view(B, T, H, D // H).transpose(1, 2)

    def forward(self, queries, memory, key_mask):
        """key_mask: additive [B, 1, 1, S] or None."""
        d = self.c["d_model"]
        q, kv = self.heads(self.q(queries)), self.kv(memory)
        k, v = self.heads(kv[..., :d]), self.heads(kv[..., d:])
        a = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        if self.kind == "multimax":
            t, r = self.multimax.t, self.multimax.r
            if t.dim() == 2:
                t, r = t[:, None, None, :], r[:, None, None, :]
            self.scores = a.detach()
            a = modulate(a, t, r, self.c["multimax_order"])
        if key_mask is not None:
            a = a + key_mask
        if self.causal:
            T = a.shape[-1]
            a = a + torch.triu(torch.full((T, T), float("-inf"), dtype=a.dtype), 1)
        B, H, T, dh = q.shape
        return self.proj((a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * dh))


class EncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = Attention(c, c["encoder_attention"], causal=False)
        self.mlp = MLP(d)

    def forward(self, x, mask):
        n = self.ln1(x)
        h = x + self.self_attn(n, n, mask)
        return h + self.mlp(self.ln2(h))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = Attention(c, c["decoder_attention"], causal=True)
        self.cross_attn = Attention(c, c["cross_attention"], causal=False)
        self.mlp = MLP(d)

    def forward(self, x, memory, memory_mask):
        n = self.ln1(x)
        h = x + self.self_attn(n, n, None)
        h = h + self.cross_attn(self.ln2(h), memory, memory_mask)
        return h + self.mlp(self.ln3(h))


class Seq2Seq(nn.Module):
    """nn/models/seq2seq.hpp, parameter for parameter (the same names)."""

    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.c = c
        self.src_tok = nn.Embedding(c["vocab"], d)
        self.src_pos = nn.Parameter(torch.randn(c["max_source_len"], d) * 0.02)
        self.encoder = nn.ModuleList([EncoderLayer(c) for _ in range(c["encoder_layers"])])
        self.encoder_ln = nn.LayerNorm(d)
        self.tgt_tok = nn.Embedding(c["vocab"], d)
        self.tgt_pos = nn.Parameter(torch.randn(c["max_target_len"], d) * 0.02)
        self.decoder = nn.ModuleList([DecoderLayer(c) for _ in range(c["decoder_layers"])])
        self.decoder_ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, c["vocab"], bias=False)
        if c["multimax_logits"]:
            self.head_multimax = MultiMaxParameters([4], both_signs)

    def forward(self, src, tgt_in):
        mask = torch.zeros(src.shape, dtype=self.src_pos.dtype)
        mask[src == PAD] = float("-inf")
        mask = mask[:, None, None, :]
        x = self.src_tok(src) + self.src_pos[: src.shape[1]]
        for layer in self.encoder:
            x = layer(x, mask)
        memory = self.encoder_ln(x)
        y = self.tgt_tok(tgt_in) + self.tgt_pos[: tgt_in.shape[1]]
        for layer in self.decoder:
            y = layer(y, memory, mask)
        logits = self.head(self.decoder_ln(y))
        if self.c["multimax_logits"]:
            self.scores = logits.detach()
            logits = modulate(logits, self.head_multimax.t, self.head_multimax.r,
                              self.c["multimax_order"])
        return logits


CONFIG = dict(vocab=14, d_model=16, heads=2, encoder_layers=2, decoder_layers=2,
              max_source_len=20, max_target_len=20, dropout=0.0)
CASES = {
    "multimax_everywhere_logits": dict(encoder_attention="multimax", decoder_attention="multimax",
                                       cross_attention="multimax", multimax_order=2,
                                       multimax_per_head=False, multimax_logits=True),
    "order1_per_head_self_only": dict(encoder_attention="multimax", decoder_attention="multimax",
                                      cross_attention="softmax", multimax_order=1,
                                      multimax_per_head=True, multimax_logits=False),
}
# Three pairs, each row padded after its end: sources of 20, 17 and 9 characters; targets
# (BOS + text / text + EOS) of 19, 12 and 18 positions in a batch of 19.
SOURCE_LENGTHS, TARGET_LENGTHS = [20, 17, 9], [19, 12, 18]
QKV_SCALE = 2.5


def padded_batch(gen, vocab):
    S, T = max(SOURCE_LENGTHS), max(TARGET_LENGTHS)
    src = torch.full((len(SOURCE_LENGTHS), S), PAD)
    tgt_in = torch.full((len(TARGET_LENGTHS), T), PAD)
    tgt_out = torch.full((len(TARGET_LENGTHS), T), PAD)
    for b, (s, t) in enumerate(zip(SOURCE_LENGTHS, TARGET_LENGTHS)):
        src[b, :s] = torch.randint(FIRST_CHAR, vocab, (s,), generator=gen)
        text = torch.randint(FIRST_CHAR, vocab, (t - 1,), generator=gen)
        tgt_in[b, 0], tgt_in[b, 1:t] = BOS, text
        tgt_out[b, : t - 1], tgt_out[b, t - 1] = text, EOS
    return src, tgt_in, tgt_out


def check_straddles(model, src, tgt_in):
    """Every breakpoint of every MultiMax has real scores (not padding, not above the causal
    diagonal) on both sides."""
    keys = src != PAD  # [B, S]
    T = tgt_in.shape[1]
    sets = []
    for i, layer in enumerate(model.encoder):
        sets.append((f"encoder.{i}", layer.self_attn, keys[:, None, None, :]))
    for i, layer in enumerate(model.decoder):
        sets.append((f"decoder.{i}.self", layer.self_attn,
                     torch.tril(torch.ones(T, T, dtype=torch.bool))))
        sets.append((f"decoder.{i}.cross", layer.cross_attn, keys[:, None, None, :]))
    sets = [(w, a.multimax, a.scores, keep) for w, a, keep in sets if a.kind == "multimax"]
    if model.c["multimax_logits"]:
        sets.append(("head", model.head_multimax, model.scores, None))
    for where, params, scores, keep in sets:
        for k in range(2 * model.c["multimax_order"]):
            r = params.r[..., k]
            if r.dim() == 1:
                r = r[None, :, None, None]
            below, above = scores < r, scores > r
            if keep is not None:
                below, above = below & keep, above & keep
            if not (below.any() and above.any()):
                sys.exit(f"{where}: breakpoint r{k} has scores on one side only; widen them")


def make_case(name, attention):
    torch.manual_seed(0)
    c = dict(CONFIG, **attention)
    model = Seq2Seq(c)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, Attention):
                m.q.weight.mul_(QKV_SCALE)
                m.kv.weight.mul_(QKV_SCALE)
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}  # float32 values
    model = model.double()
    src, tgt_in, tgt_out = padded_batch(torch.Generator().manual_seed(1), c["vocab"])
    logits = model(src, tgt_in)
    check_straddles(model, src, tgt_in)
    loss = F.cross_entropy(logits.reshape(-1, c["vocab"]), tgt_out.flatten(), ignore_index=PAD)
    loss.backward()
    fixture = {
        "config": c,
        "batch": src.shape[0],
        "source_len": src.shape[1],
        "target_len": tgt_in.shape[1],
        "source": src.flatten().tolist(),
        "target_in": tgt_in.flatten().tolist(),
        "target_out": tgt_out.flatten().tolist(),
        "loss": loss.item(),
        "logits": tensor_json(logits),
        "parameters": {n: tensor_json(w) for n, w in weights.items()},
        "gradients": {n: tensor_json(p.grad) for n, p in model.named_parameters()},
    }
    path = os.path.join(HERE, "data", f"seq2seq_fixture_{name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{path}: loss {loss.item():.6f}, {sum(w.numel() for w in weights.values())} parameters")


if __name__ == "__main__":
    for case_name, attention in CASES.items():
        make_case(case_name, attention)

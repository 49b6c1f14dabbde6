#!/usr/bin/python3
"""Writes tests/data/mlp_fixture.json: inputs, loss and gradients of a small composite function
computed by PyTorch, for tests/test_torch_fixture.cpp to rebuild from engine ops and match.

The function (GELU in its tanh form, as the engine's default):
    h      = layer_norm(x @ w1^T + b1, ln_w, ln_b, eps=1e-5)
    logits = gelu_tanh(h) @ w2^T + b2
    loss   = cross_entropy(logits over the last axis, targets, ignore_index=-100), mean over
             the counted rows

Inputs are drawn in float32 (so the engine reads them exactly), then everything is computed in
float64 so the reference itself carries no float32 rounding. Run by hand when the function
changes:  /usr/bin/python3 tests/make_torch_fixture.py   (CI only reads the committed file.)
"""
import json
import pathlib

import torch

SEED = 20240601
EPS = 1e-5
IGNORE = -100


def main():
    gen = torch.Generator().manual_seed(SEED)

    def draw(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen) * scale).to(torch.float32)

    inputs = {
        "x": draw(2, 3, 6),
        "w1": draw(8, 6, scale=0.5),
        "b1": draw(8, scale=0.1),
        "ln_w": 1.0 + draw(8, scale=0.2),
        "ln_b": draw(8, scale=0.1),
        "w2": draw(5, 8, scale=0.5),
        "b2": draw(5, scale=0.1),
    }
    targets = [3, 0, IGNORE, 4, 1, 2]

    leaves = {k: v.to(torch.float64).requires_grad_() for k, v in inputs.items()}
    h = torch.nn.functional.linear(leaves["x"], leaves["w1"], leaves["b1"])
    h = torch.nn.functional.layer_norm(h, (8,), leaves["ln_w"], leaves["ln_b"], eps=EPS)
    h = torch.nn.functional.gelu(h, approximate="tanh")
    logits = torch.nn.functional.linear(h, leaves["w2"], leaves["b2"])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 5), torch.tensor(targets),
                                             ignore_index=IGNORE)
    loss.backward()

    def tensor_json(t):
        # float32 inputs: 9 significant digits restore the exact float; float64 results: 17.
        digits = 9 if t.dtype == torch.float32 else 17
        return {"shape": list(t.shape),
                "data": [float(f"{v:.{digits}g}") for v in t.detach().reshape(-1).tolist()]}

    fixture = {
        "function": "layer_norm(x @ w1^T + b1) -> gelu(tanh form) -> @ w2^T + b2 -> "
                    "cross_entropy(ignore_index=-100, mean)",
        "torch_version": torch.__version__,
        "eps": EPS,
        "ignore_index": IGNORE,
        "gelu": "tanh",
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "targets": targets,
        "loss": float(f"{loss.item():.17g}"),
        "grads": {k: tensor_json(v.grad) for k, v in leaves.items()},
    }
    out = pathlib.Path(__file__).resolve().parent / "data" / "mlp_fixture.json"
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {out} (loss {loss.item():.6f})")


if __name__ == "__main__":
    main()

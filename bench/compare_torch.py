#!/usr/bin/python3
"""Our engine against the PyTorch reference, same configs, same threads: one table with targets.

Each training measurement is its own process (so peak RSS is that run's alone): `mmx bench train
--json` for one (config, attn) pair, then bench/torch_reference.py (PyTorch) for the same
pair, alternating, so a change of load on the machine hits both alike; every pair is measured
--rounds times, every other round in the reverse order. A ratio row is the median over the
rounds of each round's ratio. Except MultiMax over SoftMax in our engine, a few percent that
the machine's drift between two processes would swamp: `mmx bench overhead` trains both models
in one process, a step of each in turn. Then `mmx bench sample` (KV cache against a full forward
per token, small config) and `mmx bench scaling` (ms/step and peak memory over seq x d_model).
The bf16 rows need `mmx train --precision`; until that option exists they say "not built".
Both engines run with the same OpenMP waiting (--wait, default a short spin: GOMP_SPINCOUNT=10000,
what `mmx` picks by itself): on a shared machine libgomp's long default spin slows either one
several-fold, and passive waiting costs either ~20% on an idle one.

  /usr/bin/python3 bench/compare_torch.py --mmx build/cli/mmx --threads 2 --rounds 3
  /usr/bin/python3 bench/compare_torch.py --markdown > table.md   # the README's tables
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MMX = os.path.join(HERE, "..", "build", "cli", "mmx")
DEFAULT_TORCH = os.path.join(HERE, "torch_reference.py")

# The targets (ours / PyTorch tokens/s, same config and normalizer).
SPEED_TARGETS = {("tiny", "softmax"): 2.0, ("small", "softmax"): 1.5,
                 ("tiny", "multimax"): 2.5, ("small", "multimax"): 2.0}
MFU_TARGET = {"small": 0.50}          # model FLOP utilisation, per config
MULTIMAX_COST_TARGET = 1.03           # our MultiMax step time over our SoftMax's, every config
MEMORY_TARGET = 0.5                   # our peak RSS over PyTorch's, every pair
BF16_LOSS_TOLERANCE = 0.02            # bf16 val loss within 2% of fp32's

# OpenMP waiting between parallel regions, the same for both engines (both use libgomp).
WAITING = {"short-spin": {"GOMP_SPINCOUNT": "10000"},  # what mmx picks when nothing is set
           "passive": {"OMP_WAIT_POLICY": "passive"},
           "active": {"OMP_WAIT_POLICY": "active"}}


def fail(message):
    sys.exit(f"compare_torch: {message}")


class RunFailed(Exception):
    pass


def run(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RunFailed(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def run_json(command):
    """Runs one benchmark process; returns the JSON objects it printed, one per line."""
    return [json.loads(line) for line in run(command).splitlines() if line.startswith("{")]


def check_torch(python):
    done = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        fail(f"PyTorch is not importable by {python} ({last}).\n"
             "Install Debian's build (apt-get install python3-torch libopenblas0-openmp) or "
             "pass --python with a Python that has it.")


def median_ratio(numerators, denominators):
    return statistics.median(n / d for n, d in zip(numerators, denominators))


def verdict(value, target, at_least):
    if target is None or value is None:
        return "-"
    return "pass" if (value >= target if at_least else value <= target) else "MISS"


def measure_training(a):
    """{(config, attn): ([our rows], [torch rows])}. Every other round runs the same sequence
    backwards (ours softmax, torch softmax, ours multimax, torch multimax; then the reverse), so
    a run's place in the round, and the drift of the machine's speed over it, weighs on both
    sides of every ratio alike."""
    runs = {(c, at): ([], []) for c in a.configs for at in a.attns}
    common = ["--steps", str(a.steps), "--warmup", str(a.warmup), "--threads", str(a.threads)]
    sequence = [(c, at, engine) for c in a.configs for at in a.attns for engine in ("ours", "torch")]
    for r in range(a.rounds):
        for config, attn, engine in (sequence if r % 2 == 0 else sequence[::-1]):
            pair = ["--config", config, "--attn", attn]
            ours, torch = runs[(config, attn)]
            if engine == "ours":
                ours += run_json([a.mmx, "bench", "train", "--json", *pair, *common,
                                  "--sgemm-n", str(a.sgemm_n)])
            else:
                torch += run_json([a.python, a.torch_script, *pair, *common])
            row = (ours if engine == "ours" else torch)[-1]
            print(f"round {r + 1}/{a.rounds} {config} {attn} {engine}: {row['tokens_per_s']} tok/s",
                  file=sys.stderr, flush=True)
            if a.json:
                print(json.dumps(row), flush=True)
    return runs


def bf16_rows(a):
    """tokens/s and val loss of a short `mmx train` run in bf16 and in fp32: None when the
    option does not exist, a message when a run failed."""
    try:
        return bf16_runs(a)
    except (RunFailed, OSError, KeyError, ValueError, IndexError) as e:
        return f"measurement failed: {str(e).splitlines()[0]}"


def bf16_runs(a):
    help_text = run([a.mmx, "train", "--help"])
    line = next((l for l in help_text.splitlines() if "--precision" in l), None)
    if line is None:
        return None
    fp32 = re.search(r"\b(fp32|f32|float32)\b", line)
    shape = ["--layers", "4", "--d-model", "128", "--heads", "4", "--seq", "128", "--batch", "16",
             "--steps", str(a.bf16_steps), "--eval-interval", str(a.bf16_steps), "--seed", "0",
             "--threads", str(a.threads)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, flag in (("fp32", ["--precision", fp32.group(1)] if fp32 else []),
                           ("bf16", ["--precision", "bf16"])):
            out = os.path.join(tmp, name)
            run([a.mmx, "train", *shape, *flag, "--out", out])
            with open(os.path.join(out, "log.jsonl")) as log:
                last = json.loads(log.read().strip().splitlines()[-1])
            results[name] = (last["items_per_s"], last["val_loss"])
    return results


def table_rows(a, runs, overhead, sample, bf16):
    """(measure, case, detail, value text, target text, verdict) for every row."""
    rows = []
    for (config, attn), (ours, torch) in runs.items():
        ratio = median_ratio([o["tokens_per_s"] for o in ours], [t["tokens_per_s"] for t in torch])
        target = SPEED_TARGETS.get((config, attn))
        rows.append(("training tokens/s, ours / PyTorch", f"{config} {attn}",
                     f"{statistics.median(o['tokens_per_s'] for o in ours):.0f} vs "
                     f"{statistics.median(t['tokens_per_s'] for t in torch):.0f}",
                     f"{ratio:.2f}x", f">= {target}x" if target else "-",
                     verdict(ratio, target, True)))
    for (config, attn), (ours, _) in runs.items():
        mfus = [o["mfu"] for o in ours if o.get("mfu") is not None]
        if not mfus:
            continue
        mfu, target = statistics.median(mfus), MFU_TARGET.get(config)
        rows.append(("MFU: useful training FLOP/s / sgemm FLOP/s", f"{config} {attn}",
                     f"{statistics.median(o['train_gflops'] for o in ours):.0f} / "
                     f"{statistics.median(o['sgemm_gflops'] for o in ours):.0f} GFLOP/s",
                     f"{100 * mfu:.1f}%", f">= {100 * target:.0f}%" if target else "-",
                     verdict(mfu, target, True)))
    for o in overhead:
        config = o["config"]
        _, torch_s = runs[(config, "softmax")]
        _, torch_m = runs[(config, "multimax")]
        theirs = median_ratio([t["ms_per_step"] for t in torch_m],
                              [t["ms_per_step"] for t in torch_s])
        ratio = o["multimax_over_softmax"]
        rows.append(("MultiMax / SoftMax step time, ours", config,
                     f"{o['multimax_ms_per_step']:.1f} / {o['softmax_ms_per_step']:.1f} ms, "
                     f"{o['pairs']} pairs in one process; PyTorch (separate runs): {theirs:.2f}x",
                     f"{ratio:.3f}x", f"<= {MULTIMAX_COST_TARGET}x",
                     verdict(ratio, MULTIMAX_COST_TARGET, False)))
    for (config, attn), (ours, torch) in runs.items():
        o = statistics.median(r["peak_rss_mb"] for r in ours)
        t = statistics.median(r["peak_rss_mb"] for r in torch)
        rows.append(("peak RSS, ours / PyTorch", f"{config} {attn}", f"{o:.0f} vs {t:.0f} MB",
                     f"{o / t:.2f}x", f"<= {MEMORY_TARGET}x", verdict(o / t, MEMORY_TARGET, False)))
    for s in sample:
        rows.append(("sampling tokens/s, KV cache / full forward", f"{s['config']} {s['attn']}",
                     f"{s['cached_tokens_per_s']:.0f} vs {s['uncached_tokens_per_s']:.0f} tok/s"
                     f"{'' if s['same_tokens'] else ', TOKENS DIFFER'}",
                     f"{s['speedup']:.2f}x", "-", "-"))
    if bf16 is None or isinstance(bf16, str):
        detail = "mmx train has no --precision" if bf16 is None else bf16
        value = "not built" if bf16 is None else "failed"
        rows.append(("bf16 matmuls: tokens/s over fp32", "tiny softmax", detail, value, "-", "-"))
        rows.append(("bf16 matmuls: val loss vs fp32", "tiny softmax", "", value,
                     f"within {100 * BF16_LOSS_TOLERANCE:.0f}%", "-"))
    else:
        (fast, loss16), (slow, loss32) = bf16["bf16"], bf16["fp32"]
        gap = abs(loss16 - loss32) / loss32
        rows.append(("bf16 matmuls: tokens/s over fp32", "tiny softmax",
                     f"{fast:.0f} vs {slow:.0f} tok/s", f"{fast / slow:.2f}x", "-", "-"))
        rows.append(("bf16 matmuls: val loss vs fp32", "tiny softmax",
                     f"{loss16:.4f} vs {loss32:.4f} after {a.bf16_steps} steps",
                     f"{100 * gap:.2f}%", f"within {100 * BF16_LOSS_TOLERANCE:.0f}%",
                     verdict(gap, BF16_LOSS_TOLERANCE, False)))
    return rows


def print_table(header, rows, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            print("| " + " | ".join(str(c) for c in r) + " |")
        return
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def print_scaling(cells, markdown):
    seqs = sorted({c["seq"] for c in cells})
    widths = sorted({c["d_model"] for c in cells})
    by = {(c["seq"], c["d_model"]): c for c in cells}
    header = ["seq \\ d_model", *(str(d) for d in widths)]
    rows = [[str(s), *(f"{by[(s, d)]['ms_per_step']:.1f} ms, {by[(s, d)]['peak_rss_mb']:.0f} MB"
                       for d in widths)] for s in seqs]
    print_table(header, rows, markdown)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mmx", default=DEFAULT_MMX, help="the built mmx binary")
    ap.add_argument("--torch-script", default=DEFAULT_TORCH, help="the PyTorch reference")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with PyTorch")
    ap.add_argument("--configs", nargs="+", default=["tiny", "small"], choices=["tiny", "small"])
    ap.add_argument("--attns", nargs="+", default=["softmax", "multimax"],
                    choices=["softmax", "multimax"])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=5, help="timed steps per run (at least 5)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="runs per engine and pair")
    ap.add_argument("--sgemm-n", type=int, default=2048, help="side of our in-process sgemm")
    ap.add_argument("--overhead-pairs", type=int, default=20,
                    help="MultiMax/SoftMax: step pairs timed in one process")
    ap.add_argument("--sample-rounds", type=int, default=3)
    ap.add_argument("--scaling-steps", type=int, default=3, help="0: skip the scaling table")
    ap.add_argument("--scaling-seqs", help="comma-separated (default: mmx's 64,128,256,512)")
    ap.add_argument("--scaling-d-models", help="comma-separated (default: mmx's 128,256,384)")
    ap.add_argument("--bf16-steps", type=int, default=200, help="length of the bf16/fp32 runs")
    ap.add_argument("--wait", default="short-spin", choices=sorted(WAITING),
                    help="how both engines' OpenMP threads wait between parallel regions")
    ap.add_argument("--markdown", action="store_true", help="tables as Markdown (README)")
    ap.add_argument("--json", action="store_true", help="print every training run's JSON too")
    a = ap.parse_args()
    if a.steps < 5:
        ap.error("--steps must be at least 5")
    if a.rounds < 1 or a.threads < 1:
        ap.error("--rounds and --threads must be at least 1")
    if not os.access(a.mmx, os.X_OK):
        fail(f"no mmx binary at {a.mmx} (build it, or pass --mmx)")
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        os.environ.pop(name, None)
    os.environ.update(WAITING[a.wait])  # inherited by every process run below
    check_torch(a.python)
    try:
        report(a)
    except RunFailed as e:
        fail(str(e))


def report(a):
    load_before = open("/proc/loadavg").read().split()[:3]
    runs = measure_training(a)
    # MultiMax's cost over SoftMax is a few percent, less than the machine's speed drifts between
    # two processes: `mmx bench overhead` trains both in one process, a step of each in turn.
    overhead = []
    if {"softmax", "multimax"} <= set(a.attns):
        for config in a.configs:
            overhead += run_json([a.mmx, "bench", "overhead", "--json", "--config", config,
                                  "--steps", str(a.overhead_pairs), "--warmup", str(a.warmup),
                                  "--threads", str(a.threads)])
    sample = []
    if "small" in a.configs:
        sample = run_json([a.mmx, "bench", "sample", "--json", "--config", "small", "--attn",
                           "softmax", "--rounds", str(a.sample_rounds),
                           "--threads", str(a.threads)])
    scaling = []
    if a.scaling_steps > 0:
        grid = (["--seqs", a.scaling_seqs] if a.scaling_seqs else []) + \
               (["--d-models", a.scaling_d_models] if a.scaling_d_models else [])
        scaling = run_json([a.mmx, "bench", "scaling", "--json", "--attn", "softmax", *grid,
                            "--steps", str(a.scaling_steps), "--warmup", "1",
                            "--threads", str(a.threads)])
    bf16 = bf16_rows(a)
    load_after = open("/proc/loadavg").read().split()[:3]

    first_ours, first_torch = next(iter(runs.values()))
    print(f"ours ({first_ours[0]['engine']}) vs {first_torch[0]['engine']}, {a.threads} threads; "
          f"training: median ms/step of {a.steps} steps after {a.warmup} warm-up, {a.rounds} "
          f"alternating round(s), ratios = median of the per-round ratios; sgemm n = {a.sgemm_n}; "
          f"OpenMP waiting: {' '.join(f'{k}={v}' for k, v in WAITING[a.wait].items())}; "
          f"load average {' '.join(load_before)} before, {' '.join(load_after)} after\n")
    header = ["measure", "case", "detail", "value", "target", "result"]
    print_table(header, table_rows(a, runs, overhead, sample, bf16), a.markdown)
    if scaling:
        c = scaling[0]
        print(f"\nscaling ({c['attn']}; {c['layers']} layers, {c['heads']} heads, batch "
              f"{c['batch']}, vocab 96; ms/step median of {a.scaling_steps} steps after 1 "
              f"warm-up, peak RSS; a process per cell)\n")
        print_scaling(scaling, a.markdown)


if __name__ == "__main__":
    main()

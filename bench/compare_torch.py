#!/usr/bin/python3
"""Our engine against its targets and the PyTorch reference: every figure in one table.

The parts, each its own set of processes (so a peak RSS is that run's alone), in this order:

- training: `mmx bench train --json` for one (config, attn, precision), then
  bench/torch_reference.py (PyTorch, bf16 under CPU autocast) for the same, alternating, so a
  change of load on the machine hits both alike; every case is measured --rounds times, every
  other round in the reverse order. A ratio row is the median over the rounds of each round's
  ratio. Rows: tokens/s against PyTorch, MFU (against the same run's sgemm), peak RSS, and bf16
  over fp32 (ours and PyTorch's, the same rounds).
- overhead: MultiMax over SoftMax in our engine is a few percent, which the machine's drift
  between two processes would swamp: `mmx bench overhead` trains both in one process, a step of
  each in turn; --overhead-runs consecutive runs per config, and every one must meet the target.
- decoding: `mmx bench sample --config small` at 1 and 2 threads, alternating, one process per
  round: tokens/s against the in-run weight-streaming floor, 2 threads over 1, and the KV cache
  against one full forward over the whole context.
- busy: the same training and decoding benches, idle, then with one core held by a spinning
  process (`--busy-core`), at the default thread count and at 1 thread. No OpenMP variable is
  set for these: "no user setting should be needed".
- bf16-loss: `mmx train` of the small shape in fp32 and in bf16, same seed, --bf16-steps steps:
  the validation losses.
- scaling: `mmx bench scaling` (ms/step and peak memory over seq x d_model), a table of its own.

Both engines run with the same OpenMP waiting (--wait, default a short spin: GOMP_SPINCOUNT=10000,
what `mmx` picks by itself): on a shared machine libgomp's long default spin slows either one
several-fold, and passive waiting costs either ~20% on an idle one. A part that fails gives a
row saying why; the other parts still run.

  /usr/bin/python3 bench/compare_torch.py --mmx build/cli/mmx --threads 2       # full, ~25 min
  /usr/bin/python3 bench/compare_torch.py --quick --threads 1                   # a check
  /usr/bin/python3 bench/compare_torch.py --skip busy bf16-loss scaling          # parts left out
  /usr/bin/python3 bench/compare_torch.py --markdown > table.md   # the README's tables
"""
import argparse, ast, json, os, platform, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MMX = os.path.join(HERE, "..", "build", "cli", "mmx")
DEFAULT_TORCH = os.path.join(HERE, "torch_reference.py")

# The issues' targets, the only figures typed in here. Issue 6: ours against PyTorch, same config
# and normalizer. Issue 20: the rest.
TARGETS = {
    "tokens_per_s_over_pytorch": {("tiny", "softmax"): 2.0, ("small", "softmax"): 1.5,
                                  ("tiny", "multimax"): 2.5, ("small", "multimax"): 2.0},
    "peak_rss_over_pytorch": 0.5,             # every pair
    "mfu": {"tiny": 0.75, "small": 0.88},     # training FLOP/s over the same run's sgemm
    "multimax_over_softmax": 1.03,            # every one of the consecutive overhead runs
    "decode_floor_fraction": 0.60,            # small, 1 thread: of the in-run streaming floor
    "decode_2_threads_over_1": 1.3,           # small
    "kv_cache_over_full_forward": 20.0,       # small, one full forward at context 256
    "bf16_over_fp32": {"small": 1.6},         # training tokens/s, ours
    "bf16_val_loss_gap": 0.01,                # after 300 steps of the small shape
    "busy_over_idle": 0.5,                    # one core held, default thread count
}
DECODE_THREADS = (1, 2)  # the decoding targets are at 1 and at 2 threads
BUSY_FLAG, BUSY_FIELD = "--busy-core", "busy_core"  # mmx bench's option and its JSON rows' flag

# OpenMP waiting between parallel regions, the same for both engines (both use libgomp).
WAITING = {"short-spin": {"GOMP_SPINCOUNT": "10000"},  # what mmx picks when nothing is set
           "passive": {"OMP_WAIT_POLICY": "passive"},
           "active": {"OMP_WAIT_POLICY": "active"}}
OPENMP_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")

PARTS = ("training", "overhead", "decoding", "busy", "bf16-loss", "scaling")
# --quick: a check of every part in a few minutes (each option still wins when given).
QUICK = {"rounds": 1, "overhead_runs": 2, "overhead_pairs": 5, "sample_rounds": 1,
         "sample_tokens": 32, "busy_rounds": 1, "bf16_steps": 20, "scaling_steps": 0}


def fail(message):
    sys.exit(f"compare_torch: {message}")


def log(message):
    print(message, file=sys.stderr, flush=True)


class RunFailed(Exception):
    pass


class Failed:
    """A part that could not be measured: its rows say so instead of a value."""

    def __init__(self, reason):
        self.reason = reason


def run(command, env=None):
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    except OSError as e:
        raise RunFailed(f"{command[0]}: {e.strerror}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RunFailed(f"`{' '.join(command)}` exited with {done.returncode}: {last}")
    return done.stdout


def run_json(command, env=None):
    """Runs one benchmark process; returns the JSON objects it printed, one per line."""
    return [json.loads(line) for line in run(command, env).splitlines() if line.startswith("{")]


def run_one_row(command, env=None):
    rows = run_json(command, env)
    if len(rows) != 1:
        raise RunFailed(f"`{' '.join(command)}` printed {len(rows)} JSON rows, expected 1")
    return rows[0]


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


def median_of(rows, key):
    return statistics.median(r[key] for r in rows)


def verdict(value, target, at_least):
    if target is None or value is None:
        return "-"
    return "pass" if (value >= target if at_least else value <= target) else "MISS"


def at_least(target, unit="x"):
    return f">= {target}{unit}" if target is not None else "-"


def percent(fraction):
    return f"{100 * fraction:.1f}%"


# ---------------------------------------------------------------------------------------------
# The header: what ran, where, under which load.


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def commit_of(mmx):
    """The commit of the checkout the binary sits in, "+dirty" when tracked files differ."""
    repo = os.path.dirname(os.path.realpath(mmx))
    try:
        commit = run(["git", "-C", repo, "rev-parse", "--short", "HEAD"]).strip()
        dirty = run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"]).strip()
    except RunFailed:
        return "commit unknown (the binary is not in a git checkout)"
    return f"commit {commit}{'+dirty' if dirty else ''} (binary built {built_at(mmx)})"


def built_at(mmx):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(os.path.getmtime(mmx)))


def mmx_version(mmx):
    try:
        return run([mmx, "--version"]).strip()
    except RunFailed:
        return "mmx (no --version)"


# ---------------------------------------------------------------------------------------------
# The parts: each returns its measurements; a part that fails is a Failed, never a crash.


def training_cases(a):
    """(config, attn, precision): every fp32 pair, and bf16 SoftMax per --bf16-configs beside
    its fp32 case (added when --attns leaves SoftMax out)."""
    cases = [(c, at, "fp32") for c in a.configs for at in a.attns]
    for c in a.bf16_configs:
        cases += [case for case in ((c, "softmax", "fp32"), (c, "softmax", "bf16"))
                  if case not in cases]
    return cases


def measure_training(a):
    """{(config, attn, precision): ([our rows], [torch rows])}. Every other round runs the same
    sequence backwards (ours softmax, torch softmax, ours multimax, torch multimax; then the
    reverse), so a run's place in the round, and the drift of the machine's speed over it,
    weighs on both sides of every ratio alike."""
    cases = training_cases(a)
    runs = {case: ([], []) for case in cases}
    common = ["--steps", str(a.steps), "--warmup", str(a.warmup), "--threads", str(a.threads)]
    sequence = [(case, engine) for case in cases for engine in ("ours", "torch")]
    for r in range(a.rounds):
        for (config, attn, precision), engine in (sequence if r % 2 == 0 else sequence[::-1]):
            case = ["--config", config, "--attn", attn, "--precision", precision]
            ours, torch = runs[(config, attn, precision)]
            if engine == "ours":
                ours.append(run_one_row([a.mmx, "bench", "train", "--json", *case, *common,
                                         "--sgemm-n", str(a.sgemm_n)]))
            else:
                torch.append(run_one_row([a.python, a.torch_script, *case, *common]))
            row = (ours if engine == "ours" else torch)[-1]
            log(f"round {r + 1}/{a.rounds} {config} {attn} {precision} {engine}: "
                f"{row['tokens_per_s']} tok/s")
            if a.json:
                print(json.dumps(row), flush=True)
    return runs


def measure_overhead(a):
    """{config: [--overhead-runs rows of `mmx bench overhead`]}, the runs of a config in a row."""
    runs = {}
    for config in a.configs:
        runs[config] = []
        for i in range(a.overhead_runs):
            runs[config].append(run_one_row(
                [a.mmx, "bench", "overhead", "--json", "--config", config, "--steps",
                 str(a.overhead_pairs), "--warmup", str(a.warmup), "--threads", str(a.threads)]))
            log(f"overhead {config} {i + 1}/{a.overhead_runs}: "
                f"{runs[config][-1]['multimax_over_softmax']}x")
    return runs


def sample_command(a, threads):
    return [a.mmx, "bench", "sample", "--json", "--config", "small", "--attn", "softmax",
            "--rounds", "1", "--tokens", str(a.sample_tokens),
            *(["--threads", str(threads)] if threads else [])]


def measure_decoding(a):
    """{threads: [a row per round]}: one process per round and thread count, the thread counts
    alternating (1, 2; then 2, 1), so the pairs of a round met the same load."""
    rows = {n: [] for n in DECODE_THREADS}
    for r in range(a.sample_rounds):
        for n in (DECODE_THREADS if r % 2 == 0 else DECODE_THREADS[::-1]):
            rows[n].append(run_one_row(sample_command(a, n)))
            log(f"decoding round {r + 1}/{a.sample_rounds}, {n} thread(s): "
                f"{rows[n][-1]['cached_tokens_per_s']} tok/s")
    return rows


def has_busy_core(a):
    return BUSY_FLAG in run([a.mmx, "bench", "--help"])


def busy_benches(a):
    """(name, command at a thread count (None: the default), the tokens/s field)."""
    return [("bench train tiny",
             lambda n: [a.mmx, "bench", "train", "--json", "--config", "tiny", "--attn",
                        "softmax", "--steps", str(a.steps), "--warmup", str(a.warmup),
                        "--sgemm-n", "0", *(["--threads", str(n)] if n else [])],
             "tokens_per_s"),
            ("bench sample small", lambda n: sample_command(a, n), "cached_tokens_per_s")]


BUSY_SETTINGS = (("idle", None, False), ("busy, default threads", None, True),
                 ("busy, 1 thread", 1, True))


def measure_busy(a):
    """{bench name: {setting: [rows]}}, or None when mmx has no --busy-core. The settings
    alternate within a round; no OpenMP variable is set (mmx's own choice, as a user gets it)."""
    if not has_busy_core(a):
        return None
    env = {k: v for k, v in os.environ.items() if k not in OPENMP_VARIABLES}
    result = {}
    for name, command, field in busy_benches(a):
        result[name] = {setting: [] for setting, _, _ in BUSY_SETTINGS}
        for r in range(a.busy_rounds):
            for setting, threads, busy in (BUSY_SETTINGS if r % 2 == 0 else BUSY_SETTINGS[::-1]):
                row = run_one_row(command(threads) + ([BUSY_FLAG] if busy else []), env)
                if busy and row.get(BUSY_FIELD) is not True:
                    raise RunFailed(f"{name} {BUSY_FLAG}: its row has no {BUSY_FIELD}: true")
                result[name][setting].append(row)
                log(f"busy round {r + 1}/{a.busy_rounds} {name}, {setting}: {row[field]} tok/s")
    return result


def small_shape(a):
    """The small config's shape, read from the PyTorch reference's CONFIGS (the one place the
    Python side writes it) without importing PyTorch."""
    with open(a.torch_script) as f:
        tree = ast.parse(f.read())
    for node in tree.body:  # CONFIGS = {"tiny": dict(...), "small": dict(...)}
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CONFIGS":
            for key, value in zip(node.value.keys, node.value.values):
                if ast.literal_eval(key) == "small":
                    return {kw.arg: ast.literal_eval(kw.value) for kw in value.keywords}
    raise RunFailed(f"{a.torch_script} has no CONFIGS")


def measure_bf16_loss(a):
    """{precision: (val loss, wall seconds)} of `mmx train` on the small shape, same seed."""
    s = small_shape(a)
    shape = ["--task", "lm", "--layers", str(s["layers"]), "--d-model", str(s["d_model"]),
             "--heads", str(s["heads"]), "--seq", str(s["seq"]), "--batch", str(s["batch"]),
             "--steps", str(a.bf16_steps), "--eval-interval", str(a.bf16_steps), "--seed", "0",
             "--threads", str(a.threads)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision in ("fp32", "bf16"):
            out = os.path.join(tmp, precision)
            log(f"mmx train, small shape, {precision}, {a.bf16_steps} steps ...")
            start = time.monotonic()
            run([a.mmx, "train", *shape, "--precision", precision, "--out", out])
            with open(os.path.join(out, "log.jsonl")) as f:
                last = json.loads(f.read().strip().splitlines()[-1])
            results[precision] = (last["val_loss"], time.monotonic() - start)
    return results


def measure_scaling(a):
    grid = (["--seqs", a.scaling_seqs] if a.scaling_seqs else []) + \
           (["--d-models", a.scaling_d_models] if a.scaling_d_models else [])
    return run_json([a.mmx, "bench", "scaling", "--json", "--attn", "softmax", *grid,
                     "--steps", str(a.scaling_steps), "--warmup", "1", "--threads", str(a.threads)])


MEASURES = {"training": measure_training, "overhead": measure_overhead,
            "decoding": measure_decoding, "busy": measure_busy, "bf16-loss": measure_bf16_loss,
            "scaling": measure_scaling}


def measure(a, part):
    try:
        return MEASURES[part](a)
    except (RunFailed, OSError, KeyError, ValueError, IndexError, TypeError) as e:
        log(f"{part}: failed: {e}")
        return Failed(str(e).splitlines()[0] if str(e) else type(e).__name__)


# ---------------------------------------------------------------------------------------------
# The rows: (measure, case, detail, value, target, result), a builder per kind of row.


def fp32_pairs(runs):
    return {(c, at): sides for (c, at, p), sides in runs.items() if p == "fp32"}


def speed_rows(a, m):
    rows = []
    for (config, attn), (ours, torch) in fp32_pairs(m["training"]).items():
        ratio, detail = tokens_ratio(ours, torch)
        target = TARGETS["tokens_per_s_over_pytorch"].get((config, attn))
        rows.append(("training tokens/s, ours / PyTorch", f"{config} {attn}", detail,
                     f"{ratio:.2f}x", at_least(target), verdict(ratio, target, True)))
    return rows


def mfu_rows(a, m):
    rows = []
    for (config, attn), (ours, _) in fp32_pairs(m["training"]).items():
        measured = [o for o in ours if o.get("mfu") is not None]
        if not measured:
            continue
        mfu, target = median_of(measured, "mfu"), TARGETS["mfu"].get(config)
        rows.append(("MFU: useful training FLOP/s / sgemm FLOP/s", f"{config} {attn}",
                     f"{median_of(measured, 'train_gflops'):.0f} / "
                     f"{median_of(measured, 'sgemm_gflops'):.0f} GFLOP/s (sgemm n {a.sgemm_n})",
                     percent(mfu), f">= {100 * target:.0f}%" if target else "-",
                     verdict(mfu, target, True)))
    return rows


def memory_rows(a, m):
    rows, target = [], TARGETS["peak_rss_over_pytorch"]
    for (config, attn), (ours, torch) in fp32_pairs(m["training"]).items():
        o, t = median_of(ours, "peak_rss_mb"), median_of(torch, "peak_rss_mb")
        rows.append(("peak RSS, ours / PyTorch", f"{config} {attn}", f"{o:.0f} vs {t:.0f} MB",
                     f"{o / t:.2f}x", f"<= {target}x", verdict(o / t, target, False)))
    return rows


def torch_multimax_cost(m, config):
    """PyTorch's MultiMax/SoftMax step time (separate processes), or None when not measured."""
    runs = m.get("training")
    if isinstance(runs, Failed) or runs is None:
        return None
    soft, multi = runs.get((config, "softmax", "fp32")), runs.get((config, "multimax", "fp32"))
    if not soft or not multi:
        return None
    return median_ratio([t["ms_per_step"] for t in multi[1]], [t["ms_per_step"] for t in soft[1]])


def overhead_rows(a, m):
    rows, target = [], TARGETS["multimax_over_softmax"]
    for config, runs in m["overhead"].items():
        ratios = [o["multimax_over_softmax"] for o in runs]
        theirs = torch_multimax_cost(m, config)
        worst = max(ratios)
        rows.append(("MultiMax / SoftMax step time, ours", config,
                     f"{len(ratios)} runs of {runs[0]['pairs']} pairs in one process: "
                     f"{' '.join(f'{r:.3f}' for r in ratios)}"
                     + (f"; PyTorch (separate runs): {theirs:.2f}x" if theirs else ""),
                     f"max {worst:.3f}x", f"<= {target}x every run",
                     verdict(worst, target, False)))
    return rows


def decode_detail(rows):
    return (f"{median_of(rows, 'cached_tokens_per_s'):.0f} tok/s, "
            f"{median_of(rows, 'ms_per_token'):.3f} ms/tok, {median_of(rows, 'gflops'):.1f} "
            f"GFLOP/s; floor {median_of(rows, 'floor_tokens_per_s'):.0f} tok/s "
            f"({rows[0]['weight_mb']:.1f} MB/tok)")


def decoding_rows(a, m):
    d = m["decoding"]
    one, two = DECODE_THREADS
    rows = []
    for n in DECODE_THREADS:
        fraction = median_of(d[n], "floor_fraction")
        target = TARGETS["decode_floor_fraction"] if n == one else None
        rows.append(("decoding: tokens/s / in-run weight-streaming floor", f"small, {n} thr",
                     decode_detail(d[n]), percent(fraction),
                     f">= {100 * target:.0f}%" if target else "-",
                     verdict(fraction, target, True)))
    ratio = median_ratio([r["cached_tokens_per_s"] for r in d[two]],
                         [r["cached_tokens_per_s"] for r in d[one]])
    target = TARGETS["decode_2_threads_over_1"]
    rows.append((f"decoding: tokens/s, {two} threads / {one}", "small",
                 f"{median_of(d[two], 'cached_tokens_per_s'):.0f} vs "
                 f"{median_of(d[one], 'cached_tokens_per_s'):.0f} tok/s",
                 f"{ratio:.2f}x", at_least(target), verdict(ratio, target, True)))
    target = TARGETS["kv_cache_over_full_forward"]
    for n in DECODE_THREADS:
        speedup = median_of(d[n], "speedup_full_context")
        rows.append(("decoding: KV cache / one full forward over the context",
                     f"small, {n} thr",
                     f"{median_of(d[n], 'cached_tokens_per_s'):.0f} vs "
                     f"{median_of(d[n], 'full_context_tokens_per_s'):.0f} tok/s; the uncached "
                     f"sampler {median_of(d[n], 'speedup'):.2f}x"
                     f"{'' if all(r['same_tokens'] for r in d[n]) else '; TOKENS DIFFER'}",
                     f"{speedup:.1f}x", at_least(target), verdict(speedup, target, True)))
    return rows


def tokens_ratio(numerator, denominator):
    """(median of the per-round tokens/s ratios, "median vs median") of two runs' rows."""
    ratio = median_ratio([r["tokens_per_s"] for r in numerator],
                         [r["tokens_per_s"] for r in denominator])
    return ratio, (f"{median_of(numerator, 'tokens_per_s'):.0f} vs "
                   f"{median_of(denominator, 'tokens_per_s'):.0f}")


def bf16_rows(a, m):
    rows = []
    for config in a.bf16_configs:
        (ours32, torch32), (ours16, torch16) = (m["training"][(config, "softmax", p)]
                                                for p in ("fp32", "bf16"))
        target = TARGETS["bf16_over_fp32"].get(config)
        for title, numerator, denominator, goal in (
                ("bf16 training tokens/s / fp32, ours", ours16, ours32, target),
                ("bf16 training tokens/s / fp32, PyTorch autocast", torch16, torch32, None),
                ("bf16 training tokens/s, ours / PyTorch autocast", ours16, torch16, None)):
            ratio, detail = tokens_ratio(numerator, denominator)
            rows.append((title, f"{config} softmax", detail, f"{ratio:.2f}x", at_least(goal),
                         verdict(ratio, goal, True)))
    return rows


def bf16_loss_rows(a, m):
    (loss16, s16), (loss32, s32) = m["bf16-loss"]["bf16"], m["bf16-loss"]["fp32"]
    gap, target = abs(loss16 - loss32) / loss32, TARGETS["bf16_val_loss_gap"]
    return [("bf16 training: val loss vs fp32 (mmx train)", "small shape, seed 0",
             f"{loss16:.4f} vs {loss32:.4f} after {a.bf16_steps} steps "
             f"({s16 / 60:.1f} / {s32 / 60:.1f} min)",
             percent(gap), f"within {100 * target:.0f}%", verdict(gap, target, False))]


def busy_rows(a, m):
    """Per bench: idle tokens/s, then busy at the default threads (the target) and at 1 thread,
    each over idle."""
    if m["busy"] is None:
        return []
    rows = []
    for name, _, field in busy_benches(a):
        by = m["busy"][name]
        idle = [r[field] for r in by["idle"]]
        for setting, threads, busy in BUSY_SETTINGS:
            values = [r[field] for r in by[setting]]
            first = by[setting][0]
            detail = (f"{statistics.median(values):.0f} tok/s at {first['threads']} thr"
                      f"{' (adaptive)' if first.get('threads_adaptive') else ''}")
            if not busy:
                rows.append((f"busy core: {name}", setting, detail, "-", "-", "-"))
                continue
            ratio = median_ratio(values, idle)
            goal = TARGETS["busy_over_idle"] if threads is None else None  # the default's
            rows.append((f"busy core: {name}", f"{setting} / idle", detail, f"{ratio:.2f}x",
                         at_least(goal), verdict(ratio, goal, True)))
    return rows


# (the parts it reads, its title for a failure row, the builder), in the table's order.
ROW_BUILDERS = [
    (("training",), "training tokens/s, ours / PyTorch", speed_rows),
    (("training",), "MFU", mfu_rows),
    (("overhead",), "MultiMax / SoftMax step time, ours", overhead_rows),
    (("training",), "peak RSS, ours / PyTorch", memory_rows),
    (("decoding",), "decoding, small", decoding_rows),
    (("training",), "bf16 training tokens/s", bf16_rows),
    (("bf16-loss",), "bf16 training: val loss vs fp32", bf16_loss_rows),
    (("busy",), "busy core", busy_rows),
]


def table_rows(a, m):
    rows = []
    for parts, title, build in ROW_BUILDERS:
        if any(p not in m for p in parts):
            continue  # skipped
        failed = [m[p] for p in parts if isinstance(m[p], Failed)]
        if failed:
            rows.append((title, "-", f"failed: {failed[0].reason}", "failed", "-", "-"))
            continue
        rows += build(a, m)
    return rows


def notes(a, m, built):
    lines = [f"skipped: {', '.join(p for p in PARTS if p not in m)}"] if len(m) < len(PARTS) else []
    if built_at(a.mmx) != built:
        lines.append(f"WARNING: {a.mmx} was rebuilt during the run ({built} -> "
                     f"{built_at(a.mmx)}): the rows mix two binaries")
    if "busy" in m and m["busy"] is None:
        lines.append(f"busy core: rows left out, `mmx bench` has no {BUSY_FLAG} yet")
    return lines


# ---------------------------------------------------------------------------------------------
# Printing.


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


def print_scaling(cells, steps, markdown):
    c = cells[0]
    print(f"\nscaling ({c['attn']}; {c['layers']} layers, {c['heads']} heads, batch "
          f"{c['batch']}, vocab 96; ms/step median of {steps} steps after 1 "
          f"warm-up, peak RSS; a process per cell)\n")
    seqs = sorted({c["seq"] for c in cells})
    widths = sorted({c["d_model"] for c in cells})
    by = {(c["seq"], c["d_model"]): c for c in cells}
    header = ["seq \\ d_model", *(str(d) for d in widths)]
    rows = [[str(s), *(f"{by[(s, d)]['ms_per_step']:.1f} ms, {by[(s, d)]['peak_rss_mb']:.0f} MB"
                       for d in widths)] for s in seqs]
    print_table(header, rows, markdown)


def print_header(a, provenance, load_before, load_after, started):
    print(f"{provenance}; PyTorch reference: {a.torch_script}\n"
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}; {cpu_model()}, "
          f"{os.cpu_count()} cores; threads {a.threads} (decoding: "
          f"{' and '.join(map(str, DECODE_THREADS))}; busy core: default and 1); "
          f"load average {load_before} before, {load_after} after\n"
          f"training: median ms/step of {a.steps} steps after {a.warmup} warm-up, {a.rounds} "
          f"alternating round(s), ratios = median of the per-round ratios; decoding: "
          f"{a.sample_rounds} round(s) of {a.sample_tokens or 'context - 1'} tokens; OpenMP "
          f"waiting: {' '.join(f'{k}={v}' for k, v in WAITING[a.wait].items())}\n")


# ---------------------------------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mmx", default=DEFAULT_MMX, help="the built mmx binary")
    ap.add_argument("--torch-script", default=DEFAULT_TORCH, help="the PyTorch reference")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with PyTorch")
    ap.add_argument("--configs", nargs="+", default=["tiny", "small"], choices=["tiny", "small"])
    ap.add_argument("--attns", nargs="+", default=["softmax", "multimax"],
                    choices=["softmax", "multimax"])
    ap.add_argument("--bf16-configs", nargs="*", default=["small", "tiny"],
                    choices=["tiny", "small"], help="training bf16 against fp32 (SoftMax)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=5, help="timed steps per run (at least 5)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="runs per engine and training case")
    ap.add_argument("--sgemm-n", type=int, default=2048, help="side of our in-process sgemm")
    ap.add_argument("--overhead-runs", type=int, default=5,
                    help="MultiMax/SoftMax: consecutive `mmx bench overhead` runs per config")
    ap.add_argument("--overhead-pairs", type=int, default=20,
                    help="MultiMax/SoftMax: step pairs timed in one process")
    ap.add_argument("--sample-rounds", type=int, default=3,
                    help="decoding: rounds of 1 and 2 threads, alternating")
    ap.add_argument("--sample-tokens", type=int, default=0,
                    help="decoding: tokens per round (0: the whole context)")
    ap.add_argument("--busy-rounds", type=int, default=3,
                    help="busy core: rounds of idle, busy default, busy 1 thread")
    ap.add_argument("--bf16-steps", type=int, default=300,
                    help="bf16 val loss: length of the fp32 and bf16 `mmx train` runs")
    ap.add_argument("--scaling-steps", type=int, default=3, help="0: skip the scaling table")
    ap.add_argument("--scaling-seqs", help="comma-separated (default: mmx's 64,128,256,512)")
    ap.add_argument("--scaling-d-models", help="comma-separated (default: mmx's 128,256,384)")
    ap.add_argument("--skip", nargs="+", default=[], choices=PARTS, help="parts left out")
    ap.add_argument("--quick", action="store_true",
                    help="a check in a few minutes: " +
                    ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items()))
    ap.add_argument("--wait", default="short-spin", choices=sorted(WAITING),
                    help="how both engines' OpenMP threads wait between parallel regions")
    ap.add_argument("--markdown", action="store_true", help="tables as Markdown (README)")
    ap.add_argument("--json", action="store_true", help="print every training run's JSON too")
    a = ap.parse_args()
    if a.quick:  # QUICK's values become the defaults; options given still win
        ap.set_defaults(**QUICK)
        a = ap.parse_args()
    if a.steps < 5:
        ap.error("--steps must be at least 5")
    for name in ("rounds", "threads", "overhead_runs", "overhead_pairs", "sample_rounds",
                 "busy_rounds", "bf16_steps"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(a, name)}")
    if a.sample_tokens < 0 or a.scaling_steps < 0:
        ap.error("--sample-tokens and --scaling-steps must be at least 0")
    if not os.access(a.mmx, os.X_OK):
        ap.error(f"--mmx: no executable at {a.mmx} (build it, or pass the binary's path)")
    if not os.path.isfile(a.torch_script):
        ap.error(f"--torch-script: no file at {a.torch_script}")
    return a


def parts_to_run(a):
    skipped = set(a.skip) | ({"scaling"} if a.scaling_steps == 0 else set())
    return [p for p in PARTS if p not in skipped]


def main():
    a = parse_args()
    for name in OPENMP_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(WAITING[a.wait])  # inherited by every process run below but the busy ones
    if "training" in parts_to_run(a):
        check_torch(a.python)
    # What ran, read before the run: the checkout may move on meanwhile.
    provenance, built = f"{mmx_version(a.mmx)}, {commit_of(a.mmx)}", built_at(a.mmx)
    started, load_before = time.time(), load_average()
    m, minutes = {}, {}
    for part in parts_to_run(a):
        start = time.monotonic()
        m[part] = measure(a, part)
        minutes[part] = (time.monotonic() - start) / 60
    load_after = load_average()

    print_header(a, provenance, load_before, load_after, started)
    header = ["measure", "case", "detail", "value", "target", "result"]
    print_table(header, table_rows(a, m), a.markdown)
    for line in notes(a, m, built):
        print(f"\n{line}" if a.markdown else line)
    scaling = m.get("scaling")
    if isinstance(scaling, Failed):
        print(f"\nscaling: failed: {scaling.reason}")
    elif scaling:
        print_scaling(scaling, a.scaling_steps, a.markdown)
    print(f"\nthis run took {(time.time() - started) / 60:.1f} min ("
          + ", ".join(f"{part} {t:.1f}" for part, t in minutes.items()) + ")")


if __name__ == "__main__":
    main()

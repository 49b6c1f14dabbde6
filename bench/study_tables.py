#!/usr/bin/python3
"""The tables of docs/study.md, read from the runs that bench/study.sh wrote.

    MMX=build/cli/mmx bench/study_tables.py runs/study

Every figure comes from a compare.json or from `mmx modulators --json` on a run's checkpoint;
nothing here is typed in. Prints markdown to stdout.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

MMX = os.environ.get("MMX", "build/cli/mmx")
# (folder under OUT, what it is) in the order of the study
COMPARES = [
    ("vit", "ViT on Fashion-MNIST, default budget"),
    ("vit-scale10", "ViT, (t, r) at 10x the learning rate"),
    ("lm", "char-GPT on the fortunes, default budget"),
    ("lm-scale10", "char-GPT, (t, r) at 10x the learning rate"),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def modulators(run_dir, trajectory):
    # The figure goes to a scratch folder: only the JSON is read here.
    with tempfile.TemporaryDirectory() as scratch:
        args = [MMX, "modulators", "--ckpt", run_dir, "--json",
                "--out", os.path.join(scratch, "modulators.png")]
        if trajectory:
            args.append("--trajectory")
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def signed(x, digits=4):
    return f"{x:+.{digits}f}"


def layers(values, digits=2):
    return " ".join(f"{v:.{digits}f}" for v in values)


def final_table(cmp, seconds):
    metric = cmp["summary"][0].get("metric", {}).get("name")
    head = "| arm | val loss (mean ± sd) |" + (f" {metric} |" if metric else "") + " ms/step |"
    rows = [head, "|---" * (head.count("|") - 1) + "|"]
    for k in cmp["summary"]:
        v = k["val_loss"]
        row = f"| {k['attention']} | {v['mean']:.4f} ± {v['std']:.4f} |"
        if metric:
            m = k["metric"]["value"]
            row += f" {m['mean']:.2f} ± {m['std']:.2f} |"
        row += f" {k['ms_per_step']['mean']:.1f} |"
        rows.append(row)
    runs = len(cmp["runs"])
    if seconds is not None:
        rows.append("")
        rows.append(f"Wall time: {seconds / 60:.1f} min for {runs} runs "
                    f"({seconds / runs:.0f} s a run, evaluations included).")
    return "\n".join(rows)


def paired_table(cmp):
    paired = cmp.get("paired")
    if not paired:
        return "(no paired differences)"
    rows = ["| arm - softmax | figure | mean | 95% interval | p (sign-flip) | verdict |",
            "|---|---|---|---|---|---|"]
    for arm in paired["arms"]:
        for figure in ("val_loss", "metric"):
            if figure not in arm:
                continue
            d = arm[figure]
            name = "val loss" if figure == "val_loss" else paired.get("metric", "metric")
            digits = 4 if figure == "val_loss" else 2
            low, high = d["interval"] if d["interval"] else (float("nan"), float("nan"))
            rows.append(f"| {arm['attention']} | {name} | {signed(d['mean'], digits)} | "
                        f"[{signed(low, digits)}, {signed(high, digits)}] | {d['p_value']:.4f} | "
                        f"{d['verdict']} |")
    return "\n".join(rows)


def per_layer_table(cmp):
    rows = ["| arm | S per layer | M per layer | cos per block |", "|---|---|---|---|"]
    for k in cmp["summary"]:
        rows.append(f"| {k['attention']} | {layers(k['attention_sparsity'])} | "
                    f"{layers(k['attention_multimodality'])} | {layers(k['token_similarity'])} |")
    return "\n".join(rows)


def movement_table(cmp):
    """How far each layer's (t, r) went from step 0, over the seeds of every MultiMax arm."""
    rows = ["| arm | largest change of any t or r, per layer: median [min, max] over seeds | "
            "r after training, all layers and seeds: [min, max] |", "|---|---|---|"]
    arms = [k["attention"] for k in cmp["summary"] if k["attention"].startswith("multimax")]
    for arm in arms:
        per_layer, r_values = {}, []
        for run in (r for r in cmp["runs"] if r["attention"] == arm):
            report = modulators(run["dir"], trajectory=True)
            for site in report["sites"]:
                if not site["site"].startswith("blocks."):
                    continue  # the output logits' MultiMax: its own row would be one number
                per_layer.setdefault(site["site"], []).append(site["largest_change"])
                r_values += site["r_last"]
        cells = [f"{statistics.median(v):.2f} [{min(v):.2f}, {max(v):.2f}]"
                 for v in per_layer.values()]
        rows.append(f"| {arm} | {'; '.join(cells)} | [{min(r_values):+.2f}, "
                    f"{max(r_values):+.2f}] |")
    return "\n".join(rows)


def pieces_table(run_dir):
    """Seed 0's learned modulator per layer: the lowest and highest piece, their share of the
    real scores and how far sigma moves them from the identity (SoftMax)."""
    report = modulators(run_dir, trajectory=False)
    rows = ["| layer | r (sorted) | below r_min: share, sigma(x)-x | above r_max: share, "
            "sigma(x)-x | share between |", "|---|---|---|---|---|"]
    for site in report["sites"]:
        low, high = site["pieces"][0], site["pieces"][-1]
        between = 1.0 - low["fraction"] - high["fraction"]
        r = " ".join(f"{v:+.2f}" for v in sorted(site["r"]))
        rows.append(f"| {site['layer']} | {r} | {low['fraction']:.3f}, "
                    f"{signed(low['mean_shift'], 2)} | {high['fraction']:.3f}, "
                    f"{signed(high['mean_shift'], 2)} | {between:.3f} |")
    return "\n".join(rows)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "runs/study"
    softmax_by_task = {}
    for name, title in COMPARES:
        path = os.path.join(out, name, "compare.json")
        if not os.path.exists(path):
            print(f"### {title}\n\n(not run: {path} is missing)\n")
            continue
        cmp = load(path)
        seconds_path = os.path.join(out, name + ".seconds")
        seconds = int(open(seconds_path).read()) if os.path.exists(seconds_path) else None
        print(f"### {title} (`{name}`)\n")
        print(final_table(cmp, seconds) + "\n")
        print(paired_table(cmp) + "\n")
        print(per_layer_table(cmp) + "\n")
        print(movement_table(cmp) + "\n")
        print("Seed 0's MultiMax on its validation batch:\n")
        print(pieces_table(os.path.join(out, name, "multimax-seed0")) + "\n")
        # The SoftMax runs of a task's two compares share seeds and options: they must agree.
        losses = [r["final"]["val_loss"] for r in cmp["runs"] if r["attention"] == "softmax"]
        task = cmp["task"]
        if task in softmax_by_task:
            same = softmax_by_task[task] == losses
            print(f"SoftMax runs identical to the `{task}` compare's: {'yes' if same else 'NO'}"
                  f" (final val losses {', '.join(f'{v:.4f}' for v in losses)})\n")
        else:
            softmax_by_task[task] = losses


if __name__ == "__main__":
    main()

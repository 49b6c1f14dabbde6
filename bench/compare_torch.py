#!/usr/bin/python3
"""Our engine against the PyTorch reference, same configs, same threads, one table.

Each measurement is its own process (so peak RSS is that run's alone): `mmx bench train --json`
for one (config, attn) pair, then /work/shared/anchors/torch_reference.py for the same pair,
alternating, so a change of load on the machine hits both alike. With --rounds > 1 every pair
is measured that many times and the table shows the median tokens/s (and the largest peak RSS).

  /usr/bin/python3 bench/compare_torch.py --mmx build/cli/mmx --threads 2 --steps 5
"""
import argparse, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MMX = os.path.join(HERE, "..", "build", "cli", "mmx")
DEFAULT_TORCH = "/work/shared/anchors/torch_reference.py"


def run_json(command):
    """Runs one benchmark process and returns its single JSON line."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_torch: {' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mmx", default=DEFAULT_MMX, help="the built mmx binary")
    ap.add_argument("--torch-script", default=DEFAULT_TORCH)
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with PyTorch")
    ap.add_argument("--configs", nargs="+", default=["tiny", "small"])
    ap.add_argument("--attns", nargs="+", default=["softmax", "multimax"])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=5, help="timed steps per run (at least 5)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="runs per engine and pair")
    ap.add_argument("--json", action="store_true", help="print every run's JSON line too")
    a = ap.parse_args()
    if a.steps < 5:
        ap.error("--steps must be at least 5")
    common = ["--steps", str(a.steps), "--warmup", str(a.warmup), "--threads", str(a.threads)]

    rows = []
    for config in a.configs:
        for attn in a.attns:
            pair = ["--config", config, "--attn", attn]
            ours, torch = [], []
            for _ in range(a.rounds):
                ours.append(run_json([a.mmx, "bench", "train", "--json", *pair, *common]))
                torch.append(run_json([a.python, a.torch_script, *pair, *common]))
                if a.json:
                    print(json.dumps(ours[-1]), json.dumps(torch[-1]), sep="\n", flush=True)
            rows.append((config, attn, ours, torch))

    uptime = open("/proc/loadavg").read().split()[:3]
    print(f"\nours ({rows[0][2][0]['engine']}) vs {rows[0][3][0]['engine']}, {a.threads} threads, "
          f"median ms/step of {a.steps} steps after {a.warmup} warm-up, {a.rounds} round(s), "
          f"load average now {' '.join(uptime)}")
    print(f"{'config':<7}{'attn':<10}{'ours tok/s':>11}{'torch tok/s':>12}{'ratio':>7}"
          f"{'ours MB':>9}{'torch MB':>9}")
    for config, attn, ours, torch in rows:
        o = statistics.median(r["tokens_per_s"] for r in ours)
        t = statistics.median(r["tokens_per_s"] for r in torch)
        print(f"{config:<7}{attn:<10}{o:>11.1f}{t:>12.1f}{o / t:>7.2f}"
              f"{max(r['peak_rss_mb'] for r in ours):>9.1f}"
              f"{max(r['peak_rss_mb'] for r in torch):>9.1f}")
    print("ratio = ours / torch tokens per second (above 1: ours is faster)")


if __name__ == "__main__":
    main()

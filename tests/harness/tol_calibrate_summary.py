#!/usr/bin/python3
"""Condenses tol_calibrate's output (docs/tolerance.md): per class (optimizer
x precision) and candidate statistic, the largest MULT any judged run needs
(over the floors) and its 99th and 90th percentiles, how many judged runs
need more than 4, 8 and 16, the worst per-step needs, the worst
error/tolerance ratio under dtbench's constants and the old model's
failures; then the
median sensitivity k per statistic (at the precision's MULT; each halving
of MULT adds one). Standard library only.

usage: tol_calibrate_summary.py FILE...
"""
import sys
from collections import defaultdict


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0.0


def main(paths):
    head = None
    rows = defaultdict(list)
    ks = defaultdict(list)
    khead = None
    for path in paths:
        for line in open(path):
            f = line.rstrip("\n").split("\t")
            if f[0] == "#R":
                head = f
            elif f[0] == "#K":
                khead = f
            elif f[0] == "R":
                rows[f[2]].append(f)
                rows["all"].append(f)
            elif f[0] == "K":
                ks[f[2]].append(f)
                ks["all"].append(f)
    stats = head[5:-5]
    for cls in sorted(rows):
        runs = rows[cls]
        print(f"== {cls}: {len(runs)} judged runs")
        print(f"   {'statistic':>8} {'max':>9} {'p99':>8} {'p90':>8} {'>4':>5} {'>8':>5} {'>16':>5}")
        for s, name in enumerate(stats):
            v = [float(r[5 + s]) for r in runs]
            print(f"   {name:>8} {max(v):9.3g} {pct(v, .99):8.3g} {pct(v, .9):8.3g} "
                  f"{sum(x > 4 for x in v):5d} {sum(x > 8 for x in v):5d} "
                  f"{sum(x > 16 for x in v):5d}")
        off = 5 + len(stats)
        loss = [float(r[off]) for r in runs]
        norm = [float(r[off + 1]) for r in runs]
        old = [float(r[off + 2]) for r in runs]
        ratio = [float(r[off + 3]) for r in runs]
        print(f"   per step: loss needs <= {max(loss):.3g}, grad norm <= {max(norm):.3g}")
        print(f"   dtbench's bound: {sum(x > 1 for x in ratio)} of {len(ratio)} judged runs fail, "
              f"worst ratio {max(ratio):.3g}, 99th percentile {pct(ratio, .99):.3g}")
        print(f"   old model: {sum(x > 1 for x in old)} of {len(old)} judged runs fail, "
              f"worst ratio {max(old):.3g}")
        worst = max(runs, key=lambda r: float(r[5]))
        print(f"   worst per element: {worst[1]} {worst[4]} {worst[-1]}")
    print("== sensitivity: median k per trajectory (at the precision's MULT), then the median over trajectories")
    kstats = khead[3:]
    for cls in sorted(ks):
        meds = []
        for s in range(len(kstats)):
            meds.append(pct([int(r[3 + s]) for r in ks[cls]], 0.5))
        print(f"   {cls:>10}: " + " ".join(f"{n}={m}" for n, m in zip(kstats, meds)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1:])

"""Plot µs per operation by benchmark and competitor (run in .venv-bench).

    python plot.py results.json plot.png

One panel per series (server and pinning); bars are the best round, the
thin line reaches the median; log scale, lower is better.
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BENCH_NAMES, COMPETITOR_KEYS, COMPETITOR_LABELS, LABELS  # noqa: E402

SHORT = {"run_command": "run command", "find_one": "find one", "small_insert": "small insert",
         "large_insert": "large insert", "find_many": "find many", "small_bulk": "small bulk",
         "large_bulk": "large bulk", "gridfs_upload": "GridFS upload",
         "gridfs_download": "GridFS download"}
COLOURS = {"motor": "#1b9e77", "motor3": "#d95f02", "pymongo_async": "#7570b3",
           "pymongo_sync": "#7f7f7f"}


def main(results_path, out_path):
    with open(results_path) as f:
        results = json.load(f)
    series = results["series"]
    fig, axes = plt.subplots(len(series), 1, figsize=(14, 5.2 * len(series)), squeeze=False)
    for ax, name in zip(axes[:, 0], series):
        recs = [r for r in results["records"] if r["series"] == name and r["bench"] in LABELS]
        groups = sorted({(r["conc"], r["bench"]) for r in recs},
                        key=lambda k: (k[0], BENCH_NAMES.index(k[1])))
        comps = [c for c in COMPETITOR_KEYS if any(r["competitor"] == c for r in recs)]
        width = 0.8 / max(1, len(comps))
        by = {(r["conc"], r["bench"], r["competitor"]): r for r in recs}
        for j, comp in enumerate(comps):
            xs, best, med = [], [], []
            for i, (conc, bench) in enumerate(groups):
                r = by.get((conc, bench, comp))
                if r:
                    xs.append(i + (j - (len(comps) - 1) / 2) * width)
                    best.append(r["us_best"])
                    med.append(r["us_median"])
            ax.bar(xs, best, width, label=COMPETITOR_LABELS[comp], color=COLOURS.get(comp))
            ax.vlines(xs, best, med, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(["%s c=%d" % (SHORT.get(b, b), c) for c, b in groups],
                           fontsize=8, rotation=35, ha="right")
        ax.set_ylabel("µs per operation (log)")
        ax.set_title("%s: best round (bar), median (line); lower is better" % name)
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, ncol=4)
    fig.suptitle("Motor benchmarks, %s" % results["meta"]["date"])
    fig.tight_layout()
    fig.savefig(out_path, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

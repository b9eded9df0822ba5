"""The tables of docs/controls.md from the controls job's output.

    python -m vbpipe.jobs.controls OUT results/controls_*/*/model-*/checkpoint/model.pt
    python docs/scripts/controls_tables.py OUT/controls.csv

(the summary recomputed from the rows, with vbpipe.jobs.controls.summarise).
"""

import sys

import pandas as pd

from vbpipe.jobs.controls import summarise

ORDER = ("tanh random", "linear random", "tanh circuit_naive", "tanh circuit_gated")


def mean(cell, key, digits=3):
    value = cell.get(key)
    if not value or value["mean"] is None:
        return "—"
    low, high = value["t95"]
    return f"{value['mean']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def main(path):
    rows = pd.read_csv(path).to_dict("records")
    cells = summarise(rows)
    cells.sort(key=lambda c: (c["task"], ORDER.index(c["condition"])))
    print("| task | condition | n | solved (> 0.9) [Wilson 95%] | accuracy start | accuracy end "
          "[t 95%] | W_hh change | spectral error end (rad) |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cells:
        low, high = c["solve_rate_wilson95"]
        print(f"| {c['task']} | {c['condition']} | {c['n']} | {c['solved']}/{c['n']} "
              f"[{low:.2f}, {high:.2f}] | {mean(c, 'accuracy_start')} | {mean(c, 'accuracy_end')} "
              f"| {mean(c, 'change_W_hh', 2)} | {mean(c, 'spectral_error_end', 4)} |")
    print()
    print("| task | condition | saturation fraction end | Φ error start → fit | Φ error end "
          "| Φ error end, diagonal fit | contamination written (solved) | carried (solved) "
          "| mixing (solved) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in cells:
        n = (c.get("contamination_written_end") or {}).get("n", 0)
        start = f"{mean(c, 'phi_error_start', 2)} → {mean(c, 'phi_error_diagonal_fit_start', 2)}"
        print(f"| {c['task']} | {c['condition']} | {mean(c, 'saturation_fraction_end')} | {start} "
              f"| {mean(c, 'phi_error_end', 2)} | {mean(c, 'phi_error_diagonal_fit_end', 2)} "
              f"| {mean(c, 'contamination_written_end', 2)} | "
              f"{mean(c, 'contamination_carried_end', 2)} | {mean(c, 'contamination_mixing_end', 2)}"
              f" (n = {n}) |")


if __name__ == "__main__":
    main(sys.argv[1])

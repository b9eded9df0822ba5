"""The tables of docs/input_phase.md section 4 from the workflow's own outputs, every trained model
counted (none chosen): means with Student-t 95 % intervals over the seeds, rates with Wilson 95 %
intervals (medians with distribution-free intervals for the heavy-tailed contamination). Circuits are single deterministic constructions (one frame), so they get one value.

    snakemake --cores 2 --configfile config/input_phase_cpu.yaml     # trains, evaluates, analyses
    python docs/scripts/input_phase_tables.py results/input_phase_trained

It reads ``evaluation_table.csv`` (accuracy and spectra at the training length) and
``analysis/input_phase/input_phase.json`` (the input-phase job) of the experiment.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from vbpipe.constants import SOLVED_ACCURACY
from vbpipe.intervals import mean_interval, wilson_interval


def mean_text(values, digits=3):
    mean, half, n = mean_interval(values)
    if n == 0:
        return "—"
    if math.isnan(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{mean - half:.{digits}f}, {mean + half:.{digits}f}]"


def median_text(values, digits=2):
    """The median with its distribution-free interval [x(k), x(n+1-k)] (order statistics; k the
    largest with P(Binomial(n, 1/2) < k) <= 0.025): for heavy-tailed quantities, where a t interval of
    the mean is dominated by one seed."""
    from scipy.stats import binom

    x = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    n = x.size
    if n == 0:
        return "—"
    k = max([j for j in range(1, n // 2 + 1) if binom.cdf(j - 1, n, 0.5) <= 0.025], default=0)
    if k == 0:
        return f"{np.median(x):.{digits}f}"
    return f"{np.median(x):.{digits}f} [{x[k - 1]:.{digits}f}, {x[n - k]:.{digits}f}]"


def rate_text(hits, n):
    low, high = wilson_interval(hits, n)
    return f"{int(hits)}/{n} [{float(low):.2f}, {float(high):.2f}]"


def one(values, digits=3):
    (value,) = values
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def main(experiment_dir):
    root = Path(experiment_dir)
    table = pd.read_csv(root / "evaluation_table.csv")
    rows = json.loads((root / "analysis" / "input_phase" / "input_phase.json").read_text())[
        "models"
    ]
    frame = pd.DataFrame(rows)
    for key in ("none", "input_phase", "output_phase", "all"):
        frame[f"lin_{key}"] = [r["linearisation"][key] for r in rows]
    tasks = list(dict.fromkeys(frame["task"]))
    accuracy = {f"{v}/{m}": a for v, m, a in zip(table["variant"], table["model_name"], table["accuracy"])}
    frame["solved"] = [accuracy.get(name, 1.0) > SOLVED_ACCURACY for name in frame["model"]]

    print("Accuracy and spectra (evaluation table, test horizon 200):\n")
    print(
        "| task | n | solved (> 0.9) | test accuracy, median | spectral error (rad), solved models "
        "| #\\|λ\\|>0.9 (theory) | ρ(W_hh) |"
    )
    print("|---|---|---|---|---|---|---|")
    for task in tasks:
        cell = table[table["task"] == task]
        solved = cell["accuracy"] > SOLVED_ACCURACY
        counts = sorted(cell["n_unit_circle_rnn"].astype(int).unique())
        theory = sorted(cell["n_unit_circle_theory"].astype(int).unique())
        print(
            f"| {task} | {len(cell)} | {rate_text(solved.sum(), len(cell))} "
            f"| {median_text(cell['accuracy'], 4)} | {mean_text(cell['spectral_error'][solved], 4)} "
            f"| {', '.join(map(str, counts))} ({', '.join(map(str, theory))}) "
            f"| {mean_text(cell['spectral_radius_whh'], 3)} |"
        )

    def show(title, columns, digits, solved_only=False, statistic=mean_text):
        print(f"\n{title}\n")
        print("| task | model | n | " + " | ".join(label for label, _ in columns) + " |")
        print("|---|---|---|" + "---|" * len(columns))
        for task in tasks:
            for kind in ("trained", "naive", "gated", "leaky"):
                cell = frame[(frame["task"] == task) & (frame["kind"] == kind)]
                if solved_only:
                    cell = cell[cell["solved"]]
                if cell.empty:
                    continue
                text = statistic if kind == "trained" else one
                cells = [text(cell[key].astype(float).to_numpy(), digits) for _, key in columns]
                name = "trained" if kind == "trained" else f"{kind} circuit"
                print(f"| {task} | {name} | {len(cell)} | " + " | ".join(cells) + " |")

    show(
        "Accuracy at horizon 200 with tanh replaced by the identity (256 random sequences), medians:",
        [
            ("as is", "lin_none"),
            ("linear input phase", "lin_input_phase"),
            ("linear output phase", "lin_output_phase"),
            ("linear throughout", "lin_all"),
        ],
        3,
        statistic=median_text,
    )
    show(
        "Output phase: per-step growth of perturbations (20 step Jacobians from time 2L, 16 sequences):",
        [("neutral directions (> 0.95)", "n_neutral"), ("top growth", "top_growth")],
        2,
    )
    show(
        "The input phase in the EMT basis (t = L−1 is the end of the input phase), solved models only "
        "(a collapsed model's slot gains are near 0, which makes its contamination meaningless); "
        "medians with distribution-free 95 % intervals (contamination is heavy-tailed across seeds):",
        [
            ("contamination t=L−1", "contamination_end_of_input"),
            ("written", "contamination_written_end_of_input"),
            ("carried", "contamination_carried_end_of_input"),
            ("mixing", "mixing_end_of_input"),
            ("contamination output", "contamination_output_phase"),
            ("composition in", "composition_input_phase"),
            ("composition out", "composition_output_phase"),
        ],
        2,
        solved_only=True,
        statistic=median_text,
    )
    show(
        "Gains, saturation and Φ:",
        [
            ("mean gain in", "mean_gain_input_phase"),
            ("mean gain out", "mean_gain_output_phase"),
            ("saturated fraction in", "saturated_fraction_input_phase"),
            ("saturated fraction out", "saturated_fraction_output_phase"),
            ("Φ error", "phi_error"),
            ("Φ error, diagonal fit", "phi_error_diagonal_fit"),
            ("W_ih outside span(Ψ)", "input_outside_basis_share"),
        ],
        3,
    )


if __name__ == "__main__":
    main(sys.argv[1])

"""The controls job: for each trained model, where training took it from its start (the science:
:mod:`vbpipe.analysis.controls`; the findings: ``docs/controls.md``).

Per model, start (rebuilt exactly from its configuration and seed: PyTorch's initialisation or
the circuit, :func:`vbpipe.training.initial.initial_weights`) against end (its ``model.pt``):

- accuracy on the model's own seeded test set (:func:`vbpipe.evaluation.accuracy.evaluate_accuracy`);
- the spectral error of ``W_hh`` against Φ (unit-circle parts, optimal matching) and the count of
  unit-circle eigenvalues;
- ``‖W − W₀‖_F / ‖W₀‖_F`` for ``W_hh``, ``W_ih`` and ``W_r``;
- the relative Φ error of the readout-grounded EMT basis, raw and after the diagonal fit;
- for tanh models: the saturation fraction over the first ``2L`` output steps of 64 test
  sequences; at the end only, the input-phase contamination at the end of the input phase split
  into written, carried and mixing parts (:func:`vbpipe.analysis.controls.contamination_by_source`),
  summarised over the solved models only (its slot gains are calibrated on the output phase).

Rows go to a CSV, the per-condition summary (means with t intervals, solve rates with Wilson
intervals) to a JSON, and one figure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..checkpoint import load_model
from ..config import TrainConfig
from ..constants import SOLVED_ACCURACY
from ..evaluation.accuracy import draw_test_set, evaluate_accuracy
from ..evaluation.emt import empirical_phi, kept_memory_indices, variable_memory_basis
from ..evaluation.input_phase import analyse_input_phase, run_rnn
from ..evaluation.spectra import eigenvalues, spectral_comparison
from ..fileio import save_figure, write_json, write_text
from ..taskspec import task_label
from .controls import (
    basis_invariant_phi_error,
    contamination_by_source,
    relative_change,
    saturation_fraction,
    t_interval,
    wilson_interval,
)

UNIT_THRESHOLD = 0.9


def condition(config: TrainConfig) -> str:
    """The control a model belongs to: ``tanh random``, ``linear random``, ``tanh circuit_naive``..."""
    return f"{config.activation} {config.init}"


def _config(hparams: dict) -> TrainConfig:
    return TrainConfig.from_dict({k: v for k, v in hparams.items() if k != "seed"})


def _state(weights, config: TrainConfig, seed: int, horizon: int, n_batches: int, end: bool):
    """The numbers of one set of weights (start or end; the input phase only at the end)."""
    task, length = config.task, int(config.seq_length)
    weights = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    out = {}
    result = evaluate_accuracy(
        task, weights, seed, length, horizon, n_batches, 64, activation=config.activation
    )
    out["accuracy"] = result.accuracy
    phi = task.phi(length)
    eig = eigenvalues(weights["W_hh"])
    spectral = spectral_comparison(eig, eigenvalues(phi), UNIT_THRESHOLD)
    out["spectral_error"] = spectral.error_rad
    out["n_unit_circle"] = spectral.n_a
    out["n_unit_circle_theory"] = spectral.n_b
    kept = kept_memory_indices(phi)
    try:
        basis = variable_memory_basis(weights["W_hh"], weights["W_r"], phi, length, kept=kept)
        raw, fitted = basis_invariant_phi_error(empirical_phi(basis, weights["W_hh"]), phi, kept)
    except (np.linalg.LinAlgError, ValueError):
        raw = fitted = None
    out["phi_error"], out["phi_error_diagonal_fit"] = raw, fitted
    if config.activation == "tanh" and end:
        inputs = draw_test_set(seed, length, config.input_dim, 1, 64)
        x = np.zeros((3 * length, 64, task.model_input_dim))
        x[:length, :, : config.input_dim] = inputs
        hidden, _, _ = run_rnn(weights, x)
        out["saturation_fraction"] = saturation_fraction(hidden[length:])
        analysis = analyse_input_phase(weights, config.task_id, config.input_dim, length)
        written, carried, mixing = contamination_by_source(
            analysis.routing.routing, analysis.routing.ideal, config.input_dim, length
        )
        last = length - 1  # the end of the input phase
        out["contamination_written"] = float(written[last])
        out["contamination_carried"] = float(carried[last])
        out["contamination_mixing"] = float(mixing[last])
    return out


def control_row(checkpoint: str | os.PathLike, horizon: int = 200, n_batches: int = 4) -> dict:
    """One model's row: identity, condition, start and end numbers, weight changes."""
    from ..training.initial import initial_weights

    model = load_model(checkpoint)
    config, seed = _config(model.hparams), int(model.hparams["seed"])
    start = {k: v.numpy() for k, v in initial_weights(config, seed).items()}
    end = {k: np.asarray(v) for k, v in model.weights.items()}
    row = {
        "checkpoint": str(checkpoint),
        "task": task_label(config.task_id, config.input_dim),
        "condition": condition(config),
        "seed": seed,
        "hidden_dim": config.hidden_dim,
        "train_steps": (model.outcome or {}).get("steps"),
    }
    for name in ("W_hh", "W_ih", "W_r"):
        row[f"change_{name}"] = relative_change(start[name], end[name])
    finite = all(np.all(np.isfinite(w)) for w in end.values())
    for when, weights in (("start", start), ("end", end)):
        if when == "end" and not finite:
            continue
        numbers = _state(weights, config, seed, horizon, n_batches, when == "end")
        for key, value in numbers.items():
            row[f"{key}_{when}"] = value
    row["solved_end"] = bool(row.get("accuracy_end", 0.0) > SOLVED_ACCURACY)
    return row


SUMMARY_MEANS = (
    "accuracy_start",
    "accuracy_end",
    "change_W_hh",
    "change_W_ih",
    "change_W_r",
    "spectral_error_start",
    "spectral_error_end",
    "n_unit_circle_start",
    "n_unit_circle_end",
    "phi_error_start",
    "phi_error_diagonal_fit_start",
    "phi_error_end",
    "phi_error_diagonal_fit_end",
    "saturation_fraction_end",
)
#: Means over the solved models only: the contamination's slot gains are calibrated on the output
#: phase, and are near zero (the ratios meaningless) for a model that does not hold the task.
SOLVED_MEANS = (
    "contamination_written_end",
    "contamination_carried_end",
    "contamination_mixing_end",
)


def summarise(rows: Sequence[dict]) -> list[dict]:
    """Per (task, condition): n, solve rate with its Wilson interval, means with t intervals."""
    import pandas as pd

    table = pd.DataFrame(list(rows))
    out = []
    for (task, kind), group in table.groupby(["task", "condition"], sort=True):
        n, solved = len(group), int(group["solved_end"].sum())
        entry = {"task": task, "condition": kind, "n": n, "solved": solved,
                 "solve_rate": solved / n, "solve_rate_wilson95": list(wilson_interval(solved, n))}  # fmt: skip
        for column in SUMMARY_MEANS + SOLVED_MEANS:
            if column in group:
                values = group[column] if column in SUMMARY_MEANS else (
                    group.loc[group["solved_end"].astype(bool), column])  # fmt: skip
                if not values.notna().any():  # e.g. no saturation for a linear RNN
                    continue
                mean, low, high = t_interval(values.astype(float))
                entry[column] = {"mean": mean, "t95": [low, high], "n": int(values.notna().sum())}
        out.append(entry)
    return out


CONDITIONS = ("tanh random", "linear random", "tanh circuit_naive", "tanh circuit_gated")


def controls_figure(rows: Sequence[dict]):
    """Accuracy at the end (every model a dot, the mean with its 95 % t interval a bar), the change
    of ``W_hh`` and the spectral error at the end (geometric mean, t interval of the logs), per
    task and condition."""
    from matplotlib.figure import Figure

    tasks = sorted({r["task"] for r in rows})
    kinds = [c for c in CONDITIONS if any(r["condition"] == c for r in rows)]
    figure = Figure(figsize=(13, 4), layout="constrained")
    axes = figure.subplots(1, 3)
    width = 0.8 / max(1, len(kinds))
    panels = (
        ("accuracy_end", "test accuracy at the end (horizon 200)", False),
        ("change_W_hh", r"$\|W_{hh} - W_{hh}^{0}\|_F / \|W_{hh}^{0}\|_F$", False),
        ("spectral_error_end", "spectral error of $W_{hh}$ at the end (rad)", True),
    )
    for ax, (column, title, log) in zip(axes, panels, strict=True):
        for k, kind in enumerate(kinds):
            for i, task in enumerate(tasks):
                values = np.array([r.get(column, np.nan) for r in rows
                                   if r["task"] == task and r["condition"] == kind], dtype=float)  # fmt: skip
                values = values[np.isfinite(values)]
                x = i + (k - (len(kinds) - 1) / 2) * width
                if values.size:
                    jitter = np.linspace(-0.3, 0.3, values.size) * width
                    ax.plot(x + jitter, values, ".", color=f"C{k}", alpha=0.6, ms=4)
                    if log:  # the geometric mean and its interval: a t interval of the logs
                        mean, low, high = (10**v for v in t_interval(np.log10(values)))
                    else:
                        mean, low, high = t_interval(values)
                    ax.errorbar(x, mean, yerr=[[mean - low], [high - mean]], fmt="_",
                                color=f"C{k}", ms=12, capsize=3, label=kind if i == 0 else None)  # fmt: skip
        ax.set_xticks(range(len(tasks)), tasks)
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
    axes[0].axhline(SOLVED_ACCURACY, color="0.6", lw=0.8, ls="--")
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                  ncols=len(kinds), fontsize=9)  # fmt: skip
    return figure


def analyze_controls(
    checkpoints: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    horizon: int = 200,
    n_batches: int = 4,
) -> list[Path]:
    """Rows for every checkpoint; writes ``controls.csv``, ``controls_summary.json`` and
    ``controls.png`` under ``out_dir``."""
    import pandas as pd

    from ..evaluation.evaluate import blas_threads_limited

    out = Path(out_dir)
    with blas_threads_limited(1):  # small matrices: threads only spin on a shared machine
        rows = [control_row(path, horizon, n_batches) for path in checkpoints]
    paths = [
        write_text(out / "controls.csv", pd.DataFrame(rows).to_csv(index=False)),
        write_json(
            out / "controls_summary.json",
            {"horizon": horizon, "n_batches": n_batches, "cells": summarise(rows)},
        ),  # fmt: skip
        save_figure(controls_figure(rows), out / "controls.png"),
    ]
    return [Path(p) for p in paths]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m vbpipe.analysis.controls_run OUT_DIR MODEL.pt ...``"""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--horizon", type=int, default=200)
    parser.add_argument("--n_batches", type=int, default=4)
    args = parser.parse_args(argv)
    for path in analyze_controls(args.checkpoints, args.out_dir, args.horizon, args.n_batches):
        print(path)


if __name__ == "__main__":
    main()

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

from ..analysis.controls import (
    basis_invariant_phi_error,
    contamination_by_source,
    controls_figure,
    relative_change,
    saturation_fraction,
    summarise,
)
from ..analysis.input_phase import analyse_input_phase, run_rnn
from ..checkpoint import load_model
from ..config import TrainConfig
from ..constants import SOLVED_ACCURACY
from ..evaluation.accuracy import draw_test_set, evaluate_accuracy
from ..evaluation.emt import empirical_phi, kept_memory_indices, variable_memory_basis
from ..evaluation.spectra import eigenvalues, spectral_comparison
from ..fileio import save_figure, write_json, write_text
from ..taskspec import task_label

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
    """``python -m vbpipe.jobs.controls OUT_DIR MODEL.pt ...``"""
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

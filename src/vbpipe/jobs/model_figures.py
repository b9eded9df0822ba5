"""The per-model figure job: every figure of each model of a block, from its saved results (no
torch): the test sample, the accuracy per step, the full spectrum, and per length the empirical Φ
(Figure 4) and the variable-memory trajectory (Figure 3)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..evaluation import figures as fig
from ..fileio import save_figure
from ..results.layout import (
    ARRAYS_NAME,
    LENGTH_FIGURES,
    METRICS_NAME,
    MODEL_FIGURES,
)
from ..results.records import ModelIdentity, array_key, read_metrics, read_model_arrays

PathLike = str | os.PathLike


def _name(metrics: dict) -> str:
    return ModelIdentity.from_mapping(metrics["identity"]).label


def _model_figures(results_dir: Path) -> list[Path]:
    metrics = read_metrics(results_dir / METRICS_NAME)
    arrays = read_model_arrays(results_dir / ARRAYS_NAME)
    name = _name(metrics)
    lengths = metrics["evaluation"]["seq_lengths"]
    entries = {e["eval_length"]: e for e in metrics["lengths"]}
    d = int(metrics["params"]["input_dim"])
    threshold = metrics["evaluation"]["unit_threshold"]
    accuracy = metrics["model"]["accuracy"]
    test_sample, per_step_name, spectrum_name = (results_dir / n for n in MODEL_FIGURES)
    first = lengths[0]
    files = [
        save_figure(
            fig.test_sample_figure(
                arrays[array_key("sample_target", first)],
                arrays[array_key("sample_prediction", first)],
                title=f"{name}, L = {first}",
            ),
            test_sample,
        ),
        save_figure(
            fig.accuracy_per_step_figure(
                {L: arrays[array_key("accuracy_per_step", L)] for L in lengths},
                metrics["training"]["train_horizon"],
                title=f"{name}: accuracy per output step (mean {accuracy:.4f})",
            ),
            per_step_name,
        ),
    ]
    theory = {L: arrays[array_key("eigenvalues_theory", L)] for L in lengths}
    finite = "eigenvalues_whh" in arrays
    if finite:
        errors = [
            f"L={L}: {np.degrees(entries[L]['spectral_error']):.3g}°"
            for L in lengths
            if entries[L]["spectral_error"] is not None
        ]
        title = f"{name}: eigenvalues of W_hh vs Φ" + (
            f" (spectral error {', '.join(errors)})" if errors else ""
        )
        spectrum = fig.spectrum_figure(arrays["eigenvalues_whh"], theory, threshold, title=title)
    else:
        title = f"{name}: W_hh is not finite (diverged)"
        spectrum = fig.spectrum_figure(None, theory, threshold, title=title)
    files.append(save_figure(spectrum, spectrum_name))
    phi_name, trajectory_name = LENGTH_FIGURES
    for L in lengths:
        phi_path = results_dir / phi_name.format(L=L)
        trajectory_path = results_dir / trajectory_name.format(L=L)
        if not finite:
            text = f"{name}, L = {L}: W_hh is not finite (diverged): no variable-memory basis"
            files.append(save_figure(fig.message_figure(text), phi_path))
            files.append(save_figure(fig.message_figure(text), trajectory_path))
            continue
        phi_err = entries[L]["emt_phi_error"]
        suffix = f", ‖Ψ*WΨ − Φ‖ = {phi_err:.3g}" if phi_err is not None else ""
        files.append(
            save_figure(
                fig.phi_figure(
                    arrays[array_key("phi_empirical", L)],
                    arrays[array_key("operator", L)],
                    d,
                    L,
                    title=f"{name}, L = {L}: variable-memory Φ vs task operator{suffix}",
                ),
                phi_path,
            )
        )
        files.append(
            save_figure(
                fig.memory_trajectory_figure(
                    arrays[array_key("memory_snapshots", L)],
                    arrays[array_key("memory_snapshot_steps", L)],
                    L,
                    title=f"{name}, L = {L}: variable memories Ψ* h_t (paper input)",
                ),
                trajectory_path,
            )
        )
    return files


def draw_model_figures(results_dirs: Sequence[PathLike]) -> list[Path]:
    """Draw every per-model figure (:func:`vbpipe.results.layout.model_figure_names`) of each results
    directory from its ``metrics.json`` and ``arrays.npz``. A model with non-finite weights gets
    its spectrum (Φ alone, titled as diverged) and placeholder figures for the per-length ones, so
    every declared file exists. Returns the files written."""
    files = []
    for directory in results_dirs:
        files += _model_figures(Path(directory))
    return files

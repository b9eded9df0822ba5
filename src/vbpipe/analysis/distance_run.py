"""The original ``analyze.py``'s remaining cross-model analyses, as jobs on an experiment's results:

- :func:`analyze_distances`: pairwise distances between models, from their eigenvalue histograms
  (chi-squared, KL, Bhattacharyya), their eigenvalue sets (symmetric Hausdorff) and their spectra as
  point clouds (Procrustes disparity), each as a matrix, statistics and a figure;
- :func:`analyze_diagnostics`: the diagnostics report (JSON and text);
- :func:`analyze_fixed_points`: fixed and slow points of the autonomous dynamics of a seeded subset
  of models (this one reads checkpoints: it needs the weights).

Like :mod:`vbpipe.analysis.run`, every job takes an experiment's results (a ``(table, arrays)``
pair, an ``evaluation_summary.json`` or :class:`~vbpipe.results.experiment.ExperimentResults`) and writes into
``out_dir``; the science is in the modules named in each docstring.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..fileio import save_figure, save_npy, write_json, write_text
from ..results.experiment import as_experiment
from .data import select_models
from .diagnostics import diagnostics_report, diagnostics_text
from .distance_figures import plot_distance_overview
from .distances import distance_statistics
from .embedding import classical_mds
from .hausdorff import hausdorff_distance_matrix
from .histogram_distances import histogram_distance_matrix
from .persistence import subsample_indices
from .procrustes import procrustes_disparity_matrix
from .signatures import histogram_signature

HISTOGRAM_DISTANCES = ("chi2", "kl", "bhattacharyya")
DISTANCES = (*HISTOGRAM_DISTANCES, "hausdorff", "procrustes")
LABELS = {
    "chi2": "chi-squared distance of the eigenvalue histograms",
    "kl": "symmetrised KL divergence of the eigenvalue histograms",
    "bhattacharyya": "Bhattacharyya distance of the eigenvalue histograms",
    "hausdorff": "symmetric Hausdorff distance of the eigenvalue sets",
    "procrustes": "Procrustes disparity of the spectra (paired by magnitude)",
}


def distance_matrix(metric: str, eigenvalues: Sequence[np.ndarray]) -> np.ndarray:
    """The ``(n, n)`` matrix of one of :data:`DISTANCES` between models' eigenvalue sets."""
    if metric in HISTOGRAM_DISTANCES:
        histograms = np.stack([histogram_signature(e) for e in eigenvalues])
        return histogram_distance_matrix(histograms, metric)
    if metric == "hausdorff":
        return hausdorff_distance_matrix(eigenvalues)
    if metric == "procrustes":
        return procrustes_disparity_matrix(eigenvalues)
    raise ValueError(f"unknown distance {metric!r}; choose from {DISTANCES}")


def analyze_distances(
    experiment,
    out_dir: str | os.PathLike,
    seq_length: int | None = 8,
    *,
    metrics: Sequence[str] = DISTANCES,
    spectrum: str = "subspace",
    max_models: int | None = 300,
    seed: int = 42,
) -> list[Path]:
    """Pairwise distances between the models (a seeded subset of at most ``max_models``)."""
    results = as_experiment(experiment)
    records = select_models(results, seq_length, spectrum)
    keep = subsample_indices(len(records), max_models, seed)
    records = [records[i] for i in keep]
    eigenvalues = [r.eigenvalues for r in records]
    accuracy = np.array([r.accuracy for r in records])
    out = Path(out_dir)
    written, statistics = [], {}
    for metric in metrics:
        matrix = distance_matrix(metric, eigenvalues)
        finite = np.nan_to_num(matrix, nan=np.nanmax(matrix) if np.isfinite(matrix).any() else 0)
        coords = classical_mds(finite) if len(records) > 2 else None
        written.append(save_npy(out / f"{metric}_distances.npy", matrix))
        figure = plot_distance_overview(
            matrix,
            coords,
            accuracy,
            distance_label=LABELS[metric],
            names=[r.name for r in records],
            title=f"{LABELS[metric]} ({len(records)} models, L = {seq_length or 'own'})",
        )
        written.append(save_figure(figure, out / f"{metric}_distances.png"))
        statistics[metric] = distance_statistics(matrix)
    document = {
        "seq_length": seq_length,
        "spectrum": spectrum,
        "n_models": len(records),
        "models": [f"{r.variant}/{r.name}" for r in records],
        "statistics": statistics,
    }
    written.append(write_json(out / "distance_statistics.json", document))
    return written


def analyze_diagnostics(
    experiment, out_dir: str | os.PathLike, seq_length: int | None = 8, *, spectrum="subspace"
) -> list[Path]:
    """The diagnostics report of the models' histogram signatures, accuracy and spectral error:
    ``diagnostics.json`` and ``diagnostics.txt``."""
    records = select_models(as_experiment(experiment), seq_length, spectrum)
    histograms = np.stack([histogram_signature(r.eigenvalues) for r in records])
    accuracy = [r.accuracy for r in records]
    error = [_float(r.row.get("spectral_error")) for r in records]
    report = diagnostics_report(histograms, accuracy, error)
    out = Path(out_dir)
    return [
        write_json(out / "diagnostics.json", report),
        write_text(out / "diagnostics.txt", diagnostics_text(report)),
    ]


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def analyze_fixed_points(
    checkpoints: Sequence[str | os.PathLike],
    names: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    n_starts: int = 64,
    seed: int = 0,
) -> list[Path]:
    """Fixed and slow points of ``h -> tanh(W_hh h)`` for each checkpoint, from ``n_starts`` seeded
    starts on the model's own trajectory (its response to the Figure-3 input). Writes
    ``fixed_points.json`` (counts and stability per model), ``fixed_point_counts.png`` and
    ``fixed_points_example.png`` (the first model)."""
    import pandas as pd

    from ..checkpoint import load_model
    from ..evaluation.accuracy import hidden_trajectory
    from ..evaluation.emt import FIGURE3_LENGTH, figure3_inputs
    from .fixed_point_figures import plot_fixed_point_counts, plot_fixed_points
    from .fixed_points import find_fixed_points, fixed_point_summary, sample_starts

    out = Path(out_dir)
    rows, example = [], None
    for index, (path, name) in enumerate(zip(checkpoints, names, strict=True)):
        model = load_model(path)
        hp, weights = model.hparams, model.weights
        d, length = int(hp["input_dim"]), _longest(hp["seq_length"])
        bits = figure3_inputs(d, length)
        inputs = np.zeros((FIGURE3_LENGTH, weights["W_ih"].shape[1]))
        inputs[: len(bits), :d] = bits
        trajectory = hidden_trajectory(weights, inputs)
        if not np.all(np.isfinite(weights["W_hh"])):
            rows.append({"model": name, "weights_finite": False})
            continue
        starts = sample_starts(trajectory, n_starts=n_starts, seed=seed + index)
        result = find_fixed_points(weights["W_hh"], starts)
        variant = name.rsplit("/", 1)[0] if "/" in name else ""
        rows.append({"model": name, "variant": variant, **fixed_point_summary(result)})
        if example is None:
            example = save_figure(
                plot_fixed_points(result, trajectory, title=f"{name}: fixed and slow points"),
                out / "fixed_points_example.png",
            )
    written = [write_json(out / "fixed_points.json", {"n_starts": n_starts, "models": rows})]
    table = pd.DataFrame([r for r in rows if "n_fixed" in r])
    written.append(save_figure(plot_fixed_point_counts(table), out / "fixed_point_counts.png"))
    if example is None:
        from ..evaluation.figures import message_figure

        example = save_figure(
            message_figure("no model with finite weights"), out / "fixed_points_example.png"
        )
    written.append(example)
    return written


def _longest(seq_length) -> int:
    return int(seq_length[-1]) if isinstance(seq_length, list | tuple) else int(seq_length)

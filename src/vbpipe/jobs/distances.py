"""The distance job: histogram, Hausdorff and Procrustes distances between the models' spectra, with figures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..analysis.data import select_models, subsample_indices
from ..analysis.distance_figures import plot_distance_overview
from ..analysis.distances import distance_statistics
from ..analysis.embedding import classical_mds
from ..analysis.hausdorff import hausdorff_distance_matrix
from ..analysis.histogram_distances import histogram_distance_matrix
from ..analysis.procrustes import procrustes_disparity_matrix
from ..analysis.signatures import histogram_signature
from ..fileio import save_figure, save_npy, write_json
from ..results.experiment import as_experiment

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

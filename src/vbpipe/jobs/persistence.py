"""The persistence job: persistent homology of every model's eigenvalue cloud, diagram distances,
their embedding and figures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..analysis import figures
from ..analysis.data import subsample_indices
from ..analysis.distances import (
    distance_statistics,
)
from ..analysis.embedding import EMBEDDING_METHODS, embed
from ..analysis.persistence import (
    PERSISTENCE_METRICS,
    betti_curves,
    diagram_distance_matrix,
    diagram_statistics,
    eigenvalue_points,
    persistence_diagrams,
    statistics_keys,
)
from ..analysis.statistics import (
    aggregate_statistics,
)
from ..fileio import save_figure, save_npy, write_json
from ..results.layout import (
    persistence_outputs,
)
from .common import _METHOD_NAMES, _axis_labels, _check_min_models, _load, _out, log


def analyze_persistence(
    experiment,
    out_dir: str | os.PathLike,
    seq_length: int = 8,
    metric: str = "bottleneck",
    embedding_method: str = "mds",
    max_dimension: int = 1,
    normalize: bool = False,
    *,
    spectrum: str = "subspace",
    max_models: int | None = None,
    seed: int = 42,
    n_jobs: int = 1,
    backend: str = "fast",
    make_figures: bool = True,
    dpi: int = figures.DPI,
) -> list[Path]:
    """Vietoris-Rips persistence of every model's eigenvalue cloud, distances and embedding.

    Statistics, diagrams and Betti curves cover every model. The pairwise distance matrix (sum
    over dimensions of the ``bottleneck`` or ``wasserstein`` distance) and its 2-D embedding
    (``mds``, ``tsne``, ``isomap`` or ``pca`` of the matrix rows) cover every model, or - when
    ``max_models`` is set and smaller than the number of models - a seeded random subset of that
    size (its names are listed under ``distance_models`` in ``persistence_statistics.json``).
    ``n_jobs`` > 1 computes the distances in that many processes.
    """
    if metric not in PERSISTENCE_METRICS:
        raise ValueError(
            f"unknown persistence metric {metric!r}; choose from {PERSISTENCE_METRICS}"
        )
    if embedding_method not in EMBEDDING_METHODS:
        raise ValueError(
            f"unknown embedding method {embedding_method!r}; choose from {EMBEDDING_METHODS}"
        )
    if max_dimension < 0:
        raise ValueError(f"max_dimension must be >= 0; got {max_dimension}")
    records, _ = _load(experiment, seq_length, spectrum)
    names = [r.name for r in records]
    accuracy = np.array([r.accuracy for r in records], dtype=float)
    idx = subsample_indices(len(records), max_models, seed)
    _check_min_models(embedding_method, idx.size)
    if idx.size < len(records):
        log.info("persistence distances on a seeded subset of %d/%d models", idx.size, len(records))

    diagrams = [
        persistence_diagrams(eigenvalue_points(r.eigenvalues, normalize), max_dimension)
        for r in records
    ]
    stats = [diagram_statistics(d, max_dimension) for d in diagrams]
    dist = diagram_distance_matrix(
        [diagrams[i] for i in idx], metric, backend=backend, n_jobs=n_jobs
    )
    result = embed(embedding_method, distance_matrix=dist, random_state=seed)

    out = _out(out_dir)
    outputs = persistence_outputs(metric, embedding_method)
    dist_name, coords_name, stats_name, figure_name, diagrams_name, features_name, betti_name = (
        outputs
    )
    written = [save_npy(out / dist_name, dist)]
    written.append(save_npy(out / coords_name, result["coords"]))
    if make_figures:
        xlabel, ylabel = _axis_labels(embedding_method, result)
        sub_note = (
            f", random subset of {idx.size}/{len(records)}" if idx.size < len(records) else ""
        )
        fig = figures.plot_embedding(
            result["coords"],
            accuracy[idx],
            "accuracy",
            title=f"{_METHOD_NAMES[embedding_method]} embedding of {metric} distances between "
            f"persistence diagrams "
            f"(L = {seq_length}{sub_note})",
            xlabel=xlabel,
            ylabel=ylabel,
            names=[names[i] for i in idx],
        )
        written.append(save_figure(fig, out / figure_name, dpi=dpi))
        fig = figures.plot_persistence_diagrams(diagrams, names)
        written.append(save_figure(fig, out / diagrams_name, dpi=dpi))
        fig = figures.plot_topological_features(stats, accuracy, max_dimension)
        written.append(save_figure(fig, out / features_name, dpi=dpi))
        curves = {dim: betti_curves(diagrams, dim) for dim in range(max_dimension + 1)}
        fig = figures.plot_betti_curves(curves)
        written.append(save_figure(fig, out / betti_name, dpi=dpi))
    keys = statistics_keys(max_dimension)
    payload = {
        "n_models": len(records),
        "seq_length": seq_length,
        "spectrum": spectrum,
        "metric": metric,
        "embedding_method": embedding_method,
        "max_dimension": max_dimension,
        "normalize": normalize,
        "note": "finite bars only: H0's infinite bar is dropped",
        "statistics": [
            {"model_name": r.name, "accuracy": r.accuracy, **s}
            for r, s in zip(records, stats, strict=True)
        ],
        "aggregate_statistics": aggregate_statistics(stats, keys),
        "distance_models": [names[i] for i in idx],
        "distance_statistics": distance_statistics(dist),
    }
    written.append(write_json(out / stats_name, payload))
    return written

"""The embedding job: every model's signature embedded in 2-D (PCA, t-SNE, MDS, Isomap), distances and figures."""

from __future__ import annotations

import os
from pathlib import Path

from ..analysis import figures
from ..analysis.data import metric_values
from ..analysis.distances import (
    distance_statistics,
    find_outliers,
    pairwise_distances,
    wasserstein_distance_matrix,
)
from ..analysis.embedding import EMBEDDING_METHODS, embed
from ..analysis.signatures import compute_signatures, standardize
from ..fileio import save_figure, save_npy, write_json
from ..results.layout import (
    SIGNATURE_TYPES,
    WASSERSTEIN_MODES,
    embedding_outputs,
)
from .common import _METHOD_NAMES, _axis_labels, _check_min_models, _load, _out


def _wasserstein_mode(distance_metric: str) -> str | None:
    """``wasserstein`` / ``wasserstein_<mode>`` -> mode; anything else -> None."""
    if not distance_metric.startswith("wasserstein"):
        return None
    mode = distance_metric[len("wasserstein") :].lstrip("_") or "separate"
    if mode not in WASSERSTEIN_MODES:
        raise ValueError(
            f"unknown Wasserstein distance {distance_metric!r}; use wasserstein or "
            + ", ".join(f"wasserstein_{m}" for m in WASSERSTEIN_MODES)
        )
    return mode


def _color_values(records, color_by: str | None):
    if color_by is None or color_by == "none":
        return None, ""
    return metric_values(records, color_by)


def analyze_embedding(
    experiment,
    out_dir: str | os.PathLike,
    seq_length: int = 8,
    method: str = "pca",
    signature_type: str = "combined",
    distance_metric: str = "euclidean",
    color_by: str | None = "accuracy",
    annotate_outliers: bool = False,
    *,
    spectrum: str = "subspace",
    standardize_features: bool = True,
    random_state: int = 42,
    make_figures: bool = True,
    dpi: int = figures.DPI,
) -> list[Path]:
    """Embed the models' signatures in 2-D.

    Signatures (``statistics``/``histogram``/``combined``) are z-scored per feature unless
    ``standardize_features`` is False. The pairwise distance matrix uses ``distance_metric``: any
    scipy ``pdist`` metric on the signatures, or ``wasserstein[_separate|_2d|_magnitude_only|
    _angle_only]`` between the eigenvalue distributions. PCA embeds the signatures; t-SNE, MDS and
    Isomap embed the distance matrix. ``color_by``: ``none``, ``accuracy``, ``frob_error``,
    ``spectral_error`` or any numeric column of the table. Outliers (mean distance to the others > mean +
    2 std) are listed in ``distance_statistics.json`` and, with ``annotate_outliers``, labelled.
    """
    if method not in EMBEDDING_METHODS:
        raise ValueError(f"unknown embedding method {method!r}; choose from {EMBEDDING_METHODS}")
    if signature_type not in SIGNATURE_TYPES:
        raise ValueError(
            f"unknown signature type {signature_type!r}; choose from {SIGNATURE_TYPES}"
        )
    mode = _wasserstein_mode(distance_metric)
    records, _ = _load(experiment, seq_length, spectrum)
    n = len(records)
    _check_min_models(method, n)
    values, value_key = _color_values(records, color_by)
    eigs = [r.eigenvalues for r in records]
    names = [r.name for r in records]

    features = compute_signatures(eigs, signature_type)
    if standardize_features:
        features = standardize(features)
    if mode is not None:
        dist = wasserstein_distance_matrix(eigs, mode, seed=random_state)
    else:
        dist = pairwise_distances(features, distance_metric)
    if method == "pca":
        result = embed("pca", features=features)
    else:
        result = embed(method, distance_matrix=dist, random_state=random_state)
    outliers = find_outliers(dist)

    out = _out(out_dir)
    coords_name, dist_name, stats_name, figure_name, *variance = embedding_outputs(method)
    written = [save_npy(out / coords_name, result["coords"])]
    if method == "pca" and make_figures:
        fig = figures.plot_pca_variance(result["explained_variance_ratio"])
        written.append(save_figure(fig, out / variance[0], dpi=dpi))
    xlabel, ylabel = _axis_labels(method, result)
    std_note = "z-scored " if standardize_features else ""
    what = f"{std_note}{signature_type} signatures"
    if method != "pca":
        what = f"{distance_metric} distances" + ("" if mode else f" of {what}")
    if make_figures:
        fig = figures.plot_embedding(
            result["coords"],
            values,
            value_key,
            title=f"{_METHOD_NAMES[method]} embedding of {what} (L = {seq_length})",
            xlabel=xlabel,
            ylabel=ylabel,
            names=names,
            outliers=outliers if annotate_outliers else (),
        )
        written.append(save_figure(fig, out / figure_name, dpi=dpi))
    written.append(save_npy(out / dist_name, dist))
    stats = distance_statistics(dist)
    stats.update(
        n_models=n,
        method=method,
        signature_type=signature_type,
        distance_metric=distance_metric,
        standardized=standardize_features,
        color_by=value_key or None,
        outliers=[names[i] for i in outliers],
        model_names=names,
    )
    if method == "pca":
        stats["explained_variance_ratio"] = result["explained_variance_ratio"][:20]
    if "perplexity" in result:
        stats["perplexity"] = result["perplexity"]
    written.append(write_json(out / stats_name, stats))
    return written

"""The analysis jobs: an experiment's results in, every output of one analysis in ``out_dir``.

Each ``analyze_*`` function takes an experiment's results (a
:class:`vbpipe.results.experiment.ExperimentResults`, an ``(evaluation_table.csv, evaluation_arrays.npz)``
pair of paths, or an ``evaluation_summary.json`` path: :func:`vbpipe.results.experiment.as_experiment`),
writes its outputs (names: :mod:`vbpipe.results`) into ``out_dir`` (created if needed; never the
current directory) and returns the list of paths written. ``make_figures=False`` skips the PNG
files (the data files are always written). ``spectrum`` chooses each model's eigenvalue cloud
(:data:`vbpipe.results.experiment.SPECTRA`: ``subspace`` (default), ``full``, ``emt``, ``theory``) at
``seq_length``. Models without it are skipped with a warning; :class:`~.data.NoModelsError` when
none remain, ``ValueError`` when the requested method cannot work with the number of models
(checked before anything is written). No torch is imported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..fileio import save_figure, save_npy, write_json
from ..results.errors import ResultsError
from ..results.experiment import SPECTRA, ExperimentResults, as_experiment
from ..results.layout import (
    COMPARISON_OUTPUTS,
    EIGENVALUE_OUTPUTS,
    SIGNATURE_TYPES,
    WASSERSTEIN_MODES,
    embedding_outputs,
    natural_key,
    persistence_outputs,
)
from . import figures
from .compare import compare_sets
from .data import ModelRecord, metric_values, select_models
from .distances import (
    distance_statistics,
    find_outliers,
    pairwise_distances,
    wasserstein_distance_matrix,
)
from .embedding import EMBEDDING_METHODS, embed, tsne_perplexity
from .persistence import (
    PERSISTENCE_METRICS,
    betti_curves,
    diagram_distance_matrix,
    diagram_statistics,
    eigenvalue_points,
    persistence_diagrams,
    statistics_keys,
    subsample_indices,
)
from .signatures import compute_signatures, standardize
from .statistics import (
    STATISTIC_NAMES,
    aggregate_statistics,
    statistics_dict,
    statistics_matrix,
)

__all__ = ["analyze_compare", "analyze_eigenvalue", "analyze_embedding", "analyze_persistence"]

log = logging.getLogger(__name__)

SCATTER_MATRIX_STATS = ("spectral_radius", "mag_mean", "mag_std", "n_unstable")
_METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "mds": "MDS", "isomap": "Isomap"}


def _load(experiment, seq_length: int, spectrum: str) -> tuple[list[ModelRecord], str]:
    results = as_experiment(experiment)
    records = select_models(results, seq_length, spectrum)
    log.info("%s: %d model(s) with %s eigenvalues", results.source, len(records), spectrum)
    return records, results.source


def _out(out_dir) -> Path:
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_min_models(method: str, n: int) -> None:
    if method == "tsne":
        tsne_perplexity(n)  # raises the documented error for n < TSNE_MIN_MODELS
    elif n < (3 if method == "isomap" else 2):
        raise ValueError(
            f"{method} embedding needs at least {3 if method == 'isomap' else 2} models; got {n}"
        )


def analyze_eigenvalue(
    experiment,
    out_dir: str | os.PathLike,
    seq_length: int = 8,
    *,
    spectrum: str = "subspace",
    n_examples: int = 5,
    make_figures: bool = True,
    dpi: int = figures.DPI,
) -> list[Path]:
    """The 21 statistics per model: ``eigenvalue_statistics.json`` and two figures
    (:data:`vbpipe.results.layout.EIGENVALUE_OUTPUTS`)."""
    records, source = _load(experiment, seq_length, spectrum)
    out = _out(out_dir)
    stats_name, examples_name, scatter_name = EIGENVALUE_OUTPUTS
    eigs = [r.eigenvalues for r in records]
    names = [r.name for r in records]
    matrix = statistics_matrix(eigs)
    models = [
        {
            "model_name": r.name,
            "variant": r.variant,
            "accuracy": r.accuracy,
            "n_eigenvalues": int(r.eigenvalues.size),
            "statistics": statistics_dict(row),
        }
        for r, row in zip(records, matrix, strict=True)
    ]
    written = [
        write_json(
            out / stats_name,
            {
                "source": source,
                "seq_length": seq_length,
                "spectrum": spectrum,
                "n_models": len(records),
                "models": models,
                "aggregate_statistics": aggregate_statistics(matrix, STATISTIC_NAMES),
            },
        )
    ]
    if not make_figures:
        return written
    fig = figures.plot_complex_plane_examples(eigs, names, max_models=n_examples)
    written.append(save_figure(fig, out / examples_name, dpi=dpi))
    cols = [STATISTIC_NAMES.index(s) for s in SCATTER_MATRIX_STATS]
    fig = figures.plot_statistics_scatter_matrix(matrix[:, cols], SCATTER_MATRIX_STATS)
    written.append(save_figure(fig, out / scatter_name, dpi=dpi))
    return written


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


def _axis_labels(method: str, result: dict) -> tuple[str, str]:
    if method == "pca":
        ratio = result["explained_variance_ratio"]
        pct = [100 * ratio[k] if k < ratio.size else 0.0 for k in range(2)]
        return f"PC1 ({pct[0]:.1f}% variance)", f"PC2 ({pct[1]:.1f}% variance)"
    return f"{_METHOD_NAMES[method]} 1", f"{_METHOD_NAMES[method]} 2"


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


def _split_by(results: ExperimentResults, by: str, seq_length: int):
    """``{f"{by}={value}": part}`` of one experiment, naturally sorted by label."""
    table = results.table
    if by not in table.columns:
        raise ResultsError(f"cannot split by {by!r}: not a column of the table")
    at = (table["eval_length"] == int(seq_length)).fillna(False).to_numpy(bool)
    values = table[by]
    groups: dict[str, np.ndarray] = {}
    for value in values[at].dropna().unique():
        label = f"{by}={value}"
        groups[label] = at & (values == value).fillna(False).to_numpy(bool)
    if len(groups) < 2:
        raise ResultsError(
            f"comparison by {by!r}: the models at seq_length {seq_length} have only the "
            f"group(s) {sorted(groups)}"
        )
    return {label: results.subset(groups[label]) for label in sorted(groups, key=natural_key)}


def analyze_compare(
    experiments: Sequence,
    labels: Sequence[str] | None,
    out_dir: str | os.PathLike,
    seq_length: int = 8,
    *,
    by: str | None = None,
    spectrum: str = "subspace",
    error: str = "std",
    make_figures: bool = True,
    dpi: int = figures.DPI,
) -> list[Path]:
    """Compare several sets of models: several experiments (one label each), or the models of one
    experiment split by a column of its table (``by``, e.g. ``hidden_dim``: labels
    ``hidden_dim=128``, ...).

    Writes :data:`vbpipe.results.layout.COMPARISON_OUTPUTS`: ``comparison_statistics.json`` (a list with,
    per set, ``label``, ``source``, ``n_models``, ``statistics`` = ``{stat: {mean, std, min, max,
    sem, n}}`` and ``accuracy``), ``comparison_complex_plane.png`` (first model of each set),
    ``comparison_spectra.png`` (all eigenvalues of each set overlaid, with |λ| and arg λ densities)
    and ``comparison_metrics.png`` (bars of key statistics with ``error`` = ``std`` or ``sem`` error
    bars).
    """
    if error not in ("std", "sem"):
        raise ValueError(f"error must be 'std' or 'sem'; got {error!r}")
    if spectrum not in SPECTRA:
        raise ResultsError(f"unknown spectrum {spectrum!r}; choose from {sorted(SPECTRA)}")
    if by is not None:
        if len(experiments) != 1:
            raise ValueError(f"comparison by {by!r} takes one experiment; got {len(experiments)}")
        whole = as_experiment(experiments[0])
        parts = _split_by(whole, by, seq_length)
        sources = {label: f"{whole.source} ({label})" for label in parts}
    else:
        labels = list(labels or [])
        if len(experiments) != len(labels):
            raise ValueError(
                f"got {len(experiments)} experiment(s) but {len(labels)} label(s); give one each"
            )
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must be unique; got {labels}")
        if not labels:
            raise ValueError("nothing to compare: no experiment given")
        loaded = [as_experiment(e) for e in experiments]
        parts = dict(zip(labels, loaded, strict=True))
        sources = {label: part.source for label, part in parts.items()}
    sets, accs = {}, {}
    for label, part in parts.items():
        records, _ = _load(part, seq_length, spectrum)
        sets[label] = [r.eigenvalues for r in records]
        accs[label] = [r.accuracy for r in records]
    comparison = compare_sets(sets, accs)
    for entry in comparison:
        entry["source"] = sources[entry["label"]]
        entry["seq_length"] = seq_length
        entry["spectrum"] = spectrum
        if by is not None:
            entry["by"] = by
    out = _out(out_dir)
    stats_name, plane_name, spectra_name, metrics_name = COMPARISON_OUTPUTS
    written = [write_json(out / stats_name, comparison)]
    if not make_figures:
        return written
    fig = figures.plot_comparison_complex_plane({k: v[0] for k, v in sets.items()})
    written.append(save_figure(fig, out / plane_name, dpi=dpi))
    fig = figures.plot_comparison_spectra(sets)
    written.append(save_figure(fig, out / spectra_name, dpi=dpi))
    fig = figures.plot_comparison_metrics(comparison, error=error)
    written.append(save_figure(fig, out / metrics_name, dpi=dpi))
    return written

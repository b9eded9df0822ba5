"""The eigenvalue analysis job: the 21 statistics of every model's spectrum, their summary and figures."""

from __future__ import annotations

import os
from pathlib import Path

from ..analysis import figures
from ..analysis.statistics import (
    STATISTIC_NAMES,
    aggregate_statistics,
    statistics_dict,
    statistics_matrix,
)
from ..fileio import save_figure, write_json
from ..results.layout import (
    EIGENVALUE_OUTPUTS,
)
from .common import _load, _out

SCATTER_MATRIX_STATS = ("spectral_radius", "mag_mean", "mag_std", "n_unstable")


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

"""The comparison job: several experiments (or groups of one) side by side, statistics and figures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..analysis import figures
from ..analysis.compare import compare_sets
from ..fileio import save_figure, write_json
from ..results.errors import ResultsError
from ..results.experiment import SPECTRA, ExperimentResults, as_experiment
from ..results.layout import (
    COMPARISON_OUTPUTS,
    natural_key,
)
from .common import _load, _out


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
            raise ResultsError(
                f"labels must be unique, got {labels} (the default label is the experiment's "
                "directory name: give --labels)"
            )
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

"""The models an analysis works on: one eigenvalue cloud and one table row per model, at one length.

Input is an experiment's :class:`vbpipe.results.experiment.ExperimentResults` (read by
:func:`vbpipe.results.experiment.load_experiment` from the tidy table and its arrays, or by
:func:`vbpipe.results.summary.experiment_from_summary` from an ``evaluation_summary.json``). The point cloud
of a model is a :data:`vbpipe.results.experiment.SPECTRA` kind at the analysed length: ``subspace`` (the
eigenvalues of ``W_sub``, the original's choice and the default), ``full`` (all of ``W_hh``),
``emt`` or ``theory``. Models without that spectrum (a diverged model has none) are skipped with a
:class:`MissingDataWarning` naming them; :class:`NoModelsError` when none remains. Metrics are
columns of the table (:func:`metric_values`). No file I/O here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..results.errors import ResultsError
from ..results.experiment import SPECTRA, ExperimentResults

__all__ = [
    "METRIC_ALIASES",
    "MissingDataWarning",
    "ModelRecord",
    "NoModelsError",
    "metric_values",
    "select_models",
    "subsample_indices",
]

#: Short names accepted by ``--color_by`` and the table column each stands for.
METRIC_ALIASES = {
    "accuracy": "accuracy",
    "frob_error": "frob_relative",
    "spectral_error": "spectral_error",
}


class MissingDataWarning(UserWarning):
    """Some models lack the data a stage needs and were skipped."""


class NoModelsError(ResultsError):
    """No model has what an analysis needs (the message says what is missing)."""


@dataclass
class ModelRecord:
    """One model at the analysed length: its name, eigenvalues (complex 1-D) and table row."""

    name: str
    eigenvalues: np.ndarray
    row: Mapping = field(repr=False)

    @property
    def accuracy(self) -> float:
        """Bit accuracy at the analysed length (NaN when unknown)."""
        return _as_float(self.row.get("accuracy"))

    @property
    def variant(self) -> str | None:
        value = self.row.get("variant")
        return None if value is None or value != value else value


def _as_float(value) -> float:
    if value is None or isinstance(value, (bool, np.bool_)):
        return math.nan
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def select_models(
    results: ExperimentResults, seq_length: int = 8, spectrum: str = "subspace"
) -> list[ModelRecord]:
    """The models of ``results`` evaluated at ``seq_length`` that have the ``spectrum``, in table
    order. The others are skipped with one :class:`MissingDataWarning` listing them;
    :class:`NoModelsError` when none remains."""
    if spectrum not in SPECTRA:
        raise ResultsError(f"unknown spectrum {spectrum!r}; choose from {sorted(SPECTRA)}")
    part = results.at_length(seq_length)
    rows = part.table.to_dict("records")
    records, skipped = [], []
    for row, eig in zip(rows, part.spectrum(spectrum), strict=True):
        name = str(row.get("model_name"))
        if eig is None or eig.size == 0:
            skipped.append(f"{name} (no {spectrum} eigenvalues)")
        elif not np.all(np.isfinite(eig)):
            skipped.append(f"{name} (non-finite eigenvalues)")
        else:
            records.append(ModelRecord(name, eig, row))
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} model(s) without usable eigenvalues: " + ", ".join(skipped),
            MissingDataWarning,
            stacklevel=2,
        )
    if not records:
        lengths = results.seq_lengths
        raise NoModelsError(
            f"{results.source or 'results'}: no model has {spectrum} eigenvalues at seq_length "
            f"{seq_length} (evaluated lengths: {lengths}); {len(skipped)} model(s) skipped"
        )
    return records


def metric_values(records: Sequence[ModelRecord], name: str) -> tuple[np.ndarray, str]:
    """Per-model values of a table column (``None``/missing → NaN) and the column used.

    ``name`` is a column of the table (``accuracy``, ``spectral_error``, ``emt_phi_error``,
    ``train_steps``, ...) or an alias of :data:`METRIC_ALIASES` (``frob_error`` →
    ``frob_relative``). :class:`ResultsError` when no model has that column or it is not numeric.
    """
    column = METRIC_ALIASES.get(name, name)
    if not records or column not in records[0].row:
        known = sorted(records[0].row) if records else []
        raise ResultsError(f"no metric {name!r} in the table; columns: {', '.join(known)}")
    values = []
    for record in records:
        raw = record.row.get(column)
        if isinstance(raw, str) or isinstance(raw, (bool, np.bool_)):
            raise ResultsError(f"metric {column!r} of {record.name} is not a number: {raw!r}")
        values.append(_as_float(raw))
    return np.asarray(values, dtype=float), column


def subsample_indices(n: int, max_models: int | None, seed: int = 42) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``max_models`` models (all if n is smaller)."""
    if max_models is None or n <= max_models:
        return np.arange(n)
    if max_models < 1:
        raise ValueError(f"max_models must be >= 1; got {max_models}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_models, replace=False))

"""The diagnostics job: the original ``analyze.py`` report of one experiment (JSON and text)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..analysis.data import select_models
from ..analysis.diagnostics import diagnostics_report, diagnostics_text
from ..analysis.signatures import histogram_signature
from ..fileio import write_json, write_text
from ..results.experiment import as_experiment


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

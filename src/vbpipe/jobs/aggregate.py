"""The aggregation job: per-model results of one experiment → table, arrays, summary, Table 1.

No torch and no matplotlib here: aggregation reads ``metrics.json`` / ``arrays.npz`` files (and
checkpoint sidecars to check that no result is stale) and writes text and arrays.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..evaluation.paper_spectral_rule import paper_rule_errors
from ..evaluation.table1 import table1_csv as table1_csv_text
from ..evaluation.table1 import table1_frame, table1_latex
from ..fileio import write_json, write_text
from ..results.experiment import experiment_from_model_results
from ..results.summary import build_summary, validate_summary

PathLike = str | os.PathLike

__all__ = ["aggregate_experiment"]


def aggregate_experiment(
    results_dirs: Sequence[PathLike],
    *,
    summary: PathLike,
    table: PathLike,
    arrays: PathLike,
    table1_csv: PathLike | None = None,
    table1_tex: PathLike | None = None,
    evaluation_config: Mapping | None = None,
    failures: Iterable[Mapping] | None = None,
    checkpoints: Sequence[PathLike] | None = None,
    verify_checkpoints: bool = True,
    table1_seq_length: int | None = None,
    timestamp: str | None = None,
) -> list[Path]:
    """Aggregate the models whose results directories are given (explicitly; any order).

    Writes the tidy table ``table`` (``evaluation_table.csv``) and its row arrays ``arrays``
    (``evaluation_arrays.npz``), the compatibility export ``summary``
    (``evaluation_summary.json``, validated against the packaged schema) and, when both paths are
    given, Table 1 as CSV and LaTeX, its spectral error by the paper's rule (greedy matching, count
    match: :mod:`vbpipe.evaluation.paper_spectral_rule`) with the stored Hungarian error beside it.
    Returns the files written.

    Every record must belong to its checkpoint as it is now: the SHA-256 recorded at evaluation
    equals the checkpoint's (``checkpoints[i]``, default ``../checkpoint/model.pt`` of each results
    directory); a stale record raises :class:`vbpipe.results.errors.StaleResultError` naming the model.
    ``verify_checkpoints=False`` aggregates results whose checkpoints are not at hand.
    ``failures`` (``{"model", "error"}``) are listed in the summary's ``failed_models``.
    """
    if (table1_csv is None) != (table1_tex is None):
        raise ValueError("give both table1_csv and table1_tex, or neither")
    results = experiment_from_model_results(results_dirs, checkpoints, verify_checkpoints)
    document = build_summary(results, evaluation_config, failures, timestamp)
    validate_summary(document)
    files = results.write(table, arrays)
    files.append(write_json(summary, document, indent=None))
    if table1_csv is not None:
        paper_errors = paper_rule_errors(results.spectrum("full"), results.spectrum("theory"))
        frame = table1_frame(results.table, table1_seq_length, paper_errors=paper_errors)
        files.append(write_text(table1_csv, table1_csv_text(frame)))
        files.append(write_text(table1_tex, table1_latex(frame)))
    return files

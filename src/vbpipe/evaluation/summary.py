"""``evaluation_summary.json``: the compatibility export of one experiment's results.

Built from the tidy table and its row arrays (:class:`vbpipe.results.ExperimentResults`); read back
by :func:`vbpipe.results.experiment_from_summary`. Layout (JSON Schema
``vbpipe/schemas/evaluation_summary.schema.json``, ``$id``
``urn:vbpipe:schema:evaluation-summary:2.0.0``)::

    {"schema_version": "2.0.0",
     "timestamp": ISO-8601,                 # original key
     "n_models": int,                       # original key: models evaluated (= len(metrics))
     "n_failed": int, "failed_models": [{"model", "error", ...}],
     "evaluation_config": {...},            # original key
     "seq_lengths": [L, ...],               # union of the evaluated lengths
     "metrics": [record, ...]}              # original key; one record per model

A record has the original's keys (``model_name``, ``accuracy``, ``seq_lengths``, ``hidden_dim``,
``input_dim``, ``batch_size``, ``variance_ratio_seq{L}``, ``frob_error_seq{L}``,
``frob_relative_seq{L}``, ``spectral_error_deg_seq{L}``, ``eigenvalues_rnn_seq{L}``,
``eigenvalues_theory_seq{L}`` as ``[[re, im], ...]``, ``angle_histogram_rnn_seq{L}``,
``magnitude_histogram_rnn_seq{L}``, ``histogram_bins``) and the project's additions (identity,
``params``, training outcome, per-step accuracy, the full ``W_hh`` spectrum and its histograms,
the spectral error in radians, unit-circle counts, EMT errors); every key of
:func:`vbpipe.results.summary_record_keys` is present. Note: ``spectral_error_deg_seq{L}`` compares
the full ``W_hh`` with Φ; the original compared ``W_sub`` (that is ``spectral_error_sub_deg_seq{L}``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from ..fileio import to_jsonable
from ..results import (
    SUMMARY_SCHEMA_VERSION,
    ExperimentResults,
    ResultsError,
    load_summary_schema,
    summary_record_keys,
    summary_records,
)

__all__ = ["SummaryValidationError", "build_summary", "validate_summary"]


class SummaryValidationError(ResultsError):
    """An evaluation summary that does not follow the schema (the message lists the problems)."""


def build_summary(
    results: ExperimentResults,
    evaluation_config: Mapping | None = None,
    failures: Iterable[Mapping] | None = None,
    timestamp: str | None = None,
) -> dict:
    """The summary document of ``results`` (records in table order)."""
    failures = [to_jsonable({k: str(v) for k, v in dict(f).items()}) for f in (failures or [])]
    for failure in failures:
        failure.setdefault("model", "")
        failure.setdefault("error", "")
    records = summary_records(results)
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "timestamp": timestamp or datetime.now(UTC).isoformat(timespec="seconds"),
        "n_models": len(records),
        "n_failed": len(failures),
        "failed_models": failures,
        "evaluation_config": to_jsonable(dict(evaluation_config or {})),
        "seq_lengths": results.seq_lengths,
        "metrics": records,
    }


def _non_finite_paths(obj, path="$"):
    stack = [(obj, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, float):
            if not math.isfinite(value):
                yield where
        elif isinstance(value, Mapping):
            stack.extend((v, f"{where}.{k}") for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))


def validate_summary(summary: Mapping, schema: Mapping | None = None) -> None:
    """Raise :class:`SummaryValidationError` unless ``summary`` follows the packaged schema.

    Beyond the schema it checks what JSON Schema cannot say: no NaN/inf anywhere, ``n_models``
    equals the number of records, and every record holds every key of
    :func:`vbpipe.results.summary_record_keys` for its ``seq_lengths``.
    """
    import jsonschema

    schema = schema or load_summary_schema()
    validator = jsonschema.Draft202012Validator(schema)
    problems = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
        for e in sorted(validator.iter_errors(summary), key=lambda e: list(map(str, e.path)))
    ]
    problems += [f"{p}: non-finite number" for p in _non_finite_paths(summary)]
    metrics = summary.get("metrics")
    if isinstance(metrics, list):
        if summary.get("n_models") != len(metrics):
            problems.append(
                f"n_models is {summary.get('n_models')} but metrics holds {len(metrics)}"
            )
        for i, record in enumerate(metrics):
            if isinstance(record, Mapping) and isinstance(record.get("seq_lengths"), list):
                missing = [k for k in summary_record_keys(record["seq_lengths"]) if k not in record]
                if missing:
                    problems.append(f"metrics/{i}: missing keys {missing[:8]}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise SummaryValidationError(f"evaluation summary is invalid:\n  {shown}{more}")

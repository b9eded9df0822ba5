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

import copy
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import numpy as np

from ..fileio import to_jsonable
from ..results import (
    SUMMARY_SCHEMA_VERSION,
    ExperimentResults,
    ResultsError,
    summary_record_keys,
    summary_records,
)

__all__ = ["SummaryValidationError", "build_summary", "load_summary_schema", "validate_summary"]

#: The packaged schema (``vbpipe/schemas/``); named here, where it is used, so that only the
#: aggregation reruns when it changes (:mod:`vbpipe.fingerprint` follows file names).
SUMMARY_SCHEMA_NAME = "evaluation_summary.schema.json"


def load_summary_schema() -> dict:
    """The packaged JSON Schema of ``evaluation_summary.json``."""
    import json
    from importlib import resources

    text = resources.files("vbpipe").joinpath("schemas", SUMMARY_SCHEMA_NAME).read_text("utf-8")
    return json.loads(text)


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


#: ``$defs`` of the schema whose arrays :func:`validate_summary` checks with numpy (same rules).
_ARRAY_DEFS = ("eigenvalues", "numbers", "counts")


def _structure_schema(schema: Mapping) -> dict:
    """The schema with the element rules of its big arrays removed (checked by
    :func:`_check_array`) and the record's ``$ref`` inlined (resolving 50 references per record
    took a fifth of the validation)."""
    out = copy.deepcopy(dict(schema))
    defs = out["$defs"]
    for name in _ARRAY_DEFS:
        defs[name] = {k: v for k, v in defs[name].items() if k != "items"}

    def inline(rule):
        if isinstance(rule, dict) and rule.get("$ref", "").startswith("#/$defs/"):
            return defs[rule["$ref"].rsplit("/", 1)[-1]]
        return rule

    model = defs["model"]
    for part in ("properties", "patternProperties"):
        model[part] = {k: inline(v) for k, v in model.get(part, {}).items()}
    bins = model["properties"].get("histogram_bins", {}).get("properties", {})
    for rule in bins.values():
        rule.pop("items", None)  # checked by _check_array as "numbers"
    out["properties"]["metrics"]["items"] = model
    return out


def _array_rule(schema: Mapping, key: str) -> str | None:
    """Which of :data:`_ARRAY_DEFS` a record key follows (by the schema's own properties)."""
    model = schema["$defs"]["model"]
    rule = model.get("properties", {}).get(key)
    if rule is None:
        rule = next(
            (r for p, r in model.get("patternProperties", {}).items() if re.search(p, key)), None
        )
    ref = (rule or {}).get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    return name if name in _ARRAY_DEFS else None


def _check_array(value, rule: str) -> str | None:
    """The problem with one array value under ``rule`` (None when it follows it)."""
    if value is None or value == []:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return "not an array of numbers"
    if rule == "eigenvalues" and (arr.ndim != 2 or arr.shape[1] != 2):
        return f"must be [[re, im], ...], got shape {arr.shape}"
    if rule != "eigenvalues" and arr.ndim != 1:
        return f"must be a flat list, got shape {arr.shape}"
    if not np.all(np.isfinite(arr)):
        return "non-finite number"
    if rule == "counts" and (np.any(arr < 0) or np.any(arr != np.round(arr))):
        return "counts must be non-negative integers"
    return None


def _non_finite_scalars(obj, path="$"):
    """Paths of non-finite floats outside the arrays :func:`_check_array` covers."""
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

    The big numeric arrays of the records (eigenvalue pairs, per-step accuracies, histogram counts:
    the schema's ``eigenvalues``, ``numbers`` and ``counts``) are checked element by element with
    numpy, by the same rules; everything else by :mod:`jsonschema` (validating 1,920 models' arrays
    node by node took a minute). Beyond the schema: no NaN/inf anywhere, ``n_models`` equals the
    number of records, and every record holds every key of
    :func:`vbpipe.results.summary_record_keys` for its ``seq_lengths``.
    """
    import jsonschema

    schema = schema or load_summary_schema()
    validator = jsonschema.Draft202012Validator(_structure_schema(schema))
    problems = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
        for e in sorted(validator.iter_errors(summary), key=lambda e: list(map(str, e.path)))
    ]
    metrics = summary.get("metrics")
    records = metrics if isinstance(metrics, list) else []
    rules: dict[str, str | None] = {}
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            continue
        for key, value in record.items():
            if key not in rules:
                rules[key] = _array_rule(schema, key)
            if key == "histogram_bins" and isinstance(value, Mapping):
                for edges, values in value.items():
                    problem = _check_array(values, "numbers")
                    if problem:
                        problems.append(f"metrics/{i}/{key}/{edges}: {problem}")
            elif rules[key] is None:
                problems += [f"metrics/{i}/{key}{p[1:]}: non-finite number"
                             for p in _non_finite_scalars(value)]  # fmt: skip
            else:
                problem = _check_array(value, rules[key])
                if problem:
                    problems.append(f"metrics/{i}/{key}: {problem}")
        if isinstance(record.get("seq_lengths"), list):
            missing = [k for k in summary_record_keys(record["seq_lengths"]) if k not in record]
            if missing:
                problems.append(f"metrics/{i}: missing keys {missing[:8]}")
    rest = {k: v for k, v in summary.items() if k != "metrics"}
    problems += [f"{p}: non-finite number" for p in _non_finite_scalars(rest)]
    if isinstance(metrics, list) and summary.get("n_models") != len(metrics):
        problems.append(f"n_models is {summary.get('n_models')} but metrics holds {len(metrics)}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise SummaryValidationError(f"evaluation summary is invalid:\n  {shown}{more}")

"""``evaluation_summary.json``: the compatibility export of one experiment's results.

Built from the tidy table and its row arrays (:class:`vbpipe.results.experiment.ExperimentResults`); read back
by :func:`vbpipe.results.summary.experiment_from_summary`. Layout (JSON Schema
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
:func:`vbpipe.results.summary.summary_record_keys` is present. Note: ``spectral_error_deg_seq{L}`` compares
the full ``W_hh`` with Φ; the original compared ``W_sub`` (that is ``spectral_error_sub_deg_seq{L}``).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    pass

from ..fileio import to_jsonable
from ..histograms import ANGLE_EDGES, MAGNITUDE_EDGES, angle_histogram, magnitude_histogram
from .errors import ResultsError
from .experiment import ExperimentResults, experiment_from_metrics
from .records import _parse_constant, array_key, empty_metrics
from .table import (
    _MODEL_SOURCE,
    EVALUATION_COLUMNS,
    LENGTH_COLUMNS,
    MODEL_COLUMNS,
    MODEL_KEY,
    TABLE_COLUMNS,
    TRAINING_COLUMNS,
    _is_missing,
    _plain,
)

PathLike = str | os.PathLike

# ----------------------------------------------------------------------- the summary (export)

SUMMARY_SCHEMA_VERSION = "2.0.0"
#: Model-level keys of a summary record and the table column each comes from.
SUMMARY_MODEL_KEYS = {
    "model_name": "model_name",
    "experiment": "experiment",
    "variant": "variant",
    "seed": "seed",
    "task_label": "task",
    "accuracy": "model_accuracy",
    **{name: name for name, _ in TRAINING_COLUMNS},
    **{name: name for name, _ in EVALUATION_COLUMNS},
    "checkpoint_sha256": "checkpoint_sha256",
    "checkpoint_stamp": "checkpoint_stamp",
    **{name: name for name, _ in MODEL_COLUMNS if name != "model_accuracy"},
}
#: Per-length keys ``{key}_seq{L}`` of a summary record and the table column each comes from.
SUMMARY_LENGTH_KEYS = {name: name for name, _ in LENGTH_COLUMNS if name != "eval_length"}
#: Per-length arrays ``{key}_seq{L}`` of a summary record and the row array each comes from
#: (``eigenvalues_rnn`` is the original's name for the eigenvalues of ``W_sub``).
SUMMARY_LENGTH_ARRAYS = {
    "eigenvalues_rnn": "eigenvalues_sub",
    "eigenvalues_theory": "eigenvalues_theory",
    "eigenvalues_emt": "eigenvalues_emt",
    "accuracy_per_step": "accuracy_per_step",
}
#: Keys derived for the export only (compatibility), never read back.
SUMMARY_DERIVED_MODEL_KEYS = (
    "seq_lengths",
    "params",
    "hidden_dim",
    "input_dim",
    "batch_size",
    "hidden_too_small",
    "accuracy_per_step",
    "eigenvalues_whh",
    "angle_histogram_whh",
    "magnitude_histogram_whh",
    "histogram_bins",
)
SUMMARY_DERIVED_LENGTH_KEYS = (
    "spectral_error_deg",
    "spectral_error_sub_deg",
    "angle_histogram_rnn",
    "magnitude_histogram_rnn",
)
#: Original top-level parameter keys of a summary record (read when there is no ``params``).
SUMMARY_COMPAT_PARAMS = ("hidden_dim", "input_dim", "batch_size")


def summary_record_keys(seq_lengths: Iterable[int]) -> list[str]:
    """Every key of a summary record evaluated at ``seq_lengths``."""
    keys = list(SUMMARY_MODEL_KEYS) + list(SUMMARY_DERIVED_MODEL_KEYS)
    for L in seq_lengths:
        for base in (
            list(SUMMARY_LENGTH_KEYS)
            + list(SUMMARY_LENGTH_ARRAYS)
            + list(SUMMARY_DERIVED_LENGTH_KEYS)
        ):
            keys.append(f"{base}_seq{L}")
    return keys


def _pairs(eig) -> list | None:
    if eig is None:
        return None
    eig = np.asarray(eig, dtype=np.complex128).reshape(-1)
    return np.column_stack([eig.real, eig.imag]).tolist()


def _json_value(value):
    value = _plain(value)
    if _is_missing(value):
        return None
    return value


def _param_from_text(value):
    """A parameter column's value as JSON (lists were stored as JSON text)."""
    value = _json_value(value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def summary_records(results: ExperimentResults) -> list[dict]:
    """The ``metrics[]`` of ``evaluation_summary.json``: one record per model with the original's
    flattened keys (``accuracy``, ``eigenvalues_rnn_seq{L}`` as ``[[re, im], ...]``, ...) plus the
    project's additions. Built from the table and the row arrays alone."""
    table = results.table
    fixed = set(TABLE_COLUMNS)
    param_columns = [c for c in table.columns if c not in fixed]
    records = []
    groups: dict[tuple, list[int]] = {}
    for i, row in enumerate(table[list(MODEL_KEY)].itertuples(index=False)):
        groups.setdefault(tuple(_json_value(v) for v in row), []).append(i)
    rows = table.to_dict("records")
    for indices in groups.values():
        first = rows[indices[0]]
        record = {key: _json_value(first[col]) for key, col in SUMMARY_MODEL_KEYS.items()}
        params = {}
        for column in param_columns:
            key = column[len("param_") :] if column.startswith("param_") else column
            params[key] = _param_from_text(first[column])
        task_id = _json_value(first["task_id"])
        params["task_id"] = None if task_id is None else task_id.split(",")
        params["seed"] = record["seed"]
        lengths = [int(rows[i]["eval_length"]) for i in indices]
        per_step = [results.arrays["accuracy_per_step"][i] for i in indices]
        whh = results.arrays["eigenvalues_whh"][indices[0]]
        record.update(
            {
                "seq_lengths": lengths,
                "params": params,
                **{key: params.get(key) for key in SUMMARY_COMPAT_PARAMS},
                "hidden_too_small": any(bool(rows[i]["hidden_too_small"]) for i in indices),
                "accuracy_per_step": None
                if any(p is None for p in per_step)
                else [float(v) for v in np.mean(per_step, axis=0)],
                "eigenvalues_whh": _pairs(whh),
                "angle_histogram_whh": None if whh is None else angle_histogram(whh).tolist(),
                "magnitude_histogram_whh": None
                if whh is None
                else magnitude_histogram(whh).tolist(),
                "histogram_bins": {
                    "angle": ANGLE_EDGES.tolist(),
                    "magnitude": MAGNITUDE_EDGES.tolist(),
                },
            }
        )
        for i, L in zip(indices, lengths, strict=True):
            row = rows[i]
            sfx = f"_seq{L}"
            for key, column in SUMMARY_LENGTH_KEYS.items():
                record[key + sfx] = _json_value(row[column])
            for key, name in SUMMARY_LENGTH_ARRAYS.items():
                value = results.arrays[name][i]
                if name == "accuracy_per_step":
                    record[key + sfx] = None if value is None else [float(v) for v in value]
                else:
                    record[key + sfx] = _pairs(value)
            for key in ("spectral_error", "spectral_error_sub"):
                rad = record[key + sfx]
                record[f"{key}_deg{sfx}"] = None if rad is None else math.degrees(rad)
            sub = results.arrays["eigenvalues_sub"][i]
            record["angle_histogram_rnn" + sfx] = (
                None if sub is None else angle_histogram(sub).tolist()
            )
            record["magnitude_histogram_rnn" + sfx] = (
                None if sub is None else magnitude_histogram(sub).tolist()
            )
        records.append(record)
    return records


def _complex_from_json(value, where: str):
    if value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ResultsError(f"{where}: malformed eigenvalues: {error}") from error
    if arr.size == 0:
        return np.zeros(0, dtype=np.complex128)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ResultsError(f"{where}: eigenvalues must be [[re, im], ...]; got shape {arr.shape}")
    return arr[:, 0] + 1j * arr[:, 1]


def _metrics_from_summary_record(record: Mapping, where: str) -> tuple[dict, dict]:
    """A metrics record (contract form) and row arrays from one summary record."""
    lengths = record.get("seq_lengths")
    if not isinstance(lengths, list) or not all(isinstance(v, int) for v in lengths):
        raise ResultsError(f"{where}: a summary record needs seq_lengths (a list of integers)")
    metrics = empty_metrics(lengths)
    params = record.get("params")
    if not isinstance(params, dict):
        params = {k: record[k] for k in SUMMARY_COMPAT_PARAMS if k in record}
    metrics["params"] = dict(params)
    for key, column in SUMMARY_MODEL_KEYS.items():
        if column == "task":
            metrics["task_label"] = record.get(key)
            continue
        section, name = _MODEL_SOURCE[column]
        metrics[section][name] = record.get(key)
    metrics["evaluation"]["seq_lengths"] = list(lengths)
    if metrics["identity"]["seed"] is None and "seed" in metrics["params"]:
        metrics["identity"]["seed"] = metrics["params"]["seed"]
    arrays: dict[str, np.ndarray] = {}
    whh = _complex_from_json(record.get("eigenvalues_whh"), f"{where}.eigenvalues_whh")
    if whh is not None:
        arrays["eigenvalues_whh"] = whh
    for entry, L in zip(metrics["lengths"], lengths, strict=True):
        sfx = f"_seq{L}"
        for key, column in SUMMARY_LENGTH_KEYS.items():
            entry[column] = record.get(key + sfx)
        if len(lengths) == 1 and f"accuracy{sfx}" not in record:
            entry["accuracy"] = record.get("accuracy")  # the original's: one length, one accuracy
        for key, name in SUMMARY_LENGTH_ARRAYS.items():
            value = record.get(key + sfx)
            if value is None:
                continue
            if name == "accuracy_per_step":
                arrays[array_key(name, L)] = np.asarray(value, dtype=np.float64)
            else:
                arrays[array_key(name, L)] = _complex_from_json(value, f"{where}.{key}{sfx}")
    return metrics, arrays


def experiment_from_summary(summary: Mapping | PathLike) -> ExperimentResults:
    """:class:`ExperimentResults` from an ``evaluation_summary.json`` (path or parsed). Reads this
    project's export and the original's records (``model_name``, ``accuracy``, ``seq_lengths``,
    ``eigenvalues_rnn_seq{L}``, ...); what a record lacks is missing (null) in the table."""
    source = "summary"
    if not isinstance(summary, Mapping):
        path = Path(summary)
        source = str(path)
        try:
            summary = json.loads(path.read_text(encoding="utf-8"), parse_constant=_parse_constant)
        except FileNotFoundError:
            raise ResultsError(f"{path}: evaluation summary does not exist") from None
        except ValueError as error:
            raise ResultsError(f"{path}: corrupt evaluation summary: {error}") from error
    if not isinstance(summary, Mapping) or not isinstance(summary.get("metrics"), list):
        raise ResultsError(f"{source}: not an evaluation summary (no 'metrics' list)")
    records, arrays = [], []
    for i, record in enumerate(summary["metrics"]):
        if not isinstance(record, Mapping):
            raise ResultsError(f"{source}: metrics[{i}] is not an object")
        metrics, data = _metrics_from_summary_record(record, f"{source}: metrics[{i}]")
        records.append(metrics)
        arrays.append(data)
    meta = {key: summary.get(key) for key in ("timestamp", "evaluation_config", "failed_models")}
    results = experiment_from_metrics(records, arrays, source=source)
    results.meta = meta
    return results


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
    :func:`vbpipe.results.summary.summary_record_keys` for its ``seq_lengths``.
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

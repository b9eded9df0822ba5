"""``evaluation_summary.json``: one experiment's per-model metrics gathered into one versioned
document.

Layout (JSON Schema: ``vbpipe/schemas/evaluation_summary.schema.json``, ``$id``
``urn:vbpipe:schema:evaluation-summary:1.0.0``)::

    {"schema_version": "1.0.0",
     "timestamp": ISO-8601,                 # original key
     "n_models": int,                       # original key: models evaluated (= len(metrics))
     "n_failed": int, "failed_models": [{"model", "error"}],   # models that could not be evaluated
     "evaluation_config": {...},            # original key (metadata, settings, training config)
     "seq_lengths": [L, ...],               # union of the evaluated lengths
     "variants": {variant: config.json or null},
     "metrics": [metrics.json, ...]}        # original key; one record per model, every key present

Records keep the order they are given in (the CLI gives them naturally sorted). No file I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import jsonschema

from . import io
from .evaluate import metric_keys

SUMMARY_SCHEMA_VERSION = "1.0.0"

__all__ = ["SUMMARY_SCHEMA_VERSION", "SummaryValidationError", "build_summary", "validate_summary"]


class SummaryValidationError(ValueError):
    """An evaluation summary that does not follow the schema (the message lists the problems)."""


def build_summary(
    records: Iterable[Mapping],
    evaluation_config: Mapping | None = None,
    failures: Iterable[Mapping] | None = None,
    timestamp: str | None = None,
) -> dict:
    """Assemble the summary from metrics records (JSON-ready dicts, as in ``metrics.json``)."""
    records = [io.to_jsonable(dict(r)) for r in records]
    failures = [
        {"model": str(f.get("model")), "error": str(f.get("error"))} for f in (failures or [])
    ]
    lengths = sorted({int(L) for r in records for L in r.get("seq_lengths") or []})
    variants: dict[str, dict | None] = {}
    for r in records:
        name = r.get("variant") or ""
        if name not in variants or variants[name] is None:
            variants[name] = r.get("variant_params")
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "timestamp": timestamp or datetime.now(UTC).isoformat(timespec="seconds"),
        "n_models": len(records),
        "n_failed": len(failures),
        "failed_models": failures,
        "evaluation_config": io.to_jsonable(dict(evaluation_config or {})),
        "seq_lengths": lengths,
        "variants": variants,
        "metrics": records,
    }


def _non_finite_paths(obj, path="$"):
    if isinstance(obj, float):
        if not math.isfinite(obj):
            yield path
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from _non_finite_paths(value, f"{path}.{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _non_finite_paths(value, f"{path}[{i}]")


def validate_summary(summary: Mapping, schema: Mapping | None = None) -> None:
    """Raise :class:`SummaryValidationError` unless ``summary`` follows the packaged schema.

    Beyond the schema it checks what JSON Schema cannot say: no NaN/inf anywhere, ``n_models``
    equals the number of records, and every record holds every key of
    :func:`vbpipe.evaluation.evaluate.metric_keys` for its ``seq_lengths``.
    """
    schema = schema or io.load_summary_schema()
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
                missing = [k for k in metric_keys(record["seq_lengths"]) if k not in record]
                if missing:
                    problems.append(f"metrics/{i}: missing keys {missing[:8]}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise SummaryValidationError(f"evaluation summary is invalid:\n  {shown}{more}")

"""Turn a parsed ``evaluation_summary.json`` into per-model eigenvalue arrays and metrics.

No file I/O here (see :mod:`vbpipe.analysis.io`). Per-sequence-length keys carry the suffix
``_seq{L}``; the point cloud of a model defaults to ``eigenvalues_rnn_seq{L}`` (the eigenvalues of
``W_sub``). Any other key can be chosen with ``eigenvalue_key``: it is used as given when the model
has it (e.g. ``"eigenvalues_whh"``), otherwise ``"{eigenvalue_key}_seq{L}"`` is tried (so
``"eigenvalues_full"`` selects ``eigenvalues_full_seq8``). Models without a usable point cloud are
skipped with a :class:`MissingDataWarning` naming them; if no model remains a ``ValueError`` is
raised.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "MissingDataWarning",
    "ModelRecord",
    "eigenvalue_key_for",
    "eigenvalues_from_json",
    "metric_key_for",
    "metric_values",
    "select_models",
]

#: Short names accepted by ``--color_by`` and the summary key they stand for (before ``_seq{L}``).
METRIC_ALIASES = {
    "accuracy": "accuracy",
    "frob_error": "frob_relative",
    "spectral_error": "spectral_error_deg",
}


class MissingDataWarning(UserWarning):
    """Some models lack the data a stage needs and were skipped."""


@dataclass
class ModelRecord:
    """One model: its name, eigenvalues (complex 1-D array) and the raw summary entry."""

    name: str
    eigenvalues: np.ndarray
    entry: Mapping = field(repr=False)

    @property
    def accuracy(self) -> float:
        return _as_float(self.entry.get("accuracy"))

    @property
    def variant(self) -> str | None:
        return self.entry.get("variant")


def eigenvalue_key_for(seq_length: int, eigenvalue_key: str | None = None) -> str:
    """The default summary key holding a model's eigenvalues for ``seq_length``."""
    if eigenvalue_key is None:
        return f"eigenvalues_rnn_seq{seq_length}"
    return eigenvalue_key


def _resolve_key(entry: Mapping, key: str, seq_length: int) -> str | None:
    if key in entry:
        return key
    suffixed = f"{key}_seq{seq_length}"
    if suffixed in entry:
        return suffixed
    return None


def eigenvalues_from_json(value) -> np.ndarray:
    """Parse ``[[re, im], ...]`` (or a flat list of reals) into a complex 1-D array.

    Raises ``ValueError`` when the value is empty, malformed or holds non-finite numbers.
    """
    if value is None:
        raise ValueError("no eigenvalues")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"malformed eigenvalues: {exc}") from exc
    if arr.ndim == 2 and arr.shape[1] == 2:
        eig = arr[:, 0] + 1j * arr[:, 1]
    elif arr.ndim == 1:
        eig = arr.astype(complex)
    else:
        raise ValueError(f"eigenvalues must be [[re, im], ...]; got shape {arr.shape}")
    if eig.size == 0:
        raise ValueError("empty eigenvalue list")
    if not np.all(np.isfinite(eig)):
        raise ValueError("non-finite eigenvalues")
    return eig


def select_models(
    summary: Mapping, seq_length: int = 8, eigenvalue_key: str | None = None
) -> list[ModelRecord]:
    """Models of ``summary`` that carry usable eigenvalues, in file order.

    Models lacking the key (or with malformed values) are skipped with one
    :class:`MissingDataWarning` listing them; ``ValueError`` if none remain.
    """
    key = eigenvalue_key_for(seq_length, eigenvalue_key)
    records: list[ModelRecord] = []
    skipped: list[str] = []
    for i, entry in enumerate(summary.get("metrics", [])):
        name = str(entry.get("model_name", f"model-{i}"))
        found = _resolve_key(entry, key, seq_length)
        if found is None:
            skipped.append(f"{name} (no '{key}')")
            continue
        try:
            eig = eigenvalues_from_json(entry[found])
        except ValueError as exc:
            skipped.append(f"{name} ({exc})")
            continue
        records.append(ModelRecord(name=name, eigenvalues=eig, entry=entry))
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} model(s) without usable eigenvalues: " + ", ".join(skipped),
            MissingDataWarning,
            stacklevel=2,
        )
    if not records:
        raise ValueError(
            f"no model in the summary has usable eigenvalues under '{key}' "
            f"(seq_length={seq_length}); {len(skipped)} model(s) skipped"
        )
    return records


def metric_key_for(name: str, seq_length: int) -> str:
    """Summary key for a metric name: aliases (``frob_error`` -> ``frob_relative_seq{L}``, ...)."""
    base = METRIC_ALIASES.get(name, name)
    return base if base == "accuracy" else f"{base}_seq{seq_length}"


def _as_float(value) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def metric_values(
    records: Sequence[ModelRecord], name: str, seq_length: int
) -> tuple[np.ndarray, str]:
    """Values of metric ``name`` per model (``null``/missing -> NaN) and the key that was used.

    ``name`` may be an alias (``accuracy``, ``frob_error``, ``spectral_error``) or any numeric
    key of the summary entries, with or without the ``_seq{L}`` suffix. Raises ``ValueError``
    when no model has the key at all, or when its values are not numbers.
    """
    candidates = [metric_key_for(name, seq_length), name, f"{name}_seq{seq_length}"]
    key = next((k for k in candidates if any(k in r.entry for r in records)), None)
    if key is None:
        raise ValueError(f"no model has a metric '{name}' (tried {', '.join(candidates)})")
    values = []
    for r in records:
        raw = r.entry.get(key)
        if isinstance(raw, bool) or (raw is not None and not isinstance(raw, (int, float))):
            raise ValueError(f"metric '{key}' of {r.name} is not a number: {raw!r}")
        values.append(_as_float(raw))
    return np.asarray(values, dtype=float), key

"""The tidy table: one row per model and evaluated length, typed columns, and its CSV form."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from .errors import ResultsError

PathLike = str | os.PathLike

# ------------------------------------------------------------------------------------ the table

#: Fixed columns of the tidy table and their kinds (``str``, ``int``, ``float``, ``bool``); the
#: training parameters follow ``task_id`` (one column each; kind from their values, lists as JSON
#: text; ``task_id`` as ``"t1,t2,t3"``).
IDENTITY_COLUMNS = (
    ("experiment", "str"),
    ("variant", "str"),
    ("seed", "int"),
    ("model_name", "str"),
)
TASK_COLUMNS = (("task", "str"), ("task_id", "str"))
TRAINING_COLUMNS = (
    ("converged", "bool"),
    ("diverged", "bool"),
    ("diverged_at_step", "int"),
    ("early_stopped", "bool"),
    ("train_steps", "int"),
    ("train_horizon", "int"),
    ("train_accuracy", "float"),
    ("train_loss", "float"),
    ("curriculum_level", "int"),
    ("train_wall_seconds", "float"),
)
EVALUATION_COLUMNS = (
    ("test_horizon", "int"),
    ("n_test_batches", "int"),
    ("test_batch_size", "int"),
    ("n_test_sequences", "int"),
    ("unit_threshold", "float"),
)
CHECKPOINT_COLUMNS = (("checkpoint_sha256", "str"), ("checkpoint_stamp", "str"))
MODEL_COLUMNS = (
    ("model_accuracy", "float"),
    ("solved", "bool"),
    ("weights_finite", "bool"),
    ("accuracy_within_train_horizon", "float"),
    ("accuracy_beyond_train_horizon", "float"),
    ("spectral_radius_whh", "float"),
    ("n_unit_circle_whh", "int"),
)
LENGTH_COLUMNS = (
    ("eval_length", "int"),
    ("memory_dim", "int"),
    ("accuracy", "float"),
    ("hidden_too_small", "bool"),
    ("spectral_error", "float"),
    ("spectral_error_max", "float"),
    ("n_unit_circle_rnn", "int"),
    ("n_unit_circle_theory", "int"),
    ("unit_circle_count_mismatch", "int"),
    ("n_unit_circle_sub", "int"),
    ("spectral_error_sub", "float"),
    ("variance_ratio", "float"),
    ("frob_error", "float"),
    ("frob_relative", "float"),
    ("emt_phi_error", "float"),
    ("emt_phi_relative_error", "float"),
    ("emt_n_kept", "int"),
    ("emt_n_residual", "int"),
)
FIXED_COLUMNS = (
    IDENTITY_COLUMNS
    + TASK_COLUMNS
    + TRAINING_COLUMNS
    + EVALUATION_COLUMNS
    + CHECKPOINT_COLUMNS
    + MODEL_COLUMNS
    + LENGTH_COLUMNS
)
COLUMN_KINDS = dict(FIXED_COLUMNS)
#: Every fixed column in table order (the parameter columns sit between ``task_id`` and
#: ``converged``).
TABLE_COLUMNS = tuple(name for name, _ in FIXED_COLUMNS)
#: Columns that identify a model (a model has one row per evaluated length).
MODEL_KEY = ("experiment", "variant", "seed", "model_name")
#: Parameters that are not parameter columns (they are identity / task columns).
_PARAM_SKIP = ("seed", "task_id")
#: Parameters a checkpoint leaves out at their default (vbpipe.config.training.CONTROL_DEFAULTS):
#: always a column, the default where a model's record lacks it, so that a linear or
#: circuit-initialised control sits in the same table as the models trained before the keys.
PARAM_DEFAULTS = {"activation": "tanh", "init": "random"}
#: Model-level columns whose metrics source is not ``model``/``training``/``evaluation``.
_MODEL_SOURCE = {"model_accuracy": ("model", "accuracy")}
_MODEL_SOURCE.update(
    {name: ("model", name) for name, _ in MODEL_COLUMNS if name != "model_accuracy"}
)
_MODEL_SOURCE.update({name: ("training", name) for name, _ in TRAINING_COLUMNS})
_MODEL_SOURCE.update({name: ("evaluation", name) for name, _ in EVALUATION_COLUMNS})
_MODEL_SOURCE.update({"checkpoint_sha256": ("checkpoint", "sha256")})
_MODEL_SOURCE.update({"checkpoint_stamp": ("checkpoint", "stamp")})
_MODEL_SOURCE.update({name: ("identity", name) for name, _ in IDENTITY_COLUMNS})

_INT_TEXT = re.compile(r"[+-]?\d+")


def _to_text(value) -> str | None:
    """The one text form of a table cell (CSV and in-memory tables are both parsed from it)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _infer_kind(texts: Sequence[str | None]) -> str:
    present = [t for t in texts if t is not None]
    if not present:
        return "str"
    if all(t in ("True", "False") for t in present):
        return "bool"
    if all(_INT_TEXT.fullmatch(t) for t in present):
        return "int"
    try:
        values = [float(t) for t in present]
    except ValueError:
        return "str"
    return "float" if all(math.isfinite(v) for v in values) else "str"


def _parse_column(texts: Sequence[str | None], kind: str):
    """A typed pandas column from its texts (``None`` = missing)."""
    import pandas as pd

    if kind == "int":
        return pd.array([None if t is None else int(t) for t in texts], dtype="Int64")
    if kind == "float":
        return np.array([np.nan if t is None else float(t) for t in texts], dtype=np.float64)
    if kind == "bool":
        return pd.array([None if t is None else t == "True" for t in texts], dtype="boolean")
    return np.array(list(texts), dtype=object)


def _frame_from_texts(columns: Mapping[str, Sequence[str | None]]) -> pd.DataFrame:
    import pandas as pd

    data = {}
    for name, texts in columns.items():
        kind = COLUMN_KINDS.get(name) or _infer_kind(texts)
        data[name] = _parse_column(texts, kind)
    return pd.DataFrame(data)


def _param_columns(records: Sequence[Mapping]) -> list[str]:
    names: list[str] = []
    for record in records:
        for key in record["params"]:
            if key not in _PARAM_SKIP and key not in names:
                names.append(key)
    return names + [key for key in PARAM_DEFAULTS if records and key not in names]


def _param_column_name(key: str) -> str:
    return f"param_{key}" if key in COLUMN_KINDS else key


def column_order(param_columns: Sequence[str]) -> list[str]:
    """The table's column order for these parameter columns."""
    head = [name for name, _ in IDENTITY_COLUMNS + TASK_COLUMNS]
    return head + list(param_columns) + [c for c in TABLE_COLUMNS if c not in head]


def table_rows(records: Sequence[Mapping]) -> tuple[list[dict], list[str]]:
    """Python-valued rows (one per model and evaluated length) and the parameter column names."""
    params = _param_columns(records)
    rows = []
    for record in records:
        base = {}
        for column, (section, key) in _MODEL_SOURCE.items():
            base[column] = record[section][key]
        base["task"] = record["task_label"]
        task_id = record["params"].get("task_id")
        base["task_id"] = None if task_id is None else ",".join(str(t) for t in task_id)
        for key in params:
            base[_param_column_name(key)] = record["params"].get(key, PARAM_DEFAULTS.get(key))
        for entry in record["lengths"]:
            rows.append({**base, **{name: entry[name] for name, _ in LENGTH_COLUMNS}})
    return rows, [_param_column_name(k) for k in params]


def records_to_table(records: Sequence[Mapping]) -> pd.DataFrame:
    """The tidy table of validated metrics records (kept in the given order)."""
    rows, params = table_rows(records)
    order = column_order(params)
    return _frame_from_texts({c: [_to_text(r.get(c)) for r in rows] for c in order})


def _frame_texts(table: pd.DataFrame) -> dict[str, list[str | None]]:
    out = {}
    for name in table.columns:
        out[name] = [None if _is_missing(v) else _to_text(_plain(v)) for v in table[name].tolist()]
    return out


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, dict, tuple)) else False
    except (TypeError, ValueError):
        return False


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_table(table: pd.DataFrame, path: PathLike) -> Path:
    """Write the tidy table as CSV (atomically), in the text form :func:`read_table` parses."""
    import csv
    import io

    from ..fileio import write_text

    texts = _frame_texts(table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(texts))
    for row in zip(*texts.values(), strict=True):
        writer.writerow(["" if v is None else v for v in row])
    return write_text(path, buffer.getvalue())


def read_table(path: PathLike) -> pd.DataFrame:
    """Read ``evaluation_table.csv`` back into the typed table."""
    import csv

    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise ResultsError(f"{path}: evaluation table does not exist") from None
    if not rows:
        raise ResultsError(f"{path}: empty evaluation table (no header)")
    header, body = rows[0], rows[1:]
    missing = [c for c in TABLE_COLUMNS if c not in header]
    if missing:
        raise ResultsError(f"{path}: not a vbpipe evaluation table (lacks columns {missing[:5]})")
    if any(len(r) != len(header) for r in body):
        raise ResultsError(f"{path}: corrupt evaluation table (rows of unequal length)")
    columns = {name: [r[i] if r[i] != "" else None for r in body] for i, name in enumerate(header)}
    try:
        return _frame_from_texts(columns)
    except ValueError as error:
        raise ResultsError(f"{path}: corrupt evaluation table: {error}") from error

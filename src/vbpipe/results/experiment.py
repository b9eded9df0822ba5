"""One experiment's results in memory (:class:`ExperimentResults`: the tidy table and its row
arrays) and every way to load them: per-model results, the aggregated table and arrays, a summary."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from .errors import ResultsError
from .layout import ARRAYS_NAME, METRICS_NAME, checkpoint_of_results
from .records import ModelIdentity, array_key, check_not_stale, read_metrics, read_model_arrays
from .table import MODEL_KEY, _is_missing, _plain, read_table, records_to_table, write_table

PathLike = str | os.PathLike

#: Which eigenvalues an analysis uses: the row array each name selects (see :data:`ROW_ARRAYS`).
SPECTRA = {
    "subspace": "eigenvalues_sub",  # eig(W_sub), W_sub = U_kᵀ W_hh U_k: the original's choice
    "full": "eigenvalues_whh",  # the full spectrum of W_hh
    "emt": "eigenvalues_emt",  # eig of the empirical Φ on the kept memory dimensions
    "theory": "eigenvalues_theory",  # eig(Φ) of the task
}

# ------------------------------------------------------------------------ experiment results

#: Arrays of the experiment-level results, one per table row (``None`` where not applicable):
#: complex eigenvalues and the per-step accuracy at the row's length.
ROW_ARRAYS = (
    "eigenvalues_whh",
    "eigenvalues_sub",
    "eigenvalues_theory",
    "eigenvalues_emt",
    "accuracy_per_step",
)
_ROW_DTYPES = {name: np.complex128 for name in ROW_ARRAYS} | {"accuracy_per_step": np.float64}


def _row_key(row: Mapping) -> str:
    parts = [
        row.get("experiment"),
        row.get("variant"),
        row.get("model_name"),
        row.get("eval_length"),
    ]
    return "/".join("" if _is_missing(p) else str(_plain(p)) for p in parts)


@dataclass
class ExperimentResults:
    """One experiment's evaluation: the tidy ``table`` (one row per model and evaluated length)
    and, aligned with its rows, the arrays of :data:`ROW_ARRAYS`."""

    table: pd.DataFrame
    arrays: dict[str, list[np.ndarray | None]]
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.table = self.table.reset_index(drop=True)
        n = len(self.table)
        for name in ROW_ARRAYS:
            values = list(self.arrays.get(name) or [None] * n)
            if len(values) != n:
                raise ResultsError(f"{self.source}: {name} has {len(values)} rows, table {n}")
            self.arrays[name] = [
                None if v is None else np.asarray(v, dtype=_ROW_DTYPES[name]).reshape(-1)
                for v in values
            ]

    def __len__(self) -> int:
        return len(self.table)

    @property
    def n_models(self) -> int:
        return len(self.models())

    @property
    def seq_lengths(self) -> list[int]:
        return sorted(int(v) for v in self.table["eval_length"].dropna().unique())

    def models(self) -> pd.DataFrame:
        """One row per model (its first evaluated length), in table order."""
        return self.table.drop_duplicates(list(MODEL_KEY), keep="first")

    def subset(self, mask) -> ExperimentResults:
        """The rows where ``mask`` (a boolean array or Series over the rows) holds."""
        keep = np.flatnonzero(np.asarray(mask, dtype=bool))
        arrays = {name: [self.arrays[name][i] for i in keep] for name in ROW_ARRAYS}
        return ExperimentResults(self.table.iloc[keep], arrays, self.source, dict(self.meta))

    def at_length(self, seq_length: int | None) -> ExperimentResults:
        """The rows evaluated at ``seq_length``; ``None``: each model's longest evaluated length
        (for experiments whose variants were trained at different lengths)."""
        lengths = self.table["eval_length"]
        if seq_length is None:
            keys = [self.table[c] for c in MODEL_KEY]  # a run without variants has none
            longest = lengths.groupby(keys, dropna=False).transform("max")
            return self.subset((lengths == longest).fillna(False))
        return self.subset((lengths == int(seq_length)).fillna(False))

    def spectrum(self, kind: str) -> list[np.ndarray | None]:
        """The per-row eigenvalues of a :data:`SPECTRA` kind (``subspace``, ``full``, ...)."""
        if kind not in SPECTRA:
            raise ResultsError(f"unknown spectrum {kind!r}; choose from {sorted(SPECTRA)}")
        return self.arrays[SPECTRA[kind]]

    def equals(self, other: ExperimentResults) -> bool:
        """Same table (values and dtypes) and the same arrays, exactly."""
        if not self.table.equals(other.table) or list(self.table.dtypes) != list(
            other.table.dtypes
        ):
            return False
        for name in ROW_ARRAYS:
            for a, b in zip(self.arrays[name], other.arrays[name], strict=True):
                if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
                    return False
        return True

    def write(self, table_path: PathLike, arrays_path: PathLike) -> list[Path]:
        """Write ``evaluation_table.csv`` and ``evaluation_arrays.npz``."""
        from ..fileio import write_npz

        payload = {"row_key": np.array([_row_key(r) for r in self._records()], dtype=str)}
        for name in ROW_ARRAYS:
            values = self.arrays[name]
            present = np.array([v is not None for v in values], dtype=bool)
            sizes = [0 if v is None else v.size for v in values]
            offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            parts = [v for v in values if v is not None]
            flat = np.concatenate(parts) if parts else np.zeros(0)
            payload[f"{name}__values"] = flat.astype(_ROW_DTYPES[name])
            payload[f"{name}__offsets"] = offsets
            payload[f"{name}__present"] = present
        return [write_table(self.table, table_path), write_npz(arrays_path, payload)]

    def _records(self) -> list[dict]:
        return self.table.to_dict("records")


def load_experiment(table_path: PathLike, arrays_path: PathLike) -> ExperimentResults:
    """Read an experiment's ``evaluation_table.csv`` and ``evaluation_arrays.npz``."""
    table = read_table(table_path)
    data = read_model_arrays(arrays_path)
    keys = data.get("row_key")
    expected = np.array([_row_key(r) for r in table.to_dict("records")], dtype=str)
    if keys is None or keys.shape != expected.shape or not np.array_equal(keys, expected):
        raise ResultsError(
            f"{arrays_path}: its rows do not match {table_path} (written by another aggregation?)"
        )
    arrays = {}
    for name in ROW_ARRAYS:
        try:
            flat = data[f"{name}__values"]
            offsets = data[f"{name}__offsets"]
            present = data[f"{name}__present"]
        except KeyError as error:
            raise ResultsError(f"{arrays_path}: lacks {error.args[0]}") from None
        arrays[name] = [
            flat[offsets[i] : offsets[i + 1]] if present[i] else None for i in range(len(table))
        ]
    return ExperimentResults(table, arrays, source=str(table_path))


def experiment_from_metrics(
    records: Sequence[Mapping], model_arrays: Sequence[Mapping[str, np.ndarray]], source=""
) -> ExperimentResults:
    """Build the table and row arrays from metrics records and their ``arrays.npz`` contents."""
    table = records_to_table(records)
    arrays: dict[str, list] = {name: [] for name in ROW_ARRAYS}
    for record, data in zip(records, model_arrays, strict=True):
        for entry in record["lengths"]:
            L = entry["eval_length"]
            arrays["eigenvalues_whh"].append(data.get("eigenvalues_whh"))
            for name in ROW_ARRAYS[1:]:
                arrays[name].append(data.get(array_key(name, L)))
    return ExperimentResults(table, arrays, source=source)


def model_row_array_keys(seq_lengths: Iterable[int]) -> list[str]:
    """The ``arrays.npz`` keys the experiment-level arrays are built from."""
    keys = ["eigenvalues_whh"]
    for L in seq_lengths:
        keys += [array_key(name, L) for name in ROW_ARRAYS[1:]]
    return keys


def read_model_results(
    results_dirs: Sequence[PathLike],
    checkpoints: Sequence[PathLike] | None = None,
    verify_checkpoints: bool = True,
) -> tuple[list[dict], list[dict[str, np.ndarray]]]:
    """Validated records and their row arrays from explicit results directories, naturally sorted
    by identity. With ``verify_checkpoints`` each record must belong to its checkpoint as it is
    now (``checkpoints[i]``, default: the layout's ``../checkpoint/model.pt``):
    :class:`StaleResultError` otherwise. Two records of one identity are an error."""
    dirs = [Path(d) for d in results_dirs]
    if checkpoints is not None and len(checkpoints) != len(dirs):
        raise ResultsError(f"{len(dirs)} results directories but {len(checkpoints)} checkpoints")
    loaded = []
    seen: dict[tuple, Path] = {}
    for i, directory in enumerate(dirs):
        metrics_path = directory / METRICS_NAME
        record = read_metrics(metrics_path)
        identity = ModelIdentity.from_mapping(record["identity"])
        key = (identity.experiment, identity.variant, identity.seed, identity.model_name)
        if key in seen:
            raise ResultsError(f"{metrics_path}: {identity.label} is also in {seen[key]}")
        seen[key] = metrics_path
        if verify_checkpoints:
            checkpoint = checkpoints[i] if checkpoints is not None else None
            check_not_stale(record, checkpoint or checkpoint_of_results(directory), metrics_path)
        lengths = record["evaluation"]["seq_lengths"]
        data = read_model_arrays(directory / ARRAYS_NAME, model_row_array_keys(lengths))
        loaded.append((identity.sort_key(), record, data))
    loaded.sort(key=lambda item: item[0])
    return [r for _, r, _ in loaded], [a for _, _, a in loaded]


def experiment_from_model_results(
    results_dirs: Sequence[PathLike],
    checkpoints: Sequence[PathLike] | None = None,
    verify_checkpoints: bool = True,
) -> ExperimentResults:
    """:class:`ExperimentResults` straight from per-model results (see
    :func:`read_model_results`)."""
    records, arrays = read_model_results(results_dirs, checkpoints, verify_checkpoints)
    return experiment_from_metrics(records, arrays, source="model results")


def as_experiment(source) -> ExperimentResults:
    """An :class:`ExperimentResults` from itself, a ``(table, arrays)`` pair of paths, or the path
    of an ``evaluation_summary.json`` (a ``.json`` file)."""
    if isinstance(source, ExperimentResults):
        return source
    if isinstance(source, (tuple, list)) and len(source) == 2:
        return load_experiment(*source)
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix == ".json":
        from .summary import experiment_from_summary

        return experiment_from_summary(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        what = "is a directory" if path.is_dir() else "is not a .json file"
        if not path.exists():
            what = "does not exist"
        raise ResultsError(
            f"{path}: {what}; give an experiment's evaluation_summary.json (e.g. "
            "results/quick/evaluation_summary.json) or its evaluation_table.csv with "
            "evaluation_arrays.npz"
        )
    raise ResultsError(
        f"{source!r}: give an evaluation_summary.json, or an (evaluation_table.csv, "
        "evaluation_arrays.npz) pair"
    )

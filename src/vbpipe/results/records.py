"""``metrics.json``: its schema, reading and validation; the evaluation settings and model identity
that a record carries; checkpoint fingerprints (which checkpoint a record was computed from)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    pass

from ..constants import DEFAULT_UNIT_THRESHOLD
from ..sidecar import file_sha256, read_sidecar
from .errors import ResultsError, StaleResultError
from .layout import model_dirname, natural_key

PathLike = str | os.PathLike

# --------------------------------------------------------------------------- settings, identity


#: Inclusive bounds of the evaluation's integer settings, stated once: the config's evaluation
#: section (:class:`vbpipe.config.sections.EvaluationSection`) and the command line check these.
EVALUATION_INT_BOUNDS = {
    "test_horizon": (1, 100_000),
    "n_batches": (1, 10_000),
    "batch_size": (1, 65_536),
}
#: Exclusive bounds of ``unit_threshold``.
UNIT_THRESHOLD_BOUNDS = (0, 2)


@dataclass(frozen=True)
class EvaluationSettings:
    """What an evaluation computes with (a change means re-evaluation). Figure-only settings
    (``magnitude_threshold``, ``figures``) are not evaluation inputs. Bounds:
    :data:`EVALUATION_INT_BOUNDS`, :data:`UNIT_THRESHOLD_BOUNDS`."""

    test_horizon: int = 200
    n_batches: int = 10
    batch_size: int = 64
    unit_threshold: float = DEFAULT_UNIT_THRESHOLD
    seq_lengths: tuple[int, ...] | None = None

    def __post_init__(self):
        for key, (low, high) in EVALUATION_INT_BOUNDS.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ResultsError(
                    f"evaluation setting {key}: an integer in [{low}, {high}], got {value!r}"
                )
        low, high = UNIT_THRESHOLD_BOUNDS
        threshold = self.unit_threshold
        if (
            not isinstance(threshold, (int, float))
            or isinstance(threshold, bool)
            or not low < threshold < high
        ):
            raise ResultsError(
                f"unit_threshold: a number in ({low:g}, {high:g}), got {threshold!r}"
            )
        object.__setattr__(self, "unit_threshold", float(self.unit_threshold))
        if self.seq_lengths is not None:
            lengths = sorted({int(v) for v in self.seq_lengths})
            if not lengths or lengths[0] < 1:
                raise ResultsError(f"seq_lengths: positive integers, got {self.seq_lengths!r}")
            object.__setattr__(self, "seq_lengths", tuple(lengths))

    @classmethod
    def from_mapping(cls, mapping: Mapping | EvaluationSettings | None) -> EvaluationSettings:
        """From a dict of settings; an unknown key is an error that lists the known ones."""
        if mapping is None:
            return cls()
        if isinstance(mapping, EvaluationSettings):
            return mapping
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ResultsError(
                f"unknown evaluation setting(s) {unknown}; known: {sorted(known)} "
                "(figure-only settings such as magnitude_threshold are not evaluation inputs)"
            )
        return cls(**dict(mapping))

    def as_dict(self) -> dict:
        return {
            "test_horizon": self.test_horizon,
            "n_batches": self.n_batches,
            "batch_size": self.batch_size,
            "unit_threshold": self.unit_threshold,
            "seq_lengths": None if self.seq_lengths is None else list(self.seq_lengths),
        }


@dataclass(frozen=True)
class ModelIdentity:
    """Who a model is: given explicitly by the caller, never read from directory names."""

    experiment: str | None
    variant: str | None
    seed: int
    model_name: str = ""

    def __post_init__(self):
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise ResultsError(f"model identity: seed must be an integer, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        if not self.model_name:
            object.__setattr__(self, "model_name", model_dirname(self.seed))

    @classmethod
    def from_mapping(cls, mapping: Mapping | ModelIdentity) -> ModelIdentity:
        if isinstance(mapping, ModelIdentity):
            return mapping
        missing = [k for k in ("experiment", "variant", "seed") if k not in mapping]
        if missing:
            raise ResultsError(f"model identity {dict(mapping)!r} lacks {missing}")
        return cls(
            mapping["experiment"], mapping["variant"], mapping["seed"], mapping.get("model_name")
        )

    def as_dict(self) -> dict:
        return {
            "experiment": self.experiment,
            "variant": self.variant,
            "seed": self.seed,
            "model_name": self.model_name,
        }

    @property
    def label(self) -> str:
        """``variant/model-{seed}`` (the model name alone when there is no variant)."""
        return f"{self.variant}/{self.model_name}" if self.variant else self.model_name

    def sort_key(self):
        return (natural_key(self.experiment), natural_key(self.variant), self.seed)


@dataclass(frozen=True)
class EvaluationJob:
    """One model of an evaluation block: its checkpoint, where its results go, who it is."""

    checkpoint: Path
    results_dir: Path
    identity: ModelIdentity

    @classmethod
    def coerce(cls, item) -> EvaluationJob:
        """From an :class:`EvaluationJob`, a ``(checkpoint, results_dir, identity)`` tuple or a
        mapping with those keys (``identity`` a :class:`ModelIdentity` or a mapping)."""
        if isinstance(item, EvaluationJob):
            return item
        if isinstance(item, Mapping):
            item = (item["checkpoint"], item["results_dir"], item["identity"])
        checkpoint, results_dir, identity = item
        return cls(Path(checkpoint), Path(results_dir), ModelIdentity.from_mapping(identity))


# ------------------------------------------------------------------------------ metrics records

METRICS_FORMAT = "vbpipe-metrics"
METRICS_VERSION = 2
IDENTITY_FIELDS = ("experiment", "variant", "seed", "model_name")
CHECKPOINT_FIELDS = ("sha256", "stamp", "size")
#: Training outcome, from the checkpoint (``steps`` → ``train_steps`` and so on).
TRAINING_FIELDS = (
    "converged",
    "diverged",
    "diverged_at_step",
    "early_stopped",
    "train_steps",
    "train_horizon",
    "train_accuracy",
    "train_loss",
    "curriculum_level",
    "train_wall_seconds",
)
#: Where each training field comes from in the checkpoint's ``outcome``.
OUTCOME_KEYS = {
    "converged": "converged",
    "diverged": "diverged",
    "diverged_at_step": "diverged_at_step",
    "early_stopped": "early_stopped",
    "train_steps": "steps",
    "train_horizon": "horizon",
    "train_accuracy": "train_accuracy",
    "train_loss": "train_loss",
    "curriculum_level": "curriculum_level",
    "train_wall_seconds": "wall_seconds",
}
EVALUATION_FIELDS = (
    "test_horizon",
    "n_test_batches",
    "test_batch_size",
    "n_test_sequences",
    "unit_threshold",
    "seq_lengths",
    "device",
    "dtype",
    "vbpipe_version",
    "seconds",
)
MODEL_FIELDS = (
    "accuracy",  # bit accuracy over the test set, mean over the evaluated lengths
    "solved",  # accuracy > SOLVED_ACCURACY
    "weights_finite",
    "hidden_too_small",  # N < L·d at some evaluated length
    "accuracy_within_train_horizon",  # per-step accuracy split at the last training horizon
    "accuracy_beyond_train_horizon",
    "spectral_radius_whh",
    "n_unit_circle_whh",  # #|λ(W_hh)| > unit_threshold
)
LENGTH_FIELDS = (
    "eval_length",
    "memory_dim",  # L·d
    "accuracy",
    "hidden_too_small",
    "spectral_error",  # radians: full W_hh vs Φ, optimal matching of the unit-circle angles
    "spectral_error_max",
    "n_unit_circle_rnn",  # of W_hh (the count that comparison used)
    "n_unit_circle_theory",  # of Φ
    "unit_circle_count_mismatch",  # rnn − theory
    "n_unit_circle_sub",  # of W_sub = U_kᵀ W_hh U_k
    "spectral_error_sub",  # radians: W_sub vs Φ (what the original reported)
    "variance_ratio",
    "frob_error",
    "frob_relative",
    "emt_phi_error",  # ‖Ψ* W_hh Ψ − Φ‖_F on the kept memory dimensions
    "emt_phi_relative_error",
    "emt_n_kept",
    "emt_n_residual",
)
METRICS_SECTIONS = {
    "identity": IDENTITY_FIELDS,
    "checkpoint": CHECKPOINT_FIELDS,
    "training": TRAINING_FIELDS,
    "evaluation": EVALUATION_FIELDS,
    "model": MODEL_FIELDS,
}
METRICS_TOP = (
    "format",
    "format_version",
    "identity",
    "checkpoint",
    "params",
    "task_label",
    "training",
    "evaluation",
    "model",
    "lengths",
)

#: Optional top-level key (absent in results from before it): where the model was trained and
#: evaluated (git commit, host, device, Slurm job, versions; :mod:`vbpipe.provenance`). A record
#: beside the result, never an input: nothing is recomputed when it changes.
PROVENANCE_KEY = "provenance"
PROVENANCE_PARTS = ("evaluation", "training")

#: Arrays of ``arrays.npz`` for the whole model.
MODEL_ARRAYS = ("accuracy_per_step", "eigenvalues_whh", "singular_values_whh")
#: Arrays of ``arrays.npz`` per evaluated length, stored as ``{name}_seq{L}``.
LENGTH_ARRAYS = (
    "accuracy_per_step",
    "sample_inputs",
    "sample_target",
    "sample_prediction",
    "operator",  # F (L·d × d); Φ follows from it (vbpipe.taskspec.theory_phi)
    "eigenvalues_theory",
    "eigenvalues_sub",
    "kept",
    "psi",
    "psi_dual",
    "phi_empirical",
    "eigenvalues_emt",
    "figure3_inputs",
    "memory_trajectory",
    "memory_snapshots",
    "memory_snapshot_steps",
)
#: Arrays that exist only when the weights are finite (a diverged model has no spectrum).
FINITE_ONLY_ARRAYS = (
    "eigenvalues_whh",
    "singular_values_whh",
    "eigenvalues_sub",
    "kept",
    "psi",
    "psi_dual",
    "phi_empirical",
    "eigenvalues_emt",
    "figure3_inputs",
    "memory_trajectory",
    "memory_snapshots",
    "memory_snapshot_steps",
)


def array_key(name: str, seq_length: int | None = None) -> str:
    """Key of an array in ``arrays.npz``: ``name`` or ``{name}_seq{L}``."""
    return name if seq_length is None else f"{name}_seq{seq_length}"


def empty_metrics(seq_lengths: Sequence[int]) -> dict:
    """A metrics record with every field present and ``None``: the skeleton evaluation fills."""
    record = {key: None for key in METRICS_TOP}
    record.update(format=METRICS_FORMAT, format_version=METRICS_VERSION, params={})
    for section, fields in METRICS_SECTIONS.items():
        record[section] = dict.fromkeys(fields)
    record["lengths"] = [dict.fromkeys(LENGTH_FIELDS) | {"eval_length": L} for L in seq_lengths]
    return record


def _check_number(value, where: str, path) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ResultsError(f"{path}: {where} is not finite")


def validate_metrics(record, path: PathLike = "metrics.json") -> dict:
    """Check a parsed ``metrics.json`` against the contract; :class:`ResultsError` names the file
    and the first problem. Returns the record."""
    if not isinstance(record, dict) or record.get("format") != METRICS_FORMAT:
        raise ResultsError(f"{path}: not a vbpipe metrics file (no format={METRICS_FORMAT!r})")
    version = record.get("format_version")
    if version != METRICS_VERSION:
        raise ResultsError(
            f"{path}: metrics format_version {version!r}, this vbpipe reads {METRICS_VERSION}: "
            "re-evaluate the model"
        )
    missing = [key for key in METRICS_TOP if key not in record]
    if missing:
        raise ResultsError(f"{path}: lacks {missing}")
    for section, fields in METRICS_SECTIONS.items():
        part = record[section]
        if not isinstance(part, dict):
            raise ResultsError(f"{path}: {section} is not an object")
        missing = [f for f in fields if f not in part]
        if missing:
            raise ResultsError(f"{path}: {section} lacks {missing}")
        for key in fields:
            _check_number(part[key], f"{section}.{key}", path)
    if not isinstance(record["params"], dict):
        raise ResultsError(f"{path}: params is not an object")
    seed = record["identity"]["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ResultsError(f"{path}: identity.seed is not an integer")
    lengths = record["evaluation"]["seq_lengths"]
    entries = record["lengths"]
    if not isinstance(lengths, list) or not isinstance(entries, list):
        raise ResultsError(f"{path}: evaluation.seq_lengths and lengths must be lists")
    if [e.get("eval_length") if isinstance(e, dict) else None for e in entries] != lengths:
        raise ResultsError(f"{path}: lengths[] does not follow evaluation.seq_lengths {lengths}")
    for i, entry in enumerate(entries):
        missing = [f for f in LENGTH_FIELDS if f not in entry]
        if missing:
            raise ResultsError(f"{path}: lengths[{i}] lacks {missing}")
        for key in LENGTH_FIELDS:
            _check_number(entry[key], f"lengths[{i}].{key}", path)
    provenance = record.get(PROVENANCE_KEY)
    if provenance is not None and (
        not isinstance(provenance, dict) or sorted(provenance) != list(PROVENANCE_PARTS)
    ):
        raise ResultsError(f"{path}: provenance must be an object of {list(PROVENANCE_PARTS)}")
    return record


def metrics_provenance(record: Mapping) -> dict:
    """``{"evaluation": ..., "training": ...}`` of a metrics record: where the model was trained
    and evaluated (:mod:`vbpipe.provenance`); each None when not recorded (older results)."""
    provenance = record.get(PROVENANCE_KEY) or {}
    return {part: provenance.get(part) for part in PROVENANCE_PARTS}


def _parse_constant(name):
    raise ValueError(f"{name} is not allowed")


def read_metrics(path: PathLike) -> dict:
    """Read and validate one ``metrics.json`` (:class:`ResultsError` when missing or corrupt)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: metrics file does not exist (evaluate the model)") from None
    except OSError as error:
        raise ResultsError(f"{path}: cannot be read: {error}") from error
    try:
        record = json.loads(text, parse_constant=_parse_constant)
    except ValueError as error:
        raise ResultsError(f"{path}: corrupt metrics file (not valid JSON: {error})") from error
    return validate_metrics(record, path)


def read_model_arrays(path: PathLike, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Arrays of one ``arrays.npz`` (only ``keys`` when given; absent keys are skipped)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            names = data.files if keys is None else [k for k in keys if k in data.files]
            return {k: data[k] for k in names}
    except FileNotFoundError:
        raise ResultsError(f"{path}: arrays file does not exist (evaluate the model)") from None
    except (OSError, ValueError, EOFError) as error:
        raise ResultsError(f"{path}: corrupt arrays file: {error}") from error


# --------------------------------------------------------------------------------- checkpoints


def checkpoint_fingerprint(checkpoint: PathLike) -> dict:
    """``{"sha256", "stamp", "size"}`` of a checkpoint, without loading it (no torch).

    The SHA-256 and stamp come from the ``model.json`` sidecar when it describes a file of the
    checkpoint's current size; otherwise the file is hashed (and the stamp is the sidecar's, or
    ``None``). :class:`ResultsError` when the checkpoint does not exist.
    """
    path = Path(checkpoint)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ResultsError(f"{path}: checkpoint does not exist") from None
    sidecar = read_sidecar(path)
    if sidecar and sidecar.get("size") == size and isinstance(sidecar.get("sha256"), str):
        sha = sidecar["sha256"]
    else:
        sha = file_sha256(path)
    stamp = sidecar.get("stamp") if sidecar else None
    return {"sha256": sha, "stamp": stamp, "size": size}


def check_not_stale(record: Mapping, checkpoint: PathLike, metrics_path: PathLike) -> None:
    """:class:`StaleResultError` unless ``record`` was computed from ``checkpoint`` as it is now."""
    current = checkpoint_fingerprint(checkpoint)
    recorded = record["checkpoint"]["sha256"]
    if current["sha256"] != recorded:
        who = ModelIdentity.from_mapping(record["identity"]).label
        raise StaleResultError(
            f"{metrics_path}: stale result for {who}: evaluated from checkpoint sha256 "
            f"{str(recorded)[:12]}, but {checkpoint} is now {current['sha256'][:12]}; "
            "re-evaluate the model"
        )

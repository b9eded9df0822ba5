"""The typed configuration: every key, its default, its bounds and its meaning, in one place.

Sections (each a frozen pydantic model that refuses unknown keys):

- :class:`TrainConfig`: everything that determines one trained model apart from its seed;
- :class:`EvaluationSettings`, :class:`AnalysisSettings`: per experiment;
- :class:`ExecutionSettings`: how jobs run (speed only: never part of what decides a rerun);
- :class:`Seeds`, :class:`ComparisonSpec`.

Bounds are chosen so that no value a valid config can hold overflows float32 in training: learning rate
<= 1, L2 penalty <= 1000, gradient clip <= 100 (anything that still overflows is caught as divergence).
The JSON Schema in ``workflow/schemas/`` and ``config/README.md`` are generated from these models
(:mod:`vbpipe.config.docs`); the tests check that they are up to date.

No torch here: the workflow's parse step imports this module.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

from ..constants import DEFAULT_UNIT_THRESHOLD, EMBEDDING_METHODS
from ..errors import VbpipeError
from ..taskspec import Task, TaskIdError, parse_task_id, seq_length_bounds

ORIGINAL_HORIZONS = (10, 20, 40, 60, 100)
WASSERSTEIN_METRICS = (
    "wasserstein",
    "wasserstein_separate",
    "wasserstein_2d",
    "wasserstein_magnitude_only",
    "wasserstein_angle_only",
)
PDIST_METRICS = (
    "braycurtis",
    "canberra",
    "chebyshev",
    "cityblock",
    "correlation",
    "cosine",
    "euclidean",
    "jensenshannon",
    "minkowski",
    "seuclidean",
    "sqeuclidean",
)
COLOR_BY = ("accuracy", "spectral_error", "frob_error", "none")


class ConfigError(VbpipeError, ValueError):
    """A configuration value out of range, of the wrong type or inconsistent with another.

    ``key`` is the dotted path of the value at fault (relative to what was being validated) when
    known; :mod:`vbpipe.config.experiments` prefixes it with the path in the file and the file's line.
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def validation_message(error: ValidationError) -> tuple[str, str | None]:
    """One readable line for a pydantic error, and the dotted key of the first problem."""
    parts, first_key = [], None
    for item in error.errors()[:4]:
        key = ""
        for part in item["loc"]:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        first_key = first_key or key or None
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "value_error":
            pass  # our validators' messages already show the value
        elif item["type"] == "missing":
            message = "required key is missing"
        else:
            message = f"{message[0].lower()}{message[1:]}, got {item['input']!r}"
        parts.append(f"{key}: {message}" if key else message)
    return "; ".join(parts), first_key


class _Section(BaseModel):
    """A config section: strict types, unknown keys refused, immutable, errors as ConfigError."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def __init__(self, **values: Any):
        try:
            super().__init__(**values)
        except ValidationError as error:
            message, key = validation_message(error)
            raise ConfigError(message, key) from None

    @classmethod
    def from_dict(cls, values: dict | None):
        if values is not None and not isinstance(values, dict):
            raise ConfigError(f"must be a mapping of keys, got {values!r}")
        return cls(**(values or {}))


def _as_tuple(value):
    return tuple(value) if isinstance(value, list) else value


Probability = Annotated[float, Field(gt=0.5, lt=1)]
# What a user may write (the validators below normalise it), for the generated JSON Schema.
_INT = {"type": "integer"}
TaskIdInput = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string"},
            {
                "type": "array",
                "items": {"type": ["integer", "string"]},
                "minItems": 3,
                "maxItems": 3,
            },
        ]
    }
)
SeqLengthInput = WithJsonSchema(
    {
        "anyOf": [
            {**_INT, "minimum": 1, "maximum": 64},
            {"type": "array", "items": {**_INT, "minimum": 1, "maximum": 64}, "minItems": 1,
             "maxItems": 2},
        ]
    }
)  # fmt: skip


def _list_of(items: dict, **extra) -> WithJsonSchema:
    return WithJsonSchema({"type": "array", "items": items, **extra})


class TrainConfig(_Section):
    """Everything that determines one trained model, apart from its seed (the original's defaults)."""

    input_dim: int = Field(8, ge=1, le=64, description="d: bits per vector")
    task_id: Annotated[tuple[int, int, int], TaskIdInput] = Field(
        "repeat_copy",
        validate_default=True,
        description="repeat_copy, T1..T4 (the paper's tasks), or three integers 't1,t2,t3' "
        "(t1 may exceed 64 bits: write it as a string or a YAML integer)",
    )
    seq_length: Annotated[int | tuple[int, int], SeqLengthInput] = Field(
        8, description="L, or [min, max] for a length drawn per batch (inclusive), 1..64"
    )
    use_eos: bool = Field(False, description="add an end-of-sequence input channel")
    hidden_dim: int = Field(128, ge=1, le=4096, description="N: hidden units of the tanh RNN")
    bias: bool = Field(False, description="biases in recurrence and readout (EMT assumes none)")
    learning_rate: float = Field(1e-3, gt=0, le=1, description="Adam learning rate")
    batch_size: int = Field(64, ge=1, le=65536, description="sequences per training batch")
    gradient_clip: float = Field(1.0, gt=0, le=100, description="global-norm clipping, per model")
    l2_penalty: float = Field(0.0, ge=0, le=1000, description="Adam weight_decay (coupled L2)")
    epochs: int = Field(20, ge=1, le=1000, description="epochs of `steps_per_epoch` batches")
    steps_per_epoch: int = Field(2000, ge=1, le=100_000, description="batches per epoch")
    curriculum: bool = Field(True, description="curriculum learning on the output horizon")
    curriculum_threshold: Probability = Field(
        0.96, description="advance a level when the batch accuracy exceeds this (0.5 < t < 1)"
    )
    curriculum_horizons: Annotated[
        tuple[int, ...],
        _list_of({**_INT, "minimum": 1, "maximum": 10_000}, minItems=1, maxItems=32),
    ] = Field(ORIGINAL_HORIZONS, description="output horizon of each curriculum level, increasing")
    curriculum_window: int = Field(
        1, ge=1, le=10_000, description="batches averaged for the curriculum test (1 = original)"
    )
    fixed_horizon: int = Field(
        36, ge=1, le=10_000, description="training horizon when curriculum is false"
    )
    early_stop: bool = Field(False, description="stop a model that holds the last level")
    early_stop_accuracy: float = Field(
        1.0, gt=0, le=1, description="accuracy to hold at the last level for an early stop"
    )
    early_stop_patience: int = Field(
        500, ge=1, le=1_000_000, description="consecutive steps at that accuracy"
    )
    validation_batches: int = Field(
        4, ge=0, le=10_000, description="fixed validation batches per model, each epoch"
    )
    log_every: int = Field(50, ge=1, le=1_000_000, description="TensorBoard interval (steps)")
    model_type: Literal["rnn", "circuit_naive", "circuit_gated"] = Field(
        "rnn",
        description="rnn: a trained bias-free tanh RNN; circuit_naive / circuit_gated: EMT's "
        "analytic circuit for the task (built, not trained: vbpipe.circuits), evaluated and drawn "
        "like a trained model. A circuit needs a fixed seq_length and hidden_dim >= L*d (naive) or "
        "L*d + 2d (gated)",
    )

    @field_validator("task_id", mode="before")
    @classmethod
    def _parse_task_id(cls, value, info):
        try:
            return parse_task_id(value, info.data.get("input_dim", 8))
        except TaskIdError as error:
            raise ValueError(str(error)) from None

    @field_validator("seq_length", mode="before")
    @classmethod
    def _parse_seq_length(cls, value):
        try:
            low, high = seq_length_bounds(value)
        except ValueError as error:
            raise ValueError(str(error)) from None
        if high > 64:
            raise ValueError(f"must be at most 64, got {value!r}")
        return low if low == high else (low, high)

    @field_validator("curriculum_horizons", mode="before")
    @classmethod
    def _horizons(cls, value):
        value = _as_tuple(value)
        ok = (
            isinstance(value, tuple)
            and 1 <= len(value) <= 32
            and all(isinstance(h, int) and not isinstance(h, bool) for h in value)
            and all(1 <= h <= 10_000 for h in value)
            and list(value) == sorted(set(value))
        )
        if not ok:
            raise ValueError(
                f"must be a strictly increasing list of 1 to 32 integers in 1..10000, got {value!r}"
            )
        return value

    def __init__(self, **values: Any):
        super().__init__(**values)  # input_dim is declared first: "repeat_copy" needs it
        try:
            Task(self.task_id, self.input_dim, self.seq_length, self.use_eos)
        except TaskIdError as error:
            raise ConfigError(f"task_id: {error}", "task_id") from None
        if self.model_type != "rnn":
            if isinstance(self.seq_length, tuple):
                raise ConfigError(
                    f"seq_length: an analytic circuit ({self.model_type}) needs a fixed length, "
                    f"got {list(self.seq_length)}",
                    "seq_length",
                )
            need = self.seq_length * self.input_dim
            need += 2 * self.input_dim if self.model_type == "circuit_gated" else 0
            if self.hidden_dim < need:
                raise ConfigError(
                    f"hidden_dim: {self.model_type} needs at least {need} hidden units for "
                    f"L = {self.seq_length}, d = {self.input_dim}, got {self.hidden_dim}",
                    "hidden_dim",
                )

    # -- derived values ------------------------------------------------------------------------------------
    @property
    def task(self) -> Task:
        return Task(self.task_id, self.input_dim, self.seq_length, self.use_eos)

    @property
    def shapes(self) -> tuple:
        """What models trained together in one pack must share: the shapes of their tensors."""
        return (
            self.input_dim,
            self.seq_length,
            self.use_eos,
            self.hidden_dim,
            self.bias,
            self.batch_size,
        )

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def memory_dim(self) -> int:
        """``L_max * d``: the dimensions Φ needs; a hidden size below it cannot hold the task exactly."""
        return seq_length_bounds(self.seq_length)[1] * self.input_dim

    def horizons(self) -> tuple[int, ...]:
        """The horizon of each curriculum level (one level at ``fixed_horizon`` without curriculum)."""
        return self.curriculum_horizons if self.curriculum else (self.fixed_horizon,)

    def to_dict(self) -> dict:
        """JSON-ready hyper-parameters (task id as decimal strings, sequences as lists)."""
        out = self.model_dump()
        out["task_id"] = [str(t) for t in self.task_id]
        out["seq_length"] = (
            list(self.seq_length) if isinstance(self.seq_length, tuple) else self.seq_length
        )
        out["curriculum_horizons"] = list(self.curriculum_horizons)
        return out

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a dict (e.g. ``to_dict()``'s output or a checkpoint's hparams)."""
        return cls(**values)

    def fingerprint(self, seed: int) -> str:
        """A short hash of (hyper-parameters, seed): a resume state is reused only when it matches."""
        text = json.dumps({"config": self.to_dict(), "seed": seed}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


TRAINING_KEYS = tuple(TrainConfig.model_fields)


class Seeds(_Section):
    """``{first, count}``: the seeds first .. first+count-1 (a list of seeds is also accepted)."""

    first: int = Field(1, ge=0, description="first seed")
    count: int = Field(1, ge=1, le=100_000, description="number of seeds")

    @staticmethod
    def resolve(value) -> tuple[int, ...]:
        """The explicit seeds of a ``seeds:`` value (a list, or ``{first, count}``)."""
        if isinstance(value, dict):
            seeds = Seeds.from_dict(value)
            return tuple(range(seeds.first, seeds.first + seeds.count))
        if isinstance(value, list) and value:
            if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
                raise ConfigError(f"seeds must be integers >= 0, got {value!r}")
            if len(set(value)) != len(value):
                raise ConfigError(f"seeds must be distinct, got {value!r}")
            return tuple(value)
        raise ConfigError(
            f"give a non-empty list of seeds >= 0 or {{first: N, count: M}}, got {value!r}"
        )


class EvaluationSettings(_Section):
    """How every model of an experiment is evaluated."""

    test_horizon: int = Field(200, ge=1, le=100_000, description="output steps scored at test")
    n_batches: int = Field(10, ge=1, le=10_000, description="seeded test batches per length")
    batch_size: int = Field(64, ge=1, le=65_536, description="sequences per test batch")
    unit_threshold: float = Field(
        DEFAULT_UNIT_THRESHOLD,
        gt=0,
        lt=2,
        description='|λ| above which an eigenvalue is "on the unit circle"',
    )
    seq_lengths: Annotated[
        tuple[int, ...] | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "array",
                        "items": {**_INT, "minimum": 1, "maximum": 64},
                        "minItems": 1,
                    },
                ]
            }
        ),
    ] = Field(None, description="lengths to evaluate; null = those of training")
    magnitude_threshold: float = Field(
        0.0, ge=0, le=10, description="figure only: eigenvalues above it in the complex plane"
    )
    figures: bool = Field(True, description="figure only: draw the per-model figures")

    #: Settings that change only figures: kept out of the evaluation's parameters.
    FIGURE_ONLY: ClassVar[tuple[str, ...]] = ("magnitude_threshold", "figures")

    @field_validator("seq_lengths", mode="before")
    @classmethod
    def _lengths(cls, value):
        value = _as_tuple(value)
        if value is None:
            return None
        if not (
            isinstance(value, tuple)
            and value
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 64 for v in value)
        ):
            raise ValueError(f"must be null or a non-empty list of lengths in 1..64, got {value!r}")
        return tuple(sorted(set(value)))

    def computed(self) -> dict:
        """The settings the evaluation computes with (figure-only ones left out)."""
        return {k: v for k, v in self.model_dump().items() if k not in self.FIGURE_ONLY}


class AnalysisSettings(_Section):
    """The cross-model analyses of one experiment."""

    eigenvalue: bool = Field(True, description="per-model spectrum statistics")
    embedding: Annotated[
        tuple[Literal["pca", "tsne", "mds", "isomap"], ...],
        WithJsonSchema(
            {
                "anyOf": [
                    {"enum": list(EMBEDDING_METHODS)},
                    {"type": "array", "items": {"enum": list(EMBEDDING_METHODS)}},
                ]
            }
        ),
    ] = Field(("pca", "tsne", "mds"), description="2-D embeddings of the model signatures")
    signature_type: Literal["histogram", "statistics", "combined"] = Field(
        "combined", description="what describes one model in the embeddings"
    )
    distance_metric: Annotated[
        str, WithJsonSchema({"enum": list(PDIST_METRICS + WASSERSTEIN_METRICS)})
    ] = Field(
        "euclidean",
        description="a scipy pdist metric, or wasserstein[_separate|_2d|_magnitude_only|"
        "_angle_only] between eigenvalue distributions",
    )
    color_by: Literal["accuracy", "spectral_error", "frob_error", "none"] = Field(
        "accuracy", description="what colours the embedding points"
    )
    persistence: bool = Field(True, description="persistent homology of each eigenvalue cloud")
    persistence_metric: Literal["bottleneck", "wasserstein"] = Field(
        "bottleneck", description="distance between persistence diagrams"
    )
    persistence_max_models: int | None = Field(
        600,
        ge=2,
        description="pairwise diagram distances on a seeded subset of this many models "
        "(statistics cover all); null = all pairs",
    )
    seq_length: int | None = Field(
        None,
        ge=1,
        le=64,
        description="evaluated length the analyses read; null = the longest trained length when "
        "all variants share it, else each model's own longest",
    )
    eigenvalues: Literal["subspace", "full"] = Field(
        "subspace", description="subspace: eig of the rank-L*d part of W_hh; full: eig(W_hh)"
    )
    require_memory_capacity: bool = Field(
        False, description="refuse variants whose hidden_dim < L*d (default: keep, flag them)"
    )
    distances: tuple[Literal["chi2", "kl", "bhattacharyya", "hausdorff", "procrustes"], ...] = (
        Field(
            ("chi2", "kl", "bhattacharyya", "hausdorff", "procrustes"),
            description="pairwise distances between models: of their eigenvalue histograms (chi2, kl, "
            "bhattacharyya), their eigenvalue sets (hausdorff), their spectra as shapes (procrustes)",
        )
    )
    distance_max_models: int | None = Field(
        300, ge=2, description="distances on a seeded subset of this many models; null = all"
    )
    diagnostics: bool = Field(True, description="the diagnostics report (JSON and text)")
    fixed_points: int = Field(
        8,
        ge=0,
        le=100_000,
        description="models (a seeded subset) whose fixed and slow points are found; 0 = off",
    )

    @field_validator("distances", mode="before")
    @classmethod
    def _distances(cls, value):
        value = _as_tuple(value)
        if isinstance(value, tuple) and len(set(value)) != len(value):
            raise ValueError(f"distances must be distinct, got {list(value)!r}")
        return value

    @field_validator("embedding", mode="before")
    @classmethod
    def _embedding(cls, value):
        if isinstance(value, str):
            value = [value]
        value = _as_tuple(value)
        if isinstance(value, tuple) and len(set(value)) != len(value):
            raise ValueError(f"methods must be distinct, got {list(value)!r}")
        return value

    @field_validator("distance_metric")
    @classmethod
    def _metric(cls, value):
        if value not in PDIST_METRICS + WASSERSTEIN_METRICS:
            raise ValueError(
                f"must be one of {', '.join(PDIST_METRICS + WASSERSTEIN_METRICS)}; got {value!r}"
            )
        return value


class ExecutionSettings(_Section):
    """How jobs run. Speed only: changing these never reruns or retrains anything."""

    accelerator: Literal["auto", "cpu", "gpu"] = Field(
        "auto", description="device of training jobs: auto = a GPU when the job sees one"
    )
    models_per_job: int = Field(
        64,
        ge=1,
        le=100_000,
        description="most models trained together in one job; models of the same shapes "
        "(input_dim, seq_length, use_eos, hidden_dim, bias, batch_size) share packs across "
        "variants and experiments",
    )
    threads: int = Field(1, ge=1, le=256, description="CPU threads of every job")
    train_resources: dict[str, int | str] = Field(
        default_factory=dict,
        description="extra Snakemake resources of each training job, e.g. {gpu: 1, mem_mb: "
        "16000, runtime: 240}; partition and account stay in the Slurm profile",
    )

    @field_validator("train_resources")
    @classmethod
    def _resources(cls, value):
        bad = [k for k in value if not k.isidentifier()]
        if bad:
            raise ValueError(f"resource names must be identifiers, got {bad}")
        return value


class ComparisonSpec(_Section):
    """Experiments side by side (``experiments:``), or one experiment split by a swept key."""

    experiments: Annotated[tuple[str, ...] | None, _list_of({"type": "string"}, minItems=2)] = (
        Field(None, description="experiments to compare")
    )
    experiment: str | None = Field(None, description="one experiment to split ...")
    by: str | None = Field(None, description="... by the values of this swept training key")

    @field_validator("experiments", mode="before")
    @classmethod
    def _names(cls, value):
        return _as_tuple(value)

    def __init__(self, **values: Any):
        super().__init__(**values)
        if self.experiments is not None:
            if self.experiment is not None or self.by is not None:
                raise ConfigError(
                    "give either `experiments: [a, b]` or `experiment: a` with `by: KEY`, not both"
                )
            if len(self.experiments) < 2 or len(set(self.experiments)) != len(self.experiments):
                raise ConfigError(
                    f"experiments: list at least two distinct experiments, got "
                    f"{list(self.experiments)!r}",
                    "experiments",
                )
        elif self.experiment is None or self.by is None:
            raise ConfigError("give `experiments: [a, b]`, or `experiment: a` with `by: KEY`")

    @property
    def names(self) -> tuple[str, ...]:
        return self.experiments if self.experiments is not None else (self.experiment,)


def model_hparams(config: TrainConfig, seed: int) -> dict:
    """The ``hparams`` dict stored in a checkpoint: the config plus the seed."""
    return {**config.to_dict(), "seed": int(seed)}


def original_seeds(base_seed: int, num_models: int) -> list[int]:
    """The original ``train_multiple.py`` rule: model ``i`` (0-based) gets ``base_seed + 1000 * i``."""
    return [base_seed + 1000 * i for i in range(num_models)]

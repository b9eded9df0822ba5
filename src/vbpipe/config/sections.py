"""The other config sections: seeds, evaluation, analysis, execution and comparisons.

The JSON Schema in ``workflow/schemas/`` and ``config/README.md`` are generated from these models and
:class:`~vbpipe.config.training.TrainConfig` (:mod:`vbpipe.config.docs`); the tests check that they are
up to date. No torch here.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from ..constants import EMBEDDING_METHODS, SOLVED_ACCURACY
from ..results.records import EVALUATION_INT_BOUNDS as _INT_BOUNDS
from ..results.records import UNIT_THRESHOLD_BOUNDS
from ..results.records import EvaluationSettings as _EVALUATION
from .base import ConfigError, _as_tuple, _Section
from .training import _INT, _list_of

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


class EvaluationSection(_Section):
    """How every model of an experiment is evaluated: the evaluation's own settings
    (:class:`vbpipe.results.records.EvaluationSettings`, whose defaults these are) with their
    bounds, and the figure-only settings."""

    test_horizon: int = Field(
        _EVALUATION.test_horizon,
        ge=_INT_BOUNDS["test_horizon"][0],
        le=_INT_BOUNDS["test_horizon"][1],
        description="output steps scored at test",
    )
    n_batches: int = Field(
        _EVALUATION.n_batches,
        ge=_INT_BOUNDS["n_batches"][0],
        le=_INT_BOUNDS["n_batches"][1],
        description="seeded test batches per length",
    )
    batch_size: int = Field(
        _EVALUATION.batch_size,
        ge=_INT_BOUNDS["batch_size"][0],
        le=_INT_BOUNDS["batch_size"][1],
        description="sequences per test batch",
    )
    unit_threshold: float = Field(
        _EVALUATION.unit_threshold,
        gt=UNIT_THRESHOLD_BOUNDS[0],
        lt=UNIT_THRESHOLD_BOUNDS[1],
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
    input_phase: int = Field(
        2,
        ge=0,
        le=1000,
        description="models per task (a seeded subset, fixed-length variants) whose input phase "
        "is analysed beside EMT's naive and gated circuits (docs/input_phase.md); 0 = off",
    )
    census: bool = Field(
        True,
        description="the mechanism census: every model classified (collapsed, emt_linear, "
        "contracting, other; vbpipe.analysis.census), rates per cell, accuracy at long horizons",
    )
    census_chance_accuracy: float = Field(
        0.55,
        ge=0.5,
        lt=1.0,
        description="census: a model at or below this accuracy is collapsed (at chance)",
    )
    census_solved_accuracy: float = Field(
        SOLVED_ACCURACY,
        gt=0.5,
        le=1.0,
        description="census: a model above this accuracy solves the task (Table 1's rule)",
    )
    census_max_spectral_error: float = Field(
        0.05,
        gt=0.0,
        le=3.2,
        description="census: the largest spectral error (radians) of an emt_linear model",
    )
    census_max_radius: float = Field(
        1.0,
        gt=0.0,
        le=10.0,
        description="census: a solved model whose every |λ(W_hh)| is below this is contracting",
    )
    census_horizons: Annotated[
        tuple[int, ...],
        _list_of({**_INT, "minimum": 1, "maximum": 100_000}, minItems=1, maxItems=8),
    ] = Field((1000, 10000), description="census: the long horizons (output steps) evaluated")
    census_sequences: int = Field(
        256,
        ge=1,
        le=100_000,
        description="census: test sequences per model at the long horizons (the first of its "
        "seeded test stream)",
    )

    @field_validator("census_horizons", mode="before")
    @classmethod
    def _census_horizons(cls, value):
        value = _as_tuple(value)
        if not (
            isinstance(value, tuple)
            and 1 <= len(value) <= 8
            and all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100_000 for v in value
            )
        ):
            raise ValueError(f"must be a list of 1-8 horizons in 1..100000, got {value!r}")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _census_thresholds(self):
        if not self.census_chance_accuracy < self.census_solved_accuracy:
            raise ValueError(
                f"census_chance_accuracy ({self.census_chance_accuracy}) must be below "
                f"census_solved_accuracy ({self.census_solved_accuracy})"
            )
        return self

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
    runtime_fill: float = Field(
        0.8,
        gt=0,
        le=1,
        description="share of a training job's `train_resources.runtime` its pack is planned to fill: packs "
        "are sized by the cost model (vbpipe.costmodel) so that their expected time fits it, "
        "`models_per_job` staying the upper bound; without a runtime, packs are sized by "
        "`models_per_job` alone",
    )
    cost_table: str | None = Field(
        None,
        description="a measured cost table (JSON, e.g. benchmarks/paper_on_gpu.py's costmodel_gpu.json) "
        "instead of the built-in one of the training device",
    )
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
        from ..costmodel import CostModelError, runtime_minutes

        try:
            runtime_minutes(value.get("runtime"))
        except CostModelError as error:
            raise ValueError(str(error).removeprefix("train_resources.runtime: ")) from None
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


class OriginalRuns(_Section):
    """An experiment of models trained elsewhere, by the original project: its directory."""

    #: Experiment keys that describe training, which such an experiment does not do.
    EXCLUDES: ClassVar[tuple[str, ...]] = ("training", "sweep", "seeds")

    original_runs: str = Field(
        min_length=1,
        description="an experiment directory of the original project's train.py / "
        "train_multiple.py (`config.json`, `model-<i>/lightning_logs/version_<v>/checkpoints/"
        "*.ckpt`), relative to the working directory or absolute. Its models are evaluated and "
        "analysed, never trained, and nothing is written inside it",
    )

    @field_validator("original_runs")
    @classmethod
    def _path(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError(
                f"{value!r} holds a brace, which Snakemake would read as a wildcard; rename the "
                "directory or link it under another name"
            )
        return value

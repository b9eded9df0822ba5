"""The results contract between stages: every file name, record field and shared constant, once.

Evaluation, aggregation, figures, analyses, the CLI and the workflow import their names from here.
The module is cheap to import (numpy only; pandas is imported when a table is built or read, never
torch), so the workflow's parse step can use it.

Layout (relative to a results root, ``results/`` in the workflow)::

    {experiment}/{variant}/config.json                       the variant's resolved parameters
    {experiment}/{variant}/model-{seed}/checkpoint/model.pt  the trained model (+ model.json sidecar)
    {experiment}/{variant}/model-{seed}/results/metrics.json one model's evaluation (a record, below)
    {experiment}/{variant}/model-{seed}/results/arrays.npz   its arrays (spectra, Ψ, Φ_emp, ...)
    {experiment}/{variant}/model-{seed}/results/*.png        its figures (:func:`model_figure_names`)
    {experiment}/evaluation_table.csv      tidy table: one row per model and evaluated length
    {experiment}/evaluation_arrays.npz     the table's per-row arrays (spectra, per-step accuracy)
    {experiment}/evaluation_summary.json   export in the original's format (JSON Schema, versioned)
    {experiment}/tables/table1.{csv,tex}   the paper's Table 1
    {experiment}/global_analysis/*.png     :data:`GLOBAL_FIGURES`
    {experiment}/paper_figures/figure{3,4}_{task}.png, paper_figures_{task}.json
    {experiment}/analysis/{eigenvalue,embedding/{method},persistence}/...
    comparison/{name}/...

``metrics.json`` (format ``vbpipe-metrics``, version :data:`METRICS_VERSION`) holds sections, every
field always present (``null`` where not applicable), no NaN, no eigenvalue lists, no file paths::

    {"format", "format_version",
     "identity":   {experiment, variant, seed, model_name},
     "checkpoint": {sha256, stamp, size},          # the model.pt it was computed from
     "params":     {...},                          # the checkpoint's hyper-parameters, once
     "task_label": "T1",
     "training":   {converged, diverged, ...},     # TRAINING_FIELDS
     "evaluation": {test_horizon, ...},            # EVALUATION_FIELDS
     "model":      {accuracy, solved, ...},        # MODEL_FIELDS
     "lengths":    [{eval_length, accuracy, spectral_error, ...}, ...]}   # LENGTH_FIELDS

The tidy table (:data:`TABLE_COLUMNS` plus one column per training parameter) and the experiment
arrays (:data:`ROW_ARRAYS`) are read back by :func:`load_experiment` as an
:class:`ExperimentResults`; :func:`experiment_from_summary` builds the same object from an
``evaluation_summary.json`` (:func:`summary_records` writes one).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .constants import DEFAULT_UNIT_THRESHOLD, EMBEDDING_METHODS, SOLVED_ACCURACY  # noqa: F401
from .errors import VbpipeError
from .sidecar import file_sha256, read_sidecar

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PathLike = str | os.PathLike

# ---------------------------------------------------------------------------------------- errors


class ResultsError(VbpipeError, ValueError):
    """A results file that is missing, corrupt, of another format, or inconsistent."""


class StaleResultError(ResultsError):
    """A result computed from another checkpoint than the one now in place: re-evaluate."""


# ------------------------------------------------------------------------------------- constants

#: Edges of the angle histogram: 36 bins of ``|arg λ|`` on ``[0, π]``.
ANGLE_EDGES = np.linspace(0.0, np.pi, 37)
#: Edges of the magnitude histogram: 20 bins of ``|λ|`` on ``[0, 2]`` (``|λ| ≥ 2`` in the last).
MAGNITUDE_EDGES = np.linspace(0.0, 2.0, 21)


def natural_key(text) -> list:
    """Sort key that orders ``model-2`` before ``model-10`` (digit runs compared as integers)."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", "" if text is None else str(text))
    ]


# ------------------------------------------------------------------------------------ file names

RESULTS_ROOT = "results"
CHECKPOINT_DIRNAME = "checkpoint"
CHECKPOINT_NAME = "model.pt"
SIDECAR_NAME = "model.json"  # beside model.pt (vbpipe.sidecar.sidecar_path)
TRAINING_LOG_NAME = "training.log"
LOGS_DIRNAME = "logs"
BENCHMARKS_DIRNAME = "benchmarks"
RESULTS_DIRNAME = "results"
METRICS_NAME = "metrics.json"
ARRAYS_NAME = "arrays.npz"
VARIANT_CONFIG_NAME = "config.json"
MODEL_DIR_PREFIX = "model-"
EVAL_CONFIG_NAME = "eval_config.json"
SUMMARY_NAME = "evaluation_summary.json"
TABLE_NAME = "evaluation_table.csv"
EXPERIMENT_ARRAYS_NAME = "evaluation_arrays.npz"
TABLES_DIRNAME = "tables"
TABLE1_CSV_NAME = "table1.csv"
TABLE1_TEX_NAME = "table1.tex"
GLOBAL_DIRNAME = "global_analysis"
GLOBAL_FIGURES = (
    "global_magnitude_distribution.png",
    "global_angle_distribution.png",
    "global_complex_plane.png",
    "global_statistics_summary.png",
)
PAPER_FIGURES_DIRNAME = "paper_figures"
ANALYSIS_DIRNAME = "analysis"
COMPARISON_DIRNAME = "comparison"

#: Per-model figures drawn for every model.
MODEL_FIGURES = ("test_sample.png", "accuracy_per_step.png", "eigenspectrum_full.png")
#: Per-model figures drawn once per evaluated length ``L``.
LENGTH_FIGURES = ("phi_empirical_seq{L}.png", "variable_memory_trajectory_seq{L}.png")


def model_dirname(seed) -> str:
    """``model-{seed}`` (``seed`` may be a wildcard such as ``"{seed}"``)."""
    return f"{MODEL_DIR_PREFIX}{seed}"


def seed_of_model_dir(path: PathLike) -> int:
    """The seed of a ``model-{seed}`` directory; :class:`ResultsError` for another name."""
    name = Path(path).name
    match = re.fullmatch(re.escape(MODEL_DIR_PREFIX) + r"(\d+)", name)
    if match is None:
        raise ResultsError(f"{path}: a model directory is named {model_dirname('SEED')}")
    return int(match.group(1))


def model_figure_names(seq_lengths: Iterable[int]) -> list[str]:
    """Every per-model figure for a model evaluated at ``seq_lengths`` (each is always drawn)."""
    names = list(MODEL_FIGURES)
    for length in seq_lengths:
        names += [name.format(L=length) for name in LENGTH_FIGURES]
    return names


def paper_figure_names(task: str) -> tuple[str, str]:
    """``(figure3_{task}.png, figure4_{task}.png)``."""
    return f"figure3_{task}.png", f"figure4_{task}.png"


def paper_choice_name(task: str) -> str:
    """The JSON that records which model the paper figures of ``task`` show."""
    return f"paper_figures_{task}.json"


def checkpoint_in(model_dir: PathLike) -> Path:
    """``model_dir/checkpoint/model.pt``."""
    return Path(model_dir) / CHECKPOINT_DIRNAME / CHECKPOINT_NAME


def results_in(model_dir: PathLike) -> Path:
    """``model_dir/results``."""
    return Path(model_dir) / RESULTS_DIRNAME


def checkpoint_of_results(results_dir: PathLike) -> Path:
    """The checkpoint a results directory belongs to: ``model-{seed}/checkpoint/model.pt``."""
    return checkpoint_in(Path(results_dir).parent)


@dataclass(frozen=True)
class Layout:
    """Paths (:class:`~pathlib.Path`) of the layout under ``root``; the module functions
    (:func:`model_file`, :func:`experiment_file`, ...) give the same paths as strings. Arguments may
    be Snakemake wildcards (``Layout("results").metrics("{experiment}", "{variant}", "{seed}")``)."""

    root: Path = Path(RESULTS_ROOT)

    def experiment(self, experiment) -> Path:
        return Path(self.root) / str(experiment)

    def variant(self, experiment, variant) -> Path:
        return self.experiment(experiment) / str(variant)

    def variant_config(self, experiment, variant) -> Path:
        return Path(variant_file(experiment, variant, "config", self.root))

    def model(self, experiment, variant, seed) -> Path:
        return Path(model_file(experiment, variant, seed, "model_dir", self.root))

    def checkpoint(self, experiment, variant, seed) -> Path:
        return Path(model_file(experiment, variant, seed, "checkpoint", self.root))

    def results(self, experiment, variant, seed) -> Path:
        return Path(model_file(experiment, variant, seed, "results_dir", self.root))

    def metrics(self, experiment, variant, seed) -> Path:
        return Path(model_file(experiment, variant, seed, "metrics", self.root))

    def arrays(self, experiment, variant, seed) -> Path:
        return Path(model_file(experiment, variant, seed, "arrays", self.root))

    def model_figures(self, experiment, variant, seed, seq_lengths) -> list[Path]:
        return [
            Path(model_file(experiment, variant, seed, name, self.root))
            for name in model_figure_names(seq_lengths)
        ]

    def summary(self, experiment) -> Path:
        return Path(experiment_file(experiment, "summary", self.root))

    def table(self, experiment) -> Path:
        return Path(experiment_file(experiment, "table", self.root))

    def experiment_arrays(self, experiment) -> Path:
        return Path(experiment_file(experiment, "arrays", self.root))

    def table1(self, experiment) -> tuple[Path, Path]:
        return tuple(
            Path(experiment_file(experiment, n, self.root)) for n in ("table1_csv", "table1_tex")
        )

    def global_figures(self, experiment) -> list[Path]:
        base = Path(experiment_file(experiment, "global_dir", self.root))
        return [base / name for name in GLOBAL_FIGURES]

    def paper_figures(self, experiment, task) -> tuple[Path, Path]:
        base = Path(experiment_file(experiment, "paper_dir", self.root))
        fig3, fig4 = paper_figure_names(task)
        return base / fig3, base / fig4

    def paper_choice(self, experiment, task) -> Path:
        return Path(experiment_file(experiment, "paper_dir", self.root)) / paper_choice_name(task)

    def analysis(self, experiment, kind: str, method: str | None = None) -> Path:
        base = Path(experiment_file(experiment, "analysis_dir", self.root)) / kind
        return base / method if method else base

    def comparison(self, name) -> Path:
        return Path(self.root) / COMPARISON_DIRNAME / str(name)


@dataclass(frozen=True)
class ModelFigure:
    """A per-model figure: its file ``name``, the report ``caption`` file (in
    ``workflow/report/``) and a short ``label``."""

    name: str
    caption: str
    label: str


_MODEL_FIGURE_INFO = {
    "test_sample.png": ("test_sample.rst", "test sample"),
    "accuracy_per_step.png": ("accuracy_per_step.rst", "accuracy per step"),
    "eigenspectrum_full.png": ("eigenspectrum_full.rst", "spectrum"),
    "phi_empirical_seq{L}.png": ("figure4.rst", "empirical Φ, L = {L}"),
    "variable_memory_trajectory_seq{L}.png": ("figure3.rst", "variable memories, L = {L}"),
}


def model_figures(seq_lengths: Iterable[int]) -> list[ModelFigure]:
    """Every per-model figure of a model evaluated at ``seq_lengths`` (names as
    :func:`model_figure_names`), with its report caption and label."""
    figures = [ModelFigure(n, *_MODEL_FIGURE_INFO[n]) for n in MODEL_FIGURES]
    for length in seq_lengths:
        for pattern in LENGTH_FIGURES:
            caption, label = _MODEL_FIGURE_INFO[pattern]
            figures.append(ModelFigure(pattern.format(L=length), caption, label.format(L=length)))
    return figures


#: Files of one model, relative to ``model-{seed}/`` (:func:`model_file`).
MODEL_FILES = {
    "model_dir": ".",
    "checkpoint": f"{CHECKPOINT_DIRNAME}/{CHECKPOINT_NAME}",
    "sidecar": f"{CHECKPOINT_DIRNAME}/{SIDECAR_NAME}",
    "training_log": f"{CHECKPOINT_DIRNAME}/{TRAINING_LOG_NAME}",
    "results_dir": RESULTS_DIRNAME,
    "metrics": f"{RESULTS_DIRNAME}/{METRICS_NAME}",
    "arrays": f"{RESULTS_DIRNAME}/{ARRAYS_NAME}",
}
#: Files of one variant, relative to ``{experiment}/{variant}/`` (:func:`variant_file`); besides
#: these, ``"{job}_log"`` is ``logs/{job}.log`` and ``"{job}_benchmark"`` ``benchmarks/{job}.tsv``.
VARIANT_FILES = {"config": VARIANT_CONFIG_NAME}
#: Files of one experiment, relative to ``{experiment}/`` (:func:`experiment_file`); logs and
#: benchmarks as for :data:`VARIANT_FILES`.
EXPERIMENT_FILES = {
    "summary": SUMMARY_NAME,
    "table": TABLE_NAME,
    "arrays": EXPERIMENT_ARRAYS_NAME,
    "eval_config": EVAL_CONFIG_NAME,
    "table1_csv": f"{TABLES_DIRNAME}/{TABLE1_CSV_NAME}",
    "table1_tex": f"{TABLES_DIRNAME}/{TABLE1_TEX_NAME}",
    "global_dir": GLOBAL_DIRNAME,
    "paper_dir": PAPER_FIGURES_DIRNAME,
    "analysis_dir": ANALYSIS_DIRNAME,
}
#: Files of one comparison, relative to ``comparison/{name}/`` (:func:`comparison_file`).
COMPARISON_FILES = {
    "statistics": "comparison_statistics.json",
    "complex_plane": "comparison_complex_plane.png",
    "spectra": "comparison_spectra.png",
    "metrics": "comparison_metrics.png",
}


def _relative(files: Mapping[str, str], name: str, where: str) -> str:
    if name in files:
        return files[name]
    for suffix, (directory, extension) in (
        ("_log", (LOGS_DIRNAME, "log")),
        ("_benchmark", (BENCHMARKS_DIRNAME, "tsv")),
    ):
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{directory}/{name[: -len(suffix)]}.{extension}"
    raise ResultsError(
        f"no {where} file named {name!r}; known: {sorted(files)}, *_log, *_benchmark"
    )


def _join(*parts) -> str:
    return os.path.normpath(os.path.join(*(str(p) for p in parts)))


def model_file(experiment, variant, seed, name: str, root: PathLike = RESULTS_ROOT) -> str:
    """A model's file: a key of :data:`MODEL_FILES` (``checkpoint``, ``sidecar``, ``metrics``,
    ``arrays``, ...) or a per-model figure name (``test_sample.png``, ``phi_empirical_seq8.png``)."""
    if name in MODEL_FILES:
        relative = MODEL_FILES[name]
    elif name in MODEL_FIGURES or any(
        re.fullmatch(re.escape(p).replace(r"\{L\}", r"\d+"), name) for p in LENGTH_FIGURES
    ):
        relative = f"{RESULTS_DIRNAME}/{name}"
    else:
        raise ResultsError(
            f"no model file named {name!r}; known: {sorted(MODEL_FILES)} and model figures"
        )
    return _join(root, experiment, variant, model_dirname(seed), relative)


def variant_file(experiment, variant, name: str, root: PathLike = RESULTS_ROOT) -> str:
    """A variant's file: ``config`` or ``{job}_log`` / ``{job}_benchmark``."""
    return _join(root, experiment, variant, _relative(VARIANT_FILES, name, "variant"))


def experiment_file(experiment, name: str, root: PathLike = RESULTS_ROOT) -> str:
    """An experiment's file: a key of :data:`EXPERIMENT_FILES` or ``{job}_log`` /
    ``{job}_benchmark``."""
    return _join(root, experiment, _relative(EXPERIMENT_FILES, name, "experiment"))


def comparison_file(name, what: str, root: PathLike = RESULTS_ROOT) -> str:
    """A comparison's file: a key of :data:`COMPARISON_FILES` or ``{job}_log``."""
    return _join(root, COMPARISON_DIRNAME, name, _relative(COMPARISON_FILES, what, "comparison"))


def _setting(settings, key: str, default=None):
    if settings is None:
        return default
    if isinstance(settings, Mapping):
        return settings.get(key, default)
    return getattr(settings, key, default)


def analysis_outputs(
    experiment,
    analysis=None,
    n_models: int | None = None,
    root=RESULTS_ROOT,
    input_phase_tasks: Iterable[str] = (),
    variable_length: bool = False,
):
    """The files of an experiment's analyses for its settings (``eigenvalue``: bool,
    ``embedding``: methods, ``persistence``: bool, ``persistence_metric``; a mapping or an object
    with those attributes). t-SNE is left out below :data:`TSNE_MIN_MODELS` models."""
    base = _join(root, experiment, ANALYSIS_DIRNAME)
    files = []
    if _setting(analysis, "eigenvalue", True):
        files += [_join(base, "eigenvalue", n) for n in EIGENVALUE_OUTPUTS]
    methods = _setting(analysis, "embedding", ["pca", "tsne", "mds"]) or []
    for method in [methods] if isinstance(methods, str) else methods:
        if method == "tsne" and n_models is not None and n_models < TSNE_MIN_MODELS:
            continue
        files += [_join(base, "embedding", method, n) for n in embedding_outputs(method)]
    if _setting(analysis, "persistence", True):
        metric = _setting(analysis, "persistence_metric", "bottleneck")
        files += [_join(base, "persistence", n) for n in persistence_outputs(metric, "mds")]
    distances = _setting(analysis, "distances", ()) or ()
    if distances:
        files += [_join(base, "distances", n) for n in distance_outputs(distances)]
    if _setting(analysis, "diagnostics", False):
        files += [_join(base, "diagnostics", n) for n in DIAGNOSTICS_OUTPUTS]
    if _setting(analysis, "fixed_points", 0):
        files += [_join(base, "fixed_points", n) for n in FIXED_POINT_OUTPUTS]
    input_phase_tasks = list(input_phase_tasks)
    if _setting(analysis, "input_phase", 0) and input_phase_tasks:
        files += [_join(base, "input_phase", n) for n in input_phase_outputs(input_phase_tasks)]
    if variable_length:
        files += [_join(base, "variable_length", n) for n in VARIABLE_LENGTH_OUTPUTS]
    return files


def experiment_outputs(
    experiment,
    tasks: Iterable[str] = (),
    analysis=None,
    n_models: int | None = None,
    root: PathLike = RESULTS_ROOT,
    input_phase_tasks: Iterable[str] = (),
    variable_length: bool = False,
) -> list[str]:
    """Every experiment-level file: the table and its arrays, the summary, Table 1, the global
    figures, the paper figures (and choice) per task label, and the analyses' files."""
    files = [
        experiment_file(experiment, name, root)
        for name in ("table", "arrays", "summary", "table1_csv", "table1_tex")
    ]
    files += [_join(root, experiment, GLOBAL_DIRNAME, n) for n in GLOBAL_FIGURES]
    for task in tasks:
        for name in (*paper_figure_names(task), paper_choice_name(task)):
            files.append(_join(root, experiment, PAPER_FIGURES_DIRNAME, name))
    return files + analysis_outputs(
        experiment, analysis, n_models, root, input_phase_tasks, variable_length
    )


# ------------------------------------------------------------------------------- analysis names

#: t-SNE needs at least this many models (its perplexity, min(30, (n - 1) / 3), must be >= 4/3).
TSNE_MIN_MODELS = 5
SIGNATURE_TYPES = ("statistics", "histogram", "combined")
PERSISTENCE_METRICS = ("bottleneck", "wasserstein")
WASSERSTEIN_MODES = ("separate", "2d", "magnitude_only", "angle_only")
#: Which eigenvalues an analysis uses: the row array each name selects (see :data:`ROW_ARRAYS`).
SPECTRA = {
    "subspace": "eigenvalues_sub",  # eig(W_sub), W_sub = U_kᵀ W_hh U_k: the original's choice
    "full": "eigenvalues_whh",  # the full spectrum of W_hh
    "emt": "eigenvalues_emt",  # eig of the empirical Φ on the kept memory dimensions
    "theory": "eigenvalues_theory",  # eig(Φ) of the task
}

EIGENVALUE_OUTPUTS = (
    "eigenvalue_statistics.json",
    "complex_plane_examples.png",
    "statistics_scatter_matrix.png",
)
COMPARISON_OUTPUTS = (
    "comparison_statistics.json",
    "comparison_complex_plane.png",
    "comparison_spectra.png",
    "comparison_metrics.png",
)


def embedding_outputs(method: str, figures: bool = True) -> list[str]:
    """Files of one embedding analysis (in ``analysis/embedding/{method}/``)."""
    names = [f"{method}_embedding.npy", "distance_matrix.npy", "distance_statistics.json"]
    if figures:
        names.append(f"{method}_embedding.png")
        if method == "pca":
            names.append("pca_variance.png")
    return names


def distance_outputs(metrics: Iterable[str]) -> list[str]:
    """Files of the distance analysis (in ``analysis/distances/``)."""
    names = [f"{m}_distances{ext}" for m in metrics for ext in (".npy", ".png")]
    return [*names, "distance_statistics.json"]


#: Files of the diagnostics report and of the fixed-point analysis (``analysis/diagnostics/``,
#: ``analysis/fixed_points/``).
DIAGNOSTICS_OUTPUTS = ("diagnostics.json", "diagnostics.txt")
FIXED_POINT_OUTPUTS = ("fixed_points.json", "fixed_point_counts.png", "fixed_points_example.png")


#: Files of the variable-length analysis (``analysis/variable_length/``).
VARIABLE_LENGTH_OUTPUTS = (
    "variable_length.json",
    "variable_length_conditions.png",
    "variable_length_per_step.png",
    "variable_length_roots.png",
)


def input_phase_outputs(tasks: Iterable[str]) -> list[str]:
    """Files of the input-phase analysis (in ``analysis/input_phase/``), one figure per task."""
    figures = [f"input_phase_{task}.png" for task in tasks]
    return ["input_phase.json", *figures, "input_phase_linearisation.png", "input_phase_growth.png"]


def persistence_outputs(metric: str, embedding_method: str, figures: bool = True) -> list[str]:
    """Files of the persistence analysis (in ``analysis/persistence/``)."""
    names = [
        f"persistence_{metric}_distances.npy",
        f"persistence_{embedding_method}_embedding.npy",
        "persistence_statistics.json",
    ]
    if figures:
        names += [
            f"persistence_{embedding_method}_embedding.png",
            "example_persistence_diagrams.png",
            "topological_features.png",
            "betti_curves.png",
        ]
    return names


# --------------------------------------------------------------------------- settings, identity


@dataclass(frozen=True)
class EvaluationSettings:
    """What an evaluation computes with (a change means re-evaluation). Figure-only settings
    (``magnitude_threshold``, ``figures``) are not evaluation inputs."""

    test_horizon: int = 200
    n_batches: int = 10
    batch_size: int = 64
    unit_threshold: float = DEFAULT_UNIT_THRESHOLD
    seq_lengths: tuple[int, ...] | None = None

    def __post_init__(self):
        for key in ("test_horizon", "n_batches", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ResultsError(f"evaluation setting {key}: an integer >= 1, got {value!r}")
        if not isinstance(self.unit_threshold, (int, float)) or isinstance(
            self.unit_threshold, bool
        ):
            raise ResultsError(f"unit_threshold: a number, got {self.unit_threshold!r}")
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
    return record


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
    return names


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
            base[_param_column_name(key)] = record["params"].get(key)
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

    from .fileio import write_text

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
            longest = lengths.groupby([self.table[c] for c in MODEL_KEY]).transform("max")
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
        from .fileio import write_npz

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


def binned_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the bins ``edges``; values outside are counted in the nearest end bin."""
    nbins = edges.size - 1
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, nbins - 1)
    return np.bincount(idx, minlength=nbins).astype(np.int64)


def angle_histogram(eigenvalues) -> np.ndarray:
    """Counts of ``|arg λ|`` in the :data:`ANGLE_EDGES` bins."""
    return binned_counts(np.abs(np.angle(np.asarray(eigenvalues).reshape(-1))), ANGLE_EDGES)


def magnitude_histogram(eigenvalues) -> np.ndarray:
    """Counts of ``|λ|`` in the :data:`MAGNITUDE_EDGES` bins (``|λ| ≥ 2`` in the last)."""
    return binned_counts(np.abs(np.asarray(eigenvalues).reshape(-1)), MAGNITUDE_EDGES)


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


def as_experiment(source) -> ExperimentResults:
    """An :class:`ExperimentResults` from itself, a ``(table, arrays)`` pair of paths, or the path
    of an ``evaluation_summary.json`` (a ``.json`` file)."""
    if isinstance(source, ExperimentResults):
        return source
    if isinstance(source, (tuple, list)) and len(source) == 2:
        return load_experiment(*source)
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix == ".json":
        return experiment_from_summary(source)
    raise ResultsError(
        f"{source!r}: give ExperimentResults, (evaluation_table.csv, evaluation_arrays.npz) or an "
        "evaluation_summary.json"
    )


# ------------------------------------------------------------------------------ discovery (CLI)


def find_variant_dirs(models_dir: PathLike) -> list[Path]:
    """The variant directories of ``models_dir``: itself when it holds ``config.json``, else its
    sub-directories that do (naturally sorted). :class:`ResultsError` when there is none."""
    root = Path(models_dir)
    if not root.is_dir():
        raise ResultsError(f"{root}: models directory does not exist")
    if (root / VARIANT_CONFIG_NAME).is_file():
        return [root]
    found = [p for p in root.iterdir() if p.is_dir() and (p / VARIANT_CONFIG_NAME).is_file()]
    if not found:
        raise ResultsError(
            f"{root}: neither a variant directory (with {VARIANT_CONFIG_NAME}) nor an experiment "
            f"directory whose sub-directories hold {VARIANT_CONFIG_NAME}"
        )
    return sorted(found, key=lambda p: natural_key(p.name))


def variant_identity(variant_dir: PathLike) -> tuple[str | None, str | None]:
    """``(experiment, variant)`` from the variant's ``config.json`` ``metadata``
    (``experiment_name``, ``variant``); :class:`ResultsError` names a missing or corrupt file."""
    path = Path(variant_dir) / VARIANT_CONFIG_NAME
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: does not exist") from None
    except ValueError as error:
        raise ResultsError(f"{path}: not valid JSON: {error}") from error
    meta = config.get("metadata") if isinstance(config, dict) else None
    if not isinstance(meta, dict) or not meta.get("experiment_name"):
        raise ResultsError(f"{path}: lacks metadata.experiment_name")
    return meta["experiment_name"], meta.get("variant")


def model_dirs_of(variant_dir: PathLike, pattern: str = f"{MODEL_DIR_PREFIX}*") -> list[Path]:
    """Model directories of a variant: names matching ``pattern`` that hold a checkpoint,
    naturally sorted."""
    root = Path(variant_dir)
    found = [p for p in root.glob(pattern) if p.is_dir() and checkpoint_in(p).is_file()]
    return sorted(found, key=lambda p: natural_key(p.name))

"""Every path of the results tree and every file name, once; which files each stage writes.

The ground floor of the results room (no pandas, no torch): training, the planner and the
workflow's rules build every path through it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass

from .errors import ResultsError

PathLike = str | os.PathLike


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
RESUME_NAME = "resume.pt"  # a member's exact state while it trains (removed once model.pt is saved)
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
    "resume": f"{CHECKPOINT_DIRNAME}/{RESUME_NAME}",
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
    controls: bool = False,
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
    if controls:
        files += [_join(base, "controls", n) for n in CONTROLS_OUTPUTS]
    return files


def experiment_outputs(
    experiment,
    tasks: Iterable[str] = (),
    analysis=None,
    n_models: int | None = None,
    root: PathLike = RESULTS_ROOT,
    input_phase_tasks: Iterable[str] = (),
    variable_length: bool = False,
    controls: bool = False,
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
        experiment, analysis, n_models, root, input_phase_tasks, variable_length, controls
    )


# ------------------------------------------------------------------------------- analysis names

#: t-SNE needs at least this many models (its perplexity, min(30, (n - 1) / 3), must be >= 4/3).
TSNE_MIN_MODELS = 5
SIGNATURE_TYPES = ("statistics", "histogram", "combined")
PERSISTENCE_METRICS = ("bottleneck", "wasserstein")
WASSERSTEIN_MODES = ("separate", "2d", "magnitude_only", "angle_only")

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


#: Files of the controls analysis (``analysis/controls/``: each model against its start).
CONTROLS_OUTPUTS = ("controls.csv", "controls_summary.json", "controls.png")

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

"""The ``analyze`` command: one subcommand per analysis (:data:`SUBCOMMANDS`).

:func:`add_analyze_parser` adds it to the main CLI's subparsers; each subcommand sets ``func``
(``args.func(args)`` runs it and returns 0). Importing this module is cheap (argparse and
:mod:`vbpipe.results`); the analysis modules are imported when a command runs.

An experiment's results are given as ``--summary_file`` (an ``evaluation_summary.json``: the
original interface) or as ``--table_file`` with ``--arrays_file`` (``evaluation_table.csv`` and
``evaluation_arrays.npz``). Unless ``--output_dir`` is given, outputs go to
``<experiment>/analysis/<subcommand>/``, where ``<experiment>`` is the directory holding the given
file; ``compare`` writes to ``<common parent of the experiments>/comparison/``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from ..cliargs import positive_int
from ..constants import EMBEDDING_METHODS
from ..results.errors import ResultsError
from ..results.experiment import SPECTRA
from ..results.layout import (
    ANALYSIS_DIRNAME,
    COMPARISON_DIRNAME,
    PERSISTENCE_METRICS,
    SIGNATURE_TYPES,
    WASSERSTEIN_MODES,
)

__all__ = ["add_analyze_parser", "default_comparison_dir", "default_output_dir"]

SUBCOMMANDS = (
    "eigenvalue",
    "embedding",
    "persistence",
    "compare",
    "distances",
    "diagnostics",
    "fixed_points",
    "input_phase",
    "variable_length",
    "census",
)
DISTANCES = ("chi2", "kl", "bhattacharyya", "hausdorff", "procrustes")
#: ``--eigenvalue_key`` values (this project's earlier flag) and the spectrum each selects.
EIGENVALUE_KEYS = {
    "eigenvalues_rnn": "subspace",
    "eigenvalues_sub": "subspace",
    "eigenvalues_whh": "full",
    "eigenvalues_emt": "emt",
    "eigenvalues_theory": "theory",
}


def default_output_dir(subcommand: str, results_file: str | os.PathLike) -> Path:
    """``<experiment>/analysis/<subcommand>/`` for a results file in ``<experiment>/``."""
    return Path(results_file).resolve().parent / ANALYSIS_DIRNAME / subcommand


def default_comparison_dir(results_files: Sequence[str | os.PathLike]) -> Path:
    """``<common parent of the experiment directories>/comparison/`` (one experiment:
    ``<experiment>/analysis/comparison/``)."""
    experiments = [str(Path(f).resolve().parent) for f in results_files]
    if len(set(experiments)) == 1:
        return Path(experiments[0]) / ANALYSIS_DIRNAME / COMPARISON_DIRNAME
    return Path(os.path.commonpath(experiments)) / COMPARISON_DIRNAME


def _spectrum(args: argparse.Namespace) -> str:
    if args.eigenvalue_key is None:
        return args.spectrum
    key = args.eigenvalue_key.removesuffix(f"_seq{args.seq_length}")
    if key not in EIGENVALUE_KEYS:
        raise ResultsError(
            f"--eigenvalue_key {args.eigenvalue_key!r}: use one of {sorted(EIGENVALUE_KEYS)} "
            f"(or --spectrum {{{','.join(SPECTRA)}}})"
        )
    return EIGENVALUE_KEYS[key]


def _source(args: argparse.Namespace):
    """``(source for vbpipe.results.experiment.as_experiment, the file that locates the experiment)``."""
    if args.table_file is not None:
        if args.arrays_file is None:
            raise ResultsError("--table_file needs --arrays_file (evaluation_arrays.npz)")
        return (args.table_file, args.arrays_file), args.table_file
    if args.arrays_file is not None:
        raise ResultsError("--arrays_file goes with --table_file, not with --summary_file")
    return args.summary_file, args.summary_file


def _add_source(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--summary_file", help="the experiment's evaluation_summary.json")
    group.add_argument("--table_file", help="the experiment's evaluation_table.csv")
    p.add_argument("--arrays_file", default=None, help="evaluation_arrays.npz (with --table_file)")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seq_length",
        type=int,
        default=8,
        help="the evaluated sequence length L analysed (default 8)",
    )
    p.add_argument(
        "--output_dir",
        default=None,
        help="output directory (default: <experiment>/analysis/<subcommand>/)",
    )
    p.add_argument(
        "--spectrum",
        choices=tuple(SPECTRA),
        default="subspace",
        help="each model's eigenvalues: subspace = eig(W_sub) (the original's, default), full = "
        "eig(W_hh), emt = eig of the empirical Φ on the kept memories, theory = eig(Φ)",
    )
    p.add_argument(
        "--eigenvalue_key",
        default=None,
        help="older name of --spectrum: " + ", ".join(sorted(EIGENVALUE_KEYS)),
    )
    p.add_argument("--no_figures", action="store_true", help="write only the data files")


def _print_written(paths) -> int:
    for path in paths:
        print(path)
    return 0


def _cmd_eigenvalue(args: argparse.Namespace) -> int:
    from ..jobs.eigenvalue import analyze_eigenvalue

    source, where = _source(args)
    out = args.output_dir or default_output_dir("eigenvalue", where)
    return _print_written(
        analyze_eigenvalue(
            source,
            out,
            args.seq_length,
            spectrum=_spectrum(args),
            n_examples=args.n_examples,
            make_figures=not args.no_figures,
        )
    )


def _cmd_embedding(args: argparse.Namespace) -> int:
    from ..jobs.embedding import analyze_embedding

    source, where = _source(args)
    out = args.output_dir or default_output_dir("embedding", where)
    return _print_written(
        analyze_embedding(
            source,
            out,
            args.seq_length,
            method=args.method,
            signature_type=args.signature_type,
            distance_metric=args.distance_metric,
            color_by=args.color_by,
            annotate_outliers=args.annotate_outliers,
            spectrum=_spectrum(args),
            standardize_features=not args.no_standardize,
            random_state=args.random_state,
            make_figures=not args.no_figures,
        )
    )


def _cmd_persistence(args: argparse.Namespace) -> int:
    from ..jobs.persistence import analyze_persistence

    source, where = _source(args)
    out = args.output_dir or default_output_dir("persistence", where)
    return _print_written(
        analyze_persistence(
            source,
            out,
            args.seq_length,
            metric=args.metric,
            embedding_method=args.embedding_method,
            max_dimension=args.max_dimension,
            normalize=args.normalize,
            spectrum=_spectrum(args),
            max_models=args.max_models,
            seed=args.seed,
            n_jobs=args.n_jobs,
            make_figures=not args.no_figures,
        )
    )


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..jobs.compare import analyze_compare

    if args.table_files is not None:
        if args.arrays_files is None or len(args.arrays_files) != len(args.table_files):
            raise ResultsError("--table_files needs as many --arrays_files")
        sources = list(zip(args.table_files, args.arrays_files, strict=True))
        files = args.table_files
    else:
        if args.arrays_files is not None:
            raise ResultsError("--arrays_files goes with --table_files")
        sources = files = args.summary_files
    labels = args.labels
    if labels is None and args.by is None:
        labels = [Path(f).resolve().parent.name for f in files]
    out = args.output_dir or default_comparison_dir(files)
    return _print_written(
        analyze_compare(
            sources,
            labels,
            out,
            args.seq_length,
            by=args.by,
            spectrum=_spectrum(args),
            error=args.error,
            make_figures=not args.no_figures,
        )
    )


def add_analyze_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``analyze {eigenvalue,embedding,persistence,compare}`` to ``subparsers``.

    ``subparsers`` is the object returned by ``ArgumentParser.add_subparsers()``. Returns the
    ``analyze`` parser.
    """
    analyze = subparsers.add_parser(
        "analyze",
        help="cross-model analysis of eigenvalue spectra",
        description="Cross-model analysis of the models' eigenvalues (one experiment's results).",
    )
    sub = analyze.add_subparsers(dest="analyze_command", metavar="{" + ",".join(SUBCOMMANDS) + "}")
    sub.required = True

    p = sub.add_parser("eigenvalue", help="21 eigenvalue statistics per model")
    _add_source(p)
    _add_common(p)
    p.add_argument(
        "--n_examples", type=positive_int, default=5, help="models in complex_plane_examples.png"
    )
    p.set_defaults(func=_cmd_eigenvalue)

    p = sub.add_parser("embedding", help="2-D embedding of per-model signatures")
    _add_source(p)
    _add_common(p)
    p.add_argument("--method", choices=EMBEDDING_METHODS, default="pca")
    p.add_argument("--signature_type", choices=SIGNATURE_TYPES, default="combined")
    p.add_argument(
        "--distance_metric",
        default="euclidean",
        help="scipy pdist metric on the signatures (euclidean, cityblock, cosine, ...) or "
        "wasserstein between eigenvalue distributions: "
        + ", ".join(["wasserstein"] + [f"wasserstein_{m}" for m in WASSERSTEIN_MODES]),
    )
    p.add_argument(
        "--color_by",
        default="accuracy",
        help="none, accuracy, frob_error, spectral_error, or any numeric column of "
        "evaluation_table.csv; default accuracy",
    )
    p.add_argument("--annotate_outliers", action="store_true", help="label outliers by name")
    p.add_argument(
        "--no_standardize", action="store_true", help="do not z-score the signature features"
    )
    p.add_argument("--random_state", type=int, default=42)
    p.set_defaults(func=_cmd_embedding)

    p = sub.add_parser("persistence", help="persistent homology of the eigenvalue clouds")
    _add_source(p)
    _add_common(p)
    p.add_argument("--metric", choices=PERSISTENCE_METRICS, default="bottleneck")
    p.add_argument("--embedding_method", choices=EMBEDDING_METHODS, default="mds")
    p.add_argument("--max_dimension", type=int, default=1, help="highest homology dimension")
    p.add_argument(
        "--normalize", action="store_true", help="project eigenvalues onto the unit circle"
    )
    p.add_argument(
        "--max_models",
        type=positive_int,
        default=None,
        help="compute distances/embedding on a seeded random subset of this many models",
    )
    p.add_argument("--n_jobs", type=int, default=1, help="processes for distances (-1: all)")
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=_cmd_persistence)

    p = sub.add_parser("compare", help="compare several experiments side by side")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--summary_files", nargs="+", help="one evaluation_summary.json per set")
    group.add_argument("--table_files", nargs="+", help="one evaluation_table.csv per set")
    p.add_argument("--arrays_files", nargs="+", default=None, help="with --table_files")
    p.add_argument(
        "--labels", nargs="+", default=None, help="one label per file (default: experiment names)"
    )
    p.add_argument(
        "--by",
        default=None,
        help="compare the models of ONE experiment split by this column of its table "
        "(e.g. hidden_dim)",
    )
    _add_common(p)
    p.add_argument("--error", choices=("std", "sem"), default="std", help="error bars")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("distances", help="pairwise distances between the models' spectra")
    _add_source(p)
    _add_common(p)
    p.add_argument(
        "--metrics",
        nargs="+",
        choices=DISTANCES,
        default=list(DISTANCES),
        help="histogram distances (chi2, kl, bhattacharyya), hausdorff, procrustes",
    )
    p.add_argument(
        "--max_models",
        type=positive_int,
        default=300,
        help="distances on a seeded random subset of this many models",
    )
    p.set_defaults(func=_cmd_distances)

    p = sub.add_parser("diagnostics", help="the diagnostics report (JSON and text)")
    _add_source(p)
    _add_common(p)
    p.set_defaults(func=_cmd_diagnostics)

    p = sub.add_parser("fixed_points", help="fixed and slow points of models' autonomous dynamics")
    p.add_argument("--models", nargs="+", required=True, help="model.pt files (or model-* dirs)")
    p.add_argument("--output_dir", required=True, help="where the analysis files go")
    p.add_argument("--n_starts", type=positive_int, default=64, help="starts per model")
    p.set_defaults(func=_cmd_fixed_points)

    p = sub.add_parser(
        "input_phase",
        help="the input phase of fixed-length models beside EMT's naive and gated circuits",
    )
    p.add_argument("--models", nargs="+", required=True, help="model.pt files (or model-* dirs)")
    p.add_argument("--names", nargs="+", default=None, help="one label per model (default: dirs)")
    p.add_argument("--output_dir", required=True, help="where the analysis files go")
    p.set_defaults(func=_cmd_input_phase)

    p = sub.add_parser(
        "variable_length",
        help="accuracy per length of variable-length models beside the MSE-optimal linear filter",
    )
    _add_source(p)
    p.add_argument(
        "--output_dir",
        default=None,
        help="output directory (default: <experiment>/analysis/variable_length/)",
    )
    p.set_defaults(func=_cmd_variable_length)

    p = sub.add_parser(
        "census",
        help="every model classified by mechanism (collapsed, emt_linear, contracting, other)",
        description="The mechanism census (vbpipe.analysis.census): each model's class from its "
        "accuracy, unit-circle counts, spectral error and spectral radius; rates per cell with "
        "Wilson intervals; accuracy at long horizons from the checkpoints, found in the "
        "experiment directory.",
    )
    _add_source(p)
    p.add_argument(
        "--seq_length",
        type=positive_int,
        default=None,
        help="the evaluated length classified (default: each model's longest)",
    )
    p.add_argument(
        "--keys",
        nargs="+",
        default=None,
        help="the swept keys (table columns) the cells and the association use (default: the "
        "training parameters that take more than one value)",
    )
    p.add_argument("--chance_accuracy", type=float, default=0.55, help="collapsed at or below")
    p.add_argument("--solved_accuracy", type=float, default=0.9, help="solved above")
    p.add_argument(
        "--max_spectral_error", type=float, default=0.05, help="emt_linear at or below (rad)"
    )
    p.add_argument(
        "--max_radius", type=float, default=1.0, help="contracting: every |λ(W_hh)| below"
    )
    p.add_argument("--horizons", nargs="+", type=positive_int, default=[1000, 10000])
    p.add_argument("--n_sequences", type=positive_int, default=256, help="per model")
    p.add_argument(
        "--output_dir",
        default=None,
        help="output directory (default: <experiment>/analysis/census/)",
    )
    p.set_defaults(func=_cmd_census)
    return analyze


def _cmd_distances(args: argparse.Namespace) -> int:
    from ..jobs.distances import analyze_distances

    source, located = _source(args)
    out = args.output_dir or default_output_dir("distances", located)
    return _print_written(
        analyze_distances(
            source,
            out,
            args.seq_length,
            metrics=args.metrics,
            spectrum=_spectrum(args),
            max_models=args.max_models,
        )
    )


def _cmd_diagnostics(args: argparse.Namespace) -> int:
    from ..jobs.diagnostics import analyze_diagnostics

    source, located = _source(args)
    out = args.output_dir or default_output_dir("diagnostics", located)
    return _print_written(
        analyze_diagnostics(source, out, args.seq_length, spectrum=_spectrum(args))
    )


def _checkpoints(models: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Checkpoint paths and default labels: a ``model-*`` directory names its checkpoint
    (vbpipe's ``checkpoint/model.pt`` or the original project's Lightning ``.ckpt``, labelled by
    the directory); a file is taken as it is."""
    from ..checkpoint import CheckpointError
    from ..original_runs import model_checkpoint

    checkpoints, names = [], []
    for given in models:
        path = Path(given)
        name = path.stem
        if path.is_dir():
            name, path = path.name, model_checkpoint(path)
        elif path.parent.name == "checkpoint":
            name = path.parent.parent.name
        if path is None or not path.is_file():
            raise CheckpointError(f"{given}: no model.pt (or original .ckpt) there")
        checkpoints.append(path)
        names.append(name)
    return checkpoints, names


def _cmd_fixed_points(args: argparse.Namespace) -> int:
    from ..jobs.fixed_points import analyze_fixed_points

    checkpoints, names = _checkpoints(args.models)
    return _print_written(
        analyze_fixed_points(checkpoints, names, args.output_dir, n_starts=args.n_starts)
    )


def _cmd_input_phase(args: argparse.Namespace) -> int:
    from ..jobs.input_phase import analyze_input_phase

    checkpoints, names = _checkpoints(args.models)
    if args.names is not None:
        if len(args.names) != len(checkpoints):
            raise ResultsError(
                f"--names gives {len(args.names)} labels for {len(checkpoints)} models"
            )
        names = list(args.names)
    return _print_written(analyze_input_phase(checkpoints, names, args.output_dir))


def _cmd_variable_length(args: argparse.Namespace) -> int:
    from ..jobs.variable_length import analyze_variable_length

    source, located = _source(args)
    out = args.output_dir or default_output_dir("variable_length", located)
    return _print_written(analyze_variable_length(source, out))


def _cmd_census(args: argparse.Namespace) -> int:
    from ..analysis.census import CensusThresholds
    from ..jobs.census import analyze_census, experiment_checkpoints
    from ..results.experiment import as_experiment

    source, located = _source(args)
    try:
        thresholds = CensusThresholds(
            args.chance_accuracy, args.solved_accuracy, args.max_spectral_error, args.max_radius
        )
    except ValueError as error:
        raise ResultsError(str(error)) from None
    results = as_experiment(source).at_length(args.seq_length)
    table = results.models()
    keys = args.keys if args.keys is not None else varying_keys(table)
    out = args.output_dir or default_output_dir("census", located)
    checkpoints = experiment_checkpoints(Path(located).resolve().parent, table)
    return _print_written(
        analyze_census(
            results,
            out,
            checkpoints,
            swept=keys,
            seq_length=args.seq_length,
            thresholds=thresholds,
            horizons=args.horizons,
            n_sequences=args.n_sequences,
        )
    )


def varying_keys(table) -> list[str]:
    """The training parameters (table columns; ``task`` for ``task_id``) that take more than one
    value among the models: an experiment's swept keys, read back from its table."""
    from ..config import TrainConfig

    keys = ["task" if k == "task_id" else k for k in TrainConfig.model_fields if k != "seed"]
    return [k for k in keys if k in table.columns and table[k].astype(str).nunique() > 1]

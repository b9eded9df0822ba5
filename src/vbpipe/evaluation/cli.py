"""Command-line front doors of the evaluation stage: ``vbpipe evaluate`` and ``vbpipe aggregate``.

The main CLI calls :func:`add_evaluate_parser` and :func:`add_aggregate_parser` with its
subparsers; each sets ``func(args) -> int``. Importing this module is cheap (argparse and
:mod:`vbpipe.results`); the job modules are imported when a command runs.

``--models_dir`` (both commands) is a *variant directory* (it holds ``config.json`` and
``model-*/checkpoint/model.pt``) or an *experiment directory* whose sub-directories are variant
directories. Each model's identity comes from its variant's ``config.json`` (``metadata``:
``experiment_name``, ``variant``) and its directory name ``model-{seed}``. ``vbpipe evaluate``
keeps the original ``evaluate_multiple.py`` flags: ``--models_dir``, ``--seq_length`` (one value,
or two = an inclusive range; default: each model's trained length), ``--test_horizon``,
``--accelerator auto|cpu|gpu``, ``--model_pattern``, ``--magnitude_threshold`` (global
complex-plane figure only).

User errors (a missing or empty directory, a corrupt checkpoint or ``metrics.json``, a stale
result) raise :class:`vbpipe.errors.VbpipeError` subclasses whose one-line message names the file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cliargs import models_directory, positive_int
from ..results.errors import ResultsError
from ..results.layout import (
    EXPERIMENT_ARRAYS_NAME,
    GLOBAL_DIRNAME,
    SUMMARY_NAME,
    TABLE1_CSV_NAME,
    TABLE1_TEX_NAME,
    TABLE_NAME,
    TABLES_DIRNAME,
    find_variant_dirs,
    results_in,
)
from ..results.records import EvaluationSettings

__all__ = ["add_aggregate_parser", "add_evaluate_parser", "main_aggregate", "main_evaluate"]

MODELS_DIR_HELP = (
    "a variant directory (config.json and model-*/checkpoint/model.pt) or an experiment "
    "directory whose sub-directories are variant directories; or an experiment of the original "
    "project (config.json and model-*/lightning_logs/version_*/checkpoints/*.ckpt)"
)


class _SeqLengthAction(argparse.Action):
    """``--seq_length L`` or ``--seq_length MIN MAX`` (inclusive) → the list of lengths."""

    def __call__(self, parser, namespace, values, option_string=None):
        if len(values) not in (1, 2):
            parser.error(
                f"{option_string} takes 1 value or 2 (an inclusive range), got {len(values)}"
            )
        low, high = values[0], values[-1]
        if low < 1 or high < low:
            parser.error(f"{option_string} must satisfy 1 <= MIN <= MAX, got {values}")
        setattr(namespace, self.dest, list(range(low, high + 1)))


def add_evaluate_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``evaluate`` to ``subparsers`` (``func`` = :func:`main_evaluate`)."""
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate trained models: accuracy, spectra, EMT variable memories, summary",
        description=(
            "Evaluate every model under --models_dir: writes model-*/results/ (metrics.json, "
            "arrays.npz, figures), then eval_config.json, evaluation_table.csv, "
            "evaluation_arrays.npz, evaluation_summary.json, tables/ and global_analysis/ in "
            "--models_dir (or --output_root). Exit status 2 when some model could not be "
            "evaluated (the others are, and the summary lists the failures)."
        ),
    )
    parser.add_argument("--models_dir", required=True, type=models_directory, help=MODELS_DIR_HELP)
    parser.add_argument(
        "--model_pattern",
        default="model-*",
        help="glob of model directory names (default: %(default)s)",
    )
    parser.add_argument(
        "--seq_length",
        nargs="+",
        type=positive_int,
        action=_SeqLengthAction,
        default=None,
        metavar="L",
        help="evaluate at L, or at MIN..MAX inclusive (default: the trained length)",
    )
    parser.add_argument(
        "--test_horizon",
        type=positive_int,
        default=EvaluationSettings.test_horizon,
        help="output steps scored (default: %(default)s)",
    )
    parser.add_argument(
        "--n_batches",
        type=positive_int,
        default=EvaluationSettings.n_batches,
        help="test batches per length (default: %(default)s)",
    )
    parser.add_argument(
        "--batch_size",
        type=positive_int,
        default=EvaluationSettings.batch_size,
        help="sequences per test batch (default: %(default)s)",
    )
    parser.add_argument(
        "--accelerator",
        choices=("auto", "cpu", "gpu"),
        default="auto",
        help="device of the forward passes (default: %(default)s)",
    )
    parser.add_argument(
        "--magnitude_threshold",
        type=float,
        default=0.0,
        help="only |λ| >= this in the global complex-plane figure (default: %(default)s)",
    )
    parser.add_argument(
        "--unit_threshold",
        type=float,
        default=EvaluationSettings.unit_threshold,
        help="|λ| above this counts as on the unit circle (default: %(default)s)",
    )
    parser.add_argument(
        "--no_figures", action="store_true", help="skip per-model and global figures"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch CPU threads (default: torch's choice; 1 is best on a busy 2-core machine)",
    )
    parser.add_argument(
        "--output_root",
        default=None,
        help="where the summary, tables and global_analysis/ go (default: --models_dir)",
    )
    parser.set_defaults(func=main_evaluate)
    return parser


def main_evaluate(args: argparse.Namespace) -> int:
    from ..jobs.evaluate import EvaluationError
    from .directory import evaluate_directory

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    settings = EvaluationSettings(
        test_horizon=args.test_horizon,
        n_batches=args.n_batches,
        batch_size=args.batch_size,
        unit_threshold=args.unit_threshold,
        seq_lengths=args.seq_length,
    )
    result = evaluate_directory(
        args.models_dir,
        model_pattern=args.model_pattern,
        settings=settings,
        accelerator=args.accelerator,
        magnitude_threshold=args.magnitude_threshold,
        figures=not args.no_figures,
        output_root=args.output_root,
    )
    print(f"wrote {result['summary']} ({result['n_models']} models)")
    failures = result["failures"]
    if failures:
        first = failures[0]
        raise EvaluationError(
            f"{len(failures)} model(s) could not be evaluated (listed in the summary's "
            f"failed_models); first: {first['error']}"
        )
    return 0


def add_aggregate_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``aggregate`` to ``subparsers`` (``func`` = :func:`main_aggregate`)."""
    parser = subparsers.add_parser(
        "aggregate",
        help="gather metrics.json files into the table, the summary, Table 1, global figures",
        description=(
            "Aggregate the evaluated models of --models_dir: evaluation_table.csv, "
            "evaluation_arrays.npz, evaluation_summary.json (validated against the packaged "
            "schema), tables/table1.{csv,tex} and global_analysis/*.png. Every model with a "
            "checkpoint must have a current result (a stale one is an error: re-evaluate)."
        ),
    )
    parser.add_argument(
        "--models_dir",
        "--experiment_dir",
        dest="models_dir",
        required=True,
        type=models_directory,
        help=MODELS_DIR_HELP,
    )
    parser.add_argument("--model_pattern", default="model-*")
    parser.add_argument(
        "--output_root",
        default=None,
        help="where the outputs go (default: --models_dir)",
    )
    parser.add_argument(
        "--summary",
        default=None,
        help="summary path (default: OUTPUT_ROOT/evaluation_summary.json)",
    )
    parser.add_argument("--magnitude_threshold", type=float, default=0.0)
    parser.add_argument("--no_figures", action="store_true", help="skip global_analysis/")
    parser.add_argument("--no_tables", action="store_true", help="skip tables/table1.{csv,tex}")
    parser.set_defaults(func=main_aggregate)
    return parser


def main_aggregate(args: argparse.Namespace) -> int:
    from ..jobs.aggregate import aggregate_experiment

    root = Path(args.models_dir)
    output_root = Path(args.output_root) if args.output_root else root
    from ..original_runs import model_checkpoints

    results_dirs, checkpoints = [], []
    for variant_dir in find_variant_dirs(root):
        for model_dir, checkpoint in model_checkpoints(variant_dir, args.model_pattern):
            results_dirs.append(results_in(model_dir))
            checkpoints.append(checkpoint)
    if not results_dirs:
        raise ResultsError(f"{root}: no model directory matching {args.model_pattern!r}")
    tables = output_root / TABLES_DIRNAME
    aggregate_experiment(
        results_dirs,
        summary=Path(args.summary) if args.summary else output_root / SUMMARY_NAME,
        table=output_root / TABLE_NAME,
        arrays=output_root / EXPERIMENT_ARRAYS_NAME,
        table1_csv=None if args.no_tables else tables / TABLE1_CSV_NAME,
        table1_tex=None if args.no_tables else tables / TABLE1_TEX_NAME,
        evaluation_config={"evaluation": {"magnitude_threshold": args.magnitude_threshold}},
        checkpoints=checkpoints,
    )
    if not args.no_figures:
        from ..jobs.figures import draw_global_figures
        from ..results.experiment import load_experiment

        results = load_experiment(output_root / TABLE_NAME, output_root / EXPERIMENT_ARRAYS_NAME)
        draw_global_figures(results, output_root / GLOBAL_DIRNAME, args.magnitude_threshold)
    print(f"aggregated {len(results_dirs)} models into {output_root}")
    return 0

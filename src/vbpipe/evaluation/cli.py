"""Command-line front ends of the evaluation stage: ``vbpipe evaluate`` and ``vbpipe aggregate``.

The main CLI calls :func:`add_evaluate_parser` and :func:`add_aggregate_parser` with its subparsers;
each sets ``func`` to a callable ``func(args) -> int`` (the exit status: 0, or 1 when some model
failed).

``vbpipe evaluate`` keeps the original ``evaluate_multiple.py`` flags: ``--models_dir`` (an
experiment, a variant or one model directory; models found recursively by ``--model_pattern`` and
naturally sorted), ``--seq_length`` (one value, or two = an inclusive range; default: each model's
trained length), ``--test_horizon``, ``--accelerator auto|cpu|gpu``, ``--magnitude_threshold``
(global complex-plane figure).
"""

from __future__ import annotations

import argparse
import sys

from .spectra import DEFAULT_UNIT_THRESHOLD

__all__ = ["add_aggregate_parser", "add_evaluate_parser", "main_aggregate", "main_evaluate"]


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


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def add_evaluate_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``evaluate`` to ``subparsers`` (``func`` = :func:`main_evaluate`)."""
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate trained models: accuracy, spectra, EMT variable memories, summary",
        description=(
            "Evaluate every model under --models_dir: writes model-*/results/ (metrics.json, "
            "arrays.npz, figures), then eval_config.json, evaluation_summary.json and "
            "global_analysis/ in --models_dir (or --output_root)."
        ),
    )
    parser.add_argument(
        "--models_dir",
        required=True,
        help="an experiment directory, a variant directory or one model directory",
    )
    parser.add_argument(
        "--model_pattern",
        default="model-*",
        help="glob of model directory names (default: %(default)s)",
    )
    parser.add_argument(
        "--seq_length",
        nargs="+",
        type=_positive_int,
        action=_SeqLengthAction,
        default=None,
        metavar="L",
        help="evaluate at L, or at MIN..MAX inclusive (default: the trained length)",
    )
    parser.add_argument(
        "--test_horizon",
        type=_positive_int,
        default=200,
        help="output steps scored (default: %(default)s)",
    )
    parser.add_argument(
        "--n_batches",
        type=_positive_int,
        default=10,
        help="test batches per length (default: %(default)s)",
    )
    parser.add_argument(
        "--batch_size",
        type=_positive_int,
        default=64,
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
        default=DEFAULT_UNIT_THRESHOLD,
        help="|λ| above this counts as on the unit circle (default: %(default)s)",
    )
    parser.add_argument(
        "--no_figures", action="store_true", help="skip per-model and global figures"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="torch CPU threads (default: torch's choice; 1 is best on a busy 2-core machine)",
    )
    parser.add_argument(
        "--output_root",
        default=None,
        help="where the summary and global_analysis/ go (default: --models_dir)",
    )
    parser.set_defaults(func=main_evaluate)
    return parser


def main_evaluate(args: argparse.Namespace) -> int:
    from .run import run_evaluate_directory

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    result = run_evaluate_directory(
        args.models_dir,
        model_pattern=args.model_pattern,
        seq_lengths=args.seq_length,
        test_horizon=args.test_horizon,
        n_batches=args.n_batches,
        batch_size=args.batch_size,
        accelerator=args.accelerator,
        unit_threshold=args.unit_threshold,
        magnitude_threshold=args.magnitude_threshold,
        figures=not args.no_figures,
        output_root=args.output_root,
    )
    print(f"wrote {result['summary']} ({result['n_models']} models)")
    if result["failures"]:
        print(
            f"{len(result['failures'])} model(s) failed; see failed_models in the summary",
            file=sys.stderr,
        )
        return 1
    return 0


def add_aggregate_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``aggregate`` to ``subparsers`` (``func`` = :func:`main_aggregate`)."""
    parser = subparsers.add_parser(
        "aggregate",
        help="gather metrics.json files into evaluation_summary.json, global figures, Table 1",
        description=(
            "Aggregate the per-model metrics of an experiment: evaluation_summary.json (validated "
            "against the packaged schema), global_analysis/*.png and tables/table1.{csv,tex}."
        ),
    )
    parser.add_argument(
        "--experiment_dir",
        required=True,
        help="experiment directory holding {variant}/model-*/results/metrics.json",
    )
    parser.add_argument("--model_pattern", default="model-*")
    parser.add_argument(
        "--summary",
        default=None,
        help="summary path (default: EXPERIMENT_DIR/evaluation_summary.json)",
    )
    parser.add_argument("--magnitude_threshold", type=float, default=0.0)
    parser.add_argument("--no_figures", action="store_true", help="skip global_analysis/")
    parser.add_argument("--no_tables", action="store_true", help="skip tables/table1.{csv,tex}")
    parser.set_defaults(func=main_aggregate)
    return parser


def main_aggregate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import io
    from .run import GLOBAL_DIRNAME, SUMMARY_NAME, run_aggregate

    root = Path(args.experiment_dir)
    paths = io.find_metrics_files(root, args.model_pattern)
    if not paths:
        print(f"{root}: no model-*/results/metrics.json found", file=sys.stderr)
        return 1
    config = {"evaluation": {"magnitude_threshold": args.magnitude_threshold}}
    run_aggregate(
        paths,
        Path(args.summary) if args.summary else root / SUMMARY_NAME,
        None if args.no_figures else root / GLOBAL_DIRNAME,
        None if args.no_tables else root / "tables",
        config,
        args.magnitude_threshold,
    )
    print(f"aggregated {len(paths)} models")
    return 0

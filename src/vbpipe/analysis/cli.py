"""The ``analyze`` command: ``eigenvalue``, ``embedding``, ``persistence`` and ``compare``.

:func:`add_analyze_parser` adds it to the main CLI's subparsers. Each subcommand sets ``func``
(``args.func(args)`` runs it and returns 0). Unless ``--output_dir`` is given, outputs go to
``<experiment>/analysis/<subcommand>/``, where ``<experiment>`` is the directory holding the
summary file; ``compare`` writes to ``<common parent of the experiments>/comparison/``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from .distances import WASSERSTEIN_MODES
from .embedding import EMBEDDING_METHODS
from .persistence import PERSISTENCE_METRICS
from .signatures import SIGNATURE_TYPES

__all__ = ["add_analyze_parser", "default_output_dir", "default_comparison_dir"]

SUBCOMMANDS = ("eigenvalue", "embedding", "persistence", "compare")


def default_output_dir(subcommand: str, summary_file: str | os.PathLike) -> Path:
    """``<experiment>/analysis/<subcommand>/`` for a summary file in ``<experiment>/``."""
    experiment = Path(summary_file).resolve().parent
    return experiment / "analysis" / subcommand


def default_comparison_dir(summary_files: Sequence[str | os.PathLike]) -> Path:
    """``<common parent of the experiment directories>/comparison/``."""
    experiments = [str(Path(f).resolve().parent) for f in summary_files]
    if len(set(experiments)) == 1:
        return Path(experiments[0]) / "analysis" / "comparison"
    return Path(os.path.commonpath(experiments)) / "comparison"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text}")
    return value


def _add_common(p: argparse.ArgumentParser, *, single: bool = True) -> None:
    if single:
        p.add_argument(
            "--summary_file",
            required=True,
            help="the experiment's evaluation_summary.json",
        )
    p.add_argument(
        "--seq_length",
        type=int,
        default=8,
        help="sequence length L selecting the *_seq{L} keys (default 8)",
    )
    p.add_argument(
        "--output_dir",
        default=None,
        help="output directory (default: <experiment>/analysis/<subcommand>/)",
    )
    p.add_argument(
        "--eigenvalue_key",
        default=None,
        help="summary key of the eigenvalue point cloud (default eigenvalues_rnn_seq{L}; e.g. "
        "eigenvalues_whh for the full W_hh spectrum; '<key>_seq{L}' is tried when '<key>' is "
        "absent)",
    )
    p.add_argument("--no_figures", action="store_true", help="write only the data files")


def _print_written(paths) -> int:
    for path in paths:
        print(path)
    return 0


def _cmd_eigenvalue(args: argparse.Namespace) -> int:
    from .run import run_eigenvalue

    out = args.output_dir or default_output_dir("eigenvalue", args.summary_file)
    return _print_written(
        run_eigenvalue(
            args.summary_file,
            out,
            args.seq_length,
            eigenvalue_key=args.eigenvalue_key,
            n_examples=args.n_examples,
            make_figures=not args.no_figures,
        )
    )


def _cmd_embedding(args: argparse.Namespace) -> int:
    from .run import run_embedding

    out = args.output_dir or default_output_dir("embedding", args.summary_file)
    return _print_written(
        run_embedding(
            args.summary_file,
            out,
            args.seq_length,
            method=args.method,
            signature_type=args.signature_type,
            distance_metric=args.distance_metric,
            color_by=args.color_by,
            annotate_outliers=args.annotate_outliers,
            eigenvalue_key=args.eigenvalue_key,
            standardize_features=not args.no_standardize,
            random_state=args.random_state,
            make_figures=not args.no_figures,
        )
    )


def _cmd_persistence(args: argparse.Namespace) -> int:
    from .run import run_persistence

    out = args.output_dir or default_output_dir("persistence", args.summary_file)
    return _print_written(
        run_persistence(
            args.summary_file,
            out,
            args.seq_length,
            metric=args.metric,
            embedding_method=args.embedding_method,
            max_dimension=args.max_dimension,
            normalize=args.normalize,
            eigenvalue_key=args.eigenvalue_key,
            max_models=args.max_models,
            seed=args.seed,
            n_jobs=args.n_jobs,
            make_figures=not args.no_figures,
        )
    )


def _cmd_compare(args: argparse.Namespace) -> int:
    from .run import run_compare

    labels = args.labels or [Path(f).resolve().parent.name for f in args.summary_files]
    out = args.output_dir or default_comparison_dir(args.summary_files)
    return _print_written(
        run_compare(
            args.summary_files,
            labels,
            out,
            args.seq_length,
            eigenvalue_key=args.eigenvalue_key,
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
        description="Cross-model analysis of the eigenvalues in evaluation_summary.json.",
    )
    sub = analyze.add_subparsers(dest="analyze_command", metavar="{" + ",".join(SUBCOMMANDS) + "}")
    sub.required = True

    p = sub.add_parser("eigenvalue", help="21 eigenvalue statistics per model")
    _add_common(p)
    p.add_argument(
        "--n_examples", type=_positive_int, default=5, help="models in complex_plane_examples.png"
    )
    p.set_defaults(func=_cmd_eigenvalue)

    p = sub.add_parser("embedding", help="2-D embedding of per-model signatures")
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
        help="none, accuracy, frob_error, spectral_error, or any numeric key of the summary "
        "(with or without _seq{L}); default accuracy",
    )
    p.add_argument("--annotate_outliers", action="store_true", help="label outliers by name")
    p.add_argument(
        "--no_standardize", action="store_true", help="do not z-score the signature features"
    )
    p.add_argument("--random_state", type=int, default=42)
    p.set_defaults(func=_cmd_embedding)

    p = sub.add_parser("persistence", help="persistent homology of the eigenvalue clouds")
    _add_common(p)
    p.add_argument("--metric", choices=PERSISTENCE_METRICS, default="bottleneck")
    p.add_argument("--embedding_method", choices=EMBEDDING_METHODS, default="mds")
    p.add_argument("--max_dimension", type=int, default=1, help="highest homology dimension")
    p.add_argument(
        "--normalize", action="store_true", help="project eigenvalues onto the unit circle"
    )
    p.add_argument(
        "--max_models",
        type=_positive_int,
        default=None,
        help="compute distances/embedding on a seeded random subset of this many models",
    )
    p.add_argument("--n_jobs", type=int, default=1, help="processes for distances (-1: all)")
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=_cmd_persistence)

    p = sub.add_parser("compare", help="compare several experiments side by side")
    p.add_argument("--summary_files", nargs="+", required=True, help="one summary per set")
    p.add_argument(
        "--labels", nargs="+", default=None, help="one label per file (default: experiment names)"
    )
    _add_common(p, single=False)
    p.add_argument("--error", choices=("std", "sem"), default="std", help="error bars")
    p.set_defaults(func=_cmd_compare)
    return analyze

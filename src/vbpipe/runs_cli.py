"""``vbpipe runs``: every experiment and variant under a results root in one table."""

from __future__ import annotations

import sys

from .errors import VbpipeError


class RunsError(VbpipeError, ValueError):
    """A bad ``vbpipe runs`` argument (unknown column, malformed filter)."""


def add_runs_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "runs",
        help="one table of every experiment and variant under results/",
        description="One row per experiment and variant: parameters, seeds done/planned, accuracy "
        "and spectral error (mean ± 95%% t interval over seeds), status. Read from the "
        "metrics.json files, so it shows runs still in progress too.",
    )
    p.add_argument("--results", default="results", help="results root")
    p.add_argument(
        "--only-changed",
        action="store_true",
        help="show only the parameters that differ between the rows shown",
    )
    p.add_argument("--sort", metavar="KEY", help="sort by a column (or --sort=-KEY: descending)")
    p.add_argument("--sort-order", choices=("asc", "desc"), default="asc")
    p.add_argument(
        "--filter",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="keep rows whose column KEY equals VALUE (repeatable)",
    )
    p.add_argument("--format", choices=("terminal", "csv", "markdown"), default="terminal")
    p.add_argument(
        "--provenance",
        action="store_true",
        help="add where each variant was trained and evaluated (git commit, dirty, host, "
        "device, Slurm job)",
    )
    p.set_defaults(func=run_runs)


def collect_runs(results: str, provenance: bool = False):
    """The runs table of a results root (see :mod:`vbpipe.runs`)."""
    from .results.inventory import scan_results
    from .results.table import records_to_table
    from .runs import runs_table, with_provenance

    states = scan_results(results)
    records = [r for s in states for r in s.records]
    tidy = records_to_table(records)
    keys = {(s.experiment, s.variant): s for s in states}
    table = runs_table(
        tidy,
        planned={k: len(s.planned) for k, s in keys.items()},
        status={k: s.status for k, s in keys.items()},
    )
    if provenance:
        table = with_provenance(table, {k: s.records for k, s in keys.items()})
    return table


def run_runs(args) -> int:
    from .runs import FORMATS, RunsQueryError, filter_rows, only_changed, sort_rows

    table = collect_runs(args.results, args.provenance)
    try:
        table = filter_rows(table, args.filter)
        if args.only_changed:
            table = only_changed(table)
        table = sort_rows(table, args.sort, args.sort_order == "desc")
    except RunsQueryError as error:
        raise RunsError(str(error)) from None
    sys.stdout.write(FORMATS[args.format](table))
    return 0


__all__ = ["add_runs_parser", "collect_runs", "run_runs"]

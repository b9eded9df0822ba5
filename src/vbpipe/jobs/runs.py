"""The runs table job: the runs table of one experiment or of several (:mod:`vbpipe.runs`), as
CSV and markdown, and its parallel-coordinates figure, from the experiments' tidy tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..fileio import save_figure, write_text
from ..results.table import read_table
from ..runs import changed_columns, format_csv, format_markdown, only_changed, runs_table

#: Figure axes besides the swept parameters (label -> runs-table column).
METRIC_AXES = {"accuracy": "accuracy_mean", "spectral error (rad)": "spectral_error_mean"}


def runs_figure(table, title: str = ""):
    """Parallel coordinates of a runs table: the parameters that differ between its rows (and the
    experiment, when there are several), then the mean accuracy and spectral error."""
    from ..analysis.parallel_coordinates import parallel_coordinates

    axes = []
    if table["experiment"].nunique() > 1:
        axes.append("experiment")
    axes += changed_columns(table)
    columns = {name: list(table[name]) for name in axes}
    columns.update({label: list(table[col]) for label, col in METRIC_AXES.items()})
    return parallel_coordinates(
        columns, table["accuracy_mean"].to_numpy(dtype=float), "mean accuracy", title
    )


def runs_table_job(
    tables: Sequence[str | Path],
    planned: Sequence[Sequence],
    csv: str | Path,
    markdown: str | Path,
    figure: str | Path,
    title: str = "",
) -> None:
    """``planned``: ``[experiment, variant, n_seeds]`` per variant the config plans. The CSV holds
    every column; the markdown only the parameters that differ between rows."""
    import pandas as pd

    tidy = pd.concat([read_table(path) for path in tables], ignore_index=True)
    table = runs_table(tidy, planned={(e, v): int(n) for e, v, n in planned})
    write_text(csv, format_csv(table))
    write_text(markdown, format_markdown(only_changed(table)))  # for people: what differs
    save_figure(runs_figure(table, title), figure)

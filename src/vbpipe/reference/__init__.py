"""Reference data from the paper, shipped with the package.

``paper_table1.csv``: Table 1 of arXiv 2310.02430 (the paper notebook's saved output), long form, one
row per (task, hidden_dim, l2_penalty): spectral error in radians (empty for the paper's "—") and
mean accuracy. Reading it is the only file access in this module.
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

__all__ = ["PAPER_TABLE1_FILE", "paper_table1"]

PAPER_TABLE1_FILE = "paper_table1.csv"


def paper_table1() -> pd.DataFrame:
    """The paper's Table 1: columns task, task_id, hidden_dim, l2_penalty, spectral_error, accuracy.

    ``spectral_error`` is NaN where the paper prints "—" (no valid spectral error).
    """
    with files(__package__).joinpath(PAPER_TABLE1_FILE).open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, comment="#", dtype={"task": str, "task_id": str})
    return table.astype({"hidden_dim": int, "l2_penalty": float})

"""The paper's Table 1 recomputed from our models, with seed-bootstrap intervals and a verdict per cell.

Aggregation (the paper notebook's rule, reference section 6), per cell = (task, hidden_dim, l2_penalty):

1. per seed: accuracy = **max** over curriculum thresholds; spectral error = **min** over thresholds
   of the *valid* errors (valid: accuracy > ``accuracy_threshold`` (0.9) and an error exists);
2. per cell: the **mean over seeds**. Accuracy averages every seed; the spectral error averages the
   seeds that have a valid one (NaN when none: the paper's "—").

Intervals: a percentile bootstrap over seeds (resampling the per-seed values with replacement; for
the spectral error the valid seeds only, matching the statistic). Each cell draws from its own
generator seeded by ``(seed, crc32(cell))``, so a cell's interval does not depend on the other cells.

Verdict per quantity (:func:`compare_with_paper`): ``within noise`` when the paper's value lies in our
interval widened by the paper's rounding (half a unit of its last printed digit: 0.005 for accuracy,
printed with 2 decimals; 0.00005 for errors, printed with 4). The paper's true value lies within that
half-unit of its printed one, so the widening asks whether the two ranges overlap. This also gives a
zero-width interval (every seed at accuracy 1.00, or a single seed) a fair tolerance. ``differs``
otherwise. ``not comparable: ...`` says which side has no value.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from ..constants import SOLVED_ACCURACY
from ..taskspec import PAPER_TASKS

__all__ = [
    "ACCURACY_THRESHOLD",
    "CELL",
    "QUANTITIES",
    "ROUNDING",
    "bootstrap_intervals",
    "compare_with_paper",
    "per_seed_values",
    "reproduce_table1",
    "table1_cells",
    "verdict_counts",
]

CELL = ["task", "hidden_dim", "l2_penalty"]
MODEL_COLUMNS = CELL + ["curriculum_threshold", "seed", "accuracy", "spectral_error"]
QUANTITIES = ("accuracy", "spectral_error")
ACCURACY_THRESHOLD = SOLVED_ACCURACY  # a model's spectral error counts above it
#: Half a unit of the paper's last printed digit, per quantity.
ROUNDING = {"accuracy": 0.005, "spectral_error": 0.00005}

WITHIN, DIFFERS = "within noise", "differs"
NO_OURS = "not comparable: no value in ours"
NO_PAPER = "not comparable: no value in the paper"
NO_EITHER = "not comparable: no value on either side"
CELL_NOT_OURS = "not comparable: cell not in ours"
CELL_NOT_PAPER = "not comparable: cell not in the paper"


def _normalise_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Cell keys in one canonical form so that ours and the paper's merge (0.001 == 0.0010)."""
    return df.assign(
        task=df["task"].astype(str),
        hidden_dim=df["hidden_dim"].astype(int),
        l2_penalty=df["l2_penalty"].astype(float).map(lambda x: float(f"{x:.12g}")),
    )


def _check_columns(df: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns {missing}; need {list(columns)}")


def per_seed_values(
    df: pd.DataFrame, accuracy_threshold: float = ACCURACY_THRESHOLD
) -> pd.DataFrame:
    """One row per (cell, seed): max accuracy and min valid spectral error over thresholds.

    ``df`` has one row per model with :data:`MODEL_COLUMNS`; ``spectral_error`` NaN when none.
    """
    _check_columns(df, MODEL_COLUMNS)
    models = _normalise_keys(df)
    accuracy = models["accuracy"].astype(float)
    error = models["spectral_error"].astype(float)
    models = models.assign(valid_error=error.where((accuracy > accuracy_threshold) & error.notna()))
    per_seed = models.groupby(CELL + ["seed"], sort=True).agg(
        accuracy=("accuracy", "max"),
        spectral_error=("valid_error", "min"),
        n_models=("accuracy", "size"),
    )
    return per_seed.reset_index()


def table1_cells(df: pd.DataFrame, accuracy_threshold: float = ACCURACY_THRESHOLD) -> pd.DataFrame:
    """Table 1 cells: ``accuracy`` and ``spectral_error`` (means over seeds), ``n_seeds``,
    ``n_valid_seeds`` (seeds with a valid error) and ``n_models``, one row per cell."""
    per_seed = per_seed_values(df, accuracy_threshold)
    cells = per_seed.groupby(CELL, sort=True).agg(
        accuracy=("accuracy", "mean"),
        spectral_error=("spectral_error", "mean"),
        n_seeds=("seed", "size"),
        n_valid_seeds=("spectral_error", "count"),
        n_models=("n_models", "sum"),
    )
    return _ordered(cells.reset_index())


def _percentile_mean(
    values: np.ndarray, rng, n_boot: int, confidence: float
) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    means = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def _cell_rng(seed: int, key) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(repr(tuple(key)).encode())])


def bootstrap_intervals(
    per_seed: pd.DataFrame, n_boot: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Percentile bootstrap interval of each cell's mean accuracy and mean spectral error.

    ``per_seed`` is :func:`per_seed_values`' output (cell keys, ``seed``, the quantities). Returns the cell keys and
    ``{accuracy,spectral_error}_{low,high}`` (NaN where the cell has no value).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")

    def one_cell(group: pd.DataFrame) -> pd.Series:
        rng = _cell_rng(seed, group.name)
        out = {}
        for quantity in QUANTITIES:
            low, high = _percentile_mean(group[quantity].to_numpy(float), rng, n_boot, confidence)
            out[f"{quantity}_low"], out[f"{quantity}_high"] = low, high
        return pd.Series(out)

    # sorted by seed, so that the draws do not depend on the row order of ``per_seed``
    ordered = _normalise_keys(per_seed).sort_values(CELL + ["seed"], kind="stable")
    grouped = ordered.groupby(CELL, sort=True)[list(QUANTITIES)]
    return _ordered(grouped.apply(one_cell).reset_index())


def reproduce_table1(
    df: pd.DataFrame,
    accuracy_threshold: float = ACCURACY_THRESHOLD,
    n_boot: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`table1_cells` joined with :func:`bootstrap_intervals`: our side of the comparison."""
    cells = table1_cells(df, accuracy_threshold)
    intervals = bootstrap_intervals(
        per_seed_values(df, accuracy_threshold), n_boot=n_boot, confidence=confidence, seed=seed
    )
    return cells.merge(intervals, on=CELL, how="left")


def _verdicts(
    ours: pd.Series,
    low: pd.Series,
    high: pd.Series,
    paper: pd.Series,
    tolerance: float,
    in_ours: pd.Series,
    in_paper: pd.Series,
) -> np.ndarray:
    has_ours, has_paper = ours.notna(), paper.notna()
    inside = (paper >= low - tolerance) & (paper <= high + tolerance)
    return np.select(
        [
            ~in_ours,
            ~in_paper,
            ~has_ours & ~has_paper,
            ~has_ours,
            ~has_paper,
            inside,
        ],
        [CELL_NOT_OURS, CELL_NOT_PAPER, NO_EITHER, NO_OURS, NO_PAPER, WITHIN],
        default=DIFFERS,
    )


def compare_with_paper(
    ours: pd.DataFrame, paper: pd.DataFrame, rounding: dict[str, float] | None = None
) -> pd.DataFrame:
    """One row per cell of either table: ours (mean, interval, ``n_seeds``, ``n_valid_seeds``), the
    paper's value (``paper_accuracy``, ``paper_spectral_error``), the difference ours - paper and a
    verdict per quantity (``accuracy_verdict``, ``spectral_error_verdict``; see module docstring).

    ``ours`` is :func:`reproduce_table1`'s output; ``paper`` has the cell keys, ``accuracy`` and
    ``spectral_error`` (e.g. :func:`vbpipe.reference.paper_table1`). ``rounding`` overrides
    :data:`ROUNDING`, the tolerance added on each side of our interval.
    """
    tolerance = {**ROUNDING, **(rounding or {})}
    _check_columns(ours, CELL + [f"{q}{s}" for q in QUANTITIES for s in ("", "_low", "_high")])
    _check_columns(paper, CELL + list(QUANTITIES))
    ours_part = _normalise_keys(ours).drop(columns=["task_id"], errors="ignore")
    paper_part = _normalise_keys(paper)[CELL + list(QUANTITIES)].rename(
        columns={q: f"paper_{q}" for q in QUANTITIES}
    )
    merged = ours_part.merge(paper_part, on=CELL, how="outer", indicator=True)
    in_ours = merged["_merge"] != "right_only"
    in_paper = merged["_merge"] != "left_only"
    for quantity in QUANTITIES:
        merged[f"{quantity}_diff"] = merged[quantity] - merged[f"paper_{quantity}"]
        merged[f"{quantity}_verdict"] = _verdicts(
            merged[quantity],
            merged[f"{quantity}_low"],
            merged[f"{quantity}_high"],
            merged[f"paper_{quantity}"],
            tolerance[quantity],
            in_ours,
            in_paper,
        )
    return _ordered(merged.drop(columns="_merge"))


def verdict_counts(comparison: pd.DataFrame) -> pd.DataFrame:
    """How many cells got each verdict, per quantity (rows: verdicts; columns: quantities)."""
    counts = {q: comparison[f"{q}_verdict"].value_counts() for q in QUANTITIES}
    return pd.DataFrame(counts).fillna(0).astype(int).sort_index()


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    """Paper tasks first (T1..T4), then others by name; then hidden size and L2 penalty."""
    paper_rank = {name: i for i, name in enumerate(PAPER_TASKS)}
    rank = df["task"].map(lambda t: (paper_rank.get(t, len(paper_rank)), t))
    order = (
        df.assign(_rank=rank)
        .sort_values(["_rank", "hidden_dim", "l2_penalty"], kind="stable")
        .drop(columns="_rank")
    )
    return order.reset_index(drop=True)

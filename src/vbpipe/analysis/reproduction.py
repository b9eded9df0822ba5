"""The paper's Table 1 recomputed from our models, with a statistical verdict per cell.

Aggregation (the paper notebook's rule, reference section 6), per cell = (task, hidden_dim, l2_penalty):

1. per seed: accuracy = **max** over curriculum thresholds; spectral error = **min** over thresholds
   of the *valid* errors (valid: accuracy > ``accuracy_threshold`` (0.9) and an error exists);
2. per cell: the **mean over seeds**. Accuracy averages every seed; the spectral error averages the
   seeds that have a valid one (NaN when none: the paper's "—").

Two spectral errors, per model:

- ``spectral_error``: **the paper's rule** (:mod:`vbpipe.evaluation.paper_spectral_rule`): full ``W_hh``
  vs ``Φ``, greedy matching, NaN when the unit-circle counts differ, so such models drop out of the
  cell. This is the one compared with the paper.
- ``spectral_error_hungarian`` (optional column): ours, the error evaluation stores (optimal matching,
  every model whatever its counts), shown beside it and never given a verdict: it is not the
  statistic the paper printed.

Intervals on our means (shown, not used by the verdicts): a percentile bootstrap over seeds. Each cell
draws from its own generator seeded by ``(seed, crc32(cell))``, so a cell's interval does not depend
on the other cells.

Verdicts (:func:`compare_with_paper`; the tests and their assumptions are in
:mod:`vbpipe.analysis.reproduction_stats`): accuracy as a **solve rate** (seeds above 0.9), ours
``k/n`` against the paper's implied ``k/20``, Fisher's exact test; spectral error as a **difference of
means** with an interval that counts both sides' sampling. ``differs`` when the test rejects at
``alpha`` (0.05), ``within noise`` when it does not, ``underpowered`` when our seeds could not reject
whatever their outcome, ``agrees: no value on either side`` when both are "—", ``not comparable: ...``
when one side has no value (it says which). Holm-adjusted p-values over every test of the table are
given beside the raw ones, and :func:`chance_summary` says how many "differs" chance alone would give.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from ..constants import SOLVED_ACCURACY
from ..taskspec import PAPER_TASKS
from .reproduction_stats import (
    ALPHA,
    PAPER_SEEDS,
    error_difference,
    expected_false_positives,
    holm_adjust,
    implied_solves,
    smallest_solve_rate_p,
    solve_rate_p,
)

__all__ = [
    "ACCURACY_THRESHOLD",
    "CELL",
    "HUNGARIAN",
    "QUANTITIES",
    "ROUNDING",
    "bootstrap_intervals",
    "chance_summary",
    "compare_with_paper",
    "per_seed_values",
    "reproduce_table1",
    "table1_cells",
    "verdict_counts",
]

CELL = ["task", "hidden_dim", "l2_penalty"]
MODEL_COLUMNS = CELL + ["curriculum_threshold", "seed", "accuracy", "spectral_error"]
#: The optional per-model column with our own (Hungarian, every model) spectral error.
HUNGARIAN = "spectral_error_hungarian"
#: The quantities given a verdict against the paper.
QUANTITIES = ("accuracy", "spectral_error")
ERRORS = ("spectral_error", HUNGARIAN)
ACCURACY_THRESHOLD = (
    SOLVED_ACCURACY  # a model's spectral error counts above it; a seed solves above it
)
#: Half a unit of the paper's last printed digit (errors are printed with 4 decimals), added to the
#: spectral-error interval. Accuracy needs none: the implied solve count absorbs its rounding.
ROUNDING = {"spectral_error": 0.00005}

WITHIN, DIFFERS, UNDERPOWERED = "within noise", "differs", "underpowered"
BOTH_DASH = "agrees: no value on either side"
NO_OURS = "not comparable: no value in ours"
NO_PAPER = "not comparable: no value in the paper"
CELL_NOT_OURS = "not comparable: cell not in ours"
CELL_NOT_PAPER = "not comparable: cell not in the paper"
TESTED = (WITHIN, DIFFERS)


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
    """One row per (cell, seed): max accuracy, whether it solves (max accuracy above the
    threshold), and the min valid spectral error over thresholds (both kinds; NaN when none).

    ``df`` has one row per model with :data:`MODEL_COLUMNS` (and optionally :data:`HUNGARIAN`);
    ``spectral_error`` NaN when none.
    """
    _check_columns(df, MODEL_COLUMNS)
    models = _normalise_keys(df)
    if HUNGARIAN not in models.columns:
        models = models.assign(**{HUNGARIAN: np.nan})
    accuracy = models["accuracy"].astype(float)
    passed = accuracy > accuracy_threshold
    valid = {f"valid_{kind}": models[kind].astype(float).where(passed) for kind in ERRORS}
    per_seed = (
        models.assign(**valid)
        .groupby(CELL + ["seed"], sort=True)
        .agg(
            accuracy=("accuracy", "max"),
            spectral_error=("valid_spectral_error", "min"),
            spectral_error_hungarian=(f"valid_{HUNGARIAN}", "min"),
            n_models=("accuracy", "size"),
        )
        .reset_index()
    )
    per_seed["solved"] = per_seed["accuracy"] > accuracy_threshold
    return per_seed


def table1_cells(df: pd.DataFrame, accuracy_threshold: float = ACCURACY_THRESHOLD) -> pd.DataFrame:
    """Table 1 cells, one row per cell: ``accuracy`` (mean over seeds), ``n_solved`` of
    ``n_seeds``, ``spectral_error`` (the paper's rule: mean over ``n_valid_seeds``, with
    ``spectral_error_sd`` their sample SD), ``spectral_error_hungarian`` (ours, over
    ``n_valid_seeds_hungarian``) and ``n_models``."""
    per_seed = per_seed_values(df, accuracy_threshold)
    cells = per_seed.groupby(CELL, sort=True).agg(
        accuracy=("accuracy", "mean"),
        n_solved=("solved", "sum"),
        spectral_error=("spectral_error", "mean"),
        spectral_error_sd=("spectral_error", "std"),
        spectral_error_hungarian=(HUNGARIAN, "mean"),
        n_seeds=("seed", "size"),
        n_valid_seeds=("spectral_error", "count"),
        n_valid_seeds_hungarian=(HUNGARIAN, "count"),
        n_models=("n_models", "sum"),
    )
    return _ordered(cells.reset_index().astype({"n_solved": int}))


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
    """Percentile bootstrap interval of each cell's mean accuracy and mean spectral error (and the
    Hungarian one when ``per_seed`` has it).

    ``per_seed`` is :func:`per_seed_values`' output (cell keys, ``seed``, the quantities). Returns the
    cell keys and ``{quantity}_{low,high}`` (NaN where the cell has no value).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    quantities = [q for q in (*QUANTITIES, HUNGARIAN) if q in per_seed.columns]

    def one_cell(group: pd.DataFrame) -> pd.Series:
        rng = _cell_rng(seed, group.name)
        out = {}
        for quantity in quantities:
            low, high = _percentile_mean(group[quantity].to_numpy(float), rng, n_boot, confidence)
            out[f"{quantity}_low"], out[f"{quantity}_high"] = low, high
        return pd.Series(out)

    # sorted by seed, so that the draws do not depend on the row order of ``per_seed``
    ordered = _normalise_keys(per_seed).sort_values(CELL + ["seed"], kind="stable")
    grouped = ordered.groupby(CELL, sort=True)[quantities]
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


def _finite(x) -> bool:
    return x is not None and not pd.isna(x)


def _accuracy_test(row: dict, alpha: float, paper_seeds: int) -> dict:
    """Solve rates: ours ``n_solved/n_seeds`` against the paper's implied count of ``paper_seeds``."""
    k_paper = np.nan
    if row["_in_paper"] and _finite(row["paper_accuracy"]):
        k_paper = implied_solves(row["paper_accuracy"], paper_seeds)
    out = {"paper_n_solved": k_paper, "accuracy_p": np.nan, "accuracy_p_best": np.nan}
    if not row["_in_ours"]:
        return {**out, "accuracy_verdict": CELL_NOT_OURS}
    if not row["_in_paper"]:
        return {**out, "accuracy_verdict": CELL_NOT_PAPER}
    if not _finite(row["paper_accuracy"]):
        return {**out, "accuracy_verdict": NO_PAPER}
    n, k = int(row["n_seeds"]), int(row["n_solved"])
    best = smallest_solve_rate_p(n, k_paper, paper_seeds)
    p = solve_rate_p(k, n, k_paper, paper_seeds)
    verdict = UNDERPOWERED if best >= alpha else (DIFFERS if p < alpha else WITHIN)
    return {"paper_n_solved": k_paper, "accuracy_p": p, "accuracy_p_best": best,
            "accuracy_verdict": verdict}  # fmt: skip


def _error_test(row: dict, alpha: float, paper_seeds: int, rounding: float) -> dict:
    """Difference of mean spectral errors, both sides' sampling (see reproduction_stats)."""
    nan = {f"spectral_error_{s}": np.nan for s in ("diff", "diff_low", "diff_high", "p")}
    has_ours, has_paper = _finite(row["spectral_error"]), _finite(row["paper_spectral_error"])
    if not row["_in_ours"]:
        return {**nan, "spectral_error_verdict": CELL_NOT_OURS}
    if not row["_in_paper"]:
        return {**nan, "spectral_error_verdict": CELL_NOT_PAPER}
    if not (has_ours or has_paper):
        return {**nan, "spectral_error_verdict": BOTH_DASH}
    if not has_ours:
        return {**nan, "spectral_error_verdict": NO_OURS}
    if not has_paper:
        return {**nan, "spectral_error_verdict": NO_PAPER}
    diff = row["spectral_error"] - row["paper_spectral_error"]
    n_paper = max(implied_solves(row["paper_accuracy"], paper_seeds), 1)
    if int(row["n_valid_seeds"]) < 2:
        return {**nan, "spectral_error_diff": diff, "spectral_error_verdict": UNDERPOWERED}
    diff, low, high, p = error_difference(
        row["spectral_error"],
        row["spectral_error_sd"],
        int(row["n_valid_seeds"]),
        row["paper_spectral_error"],
        n_paper,
        alpha=alpha,
        rounding=rounding,
    )
    return {
        "spectral_error_diff": diff,
        "spectral_error_diff_low": low,
        "spectral_error_diff_high": high,
        "spectral_error_p": p,
        "spectral_error_verdict": DIFFERS if p < alpha else WITHIN,
    }


def compare_with_paper(
    ours: pd.DataFrame,
    paper: pd.DataFrame,
    rounding: dict[str, float] | None = None,
    alpha: float = ALPHA,
    paper_seeds: int = PAPER_SEEDS,
) -> pd.DataFrame:
    """One row per cell of either table: ours (:func:`reproduce_table1`'s columns), the paper's
    values (``paper_accuracy``, ``paper_spectral_error``), and per quantity a test and a verdict
    (see the module docstring): ``paper_n_solved``, ``accuracy_p`` (Fisher), ``accuracy_p_best``
    (the smallest p our seeds could give), ``spectral_error_diff`` with ``_diff_low``/``_diff_high``
    (the interval at ``1 − alpha``) and ``spectral_error_p``; ``{quantity}_p_holm`` (Holm over every
    test of the table) and ``{quantity}_verdict``.

    ``paper`` has the cell keys, ``accuracy`` and ``spectral_error`` (e.g.
    :func:`vbpipe.reference.paper_table1`). ``rounding`` overrides :data:`ROUNDING`'s spectral-error
    tolerance (half a unit of the paper's printed digit, added to the interval).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    tolerance = {**ROUNDING, **(rounding or {})}
    _check_columns(ours, CELL + ["accuracy", "spectral_error", "n_seeds", "n_solved",
                                 "n_valid_seeds", "spectral_error_sd"])  # fmt: skip
    _check_columns(paper, CELL + list(QUANTITIES))
    ours_part = _normalise_keys(ours).drop(columns=["task_id"], errors="ignore")
    paper_part = _normalise_keys(paper)[CELL + list(QUANTITIES)].rename(
        columns={q: f"paper_{q}" for q in QUANTITIES}
    )
    merged = ours_part.merge(paper_part, on=CELL, how="outer", indicator=True)
    merged["_in_ours"] = merged["_merge"] != "right_only"
    merged["_in_paper"] = merged["_merge"] != "left_only"
    records = merged.to_dict("records")
    tests = pd.DataFrame(
        [
            {
                **_accuracy_test(r, alpha, paper_seeds),
                **_error_test(r, alpha, paper_seeds, tolerance["spectral_error"]),
            }
            for r in records
        ],
        index=merged.index,
    )
    merged = pd.concat([merged.drop(columns=["_merge", "_in_ours", "_in_paper"]), tests], axis=1)
    # Holm over the whole table, only the cells that were tested (not the underpowered ones)
    p_all = np.concatenate(
        [
            merged[f"{q}_p"].where(merged[f"{q}_verdict"].isin(TESTED)).to_numpy(float)
            for q in QUANTITIES
        ]
    )
    adjusted = holm_adjust(p_all)
    for i, quantity in enumerate(QUANTITIES):
        merged[f"{quantity}_p_holm"] = adjusted[i * len(merged) : (i + 1) * len(merged)]
    merged["accuracy_diff"] = merged["accuracy"] - merged["paper_accuracy"]
    return _ordered(merged)


def verdict_counts(comparison: pd.DataFrame) -> pd.DataFrame:
    """How many cells got each verdict, per quantity (rows: verdicts; columns: quantities)."""
    counts = {q: comparison[f"{q}_verdict"].value_counts() for q in QUANTITIES}
    return pd.DataFrame(counts).fillna(0).astype(int).sort_index()


def chance_summary(comparison: pd.DataFrame, alpha: float = ALPHA) -> dict:
    """Across the table: ``n_tests`` (cells tested, both quantities), ``expected_false_positives``
    (``alpha × n_tests``: the "differs" chance alone gives when every cell truly agrees),
    ``n_differs``, ``n_differs_holm`` (Holm-adjusted p below ``alpha``) and ``n_underpowered``."""
    tested = sum(int(comparison[f"{q}_verdict"].isin(TESTED).sum()) for q in QUANTITIES)
    differs = sum(int((comparison[f"{q}_verdict"] == DIFFERS).sum()) for q in QUANTITIES)
    holm = sum(int((comparison[f"{q}_p_holm"] < alpha).sum()) for q in QUANTITIES)
    under = sum(int((comparison[f"{q}_verdict"] == UNDERPOWERED).sum()) for q in QUANTITIES)
    return {
        "alpha": alpha,
        "n_tests": tested,
        "expected_false_positives": expected_false_positives(tested, alpha),
        "n_differs": differs,
        "n_differs_holm": holm,
        "n_underpowered": under,
    }


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

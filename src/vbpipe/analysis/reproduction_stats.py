"""The tests behind Table 1's verdicts: ours against the paper's published means, both sides sampled.

The paper prints, per cell, means over its seeds (20 per variant, the SLURM grid's seeds 1..20)
and no spread. Each test below says what it assumes about the paper's side.

Accuracy as a solve rate
    Per-seed accuracy is bimodal: a seed solves the task (accuracy near 1) or collapses to chance
    (0.5). A seed *solves* a cell when its accuracy (max over curriculum thresholds) is above the
    paper's threshold 0.9 (:data:`vbpipe.constants.SOLVED_ACCURACY`, the notebook's gate for the EMT
    analysis). The paper's mean accuracy ``a`` over ``n = 20`` seeds then implies
    ``k = round(n (a − 0.5) / (1 − 0.5))`` solving seeds (:func:`implied_solves`; 0.97 → 19,
    0.94 → 18, 0.50 → 0), assuming each seed sits at 1 or at chance. Ours and the paper's counts are
    compared with Fisher's exact test (two-sided, :func:`solve_rate_p`). A cell is *underpowered*
    when even the most extreme outcome our seeds could give (all solve, or none) would not reject
    at ``alpha`` (:func:`smallest_solve_rate_p`): its verdict cannot say "differs" whatever happens.

Spectral error as a difference of means
    Ours: the mean ``m₁`` and sample SD ``s`` of our ``n₁`` valid per-seed errors. The paper's: its
    mean ``m₂`` over ``n₂`` valid seeds, ``n₂`` = the implied solving seeds (an upper bound: seeds
    dropped by the count-match rule are not known). Its spread is not published; we assume the
    paper's seeds spread with **the same coefficient of variation as ours**, ``s₂ = m₂ · s / m₁``:
    errors are positive and scale-like (per-seed errors spread over a factor of a few, roughly
    log-normally), so the same training procedure at another mean error spreads in proportion to it.
    The interval on ``m₁ − m₂`` is ``± t(1 − α/2, n₁ − 1) · sqrt(s²/n₁ + s₂²/n₂)`` (Student's t with
    our degrees of freedom: both variances come from our ``s``), widened on each side by the paper's
    rounding (half a unit of its 4th decimal). The p-value is the matching two-sided t-test on
    ``max(|m₁ − m₂| − rounding, 0)``, so "p < α" and "0 outside the interval" agree.
    With fewer than 2 valid seeds of ours no spread can be estimated: *underpowered*.

Across the table
    Many cells are tested at once: at level ``α`` chance alone gives ``α × (number of tests)``
    "differs" among cells that truly agree (:func:`expected_false_positives`). Holm's step-down
    adjustment (:func:`holm_adjust`) controls the family-wise error over all of them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = [
    "ALPHA",
    "CHANCE_ACCURACY",
    "PAPER_SEEDS",
    "error_difference",
    "expected_false_positives",
    "holm_adjust",
    "implied_solves",
    "smallest_solve_rate_p",
    "solve_rate_p",
]

ALPHA = 0.05
#: Seeds per variant in the paper's grid (SLURM seeds 1..20).
PAPER_SEEDS = 20
#: Bit accuracy of a collapsed model (random signs).
CHANCE_ACCURACY = 0.5


def implied_solves(
    mean_accuracy: float, n: int = PAPER_SEEDS, chance: float = CHANCE_ACCURACY
) -> int:
    """Solving seeds among ``n`` implied by a mean accuracy, when each seed sits at 1 or at
    ``chance``: ``round(n (a − chance) / (1 − chance))``, clipped to ``[0, n]``."""
    if not math.isfinite(mean_accuracy):
        raise ValueError(f"mean accuracy must be finite, got {mean_accuracy}")
    k = round(n * (float(mean_accuracy) - chance) / (1.0 - chance))
    return int(min(max(k, 0), n))


def solve_rate_p(k_ours: int, n_ours: int, k_paper: int, n_paper: int = PAPER_SEEDS) -> float:
    """Two-sided Fisher exact p-value of ``k_ours/n_ours`` against ``k_paper/n_paper``."""
    for k, n, side in ((k_ours, n_ours, "ours"), (k_paper, n_paper, "the paper's")):
        if not 0 <= k <= n or n < 1:
            raise ValueError(f"{side} solve count {k} of {n} is not a count out of n >= 1")
    table = [[k_ours, n_ours - k_ours], [k_paper, n_paper - k_paper]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def smallest_solve_rate_p(n_ours: int, k_paper: int, n_paper: int = PAPER_SEEDS) -> float:
    """The smallest p-value any outcome of ``n_ours`` seeds could give against the paper's count:
    above ``alpha``, the cell is underpowered."""
    return min(solve_rate_p(k, n_ours, k_paper, n_paper) for k in range(n_ours + 1))


def error_difference(
    mean_ours: float,
    sd_ours: float,
    n_ours: int,
    mean_paper: float,
    n_paper: int,
    alpha: float = ALPHA,
    rounding: float = 0.0,
) -> tuple[float, float, float, float]:
    """``(diff, low, high, p)`` for ``mean_ours − mean_paper`` under the same-coefficient-of-
    variation assumption (module docstring). NaN everywhere when ``n_ours < 2`` or the means are
    not positive."""
    nan = (float("nan"),) * 4
    if n_ours < 2 or n_paper < 1 or not (mean_ours > 0 and mean_paper > 0) or not sd_ours >= 0:
        return nan
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    diff = float(mean_ours - mean_paper)
    sd_paper = mean_paper * sd_ours / mean_ours
    se = math.sqrt(sd_ours**2 / n_ours + sd_paper**2 / n_paper)
    df = n_ours - 1
    half = float(stats.t.ppf(1.0 - alpha / 2.0, df)) * se + rounding
    excess = max(abs(diff) - rounding, 0.0)
    if se == 0.0:
        p = 0.0 if excess > 0 else 1.0
    else:
        p = float(2.0 * stats.t.sf(excess / se, df))
    return diff, diff - half, diff + half, p


def holm_adjust(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries are not tests and stay NaN)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def expected_false_positives(n_tests: int, alpha: float = ALPHA) -> float:
    """ "Differs" verdicts chance alone gives among ``n_tests`` cells that truly agree."""
    return float(alpha * n_tests)

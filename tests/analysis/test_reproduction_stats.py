"""The tests behind Table 1's verdicts, on cases with answers worked out by hand."""

import math

import numpy as np
import pytest

from vbpipe.analysis.reproduction_stats import (
    error_difference,
    expected_false_positives,
    holm_adjust,
    implied_solves,
    smallest_solve_rate_p,
    solve_rate_p,
)


def test_implied_solves_reads_a_mean_as_solved_and_collapsed_seeds():
    # k seeds at 1.0 and 20 - k at 0.5: mean = 0.5 + k / 40
    assert implied_solves(0.98) == 19  # 19.2
    assert implied_solves(0.97) == 19  # 18.8
    assert implied_solves(0.94) == 18  # 17.6
    assert implied_solves(0.85) == 14
    assert implied_solves(0.50) == 0 and implied_solves(0.49) == 0 and implied_solves(1.0) == 20
    assert implied_solves(0.75, n=4) == 2
    with pytest.raises(ValueError, match="finite"):
        implied_solves(float("nan"))


def test_fisher_exact_on_counts_with_closed_forms():
    # 0/3 against 20/20: the only table at least as extreme is itself, p = 1 / C(23, 3)
    assert solve_rate_p(0, 3, 20) == pytest.approx(1 / math.comb(23, 3))
    # identical rates: p = 1
    assert solve_rate_p(3, 3, 20) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="solve count 4 of 3"):
        solve_rate_p(4, 3, 20)


def test_underpowered_when_no_outcome_could_reject():
    # 2 seeds against the paper's 14/20: the most extreme outcome, 0/2, gives
    # p = P(both non-solvers among the 8 non-solvers of 22) = C(8,2)/C(22,2) + ... > 0.05
    best = smallest_solve_rate_p(2, 14)
    assert best == pytest.approx(solve_rate_p(0, 2, 14)) and best > 0.05
    # 3 seeds against 20/20: 0/3 rejects (p = 1/1771), so not underpowered
    assert smallest_solve_rate_p(3, 20) == pytest.approx(1 / math.comb(23, 3))


def t3_two_sided_p(t):
    """Student's t with 3 degrees of freedom has a closed-form CDF."""
    cdf = 0.5 + (t / (math.sqrt(3) * (1 + t * t / 3)) + math.atan(t / math.sqrt(3))) / math.pi
    return 2 * (1 - cdf)


def test_error_difference_by_hand():
    # ours: mean 0.002, sd 0.001 over 4 seeds (CV 0.5); paper: 0.003 over 9 seeds, sd 0.0015
    # se = sqrt(0.001^2/4 + 0.0015^2/9) = sqrt(5e-7); t(0.975, 3) = 3.182446
    diff, low, high, p = error_difference(0.002, 0.001, 4, 0.003, 9)
    se = math.sqrt(5e-7)
    assert diff == pytest.approx(-0.001)
    assert (low, high) == pytest.approx((-0.001 - 3.182446 * se, -0.001 + 3.182446 * se), rel=1e-6)
    assert p == pytest.approx(t3_two_sided_p(0.001 / se), rel=1e-9)
    assert p > 0.05 and low < 0 < high  # consistent: the interval covers 0
    # the paper's rounding widens the interval and shrinks the distance the test sees
    _, low_r, high_r, p_r = error_difference(0.002, 0.001, 4, 0.003, 9, rounding=0.0005)
    assert (low_r, high_r) == pytest.approx((low - 0.0005, high + 0.0005))
    assert p_r == pytest.approx(t3_two_sided_p(0.0005 / se), rel=1e-9)
    # far apart and tight: rejects, and 0 is outside the interval
    diff, low, high, p = error_difference(0.001, 0.0001, 5, 0.0031, 20)
    assert p < 1e-4 and high < 0
    # fewer than 2 seeds: no spread, no test
    assert all(np.isnan(error_difference(0.001, np.nan, 1, 0.002, 20)))


def test_holm_and_chance():
    p = [0.01, 0.04, 0.03, np.nan]
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 = 0.03, 0.06, 0.04 -> running max 0.03, 0.06, 0.06
    assert holm_adjust(p)[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(holm_adjust(p)[3]) and np.isnan(holm_adjust([np.nan])).all()
    assert holm_adjust([0.9, 0.8]) == pytest.approx([1.0, 1.0])
    assert expected_false_positives(40, 0.05) == pytest.approx(2.0)

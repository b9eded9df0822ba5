import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from vbpipe.analysis.reproduction import (
    CELL,
    bootstrap_intervals,
    chance_summary,
    compare_with_paper,
    per_seed_values,
    reproduce_table1,
    table1_cells,
    verdict_counts,
)
from vbpipe.analysis.reproduction_figure import VERDICT_COLORS, plot_table1_comparison
from vbpipe.analysis.reproduction_render import (
    chance_markdown,
    comparison_grid_markdown,
    comparison_markdown,
)
from vbpipe.reference import paper_table1

NAN = np.nan
COLUMNS = [
    "task",
    "hidden_dim",
    "l2_penalty",
    "curriculum_threshold",
    "seed",
    "accuracy",
    "spectral_error",
]


def _hand_models() -> pd.DataFrame:
    """Two cells with per-seed answers worked out by hand (see test_table1_cells_by_hand)."""
    rows = [
        # T1 h128 L2 0: seed 1 -> acc 0.99, err 0.001 (min of two valid errors)
        ("T1", 128, 0.0, 0.9, 1, 0.95, 0.002),
        ("T1", 128, 0.0, 0.98, 1, 0.99, 0.001),
        # seed 2 -> acc 0.92, no valid error: 0.0001 has accuracy 0.85 <= 0.9, the other is NaN
        ("T1", 128, 0.0, 0.9, 2, 0.85, 0.0001),
        ("T1", 128, 0.0, 0.98, 2, 0.92, NAN),
        # seed 3 -> acc 0.95, err 0.003; accuracy exactly 0.9 is not valid (strictly above)
        ("T1", 128, 0.0, 0.9, 3, 0.90, 0.0002),
        ("T1", 128, 0.0, 0.98, 3, 0.95, 0.003),
        # T1 h64 L2 0.1: chance, no error anywhere
        ("T1", 64, 0.1, 0.9, 1, 0.50, NAN),
        ("T1", 64, 0.1, 0.98, 1, 0.52, NAN),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_table1_cells_by_hand():
    cells = table1_cells(_hand_models()).set_index(CELL)
    good = cells.loc[("T1", 128, 0.0)]
    assert good["accuracy"] == pytest.approx((0.99 + 0.92 + 0.95) / 3)
    assert good["spectral_error"] == pytest.approx((0.001 + 0.003) / 2)
    assert (good["n_seeds"], good["n_valid_seeds"], good["n_models"]) == (3, 2, 6)
    assert good["n_solved"] == 3  # max accuracies 0.99, 0.92, 0.95 are all above 0.9
    assert good["spectral_error_sd"] == pytest.approx(np.std([0.001, 0.003], ddof=1))
    chance = cells.loc[("T1", 64, 0.1)]
    assert chance["accuracy"] == pytest.approx(0.52)
    assert np.isnan(chance["spectral_error"]) and chance["n_valid_seeds"] == 0
    assert chance["n_solved"] == 0
    # rows are ordered by task, hidden size, L2
    assert list(cells.index.get_level_values("hidden_dim")) == [64, 128]


def test_per_seed_values_and_threshold_argument():
    seeds = per_seed_values(_hand_models()).set_index(CELL + ["seed"])
    assert seeds.loc[("T1", 128, 0.0, 2), "accuracy"] == pytest.approx(0.92)
    assert np.isnan(seeds.loc[("T1", 128, 0.0, 2), "spectral_error"])
    # lowering the validity threshold admits seed 2's 0.0001 and seed 3's 0.0002
    low = per_seed_values(_hand_models(), accuracy_threshold=0.8).set_index(CELL + ["seed"])
    assert low.loc[("T1", 128, 0.0, 2), "spectral_error"] == pytest.approx(0.0001)
    assert low.loc[("T1", 128, 0.0, 3), "spectral_error"] == pytest.approx(0.0002)
    with pytest.raises(ValueError, match="missing columns"):
        per_seed_values(_hand_models().drop(columns="seed"))


def _per_seed(values, quantity="accuracy", task="T1"):
    other = "spectral_error" if quantity == "accuracy" else "accuracy"
    return pd.DataFrame(
        {
            "task": task,
            "hidden_dim": 128,
            "l2_penalty": 0.0,
            "seed": np.arange(len(values)),
            quantity: values,
            other: 1.0,
            "n_models": 2,
        }
    )


def test_bootstrap_binomial_quantiles():
    # 10 zeros and 10 ones: bootstrap means are Binomial(20, 1/2) / 20, whose 2.5% and 97.5%
    # quantiles are 6/20 and 14/20 (P(X <= 5) = 0.021, P(X <= 6) = 0.058).
    intervals = bootstrap_intervals(_per_seed([0.0] * 10 + [1.0] * 10), n_boot=40_000, seed=1)
    assert intervals.loc[0, "accuracy_low"] == pytest.approx(0.30)
    assert intervals.loc[0, "accuracy_high"] == pytest.approx(0.70)
    # the other quantity is constant: a zero-width interval at the value
    assert intervals.loc[0, "spectral_error_low"] == intervals.loc[0, "spectral_error_high"] == 1.0


def test_bootstrap_deterministic_and_independent_of_other_cells():
    rng = np.random.default_rng(3)
    one = _per_seed(rng.uniform(0.9, 1.0, 12))
    again = bootstrap_intervals(one.sample(frac=1.0, random_state=0), n_boot=2000, seed=5)
    first = bootstrap_intervals(one, n_boot=2000, seed=5)
    with_other = bootstrap_intervals(
        pd.concat([_per_seed(rng.uniform(0, 1, 7), task="T2"), one]), n_boot=2000, seed=5
    )
    pd.testing.assert_frame_equal(first, again)
    row = with_other[with_other["task"] == "T1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, row)
    other_seed = bootstrap_intervals(one, n_boot=2000, seed=6)
    assert other_seed.loc[0, "accuracy_low"] != first.loc[0, "accuracy_low"]
    mean = one["accuracy"].mean()
    assert first.loc[0, "accuracy_low"] < mean < first.loc[0, "accuracy_high"]


def test_bootstrap_error_uses_valid_seeds_only():
    per_seed = _per_seed([0.001, NAN, 0.003, NAN], quantity="spectral_error")
    out = bootstrap_intervals(per_seed, n_boot=5000, seed=0)
    # resampling only {0.001, 0.003}: means range over {0.001, 0.002, 0.003}
    assert out.loc[0, "spectral_error_low"] == pytest.approx(0.001)
    assert out.loc[0, "spectral_error_high"] == pytest.approx(0.003)
    none = bootstrap_intervals(_per_seed([NAN, NAN], quantity="spectral_error"), n_boot=10)
    assert np.isnan(none.loc[0, "spectral_error_low"])


def _ours_row(task, hidden, l2, acc, n_solved, err, err_sd, n=5, n_valid=5):
    return {
        "task": task,
        "hidden_dim": hidden,
        "l2_penalty": l2,
        "accuracy": acc,
        "accuracy_low": acc,
        "accuracy_high": acc,
        "n_solved": n_solved,
        "spectral_error": err,
        "spectral_error_sd": err_sd,
        "spectral_error_low": err,
        "spectral_error_high": err,
        "n_seeds": n,
        "n_valid_seeds": n_valid,
    }


def _paper_row(task, hidden, l2, acc, err):
    return {
        "task": task,
        "hidden_dim": hidden,
        "l2_penalty": l2,
        "accuracy": acc,
        "spectral_error": err,
    }


def _synthetic_comparison():
    """A synthetic table whose verdicts are known (worked out in test_compare_verdicts)."""
    ours = pd.DataFrame(
        [
            # 5/5 solve, paper 1.00 (20/20): within; error equal to the paper's: within
            _ours_row("T1", 128, 0.0, 1.0, 5, 5e-4, 5e-5),
            # 0/5 solve against 20/20: p = 1/C(25,5), differs; no error of ours: not comparable
            _ours_row("T2", 128, 0.0, 0.5, 0, NAN, NAN, n_valid=0),
            # 2 seeds against the paper's 0.85 (14/20): 0/2 would give p = 0.12, underpowered;
            # one valid error: underpowered too
            _ours_row("T3", 128, 0.0, 0.95, 2, 1e-3, NAN, n=2, n_valid=1),
            # error 0.001 +- 0.0001 (5 seeds) against the paper's 0.0031 (20 seeds): differs
            _ours_row("T4", 128, 0.0, 1.0, 5, 1e-3, 1e-4),
            # chance on both sides, "—" on both sides
            _ours_row("T4", 64, 0.1, 0.5, 0, NAN, NAN, n_valid=0),
            # a cell the paper did not report
            _ours_row("T4", 32, 0.0, 0.5, 0, NAN, NAN, n_valid=0),
        ]
    )
    paper = pd.DataFrame(
        [
            _paper_row("T1", 128, 0.0, 1.00, 0.0005),
            _paper_row("T2", 128, 0.0, 1.00, 0.0055),
            _paper_row("T3", 128, 0.0, 0.85, 0.0031),
            _paper_row("T4", 128, 0.0, 1.00, 0.0031),
            _paper_row("T4", 64, 0.1, 0.50, NAN),
            _paper_row("T1", 64, 0.0, 0.97, NAN),  # a cell we did not run
        ]
    )
    return compare_with_paper(ours, paper)


def test_compare_verdicts():
    cmp = _synthetic_comparison().set_index(CELL)
    verdicts = cmp[["accuracy_verdict", "spectral_error_verdict"]]
    assert tuple(verdicts.loc[("T1", 128, 0.0)]) == ("within noise", "within noise")
    assert tuple(verdicts.loc[("T2", 128, 0.0)]) == ("differs", "not comparable: no value in ours")
    assert tuple(verdicts.loc[("T3", 128, 0.0)]) == ("underpowered", "underpowered")
    assert tuple(verdicts.loc[("T4", 128, 0.0)]) == ("within noise", "differs")
    assert tuple(verdicts.loc[("T4", 64, 0.1)]) == (
        "within noise",
        "agrees: no value on either side",
    )
    assert verdicts.loc[("T4", 32, 0.0), "accuracy_verdict"] == (
        "not comparable: cell not in the paper"
    )
    assert verdicts.loc[("T1", 64, 0.0), "accuracy_verdict"] == "not comparable: cell not in ours"
    assert cmp.loc[("T1", 64, 0.0), "paper_n_solved"] == 19  # the paper's side is still shown
    # the numbers behind them
    t2 = cmp.loc[("T2", 128, 0.0)]
    assert t2["paper_n_solved"] == 20
    assert t2["accuracy_p"] == pytest.approx(1 / math.comb(25, 5))
    t3 = cmp.loc[("T3", 128, 0.0)]
    assert t3["paper_n_solved"] == 14 and t3["accuracy_p_best"] > 0.05
    t4 = cmp.loc[("T4", 128, 0.0)]
    # se = sqrt(1e-4^2/5 + (0.0031 * 0.1)^2/20); half-width t(0.975, 4) se + rounding 0.00005
    se = math.sqrt(1e-8 / 5 + 0.00031**2 / 20)
    assert t4["spectral_error_diff"] == pytest.approx(-0.0021)
    assert t4["spectral_error_diff_high"] == pytest.approx(-0.0021 + 2.776445 * se + 5e-5, rel=1e-5)
    assert t4["spectral_error_diff_high"] < 0
    # Holm over the 6 tests (4 accuracy, 2 error): the smallest p, T4's error, times 6; the
    # second smallest, T2's accuracy, times 5
    assert t4["spectral_error_p"] < t2["accuracy_p"]
    assert t4["spectral_error_p_holm"] == pytest.approx(6 * t4["spectral_error_p"])
    assert t2["accuracy_p_holm"] == pytest.approx(5 / math.comb(25, 5))
    assert np.isnan(t3["accuracy_p_holm"])  # underpowered: not a test
    counts = verdict_counts(cmp.reset_index())
    assert counts.loc["differs", "accuracy"] == 1 and counts.loc["underpowered", "accuracy"] == 1
    assert counts["spectral_error"].sum() == 7


def test_chance_summary_counts_the_tests():
    summary = chance_summary(_synthetic_comparison())
    assert summary["n_tests"] == 6  # accuracy: T1, T2, T4 h128, T4 h64; error: T1, T4 h128
    assert summary["expected_false_positives"] == pytest.approx(0.3)
    assert (summary["n_differs"], summary["n_differs_holm"], summary["n_underpowered"]) == (2, 2, 2)
    text = chance_markdown(summary)
    assert "6 tests at α = 0.05" in text and "about 0.3 would still say" in text


def test_paper_table_is_the_transcribed_table():
    paper = paper_table1()
    assert len(paper) == 24 and set(paper["task"]) == {"T1", "T2", "T3", "T4"}
    assert set(paper["hidden_dim"]) == {64, 128} and set(paper["l2_penalty"]) == {0, 0.001, 0.1}
    cell = paper.set_index(CELL)
    assert cell.loc[("T1", 128, 0.0), "spectral_error"] == pytest.approx(0.0005)
    assert cell.loc[("T4", 64, 0.0), "spectral_error"] == pytest.approx(0.0112)
    assert cell.loc[("T2", 64, 0.001), "accuracy"] == pytest.approx(0.85)
    assert paper["spectral_error"].notna().sum() == 12
    assert (paper.loc[paper["l2_penalty"] == 0.1, "accuracy"] == 0.5).all()
    assert cell.loc[("T3", 128, 0.001), "task_id"] == "9241421688590303745,262676,189"


def test_full_grid_against_paper_render_and_figure(grid_models):
    ours = reproduce_table1(grid_models, n_boot=500)
    cmp = compare_with_paper(ours, paper_table1())
    assert len(cmp) == 48  # 4 tasks x 3 hidden x 4 L2; the paper's 24 are among them
    assert list(cmp["task"].unique()) == ["T1", "T2", "T3", "T4"]
    # chance cells agree with the paper's 0.50 and have no error on either side
    chance = cmp[(cmp["l2_penalty"] == 0.1) & (cmp["hidden_dim"] == 128)]
    assert (chance["accuracy_verdict"] == "within noise").all()
    assert (chance["spectral_error_verdict"] == "agrees: no value on either side").all()

    text = comparison_markdown(cmp, title="Table 1")
    lines = [line for line in text.splitlines() if line.startswith("| T")]
    assert len(lines) == 48 and "within noise" in text and "| — (0/5) |" in text
    row = cmp.iloc[8]  # T1 h128 L2 0
    assert lines[8].startswith(f"| T1 | 128 | 0 | 5/5 (mean {row['accuracy']:.3f}) | ≈20/20 (mean")
    assert "greedily" in text and "Fisher" in text
    grid = comparison_grid_markdown(cmp)
    grid_lines = grid.splitlines()
    assert grid_lines[0].count("|") == 8  # task + 6 paper columns
    assert grid_lines[2].startswith("| T1 | ") and " / — (0.97) " in grid_lines[2]
    assert "not in paper" in comparison_grid_markdown(cmp, paper_cells_only=False)

    fig = plot_table1_comparison(cmp)
    assert isinstance(fig, Figure)
    ax_acc, ax_err = fig.axes[:2]
    assert len(ax_acc.get_yticklabels()) == 48
    assert ax_err.get_xscale() == "log"
    # one errorbar per cell with a value; its colour is the verdict's
    dots = [line for line in ax_acc.lines if line.get_marker() == "o"]
    assert len(dots) == 48
    green = sum(1 for line in dots if line.get_color() == VERDICT_COLORS["within noise"])
    assert green == (cmp["accuracy_verdict"] == "within noise").sum()
    paper_marks = [line for line in ax_err.lines if line.get_marker() == "D"]
    assert len(paper_marks) == 12

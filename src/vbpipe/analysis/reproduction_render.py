"""Markdown renderings of the Table 1 comparison (:func:`vbpipe.analysis.reproduction.compare_with_paper`).

Markdown tables read well as plain text too, so they serve the report, the README and a terminal.
"""

from __future__ import annotations

import math

import pandas as pd

from .reproduction import BOTH_DASH, DIFFERS, UNDERPOWERED, WITHIN

__all__ = ["VERDICT_RULE", "chance_markdown", "comparison_grid_markdown", "comparison_markdown"]

DASH = "—"
VERDICT_RULE = (
    "Spectral error by the paper's rule: full W_hh vs Φ, unit-circle eigenvalues (|λ| > 0.9) matched "
    "greedily in order, and no error for a model whose unit-circle count differs from Φ's (a cell with "
    "no model left is —); per seed the min over curriculum thresholds of the models above 0.9 "
    "accuracy, then the mean over seeds. *Ours (Hungarian)*: the error evaluation stores (optimal "
    "matching, every model above 0.9 whatever its count), shown for reference, no verdict. "
    "Verdicts at α = 0.05. Accuracy as a solve rate: a seed solves a cell when its accuracy (max "
    "over thresholds) is above 0.9; our k/n against the paper's implied k/20 (its mean accuracy "
    "read as k seeds at 1.0 and 20 − k at chance 0.5), Fisher's exact test. Spectral error: an "
    "interval on ours − paper from both sides' sampling (Student's t on our n − 1 degrees of "
    "freedom; the paper's seeds assumed to spread with our coefficient of variation, over its "
    "implied solving seeds; widened by the paper's rounding ±0.00005). *differs*: the test rejects; "
    "*within noise*: it does not; *underpowered*: our seeds could not reject whatever their "
    "outcome (accuracy) or fewer than 2 seeds have an error (spectral error); *agrees*: — on both "
    "sides; *not comparable*: one side has no value (it says which). p(Holm): adjusted over every "
    "test of the table."
)
_MARK = {WITHIN: "≈", DIFFERS: "≠", UNDERPOWERED: "?", BOTH_DASH: "="}


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _num(x, spec: str) -> str:
    return format(float(x), spec) if _finite(x) else DASH


def _p(x) -> str:
    return DASH if not _finite(x) else ("<0.001" if x < 0.001 else f"{x:.3f}")


def _solves(row) -> str:
    if not _finite(row.get("n_seeds")):
        return "not run"
    return f"{int(row['n_solved'])}/{int(row['n_seeds'])} (mean {row['accuracy']:.3f})"


def _paper_solves(row) -> str:
    if not _finite(row.get("paper_accuracy")):
        return "not in paper"
    k = row.get("paper_n_solved")
    return f"≈{int(k)}/20 (mean {row['paper_accuracy']:.2f})" if _finite(k) else DASH


def _error(row, key: str, count: str) -> str:
    if not _finite(row.get("n_seeds")):
        return "not run"
    valid = f"{int(row[count])}/{int(row['n_seeds'])}"
    return f"{DASH} ({valid})" if not _finite(row.get(key)) else f"{row[key]:.2g} ({valid})"


def _difference(row) -> str:
    diff = row.get("spectral_error_diff")
    if not _finite(diff):
        return DASH
    low, high = row.get("spectral_error_diff_low"), row.get("spectral_error_diff_high")
    interval = f" [{low:+.2g}, {high:+.2g}]" if _finite(low) else ""
    return f"{diff:+.2g}{interval}"


def _verdict(text: str) -> str:
    return text.replace("not comparable: ", "not comparable (") + (
        ")" if text.startswith("not comparable") else ""
    )


def comparison_markdown(comparison: pd.DataFrame, title: str | None = None) -> str:
    """Long form: one line per cell. Accuracy: our solving seeds against the paper's implied ones,
    Fisher p (raw, Holm) and verdict. Spectral error (radians): ours by the paper's rule (valid
    seeds), the paper's, the difference with its interval, p (raw, Holm) and verdict; then ours
    with Hungarian matching over every model, for reference."""
    header = (
        "| task | hidden | L2 | solved: ours | paper (implied) | p | p (Holm) | accuracy verdict "
        "| error, paper's rule: ours (valid seeds) | paper | ours − paper [95% CI] | p | p (Holm) "
        "| error verdict | ours, Hungarian (all models; no verdict) |"
    )
    lines = [f"**{title}**", ""] if title else []
    lines += [header, "|" + "---|" * 15]
    for row in comparison.to_dict("records"):
        cells = [
            str(row["task"]),
            str(int(row["hidden_dim"])),
            f"{row['l2_penalty']:g}",
            _solves(row),
            _paper_solves(row),
            _p(row.get("accuracy_p")),
            _p(row.get("accuracy_p_holm")),
            _verdict(row["accuracy_verdict"]),
            _error(row, "spectral_error", "n_valid_seeds"),
            _num(row.get("paper_spectral_error"), ".4f"),
            _difference(row),
            _p(row.get("spectral_error_p")),
            _p(row.get("spectral_error_p_holm")),
            _verdict(row["spectral_error_verdict"]),
            _error(row, "spectral_error_hungarian", "n_valid_seeds_hungarian"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", VERDICT_RULE, ""]
    return "\n".join(lines)


def chance_markdown(summary: dict) -> str:
    """One paragraph: how many "differs" chance alone would give (see
    :func:`vbpipe.analysis.reproduction.chance_summary`)."""
    return (
        f"**Chance alone.** {summary['n_tests']} tests at α = {summary['alpha']:g} "
        f"(accuracy and spectral error; underpowered cells are not tests): if every cell truly "
        f"agreed with the paper, about {summary['expected_false_positives']:.1f} would still say "
        f"*differs*. Observed: {summary['n_differs']} *differs*, {summary['n_differs_holm']} after "
        f"Holm's correction over the table; {summary['n_underpowered']} *underpowered*.\n"
    )


def _pair(row, prefix: str) -> str:
    error, accuracy = row.get(f"{prefix}spectral_error"), row.get(f"{prefix}accuracy")
    return f"{_num(error, '.4f')} ({_num(accuracy, '.2f')})"


def _grid_cell(row) -> str:
    ours = _pair(row, "") if _finite(row.get("n_seeds")) else "not run"
    in_paper = not row["accuracy_verdict"].endswith("cell not in the paper")
    paper = _pair(row, "paper_") if in_paper else "not in paper"
    marks = "".join(_MARK.get(row[f"{q}_verdict"], "·") for q in ("spectral_error", "accuracy"))
    return f"{ours} / {paper} {marks}"


def comparison_grid_markdown(
    comparison: pd.DataFrame, paper_cells_only: bool = True, explain: bool = True
) -> str:
    """The paper's layout (rows = tasks, columns = hidden × L2), each cell ``ours / paper`` as
    ``error (accuracy)`` followed by two marks (error, accuracy): ≈ within noise, ≠ differs,
    ? underpowered, = "—" on both sides, · not comparable. ``paper_cells_only`` keeps the
    paper's columns and tasks (hidden 64/128, L2 0/0.001/0.1, T1-T4), the table a reader compares
    with the paper; ``explain`` appends
    :data:`VERDICT_RULE` (off where the long table beside it already says it)."""
    if paper_cells_only:
        comparison = comparison[comparison["paper_accuracy"].notna()]
    columns = comparison[["hidden_dim", "l2_penalty"]].drop_duplicates()
    columns = sorted((int(h), float(l2)) for h, l2 in columns.itertuples(index=False))
    cells = {
        (r["task"], int(r["hidden_dim"]), float(r["l2_penalty"])): r
        for r in comparison.to_dict("records")
    }
    lines = [
        "| task | " + " | ".join(f"h{h}, L2 {l2:g}" for h, l2 in columns) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for task in dict.fromkeys(comparison["task"]):
        entries = [
            _grid_cell(cells[(task, h, l2)]) if (task, h, l2) in cells else "" for h, l2 in columns
        ]
        lines.append(f"| {task} | " + " | ".join(entries) + " |")
    lines += [
        "",
        "Each cell: ours / paper, as spectral error in radians by the paper's rule (mean accuracy); "
        "marks for error then accuracy: ≈ within noise, ≠ differs, ? underpowered, = — on both "
        "sides, · not comparable." + (" " + VERDICT_RULE if explain else ""),
        "",
    ]
    return "\n".join(lines)

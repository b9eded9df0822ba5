"""Markdown renderings of the Table 1 comparison (:func:`vbpipe.analysis.reproduction.compare_with_paper`).

Markdown tables read well as plain text too, so they serve the report, the README and a terminal.
"""

from __future__ import annotations

import math

import pandas as pd

from .reproduction import DIFFERS, WITHIN

__all__ = ["comparison_grid_markdown", "comparison_markdown", "VERDICT_RULE"]

DASH = "—"
VERDICT_RULE = (
    "Verdict: *within noise* when the paper's value lies inside our 95% seed-bootstrap interval "
    "widened by the paper's rounding (±0.005 for accuracy, ±0.00005 rad for spectral error), "
    "*differs* otherwise, *not comparable* when a side has no value (it says which)."
)
_MARK = {WITHIN: "≈", DIFFERS: "≠"}


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _num(x, spec: str) -> str:
    return format(float(x), spec) if _finite(x) else DASH


def _ours(row, quantity: str, spec: str) -> str:
    if not _finite(row.get("n_seeds")):
        return "not run"
    mean = row.get(quantity)
    n = int(row["n_seeds"])
    count = f"n={n}" if quantity == "accuracy" else f"{int(row['n_valid_seeds'])}/{n} valid"
    if not _finite(mean):
        return f"{DASH} ({count})"
    low, high = _num(row.get(f"{quantity}_low"), spec), _num(row.get(f"{quantity}_high"), spec)
    return f"{_num(mean, spec)} [{low}, {high}] ({count})"


def _verdict(text: str) -> str:
    return text.replace("not comparable: ", "not comparable (") + (
        ")" if text.startswith("not comparable") else ""
    )


def comparison_markdown(comparison: pd.DataFrame, title: str | None = None) -> str:
    """Long form: one line per cell with ours (mean [interval] (seeds)), the paper's value and the
    verdict, for accuracy and spectral error (radians)."""
    header = (
        "| task | hidden | L2 | accuracy: ours [95% CI] | paper | verdict "
        "| spectral error (rad): ours [95% CI] | paper | verdict |"
    )
    lines = [f"**{title}**", ""] if title else []
    lines += [header, "|" + "---|" * 9]
    for row in comparison.to_dict("records"):
        lines.append(
            "| "
            + " | ".join(
                [
                    str(row["task"]),
                    str(int(row["hidden_dim"])),
                    f"{row['l2_penalty']:g}",
                    _ours(row, "accuracy", ".3f"),
                    _num(row.get("paper_accuracy"), ".2f"),
                    _verdict(row["accuracy_verdict"]),
                    _ours(row, "spectral_error", ".2g"),
                    _num(row.get("paper_spectral_error"), ".4f"),
                    _verdict(row["spectral_error_verdict"]),
                ]
            )
            + " |"
        )
    lines += ["", VERDICT_RULE, ""]
    return "\n".join(lines)


def _pair(row, prefix: str) -> str:
    error, accuracy = row.get(f"{prefix}spectral_error"), row.get(f"{prefix}accuracy")
    return f"{_num(error, '.4f')} ({_num(accuracy, '.2f')})"


def _grid_cell(row) -> str:
    ours = _pair(row, "") if _finite(row.get("n_seeds")) else "not run"
    in_paper = not row["accuracy_verdict"].endswith("cell not in the paper")
    paper = _pair(row, "paper_") if in_paper else "not in paper"
    marks = "".join(_MARK.get(row[f"{q}_verdict"], "·") for q in ("spectral_error", "accuracy"))
    return f"{ours} / {paper} {marks}"


def comparison_grid_markdown(comparison: pd.DataFrame, paper_cells_only: bool = True) -> str:
    """The paper's layout (rows = tasks, columns = hidden × L2), each cell ``ours / paper`` as
    ``error (accuracy)`` followed by two marks (error, accuracy): ≈ within noise, ≠ differs,
    · not comparable. ``paper_cells_only`` keeps the paper's columns and tasks (hidden 64/128,
    L2 0/0.001/0.1, T1-T4), the table a reader compares with the paper."""
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
        "Each cell: ours / paper, as spectral error in radians (mean accuracy); marks for error then "
        "accuracy: ≈ within noise, ≠ differs, · not comparable. " + VERDICT_RULE,
        "",
    ]
    return "\n".join(lines)

"""The paper's Table 1: spectral error and accuracy per task × hidden size × L2 penalty.

Aggregation rule (the paper notebook's, section 6 of the reference):

1. Records are grouped by ``(task_id, hidden_dim, l2_penalty)``, then by ``seed``; within a seed the
   models differ by ``curriculum_threshold`` (the paper had 0.9 and 0.98).
2. Per seed: ``accuracy`` = **max** over thresholds of the test accuracy; ``spectral error`` =
   **min** over thresholds of the *valid* spectral errors.
3. Per cell: the **mean over seeds** of those per-seed values. The spectral error is averaged over
   the seeds that have a valid one; the accuracy over all seeds. The cell reads ``"0.0005 (1.00)"``,
   or ``"— (0.50)"`` when no seed has a valid spectral error.

*Valid* means: the model's test accuracy is above ``accuracy_threshold`` (0.9, the notebook ran the
EMT analysis only then) and a spectral error exists (some unit-circle eigenvalue on both sides). The
spectral error is ``spectral_error_seq{L}``: full ``W_hh`` vs Φ, radians (the paper's numbers, e.g.
0.0005 for copy). With ``require_count_match=True`` a model is valid only if it also has exactly as
many unit-circle eigenvalues as Φ; that mimics the original metric, which was NaN whenever the
counts differed.

``L`` is ``seq_length`` when given, else the record's own (fixed) training length; records with a
length range and no ``seq_length`` have no valid error. Rows are labelled by task label (T1..T4 for
the paper's ids, else ``t1_t2_t3``), the paper tasks first. No file I/O here: :func:`table1_csv` and
:func:`table1_latex` return text.
"""

from __future__ import annotations

import csv
import io as _stringio
from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np

from ..taskspec import PAPER_TASKS, task_label

ACCURACY_THRESHOLD = 0.9
DASH = "—"

__all__ = ["ACCURACY_THRESHOLD", "table1_csv", "table1_latex", "table1_rows"]


def _task_key(record: Mapping) -> tuple[int, int, int]:
    return tuple(int(t) for t in record["task_id"])


def _label(record: Mapping) -> str:
    return record.get("task_label") or task_label(
        _task_key(record), int(record.get("input_dim", 8))
    )


def _float_or_none(value):
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _valid_error(record: Mapping, seq_length, accuracy_threshold, require_count_match):
    length = seq_length if seq_length is not None else record.get("seq_length")
    if not isinstance(length, int):
        return None
    accuracy = _float_or_none(record.get("accuracy"))
    error = _float_or_none(record.get(f"spectral_error_seq{length}"))
    if accuracy is None or accuracy <= accuracy_threshold or error is None:
        return None
    if require_count_match and record.get(f"n_unit_circle_rnn_seq{length}") != record.get(
        f"n_unit_circle_theory_seq{length}"
    ):
        return None
    return error


def table1_rows(
    records: Iterable[Mapping],
    seq_length: int | None = None,
    accuracy_threshold: float = ACCURACY_THRESHOLD,
    require_count_match: bool = False,
) -> list[dict]:
    """One row per ``(task, hidden_dim, l2_penalty)``: ``task``, ``task_id``, ``hidden_dim``,
    ``l2_penalty``, ``spectral_error`` (mean, or None), ``accuracy`` (mean), ``n_seeds``,
    ``n_valid_seeds``, ``n_models``, ``cell`` (the formatted table entry)."""
    groups: dict = defaultdict(lambda: defaultdict(list))
    labels: dict = {}
    for record in records:
        key = (_task_key(record), int(record["hidden_dim"]), float(record.get("l2_penalty") or 0.0))
        labels[key[0]] = _label(record)
        groups[key][record["seed"]].append(record)

    paper_order = {ids: i for i, ids in enumerate(PAPER_TASKS.values())}

    def order(key):
        task, hidden, l2 = key
        return (paper_order.get(task, len(paper_order)), labels[task], hidden, l2)

    rows = []
    for key in sorted(groups, key=order):
        per_seed_acc, per_seed_err, n_models = [], [], 0
        for models in groups[key].values():
            n_models += len(models)
            accs = [a for a in (_float_or_none(m.get("accuracy")) for m in models) if a is not None]
            if accs:
                per_seed_acc.append(max(accs))
            errs = [
                e
                for e in (
                    _valid_error(m, seq_length, accuracy_threshold, require_count_match)
                    for m in models
                )
                if e is not None
            ]
            if errs:
                per_seed_err.append(min(errs))
        error = float(np.mean(per_seed_err)) if per_seed_err else None
        accuracy = float(np.mean(per_seed_acc)) if per_seed_acc else None
        rows.append(
            {
                "task": labels[key[0]],
                "task_id": ",".join(str(t) for t in key[0]),
                "hidden_dim": key[1],
                "l2_penalty": key[2],
                "spectral_error": error,
                "accuracy": accuracy,
                "n_seeds": len(groups[key]),
                "n_valid_seeds": len(per_seed_err),
                "n_models": n_models,
                "cell": format_cell(error, accuracy),
            }
        )
    return rows


def format_cell(error: float | None, accuracy: float | None, dash: str = DASH) -> str:
    """``"0.0005 (1.00)"``, ``"— (0.50)"``; accuracy omitted when unknown."""
    left = dash if error is None else f"{error:.4f}"
    return left if accuracy is None else f"{left} ({accuracy:.2f})"


CSV_COLUMNS = (
    "task",
    "task_id",
    "hidden_dim",
    "l2_penalty",
    "spectral_error",
    "accuracy",
    "n_seeds",
    "n_valid_seeds",
    "n_models",
    "cell",
)


def table1_csv(rows: Iterable[Mapping]) -> str:
    """Long-form CSV: one line per (task, hidden, L2); empty field for a missing spectral error."""
    buffer = _stringio.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return buffer.getvalue()


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "_": r"\_",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in str(text))


def table1_latex(rows: Iterable[Mapping], caption: str | None = None) -> str:
    """The paper's layout: rows = tasks, column groups = hidden size, columns = L2 penalty."""
    rows = list(rows)
    hiddens = sorted({r["hidden_dim"] for r in rows})
    l2s = sorted({r["l2_penalty"] for r in rows})
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    cells = {(r["task"], r["hidden_dim"], r["l2_penalty"]): r for r in rows}
    ncol = len(l2s)
    lines = [
        "% Table 1: mean over seeds of the min over curriculum thresholds of the spectral error",
        "% (full W_hh vs Phi, radians); mean over seeds of the max test accuracy in parentheses;",
        "% --- = no model with accuracy > threshold and a spectral error.",
        r"\begin{table}[t]",
        r"\centering",
        r"\begin{tabular}{l" + ("|" + "c" * ncol) * len(hiddens) + "}",
        r"\hline",
        " & ".join(["Task"] + [rf"\multicolumn{{{ncol}}}{{c}}{{hidden {h}}}" for h in hiddens])
        + r" \\",
        " & ".join([""] + [f"L2 {l2:g}" for _ in hiddens for l2 in l2s]) + r" \\",
        r"\hline",
    ]
    for task in tasks:
        entries = []
        for h in hiddens:
            for l2 in l2s:
                row = cells.get((task, h, l2))
                entries.append(
                    ""
                    if row is None
                    else format_cell(row["spectral_error"], row["accuracy"], "---")
                )
        lines.append(" & ".join([_latex_escape(task)] + entries) + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    if caption:
        lines.append(rf"\caption{{{_latex_escape(caption)}}}")
    lines += [r"\label{tab:spectral-error}", r"\end{table}", ""]
    return "\n".join(lines)

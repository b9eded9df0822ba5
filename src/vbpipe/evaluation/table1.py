"""The paper's Table 1 from the tidy table: spectral error and accuracy per task × hidden size × L2.

Aggregation rule (the paper notebook's, section 6 of the reference), as pandas operations on the
table (:mod:`vbpipe.results`):

1. One entry per model: its accuracy (``model_accuracy``) and its spectral error at length ``L``
   (``spectral_error`` of the row ``eval_length == L``: full ``W_hh`` vs Φ, radians, the paper's
   numbers, e.g. 0.0005 for copy). ``L`` is ``seq_length`` when given, else the model's own
   (fixed) training length; a model trained on a length range has no error unless ``seq_length``
   is given.
   With ``paper_errors`` (one per table row, as the aggregate job passes them:
   :func:`vbpipe.evaluation.paper_spectral_rule.paper_rule_errors` of the stored ``W_hh`` and ``Φ``
   spectra) the error is **the paper's rule** instead: greedy matching, NaN when the unit-circle
   counts differ. The stored (Hungarian, every model) error is then kept beside it as
   ``spectral_error_hungarian``.
2. The error is *valid* when the accuracy is above ``accuracy_threshold``
   (:data:`vbpipe.constants.SOLVED_ACCURACY`, 0.9: the notebook ran the EMT analysis only then) and
   the error exists (some unit-circle eigenvalue on both sides; with the paper's rule, as many as
   Φ has). Without ``paper_errors``, ``require_count_match`` asks for the count match on the stored
   error (the original's metric was NaN otherwise).
3. Per cell ``(task, model_type, hidden_dim, l2_penalty)`` and seed (the models of a seed differ by
   curriculum threshold): accuracy = **max**, spectral error = **min** of the valid errors.
4. Per cell: the **mean over seeds**; the error over the seeds that have a valid one. The cell
   reads ``"0.0005 (1.00)"``, or ``"— (0.50)"`` when no seed has a valid error.

A model without an ``l2_penalty`` parameter counts as L2 0, one without ``model_type`` as a trained
``rnn``: analytic circuits (``circuit_naive``, ``circuit_gated``) get cells of their own, never
merged with the trained models of the same task. Rows: the paper's tasks first
(T1..T4), then other task labels; then hidden size and L2. No file I/O here: :func:`table1_csv`
and :func:`table1_latex` return text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..constants import SOLVED_ACCURACY
from ..results.errors import ResultsError
from ..results.table import MODEL_KEY
from ..taskspec import PAPER_TASKS

DASH = "—"
CELL = ["task", "task_id", "model_type", "hidden_dim", "l2_penalty"]
TRAINED = "rnn"


def model_types(table: pd.DataFrame) -> pd.Series:
    """Each row's ``model_type``; a row without one (older results, hand-made tables) is a trained
    ``rnn``."""
    if "model_type" not in table.columns:
        kinds = pd.Series(TRAINED, index=table.index, dtype=object)
    else:
        kinds = table["model_type"].astype(object).fillna(TRAINED).astype(str)
    # the controls (a linear RNN, a circuit start) get cells of their own, like the circuits
    for column, default, label in (("activation", "tanh", "{}"), ("init", "random", "init {}")):
        if column in table.columns:
            value = table[column].astype(object).fillna(default).astype(str)
            other = value != default
            kinds = kinds.where(~other, kinds + " (" + value.map(label.format) + ")")
    return kinds


CSV_COLUMNS = (
    "task",
    "task_id",
    "model_type",
    "hidden_dim",
    "l2_penalty",
    "spectral_error",
    "accuracy",
    "n_seeds",
    "n_valid_seeds",
    "n_models",
    "cell",
    "spectral_error_hungarian",
    "n_valid_seeds_hungarian",
)
#: ``frame.attrs`` key saying which spectral error ``spectral_error`` holds.
RULE_ATTR = "spectral_rule"
PAPER_RULE = (
    "the paper's rule (full W_hh vs Phi, greedy matching, no error when unit-circle counts differ)"
)
STORED_RULE = "the stored error (full W_hh vs Phi, Hungarian matching)"

__all__ = ["CSV_COLUMNS", "format_cell", "table1_csv", "table1_frame", "table1_latex"]


def format_cell(error: float | None, accuracy: float | None, dash: str = DASH) -> str:
    """``"0.0005 (1.00)"``, ``"— (0.50)"``; accuracy omitted when unknown."""
    error = None if error is None or pd.isna(error) else float(error)
    accuracy = None if accuracy is None or pd.isna(accuracy) else float(accuracy)
    left = dash if error is None else f"{error:.4f}"
    return left if accuracy is None else f"{left} ({accuracy:.2f})"


def _model_entries(table: pd.DataFrame, seq_length: int | None) -> pd.DataFrame:
    """One row per model: cell keys, seed, accuracy and the row at its Table-1 length."""
    key = list(MODEL_KEY)
    if seq_length is not None:
        target = pd.Series(float(seq_length), index=table.index)
    elif "seq_length" in table.columns:
        target = pd.to_numeric(table["seq_length"], errors="coerce").astype(float)
    else:
        target = pd.Series(np.nan, index=table.index)
    at_length = table[(table["eval_length"].astype(float) == target).to_numpy(bool)]
    columns = ["spectral_error", "n_unit_circle_rnn", "n_unit_circle_theory"]
    if "spectral_error_paper" in at_length.columns:
        columns.append("spectral_error_paper")
    errors = at_length.set_index(key)[columns]
    models = table.drop_duplicates(key).set_index(key)
    if "hidden_dim" not in models.columns:
        raise ResultsError("Table 1 needs the hidden_dim parameter of every model")
    models["model_type"] = model_types(models)  # before the controls' columns are dropped
    models = models.reindex(
        columns=["task", "task_id", "model_type", "hidden_dim", "l2_penalty", "model_accuracy"]
    )
    return models.join(errors).reset_index()


def table1_frame(
    table: pd.DataFrame,
    seq_length: int | None = None,
    accuracy_threshold: float = SOLVED_ACCURACY,
    require_count_match: bool = False,
    paper_errors=None,
) -> pd.DataFrame:
    """Table 1, one row per cell: :data:`CSV_COLUMNS` (``spectral_error`` NaN when no seed has a
    valid error). ``paper_errors`` (one per row of ``table``): use the paper's rule (module
    docstring); ``frame.attrs["spectral_rule"]`` says which error the frame holds."""
    if table.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CSV_COLUMNS})
    if paper_errors is not None:
        paper_errors = np.asarray(paper_errors, dtype=float).reshape(-1)
        if paper_errors.size != len(table):
            raise ValueError(f"{paper_errors.size} paper-rule errors for {len(table)} table rows")
        table = table.assign(spectral_error_paper=paper_errors)
    models = _model_entries(table, seq_length)
    models["l2_penalty"] = models["l2_penalty"].astype(float).fillna(0.0)
    models["model_type"] = model_types(models)
    models["hidden_dim"] = models["hidden_dim"].astype(int)
    accuracy = models["model_accuracy"].astype(float)
    stored = models["spectral_error"].astype(float)
    passed = accuracy > accuracy_threshold
    models["valid_hungarian"] = stored.where(passed & stored.notna())
    if paper_errors is not None:
        error = models["spectral_error_paper"].astype(float)
        valid = passed & error.notna()
    else:
        error = stored
        valid = passed & error.notna()
        if require_count_match:
            valid &= (models["n_unit_circle_rnn"] == models["n_unit_circle_theory"]).fillna(False)
    models["valid_error"] = error.where(valid)
    models["model_accuracy"] = accuracy
    per_seed = models.groupby([*CELL, "seed"], sort=False, dropna=False).agg(
        accuracy=("model_accuracy", "max"),
        spectral_error=("valid_error", "min"),
        spectral_error_hungarian=("valid_hungarian", "min"),
        n_models=("model_accuracy", "size"),
    )
    cells = per_seed.groupby(CELL, sort=False, dropna=False).agg(
        spectral_error=("spectral_error", "mean"),
        accuracy=("accuracy", "mean"),
        n_seeds=("accuracy", "size"),
        n_valid_seeds=("spectral_error", "count"),
        n_models=("n_models", "sum"),
        spectral_error_hungarian=("spectral_error_hungarian", "mean"),
        n_valid_seeds_hungarian=("spectral_error_hungarian", "count"),
    )
    cells = cells.reset_index()
    cells["cell"] = [
        format_cell(e, a) for e, a in zip(cells["spectral_error"], cells["accuracy"], strict=True)
    ]
    paper_rank = {",".join(map(str, ids)): i for i, ids in enumerate(PAPER_TASKS.values())}
    cells["_rank"] = cells["task_id"].map(lambda t: paper_rank.get(t, len(paper_rank)))
    cells["_circuit"] = cells["model_type"] != TRAINED
    order = ["_rank", "task", "_circuit", "model_type", "hidden_dim", "l2_penalty"]
    cells = cells.sort_values(order, kind="stable")
    frame = cells[list(CSV_COLUMNS)].reset_index(drop=True)
    frame.attrs[RULE_ATTR] = PAPER_RULE if paper_errors is not None else STORED_RULE
    return frame


def table1_csv(frame: pd.DataFrame) -> str:
    """Long-form CSV: one line per (task, model type, hidden, L2); empty field for a missing
    spectral error."""
    return frame.to_csv(index=False, lineterminator="\n")


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


def table1_latex(frame: pd.DataFrame, caption: str | None = None) -> str:
    """The paper's layout: rows = tasks (a circuit's row reads "T2 (circuit_naive)"), column
    groups = hidden size, columns = L2 penalty (a pivot of the cells; a missing cell is empty)."""
    latex_cells = frame.assign(
        latex=[
            format_cell(e, a, "---")
            for e, a in zip(frame["spectral_error"], frame["accuracy"], strict=True)
        ],
        row=[
            task if kind == TRAINED else f"{task} ({kind})"
            for task, kind in zip(frame["task"], frame["model_type"], strict=True)
        ],
    )
    tasks = list(dict.fromkeys(latex_cells["row"]))
    grid = latex_cells.pivot_table(
        index="row", columns=["hidden_dim", "l2_penalty"], values="latex", aggfunc="first"
    )
    grid = grid.reindex(index=tasks).sort_index(axis=1)
    hiddens = list(dict.fromkeys(h for h, _ in grid.columns))
    l2s = sorted({l2 for _, l2 in grid.columns})
    grid = grid.reindex(columns=pd.MultiIndex.from_product([hiddens, l2s])).astype(object)
    grid = grid.where(grid.notna(), "")
    ncol = len(l2s)
    lines = [
        "% Table 1: mean over seeds of the min over curriculum thresholds of the spectral error",
        f"% (radians), by {frame.attrs.get(RULE_ATTR, STORED_RULE)};",
        "% mean over seeds of the max test accuracy in parentheses;",
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
    for task, row in grid.iterrows():
        lines.append(" & ".join([_latex_escape(task), *row.tolist()]) + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    if caption:
        lines.append(rf"\caption{{{_latex_escape(caption)}}}")
    lines += [r"\label{tab:spectral-error}", r"\end{table}", ""]
    return "\n".join(lines)

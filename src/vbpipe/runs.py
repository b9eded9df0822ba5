"""The runs table: one row per experiment and variant, as ``dvc exp show`` lists experiments.

Each row holds the variant's parameters, its seeds done / planned, the mean accuracy and spectral
error over its seeds with a 95% Student-t interval (:func:`vbpipe.intervals.mean_interval`), its
status and the hook columns (:data:`HOOK_COLUMNS`). It is built from the tidy table
(:mod:`vbpipe.results.table`): ``vbpipe runs`` makes that table from the ``metrics.json`` files on
disk (:mod:`vbpipe.results.inventory`), the workflow from each experiment's
``evaluation_table.csv``; both give the same rows for the same results.

Per model, *accuracy* is the model-level test accuracy (mean over its evaluated lengths) and the
*spectral error* the mean over its evaluated lengths of the full-W_hh vs Phi error (radians).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from .intervals import mean_interval
from .results.layout import natural_key
from .results.table import MODEL_KEY, TABLE_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

KEY = ("experiment", "variant")
COUNT_COLUMNS = ("seeds_done", "seeds_planned")
METRIC_COLUMNS = (
    "accuracy_mean",
    "accuracy_ci95",
    "spectral_error_mean",
    "spectral_error_ci95",
)
#: The two quantities a row summarises (runs-table name -> per-model column).
QUANTITIES = {"accuracy": "model_accuracy", "spectral_error": "spectral_error"}
CONFIDENCE = 0.95


#: The tidy table's columns the mechanism census classifies a model by (besides its accuracy).
CENSUS_COLUMNS = ("n_unit_circle_rnn", "n_unit_circle_theory", "spectral_radius_whh")


def census_mechanism(models: pd.DataFrame) -> str | None:
    """The ``mechanism`` column: the variant's models classified by the mechanism census
    (:func:`vbpipe.analysis.census.classify`, its default thresholds), e.g. ``emt_linear 3/3`` or
    ``emt_linear 2/3, collapsed 1/3``; None without the numbers it needs."""
    from .analysis.census import MECHANISMS, classify

    if not set(CENSUS_COLUMNS) <= set(models.columns) or not len(models):
        return None
    if models[list(CENSUS_COLUMNS)].isna().all(axis=None):  # not evaluated with spectra
        return None
    classes = list(
        classify(
            models["model_accuracy"],
            models["n_unit_circle_rnn"],
            models["n_unit_circle_theory"],
            models["spectral_error"],
            models["spectral_radius_whh"],
        )
    )
    total = len(classes)
    counts = [(m, classes.count(m)) for m in MECHANISMS if classes.count(m)]
    counts.sort(key=lambda item: -item[1])
    return ", ".join(f"{m} {n}/{total}" for m, n in counts)


#: Columns computed from a variant's per-model rows by a function (its name -> the function):
#: the way to add a column without touching this module's code. Each gets the variant's models
#: (one row per model: identity, parameters, ``model_accuracy``, ``spectral_error``).
HOOK_COLUMNS: dict[str, Callable[[pd.DataFrame], object]] = {"mechanism": census_mechanism}


def param_columns(tidy: pd.DataFrame) -> list[str]:
    """The task label and the training-parameter columns of a tidy table."""
    return ["task"] + [c for c in tidy.columns if c not in TABLE_COLUMNS]


def model_rows(tidy: pd.DataFrame) -> pd.DataFrame:
    """One row per model: identity, parameters, model accuracy, spectral error (mean over its
    evaluated lengths)."""
    params = param_columns(tidy)
    keep = [*MODEL_KEY, *[p for p in params if p not in MODEL_KEY], "model_accuracy"]
    grouped = tidy.groupby(list(MODEL_KEY), sort=False, dropna=False)
    models = grouped[keep[len(MODEL_KEY) :]].first()
    models["spectral_error"] = grouped["spectral_error"].mean()
    for column in CENSUS_COLUMNS:  # the census inputs: the model's last row
        if column in tidy.columns:
            models[column] = grouped[column].last()
    return models.reset_index()


def runs_table(
    tidy: pd.DataFrame,
    planned: Mapping[tuple[str, str], int] | None = None,
    status: Mapping[tuple[str, str], str] | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """The runs table of a tidy table (any number of experiments).

    ``planned``: seeds planned per (experiment, variant) (default: those evaluated); a variant
    planned but absent from ``tidy`` gets a row with no metrics. ``status``: per variant (default:
    ``done`` when every planned seed is evaluated, else ``partial``/``pending``)."""
    import pandas as pd

    planned = dict(planned or {})
    status = dict(status or {})
    models = model_rows(tidy) if len(tidy) else pd.DataFrame(columns=[*MODEL_KEY])
    params = [p for p in param_columns(tidy) if p not in MODEL_KEY] if len(tidy) else []
    groups = {key: frame for key, frame in models.groupby(list(KEY), sort=False)}
    keys = list(dict.fromkeys([*groups, *planned]))
    keys.sort(key=lambda k: (natural_key(k[0]), natural_key(k[1])))
    rows = []
    for key in keys:
        frame = groups.get(key)
        row: dict = dict(zip(KEY, key, strict=True))
        done = 0 if frame is None else int(frame["seed"].nunique())
        for name in params:
            row[name] = None if frame is None else frame[name].iloc[0]
        row["seeds_done"] = done
        row["seeds_planned"] = int(planned.get(key, done))
        for name, column in QUANTITIES.items():
            values = [] if frame is None else frame[column].to_numpy(dtype=float, na_value=math.nan)
            mean, half, _ = mean_interval(values, confidence)
            row[f"{name}_mean"], row[f"{name}_ci95"] = mean, half
        row["status"] = status.get(key) or _status(done, row["seeds_planned"])
        for name, hook in HOOK_COLUMNS.items():
            row[name] = None if frame is None else hook(frame)
        rows.append(row)
    columns = [*KEY, *params, *COUNT_COLUMNS, *METRIC_COLUMNS, "status", *HOOK_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def _status(done: int, planned: int) -> str:
    if planned and done >= planned:
        return "done"
    return "partial" if done else "pending"


def _fixed_columns() -> set[str]:
    """Columns ``--only-changed`` always keeps (all but the parameters)."""
    return {*KEY, *COUNT_COLUMNS, *METRIC_COLUMNS, "status", *HOOK_COLUMNS, *PROVENANCE_COLUMNS}


def changed_columns(table: pd.DataFrame) -> list[str]:
    """Parameter columns whose value differs between rows (``--only-changed``)."""
    fixed = _fixed_columns()
    out = []
    for column in table.columns:
        if column in fixed:
            continue
        texts = {_text(v) for v in table[column]}
        if len(texts) > 1:
            out.append(column)
    return out


def only_changed(table: pd.DataFrame) -> pd.DataFrame:
    """The table without the parameter columns that are equal in every row."""
    keep = set(changed_columns(table))
    fixed = _fixed_columns()
    return table[[c for c in table.columns if c in fixed or c in keep]]


# ------------------------------------------------------------------------ sort, filter, format


class RunsQueryError(ValueError):
    """A ``--sort`` or ``--filter`` that names no column, or is malformed."""


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def _check_column(table: pd.DataFrame, key: str, option: str) -> None:
    if key not in table.columns:
        raise RunsQueryError(
            f"{option} {key!r}: no such column; columns: {', '.join(map(str, table.columns))}"
        )


def filter_rows(table: pd.DataFrame, filters: Sequence[str]) -> pd.DataFrame:
    """Rows whose ``KEY`` equals ``VALUE`` for every ``KEY=VALUE`` (numbers compared as numbers,
    anything else as its text)."""
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RunsQueryError(f"--filter {item!r}: expected KEY=VALUE")
        _check_column(table, key, "--filter")
        try:
            number = float(value)
        except ValueError:
            number = None

        def matches(cell, value=value, number=number) -> bool:
            if number is not None and isinstance(cell, (int, float)) and not isinstance(cell, bool):
                return math.isclose(float(cell), number, rel_tol=1e-12, abs_tol=0.0)
            return _text(cell) == value

        table = table[[matches(cell) for cell in table[key]]]
    return table


def sort_rows(table: pd.DataFrame, key: str | None, descending: bool = False) -> pd.DataFrame:
    """Rows sorted by column ``key`` (``-key`` too: descending); missing values last."""
    if not key:
        return table
    descending = descending or key.startswith("-")
    key = key.lstrip("-")
    _check_column(table, key, "--sort")
    return table.sort_values(key, ascending=not descending, na_position="last", kind="stable")


def display_table(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and text cells for people: ``seeds 3/3``, ``accuracy 0.9981 ± 0.0012``."""
    header, cells = [], []
    merged = {"accuracy_mean": "accuracy", "spectral_error_mean": "spectral_error"}
    skip = {"accuracy_ci95", "spectral_error_ci95", "seeds_planned"}
    for column in table.columns:
        if column in skip:
            continue
        header.append({"seeds_done": "seeds", **merged}.get(column, column))
    for _, row in table.iterrows():
        line = []
        for column in table.columns:
            if column in skip:
                continue
            if column == "seeds_done":
                line.append(f"{row['seeds_done']}/{row['seeds_planned']}")
            elif column in merged:
                line.append(_pm(row[column], row[column.replace("_mean", "_ci95")]))
            else:
                line.append(_text(row[column]))
        cells.append(line)
    return header, cells


def _pm(mean, half) -> str:
    if mean is None or math.isnan(mean):
        return ""
    if half is None or math.isnan(half):
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {half:.4f}"


def format_terminal(table: pd.DataFrame) -> str:
    header, cells = display_table(table)
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(header)]  # fmt: skip
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def format_markdown(table: pd.DataFrame) -> str:
    header, cells = display_table(table)
    escape = str.maketrans({"|": r"\|"})
    lines = ["| " + " | ".join(h.translate(escape) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    for row in cells:
        lines.append("| " + " | ".join(c.translate(escape) for c in row) + " |")
    return "\n".join(lines) + "\n"


def format_csv(table: pd.DataFrame) -> str:
    """Every column, numbers at full precision (missing values empty)."""
    return table.to_csv(index=False, na_rep="", float_format="%.10g", lineterminator="\n")


FORMATS = {"terminal": format_terminal, "markdown": format_markdown, "csv": format_csv}


# ------------------------------------------------------------------------------ provenance

#: ``--provenance`` columns: (stage, field of :mod:`vbpipe.provenance`).
PROVENANCE_COLUMNS = {
    "train_commit": ("training", "git_commit"),
    "train_dirty": ("training", "git_dirty"),
    "train_host": ("training", "host"),
    "train_device": ("training", "device_name"),
    "train_slurm_job": ("training", "slurm_job_id"),
    "eval_commit": ("evaluation", "git_commit"),
    "eval_dirty": ("evaluation", "git_dirty"),
    "eval_host": ("evaluation", "host"),
    "eval_slurm_job": ("evaluation", "slurm_job_id"),
}
COMMIT_DIGITS = 10


def _provenance_value(records: Sequence[Mapping], stage: str, field: str) -> str:
    """The distinct values of one provenance field over a variant's records, joined by ``,``
    (``-`` for none, e.g. no Slurm job; ``?`` for a record without provenance, e.g. a model
    trained before vbpipe recorded it)."""
    from .results.records import metrics_provenance

    values = []
    for record in records:
        part = metrics_provenance(record)[stage]
        value = None if part is None else part.get(field)
        if part is None:
            text = "?"
        elif value is None:
            text = "-"
        elif field == "git_commit":
            text = str(value)[:COMMIT_DIGITS]
        else:
            text = str(value)
        if text not in values:
            values.append(text)
    return ",".join(values)


def with_provenance(
    table: pd.DataFrame, records: Mapping[tuple[str, str], Sequence[Mapping]]
) -> pd.DataFrame:
    """The table with the :data:`PROVENANCE_COLUMNS` of each variant's metrics records."""
    table = table.copy()
    for column, (stage, field) in PROVENANCE_COLUMNS.items():
        table[column] = [
            _provenance_value(records.get((e, v), ()), stage, field)
            for e, v in zip(table["experiment"], table["variant"], strict=True)
        ]
    return table

"""The census job: every model of an experiment classified by mechanism (the science and the rule:
:mod:`vbpipe.analysis.census`), rates per cell with Wilson intervals, and the association of each
swept key with the mechanism.

Reads the experiment's tidy table (accuracy at the evaluation's horizon, unit-circle counts,
spectral error, spectral radius) at the analysis length, and each model's checkpoint for accuracy
at long horizons: the evaluation's numpy forward (:func:`vbpipe.evaluation.accuracy.evaluate_accuracy`,
float32) on the first ``n_sequences`` sequences of the model's own seeded test stream, run once to
the longest horizon; the evaluation stage and its files are untouched.

Writes (``analysis/census/``): ``census_models.csv`` (one row per model), ``census_cells.csv``
(per cell: the experiment's variant, with its swept keys), ``census_by_key.csv`` (per value of each
swept key), ``census.json`` (settings, association statistics), ``census.md`` (the tables for a
reader) and ``census.png``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..analysis.census import (
    MECHANISMS,
    CensusThresholds,
    association,
    census_figure,
    classify,
    horizon_accuracy,
    rates,
)
from ..checkpoint import load_model
from ..evaluation.accuracy import evaluate_accuracy
from ..fileio import save_figure, write_json, write_text
from ..results.errors import ResultsError
from ..results.experiment import as_experiment
from ..results.layout import CENSUS_OUTPUTS
from ..taskspec import Task, parse_task_id

DEFAULT_HORIZONS = (1000, 10000)
DEFAULT_SEQUENCES = 256
#: Swept keys whose table column has another name.
_COLUMN_OF_KEY = {"task_id": "task"}


def model_key(variant, seed) -> str:
    """How the job names a model: ``variant/model-seed`` (a run without variants: its experiment)."""
    return f"{variant}/model-{int(seed)}"


def long_horizon_curve(
    checkpoint: str | os.PathLike,
    seq_length: int,
    horizon: int,
    n_sequences: int,
    batch_size: int = 64,
    expect_seed: int | None = None,
) -> np.ndarray:
    """The per-step accuracy ``(horizon,)`` of one checkpoint at ``seq_length`` on the first
    ``ceil(n_sequences / batch_size)`` batches of its test stream."""
    model = load_model(checkpoint)
    hp = model.hparams
    seed = int(hp["seed"])
    if expect_seed is not None and seed != int(expect_seed):
        raise ResultsError(
            f"{checkpoint}: the checkpoint is seed {seed}, the table says {expect_seed}"
        )
    d = int(hp["input_dim"])
    task = Task(parse_task_id(hp["task_id"], d), d, int(seq_length), bool(hp.get("use_eos", False)))
    n_batches = max(1, math.ceil(n_sequences / batch_size))
    result = evaluate_accuracy(
        task,
        model.weights,
        seed,
        int(seq_length),
        horizon,
        n_batches,
        batch_size,
        activation=hp.get("activation", "tanh"),
    )
    return result.per_step


def _cell_columns(table, swept: Sequence[str]) -> list[str]:
    columns = [_COLUMN_OF_KEY.get(k, k) for k in swept]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ResultsError(
            f"census: swept key(s) {missing} are not columns of the evaluation table"
        )
    return columns


def _markdown(frame, floats: str = "{:.3f}") -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    lines = [head, rule]
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            if isinstance(value, float):
                cells.append("" if math.isnan(value) else floats.format(value))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _rate_text(rows: Sequence[dict]) -> list[dict]:
    """Rates as ``k/n = r [low, high]`` per class, for the markdown tables."""
    out = []
    for row in rows:
        text = {"n": row["n"]}
        for m in MECHANISMS:
            k, r = row[f"n_{m}"], row[f"rate_{m}"]
            text[m] = f"{k} ({r:.2f} [{row[f'rate_{m}_low']:.2f}, {row[f'rate_{m}_high']:.2f}])"
        out.append(text)
    return out


def analyze_census(
    experiment,
    out_dir: str | os.PathLike,
    checkpoints: Mapping[str, str | os.PathLike],
    swept: Sequence[str] = (),
    seq_length: int | None = None,
    thresholds: CensusThresholds | None = None,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    n_sequences: int = DEFAULT_SEQUENCES,
) -> list[Path]:
    """The census of one experiment's models (``checkpoints``: :func:`model_key` -> model.pt, one
    per model of the table); returns the written paths (:data:`vbpipe.results.layout.CENSUS_OUTPUTS`)."""
    import pandas as pd

    from ..evaluation.evaluate import blas_threads_limited

    thresholds = thresholds or CensusThresholds()
    horizons = sorted({int(h) for h in horizons})
    if not horizons or horizons[0] < 1:
        raise ResultsError(f"census horizons must be positive integers, got {list(horizons)}")
    if n_sequences < 1:
        raise ResultsError(f"census n_sequences must be >= 1, got {n_sequences}")
    results = as_experiment(experiment).at_length(seq_length)
    table = results.models().reset_index(drop=True)
    if table.empty:
        raise ResultsError(f"census: no models at length {seq_length} in {results.source}")
    label = table["variant"].astype(object).where(table["variant"].notna(), table["experiment"])
    table = table.assign(variant=label.astype(str))
    columns = _cell_columns(table, swept)
    names = [model_key(v, s) for v, s in zip(table["variant"], table["seed"], strict=True)]
    missing = [n for n in names if n not in checkpoints]
    if missing:
        raise ResultsError(f"census: no checkpoint given for {missing[:3]} ({len(missing)} in all)")
    absent = [str(checkpoints[n]) for n in names if not Path(checkpoints[n]).is_file()]
    if absent:
        raise ResultsError(f"census: checkpoint(s) not found: {absent[:3]} ({len(absent)} in all)")

    eval_horizon = int(table["test_horizon"].iloc[0])
    all_horizons = sorted({eval_horizon, *horizons})
    longest = all_horizons[-1]
    batch = int(table["test_batch_size"].iloc[0]) if "test_batch_size" in table else 64
    per_model = []
    with blas_threads_limited(1):  # small matrices: threads only spin on a shared machine
        for name, row in zip(names, table.itertuples(index=False), strict=True):
            curve = long_horizon_curve(
                checkpoints[name], int(row.eval_length), longest, n_sequences, batch, row.seed
            )
            per_model.append(horizon_accuracy(curve, all_horizons))

    classes = classify(
        table["accuracy"],
        table["n_unit_circle_rnn"],
        table["n_unit_circle_theory"],
        table["spectral_error"],
        table["spectral_radius_whh"],
        thresholds,
    )
    models = table[["variant", "seed", *[c for c in columns if c != "variant"]]].copy()
    models["model"] = names
    for column in (
        "accuracy",
        "n_unit_circle_rnn",
        "n_unit_circle_theory",
        "spectral_error",
        "spectral_radius_whh",
    ):
        models[column] = table[column]
    models["mechanism"] = classes
    long = pd.DataFrame(per_model)
    models = pd.concat([models, long], axis=1)
    last = f"late_accuracy_h{longest}"
    models[f"holds_at_h{longest}"] = models[last] > thresholds.solved_accuracy

    cell_rows = rates(classes, models["variant"])
    first = models.drop_duplicates("variant").set_index("variant")
    for row in cell_rows:
        part = models[models["variant"] == row["group"]]
        for c in columns:
            if c != "variant":
                row[c] = first.loc[row["group"], c]
        row[f"mean_late_accuracy_h{longest}"] = float(part[last].mean())
        row[f"n_holds_at_h{longest}"] = int(part[f"holds_at_h{longest}"].sum())
    cells = pd.DataFrame(cell_rows).rename(columns={"group": "variant"})

    by_key, stats = [], {}
    for c in columns:
        values = models[c].astype(str).tolist()
        for row in rates(classes, values):
            by_key.append({"key": c, "value": row.pop("group"), **row})
        stats[c] = association(classes, values)
    by_key = pd.DataFrame(by_key)

    summary = {
        "thresholds": thresholds.as_dict(),
        "mechanisms": list(MECHANISMS),
        "evaluation_horizon": eval_horizon,
        "horizons": horizons,
        "n_sequences": int(math.ceil(n_sequences / batch) * batch),
        "n_models": len(models),
        "counts": {m: int(np.sum(classes == m)) for m in MECHANISMS},
        "association": stats,
        "association_measure": "Pearson chi-square of independence (values x classes that "
        "occur) and Cramér's V; indicative only where expected counts are below ~5",
    }
    curves = {
        h: {
            "accuracy": models[f"accuracy_h{h}"].to_numpy(),
            "late": models[f"late_accuracy_h{h}"].to_numpy(),
        }
        for h in all_horizons
    }
    figure = census_figure(cell_rows, classes, models["spectral_radius_whh"], curves, thresholds)
    text = _census_markdown(cell_rows, columns, by_key, stats, summary, longest)

    out = Path(out_dir)
    models_csv, cells_csv, by_key_csv, summary_json, text_md, figure_png = CENSUS_OUTPUTS
    paths = [
        write_text(out / models_csv, models.to_csv(index=False)),
        write_text(out / cells_csv, cells.to_csv(index=False)),
        write_text(out / by_key_csv, by_key.to_csv(index=False)),
        write_json(out / summary_json, summary),
        write_text(out / text_md, text),
        save_figure(figure, out / figure_png),
    ]
    return [Path(p) for p in paths]


def _census_markdown(cell_rows, columns, by_key, stats, summary, longest) -> str:
    import pandas as pd

    th = summary["thresholds"]
    lines = [
        "# Mechanism census",
        "",
        f"{summary['n_models']} models. Classes (first that applies): collapsed (accuracy <= "
        f"{th['chance_accuracy']}), emt_linear (accuracy > {th['solved_accuracy']}, unit-circle "
        f"count = theory's, spectral error <= {th['max_spectral_error']} rad), contracting "
        f"(accuracy > {th['solved_accuracy']}, every |λ(W_hh)| < {th['max_radius']}), other. "
        "Rates with Wilson 95 % intervals. Long horizons on "
        f"{summary['n_sequences']} test sequences per model.",
        "",
        "## Per cell",
        "",
    ]
    cell_table = []
    for row, text in zip(cell_rows, _rate_text(cell_rows), strict=True):
        keys = {c: row[c] for c in columns if c != "variant"}
        cell_table.append(
            {
                "variant": row["group"],
                **keys,
                **text,
                f"holds at {longest}": f"{row[f'n_holds_at_h{longest}']}/{row['n']}",
                f"late acc. {longest}": row[f"mean_late_accuracy_h{longest}"],
            }
        )
    lines += [_markdown(pd.DataFrame(cell_table)), "", "## Per value of each swept key", ""]
    for key in columns:
        part = by_key[by_key["key"] == key].to_dict("records")
        rows = [{key: r["value"], **t} for r, t in zip(part, _rate_text(part), strict=True)]
        s = stats[key]
        measure = (
            f"chi2 = {s['chi2']:.2f}, dof = {s['dof']}, p = {s['p_value']:.3g}, "
            f"Cramér's V = {s['cramers_v']:.2f}"
            if s["chi2"] is not None
            else "no association measure: fewer than two values or two classes"
        )
        lines += [_markdown(pd.DataFrame(rows)), "", f"{key}: {measure}", ""]
    return "\n".join(lines) + "\n"


def experiment_checkpoints(experiment_dir: str | os.PathLike, table) -> dict[str, str]:
    """Each model's ``model.pt`` by :func:`model_key`, located in the experiment directory that
    holds the table (the layout's ``{experiment}/{variant}/model-{seed}/checkpoint/model.pt``;
    a run without variants: ``{experiment}/model-{seed}/...``)."""
    from ..results.layout import model_file

    directory = Path(experiment_dir)
    out = {}
    for variant, seed, experiment in zip(
        table["variant"], table["seed"], table["experiment"], strict=True
    ):
        variant = variant if isinstance(variant, str) and variant else None
        path = model_file(directory.name, variant or "", int(seed), "checkpoint", directory.parent)
        out[model_key(variant or experiment, seed)] = path
    return out

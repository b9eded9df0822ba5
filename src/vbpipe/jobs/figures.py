"""The experiment figure jobs: the global figures of an experiment's spectra and the paper's Figures
3 and 4 for each task, from the tidy table (no torch)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..constants import SOLVED_ACCURACY
from ..evaluation import figures as fig
from ..fileio import save_figure, write_json
from ..results.experiment import ExperimentResults, as_experiment
from ..results.layout import (
    ARRAYS_NAME,
    GLOBAL_FIGURES,
    METRICS_NAME,
)
from ..results.records import ModelIdentity, array_key, read_metrics, read_model_arrays
from ..results.table import MODEL_KEY, records_to_table

PathLike = str | os.PathLike


def global_data(results: ExperimentResults) -> fig.GlobalData:
    """What the global figures show, from an experiment's table and row arrays."""
    models = results.models()
    first_rows = models.index.to_numpy()
    whh = [results.arrays["eigenvalues_whh"][i] for i in first_rows]
    data = fig.GlobalData(
        n_models=len(models),
        lengths=results.seq_lengths,
        whh=[w for w in whh if w is not None],
        accuracy=[float(a) for a in models["model_accuracy"].dropna()],
    )
    for L in data.lengths:
        part = results.at_length(L)
        data.theory[L] = [t for t in part.arrays["eigenvalues_theory"] if t is not None]
        errors = part.table["spectral_error"].dropna()
        data.spectral_error_deg[L] = [float(np.degrees(e)) for e in errors]
        counts = part.table[["n_unit_circle_rnn", "n_unit_circle_theory"]].dropna()
        data.unit_counts[L] = [(int(a), int(b)) for a, b in counts.itertuples(index=False)]
    return data


def draw_global_figures(
    results, global_dir: PathLike, magnitude_threshold: float = 0.0
) -> list[Path]:
    """The four ``global_analysis/`` figures (:data:`vbpipe.results.layout.GLOBAL_FIGURES`) of an
    experiment (:class:`~vbpipe.results.experiment.ExperimentResults`, or what
    :func:`vbpipe.results.experiment.as_experiment` accepts) into ``global_dir``."""
    data = global_data(as_experiment(results))
    drawn = (
        fig.global_magnitude_figure(data),
        fig.global_angle_figure(data),
        fig.global_complex_plane_figure(data, magnitude_threshold),
        fig.global_statistics_figure(data),
    )
    global_dir = Path(global_dir)
    return [save_figure(f, global_dir / n) for f, n in zip(drawn, GLOBAL_FIGURES, strict=True)]


def _choose(table, task: str, seq_length: int | None):
    """The row of the model the paper figures show (see :func:`draw_paper_figures`)."""
    rows = table[(table["task"] == task) & table["weights_finite"].fillna(False).astype(bool)]
    if seq_length is None:
        first = rows.groupby(list(MODEL_KEY), dropna=False, sort=False)["eval_length"].transform(
            "min"
        )
        rows = rows[rows["eval_length"] == first]
    else:
        rows = rows[rows["eval_length"] == int(seq_length)]
    if rows.empty:
        return None, 0
    accuracy = rows["model_accuracy"].astype(float)
    error = rows["spectral_error"].astype(float)
    valid = (accuracy > SOLVED_ACCURACY) & error.notna()
    ranked = rows.assign(
        _invalid=(~valid).astype(int),
        _error=error.where(valid, 0.0),
        _neg_accuracy=-accuracy.fillna(0.0),
    ).sort_values(["_invalid", "_error", "_neg_accuracy", "seed"], kind="stable")
    return ranked.iloc[0], len(rows)


def draw_paper_figures(
    results_dirs: Sequence[PathLike],
    task: str,
    figure3: PathLike,
    figure4: PathLike,
    choice: PathLike,
    seq_length: int | None = None,
) -> list[Path]:
    """The paper's Figures 3 and 4 for one task, from the model chosen among ``results_dirs``.

    The candidates are the models of task label ``task`` with finite weights, at ``seq_length``
    (default: each model's first evaluated length). The chosen one is the valid model (accuracy >
    0.9 with a spectral error) with the smallest spectral error, else the most accurate; ties go to
    the lower seed. ``choice`` records which model was chosen (identity, length, accuracy, spectral
    error, checkpoint SHA-256, number of candidates), or ``"chosen": null``. Without any candidate
    the two figures are placeholders that say so, so the declared outputs exist.
    """
    dirs = [Path(d) for d in results_dirs]
    records = [read_metrics(d / METRICS_NAME) for d in dirs]
    table = records_to_table(records)
    where = {}
    for directory, record in zip(dirs, records, strict=True):
        where[tuple(record["identity"][k] for k in MODEL_KEY)] = directory
    row, n_candidates = _choose(table, task, seq_length) if len(table) else (None, 0)
    if row is None:
        text = f"{task}: no evaluated model with finite weights"
        files = [
            save_figure(fig.message_figure(f"Figure 3, {text}"), figure3),
            save_figure(fig.message_figure(f"Figure 4, {text}"), figure4),
        ]
        return files + [write_json(choice, {"task": task, "chosen": None, "candidates": 0})]
    key = tuple(None if k is None or k != k else k for k in (row[c] for c in MODEL_KEY))
    key = (key[0], key[1], int(key[2]), key[3])
    directory = where[key]
    L = int(row["eval_length"])
    arrays = read_model_arrays(
        directory / ARRAYS_NAME,
        [array_key(n, L) for n in ("memory_snapshots", "memory_snapshot_steps", "phi_empirical")]
        + [array_key("operator", L)],
    )
    identity = ModelIdentity(key[0], key[1], key[2], key[3])
    error = None if row["spectral_error"] != row["spectral_error"] else float(row["spectral_error"])
    accuracy = float(row["model_accuracy"])
    err_text = f", spectral error {error:.4f} rad" if error is not None else ""
    files = [
        save_figure(
            fig.memory_trajectory_figure(
                arrays[array_key("memory_snapshots", L)],
                arrays[array_key("memory_snapshot_steps", L)],
                L,
                title=f"Figure 3, {task} ({identity.label}): variable memories over time",
            ),
            figure3,
        ),
        save_figure(
            fig.phi_figure(
                arrays[array_key("phi_empirical", L)],
                arrays[array_key("operator", L)],
                int(row["input_dim"]),
                L,
                title=f"Figure 4, {task} ({identity.label}, accuracy {accuracy:.4f}{err_text})",
            ),
            figure4,
        ),
    ]
    chosen = {
        **identity.as_dict(),
        "seq_length": L,
        "accuracy": accuracy,
        "spectral_error": error,
        "checkpoint_sha256": row["checkpoint_sha256"],
    }
    files.append(write_json(choice, {"task": task, "chosen": chosen, "candidates": n_candidates}))
    return files

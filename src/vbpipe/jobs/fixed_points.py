"""The fixed-point job: fixed and slow points of a seeded subset of models, with figures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..fileio import save_figure, write_json


def analyze_fixed_points(
    checkpoints: Sequence[str | os.PathLike],
    names: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    n_starts: int = 64,
    seed: int = 0,
) -> list[Path]:
    """Fixed and slow points of ``h -> tanh(W_hh h)`` for each checkpoint, from ``n_starts`` seeded
    starts on the model's own trajectory (its response to the Figure-3 input). Writes
    ``fixed_points.json`` (counts and stability per model), ``fixed_point_counts.png`` and
    ``fixed_points_example.png`` (the first model)."""
    import pandas as pd

    from ..analysis.fixed_point_figures import plot_fixed_point_counts, plot_fixed_points
    from ..analysis.fixed_points import find_fixed_points, fixed_point_summary, sample_starts
    from ..checkpoint import load_model
    from ..evaluation.accuracy import hidden_trajectory
    from ..evaluation.emt import FIGURE3_LENGTH, figure3_inputs

    out = Path(out_dir)
    rows, example = [], None
    for index, (path, name) in enumerate(zip(checkpoints, names, strict=True)):
        model = load_model(path)
        hp, weights = model.hparams, model.weights
        if hp.get("activation", "tanh") != "tanh":
            raise ValueError(f"{path}: a {hp['activation']} RNN has no tanh fixed points to find")
        d, length = int(hp["input_dim"]), _longest(hp["seq_length"])
        bits = figure3_inputs(d, length)
        inputs = np.zeros((FIGURE3_LENGTH, weights["W_ih"].shape[1]))
        inputs[: len(bits), :d] = bits
        trajectory = hidden_trajectory(weights, inputs)
        if not np.all(np.isfinite(weights["W_hh"])):
            rows.append({"model": name, "weights_finite": False})
            continue
        starts = sample_starts(trajectory, n_starts=n_starts, seed=seed + index)
        result = find_fixed_points(weights["W_hh"], starts)
        variant = name.rsplit("/", 1)[0] if "/" in name else ""
        rows.append({"model": name, "variant": variant, **fixed_point_summary(result)})
        if example is None:
            example = save_figure(
                plot_fixed_points(result, trajectory, title=f"{name}: fixed and slow points"),
                out / "fixed_points_example.png",
            )
    written = [write_json(out / "fixed_points.json", {"n_starts": n_starts, "models": rows})]
    table = pd.DataFrame([r for r in rows if "n_fixed" in r])
    written.append(save_figure(plot_fixed_point_counts(table), out / "fixed_point_counts.png"))
    if example is None:
        from ..evaluation.figures import message_figure

        example = save_figure(
            message_figure("no model with finite weights"), out / "fixed_points_example.png"
        )
    written.append(example)
    return written


def _longest(seq_length) -> int:
    return int(seq_length[-1]) if isinstance(seq_length, list | tuple) else int(seq_length)

"""The variable-length job: how an experiment's models trained on lengths drawn from ``[min, max]`` do
at each length, beside the MSE-optimal linear filter's accuracy, a reference level and not a bound on
sign accuracy (the science: :mod:`vbpipe.analysis.variable_length` and
:mod:`vbpipe.analysis.linear_limits`; the findings: ``docs/variable_length.md``).

Writes ``variable_length.json`` (per variant and length: mean accuracy over seeds; the MSE-optimal
linear filter's accuracy per length; the dominant period of each example model's per-step accuracy)
and three figures: the accuracy per variant and length, one model's accuracy per output step at each
length, and example spectra against the roots of unity of the trained periods. The linear reference
is computed for repeat copy (each dimension is independent, so one suffices); other tasks get none.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..analysis.linear_limits import (
    expected_bit_accuracy,
    filter_coefficients,
    optimal_lti_filter,
    target_coefficients,
)
from ..analysis.variable_length import (
    conditions_figure,
    dominant_period,
    per_step_figure,
    roots_of_unity_figure,
)
from ..fileio import save_figure, write_json
from ..results.experiment import as_experiment


def mse_optimal_linear_accuracy(lengths: list[int], horizon: int) -> dict[int, np.ndarray]:
    """Per length, the per-step bit accuracy of the MSE-optimal linear filter trained on all ``lengths``
    (repeat copy, one dimension)."""
    kernel = optimal_lti_filter("repeat_copy", 1, lengths, horizon)
    return {
        length: expected_bit_accuracy(
            filter_coefficients(kernel, length, horizon),
            target_coefficients("repeat_copy", 1, length, horizon),
        )[:, 0]
        for length in lengths
    }


def analyze_variable_length(experiment, out_dir: str | os.PathLike) -> list[Path]:
    results = as_experiment(experiment)
    table = results.table
    lengths = [int(v) for v in sorted(table["eval_length"].dropna().unique())]
    horizon = int(table["test_horizon"].iloc[0])
    copy_only = set(table["task"]) <= {"copy", "T1"}
    reference = (
        mse_optimal_linear_accuracy(lengths, horizon) if copy_only and len(lengths) > 1 else None
    )

    # A run trained by ``vbpipe train`` has no variant: its experiment names it.
    label = table["variant"].astype(object).where(table["variant"].notna(), table["experiment"])
    table = table.assign(variant=label.astype(str))
    accuracy: dict[str, dict[int, list[float]]] = {}
    for (variant, length), part in table.groupby(["variant", "eval_length"], sort=False):
        accuracy.setdefault(str(variant), {})[int(length)] = part["accuracy"].astype(float).tolist()

    example_variant = str(table["variant"].iloc[0])
    rows = np.flatnonzero((table["variant"] == example_variant).to_numpy())
    first_model = table.iloc[rows[0]]["model_name"]
    per_step, periods = {}, {}
    for i in rows:
        row = table.iloc[i]
        curve = results.arrays["accuracy_per_step"][i]
        if row["model_name"] == first_model and curve is not None:
            per_step[int(row["eval_length"])] = curve
            periods[int(row["eval_length"])] = dominant_period(curve)[0]

    spectra = {}
    for variant in list(accuracy)[:4]:
        i = int(np.flatnonzero((table["variant"] == variant).to_numpy())[0])
        eig = results.arrays["eigenvalues_whh"][i]
        if eig is not None:
            spectra[f"{variant}/{table.iloc[i]['model_name']}"] = eig

    out = Path(out_dir)
    document = {
        "lengths": lengths,
        "horizon": horizon,
        "accuracy": {
            v: {L: float(np.mean(a)) for L, a in by.items()} for v, by in accuracy.items()
        },
        "mse_optimal_linear_accuracy": None
        if reference is None
        else {L: float(c.mean()) for L, c in reference.items()},
        "example": {"variant": example_variant, "model": first_model, "dominant_period": periods},
    }
    reference_means = (
        None if reference is None else {L: float(c.mean()) for L, c in reference.items()}
    )
    return [
        write_json(out / "variable_length.json", document),
        save_figure(
            conditions_figure(
                accuracy,
                reference_means,
                "Accuracy per length\n(mean over seeds, dots: seeds"
                + ("; ticks: MSE-optimal linear filter)" if reference is not None else ")"),
                ylabel=f"test accuracy (horizon {horizon})",
            ),
            out / "variable_length_conditions.png",
        ),
        save_figure(
            per_step_figure(
                per_step, reference, f"{example_variant}/{first_model}:\naccuracy per output step"
            ),
            out / "variable_length_per_step.png",
        ),
        save_figure(
            roots_of_unity_figure(spectra, lengths, "Eigenvalues of W_hh\nand the trained periods"),
            out / "variable_length_roots.png",
        ),
    ]

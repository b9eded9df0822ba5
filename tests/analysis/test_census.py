"""The mechanism census (vbpipe.analysis.census, vbpipe.jobs.census) on cases with a known answer:
EMT's circuits are emt_linear, a circuit with Φ scaled down contracts, a zero matrix collapses;
Wilson intervals, rates and the association measure against hand computations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.evaluation import write_model
from helpers.input_phase import accuracy, simulate

from vbpipe.analysis.census import (
    CensusThresholds,
    association,
    classify,
    horizon_accuracy,
    rates,
)
from vbpipe.circuits import build_circuit
from vbpipe.evaluation.accuracy import evaluate_accuracy
from vbpipe.evaluation.spectra import eigenvalues, spectral_comparison
from vbpipe.intervals import wilson_interval
from vbpipe.taskspec import PAPER_TASKS, Task, repeat_copy_id

COPY = repeat_copy_id(4)  # repeat copy, d = 4, L = 3 (the quick config's task)


def _save(root, weights, seed, variant):
    """A checkpoint of numpy weights in the workflow layout (torch tensors, as training saves)."""
    import torch

    tensors = {k: torch.as_tensor(np.asarray(v)) for k, v in weights.items()}
    return write_model(root, tensors, COPY, 4, 3, seed, variant=variant)


def _numbers(weights, task_id, d, length, accuracy_value):
    """What the census reads of one model: accuracy, unit-circle counts, error, radius."""
    phi = Task(task_id, d, length).phi(length)
    eig = eigenvalues(np.asarray(weights["W_hh"]))
    comparison = spectral_comparison(eig, eigenvalues(phi), 0.9)
    return (
        [accuracy_value],
        [comparison.n_a],
        [comparison.n_b],
        [comparison.error_rad],
        [float(np.abs(eig).max())],
    )


def _accuracy32(weights, task_id, d, length, horizon=200):
    """The evaluation's own accuracy (float32 numpy forward, the model's seeded test set)."""
    task = Task(task_id, d, length)
    return evaluate_accuracy(task, weights, 1, length, horizon, 2, 64).accuracy


@pytest.mark.parametrize(
    ("kind", "task_id", "d", "length", "hidden"),
    [("naive", COPY, 4, 3, 16), ("gated", PAPER_TASKS["T2"], 8, 8, 96)],
)
def test_emt_circuits_classify_emt_linear(kind, task_id, d, length, hidden):
    weights = build_circuit(kind, task_id, d, length, hidden)
    acc = _accuracy32(weights, task_id, d, length)
    assert acc == 1.0
    assert list(classify(*_numbers(weights, task_id, d, length, acc))) == ["emt_linear"]


def test_naive_circuit_on_t2_is_other():
    """The naive circuit has Φ's spectrum exactly but mixes inputs during the input phase on T2
    (accuracy ~0.83 < 0.9): the census calls it other, not emt_linear."""
    task_id = PAPER_TASKS["T2"]
    weights = build_circuit("naive", task_id, 8, 8, 64)
    acc = _accuracy32(weights, task_id, 8, 8)
    assert 0.55 < acc < 0.9
    assert list(classify(*_numbers(weights, task_id, 8, 8, acc))) == ["other"]


def test_scaled_circuit_classifies_contracting():
    """Φ·0.45: every |λ| = 0.45 < 1, no eigenvalue on the unit circle, and (float64, every input
    phase of the task) exact signs at horizon 200: contracting. In the evaluation's float32 its
    output underflows (0.45^t below ~1e-45 after ~130 steps), so there it is not solved."""
    weights = build_circuit("naive", COPY, 4, 3, 16)
    weights["W_hh"] = 0.45 * weights["W_hh"]
    inputs = np.array(np.meshgrid(*[[-1.0, 1.0]] * 12)).reshape(12, -1).T.reshape(-1, 3, 4)
    outputs, targets = simulate(weights, COPY, 4, 3, inputs.transpose(1, 0, 2), 200)
    acc64 = accuracy(outputs, targets)
    assert acc64 == 1.0
    numbers = _numbers(weights, COPY, 4, 3, acc64)
    assert numbers[1] == [0] and numbers[4][0] == pytest.approx(0.45)
    assert list(classify(*numbers)) == ["contracting"]
    assert _accuracy32(weights, COPY, 4, 3) < 0.9


def test_zero_matrix_collapses():
    weights = build_circuit("naive", COPY, 4, 3, 16)
    weights["W_hh"] = np.zeros_like(weights["W_hh"])
    acc = _accuracy32(weights, COPY, 4, 3)
    assert acc == pytest.approx(0.5, abs=0.05)
    assert list(classify(*_numbers(weights, COPY, 4, 3, acc))) == ["collapsed"]


def test_classification_order_and_missing_numbers():
    th = CensusThresholds()
    classes = classify(
        [0.55, 0.56, 0.95, 0.95, 0.95, 0.95, float("nan"), 0.95],
        [12, 12, 12, 12, 5, 5, 12, 12],
        [12, 12, 12, 12, 12, 12, 12, 12],
        [0.0, 0.0, 0.05, 0.051, 0.0, 0.0, 0.0, None],
        [1.0, 1.0, 1.0, 0.99, 0.99, 1.0, 1.0, 1.0],
        th,
    )
    assert list(classes) == [
        "collapsed",  # at the chance threshold
        "other",  # above chance, not solved
        "emt_linear",  # error at the threshold
        "contracting",  # error above it, radius < 1
        "contracting",  # count off, radius < 1
        "other",  # count off, radius 1
        "collapsed",  # a non-finite accuracy is no accuracy
        "other",  # no spectral error: not emt_linear
    ]
    with pytest.raises(ValueError, match="one value per model"):
        classify([0.9], [1, 2], [1], [0.0], [1.0])
    with pytest.raises(ValueError, match="chance_accuracy < solved_accuracy"):
        CensusThresholds(chance_accuracy=0.95)


def test_long_horizons_separate_leaky_from_marginal(tmp_path):
    """Through the job's own forward (a checkpoint, the float32 evaluation): the exact circuit
    holds at 10,000 steps, Φ·0.9 (solved at 200, radius 0.9) falls to chance there."""
    from vbpipe.jobs.census import long_horizon_curve

    exact = build_circuit("naive", COPY, 4, 3, 16)
    leaky = dict(exact, W_hh=0.9 * exact["W_hh"])
    curves = {}
    for seed, (name, weights) in enumerate([("exact", exact), ("leaky", leaky)], start=1):
        model = _save(tmp_path, weights, seed, name)
        path = model / "checkpoint" / "model.pt"
        curve = long_horizon_curve(path, 3, 10_000, 64, 64, expect_seed=seed)
        curves[name] = horizon_accuracy(curve, [200, 1000, 10_000])
    assert curves["exact"]["accuracy_h10000"] == 1.0
    assert curves["exact"]["late_accuracy_h10000"] == 1.0
    assert curves["leaky"]["accuracy_h200"] == 1.0
    assert curves["leaky"]["late_accuracy_h10000"] == pytest.approx(0.5, abs=0.05)


def test_horizon_accuracy_of_a_known_curve():
    curve = np.r_[np.ones(100), np.full(100, 0.5)]
    out = horizon_accuracy(curve, [100, 200])
    assert out == {
        "accuracy_h100": 1.0,
        "late_accuracy_h100": 1.0,
        "accuracy_h200": 0.75,
        "late_accuracy_h200": 0.5,
    }
    with pytest.raises(ValueError, match="outside"):
        horizon_accuracy(curve, [201])


def test_wilson_interval_against_hand_computation():
    # 3/10: p = 0.3, z = 1.96: centre (0.3 + z²/20) / (1 + z²/10) = 0.35550, half-width
    # z sqrt(0.021 + z²/400) / (1 + z²/10) = 0.24772 -> [0.10779, 0.60322].
    low, high = wilson_interval(3, 10)
    assert (float(low), float(high)) == pytest.approx((0.10779, 0.60322), abs=1e-5)
    # 0/5: centre = half-width = (z²/10) / (1 + z²/5) = 0.21724 -> [0, 0.43449].
    low, high = wilson_interval(0, 5)
    assert (float(low), float(high)) == pytest.approx((0.0, 0.43449), abs=1e-5)
    low, high = wilson_interval([5, 0], [5, 0])  # 5/5: the mirror of 0/5; 0/0: none
    assert low[0] == pytest.approx(1 - 0.43449, abs=1e-5) and high[0] == 1.0
    assert np.isnan(low[1]) and np.isnan(high[1])


def test_rates_of_a_synthetic_table():
    classes = ["emt_linear"] * 3 + ["collapsed"] + ["contracting"] * 10
    cells = ["a"] * 4 + ["b"] * 10
    rows = rates(classes, cells)
    assert [r["group"] for r in rows] == ["a", "b"]
    a, b = rows
    assert (a["n"], a["n_emt_linear"], a["n_collapsed"], a["n_other"]) == (4, 3, 1, 0)
    assert a["rate_emt_linear"] == 0.75
    # 3/4: centre (0.75 + z²/8) / (1 + z²/4) = 0.627527, half-width
    # z sqrt(0.1875/4 + z²/64) / (1 + z²/4) = 0.326886 -> [0.300641, 0.954413]
    assert (a["rate_emt_linear_low"], a["rate_emt_linear_high"]) == pytest.approx(
        (0.300641, 0.954413), abs=1e-6
    )
    assert b["rate_contracting"] == 1.0 and b["rate_contracting_low"] == pytest.approx(
        0.72247, abs=1e-5
    )  # 10/10: 1 - (z²/20) / (1 + z²/10) * 2 = 0.72247
    assert b["n_emt_linear"] == 0 and b["rate_emt_linear_high"] == pytest.approx(0.27753, abs=1e-5)


def test_association_against_hand_computation():
    # Perfect association, 2 x 2 [[10, 0], [0, 10]]: chi2 = n = 20 (no continuity correction),
    # dof 1, V = 1.
    classes = ["emt_linear"] * 10 + ["collapsed"] * 10
    perfect = association(classes, ["0"] * 10 + ["0.1"] * 10)
    assert perfect["chi2"] == pytest.approx(20.0)
    assert perfect["dof"] == 1 and perfect["cramers_v"] == pytest.approx(1.0)
    assert perfect["p_value"] == pytest.approx(7.744e-6, rel=1e-3)
    assert perfect["table"] == [[0, 10], [10, 0]]  # rows: values; columns: collapsed, emt_linear
    # Independent: the same proportions under every value.
    independent = association(classes * 2, ["x"] * 20 + ["y"] * 20)
    assert independent["chi2"] == pytest.approx(0.0) and independent["cramers_v"] == 0.0
    # 2 x 3, [[6, 2, 0], [0, 2, 6]]: expected 3, 2, 3 per row; chi2 = 4 * 3 = 12, V = sqrt(12/16).
    classes = ["collapsed"] * 6 + ["emt_linear"] * 4 + ["contracting"] * 6
    values = ["a"] * 6 + ["a", "a", "b", "b"] + ["b"] * 6
    mixed = association(classes, values)
    assert mixed["chi2"] == pytest.approx(12.0) and mixed["dof"] == 2
    assert mixed["cramers_v"] == pytest.approx(np.sqrt(12 / 16))
    one_value = association(classes, ["a"] * 16)
    assert one_value["chi2"] is None and one_value["cramers_v"] is None


def test_census_job_on_circuits(tmp_path):
    """The job end to end on three hand-built models (their evaluation from the evaluation code):
    one per class, every file written, the cells' rates as the classes say."""
    from helpers.evaluation import evaluate

    from vbpipe.jobs.census import analyze_census, experiment_checkpoints
    from vbpipe.results.experiment import experiment_from_metrics
    from vbpipe.results.layout import CENSUS_OUTPUTS

    root = tmp_path / "exp"
    exact = build_circuit("naive", COPY, 4, 3, 16)
    models = {
        "exact": exact,
        "leaky": dict(exact, W_hh=0.9 * exact["W_hh"]),
        "zero": dict(exact, W_hh=np.zeros_like(exact["W_hh"])),
    }
    records, arrays = [], []
    for seed, (variant, weights) in enumerate(models.items(), start=1):
        model_dir = _save(root, weights, seed, variant)
        metrics, data = evaluate(model_dir, test_horizon=200, n_batches=2, batch_size=32)
        records.append(metrics)
        arrays.append(data)
    results = experiment_from_metrics(records, arrays)
    checkpoints = experiment_checkpoints(root, results.models())
    paths = analyze_census(
        results, tmp_path / "out", checkpoints, swept=(), horizons=[1000, 10_000], n_sequences=64
    )
    assert [p.name for p in paths] == list(CENSUS_OUTPUTS)
    summary = json.loads((tmp_path / "out" / "census.json").read_text())
    assert summary["counts"] == {"collapsed": 1, "emt_linear": 1, "contracting": 1, "other": 0}
    import pandas as pd

    table = pd.read_csv(tmp_path / "out" / "census_models.csv")
    mechanism = dict(zip(table["variant"], table["mechanism"], strict=True))
    assert mechanism == {"exact": "emt_linear", "leaky": "contracting", "zero": "collapsed"}
    holds = dict(zip(table["variant"], table["holds_at_h10000"], strict=True))
    assert holds == {"exact": True, "leaky": False, "zero": False}
    cells = pd.read_csv(tmp_path / "out" / "census_cells.csv")
    assert cells.set_index("variant").loc["exact", "rate_emt_linear"] == 1.0
    assert "| exact |" in (tmp_path / "out" / "census.md").read_text()

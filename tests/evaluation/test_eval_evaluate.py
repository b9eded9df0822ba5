"""Evaluating one checkpoint: the metrics record, reproducibility, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers.evaluation import (
    FAST,
    evaluate,
    exact_circuit,
    length_entry,
    random_model,
    write_model,
)
from helpers.reference_rnn import rnn_forward_single

from vbpipe.checkpoint import CheckpointError, load_model
from vbpipe.evaluation.accuracy import draw_test_set, input_phase, output_targets
from vbpipe.evaluation.evaluate import evaluate_loaded, evaluation_lengths
from vbpipe.results.errors import ResultsError
from vbpipe.results.records import (
    LENGTH_FIELDS,
    METRICS_SECTIONS,
    METRICS_TOP,
    METRICS_VERSION,
    ModelIdentity,
    array_key,
    validate_metrics,
)
from vbpipe.tasks import Task, build_batch
from vbpipe.training.kernel import init_weights


def test_random_untrained_model_is_at_chance_and_not_converged(experiment):
    model_dir = random_model(experiment, seed=3, hidden=64)
    metrics, arrays = evaluate(model_dir, n_batches=4)
    model, training = metrics["model"], metrics["training"]
    assert abs(model["accuracy"] - 0.5) < 0.02
    assert training["converged"] is False and model["solved"] is False
    assert training["diverged"] is False and model["weights_finite"] is True
    assert arrays["accuracy_per_step"].shape == (200,)
    assert metrics["identity"] == {
        "experiment": "exp",
        "variant": "var",
        "seed": 3,
        "model_name": "model-3",
    }
    assert metrics["task_label"] == "T1" and metrics["params"]["task_id"] == ["255", "0", "0"]
    assert metrics["params"]["l2_penalty"] == 0.0
    # Train horizon 10 < test horizon 200: the split accuracies are present.
    assert model["accuracy_within_train_horizon"] is not None
    assert model["accuracy_beyond_train_horizon"] is not None


def test_record_follows_the_contract_and_json_is_finite(experiment):
    metrics, arrays = evaluate(random_model(experiment), **FAST)
    validate_metrics(metrics)
    assert list(metrics) == list(METRICS_TOP) and metrics["format_version"] == METRICS_VERSION
    for section, fields in METRICS_SECTIONS.items():
        assert list(metrics[section]) == list(fields), section
    assert [list(e) for e in metrics["lengths"]] == [list(LENGTH_FIELDS)]
    text = json.dumps(metrics, allow_nan=False)  # raises on NaN/inf
    assert "eigenvalues" not in text and "/" not in json.dumps(metrics["params"])
    checkpoint = metrics["checkpoint"]
    assert len(checkpoint["sha256"]) == 64 and checkpoint["size"] > 0
    assert arrays["eigenvalues_whh"].shape == (64,) and arrays["eigenvalues_whh"].dtype.kind == "c"
    assert arrays[array_key("eigenvalues_sub", 8)].shape == (64,)
    assert arrays[array_key("phi_empirical", 8)].shape == (74, 74)
    assert arrays[array_key("memory_snapshots", 8)].shape == (10, 8, 8)


def test_evaluation_is_reproducible_and_seeded(experiment):
    model_dir = random_model(experiment, seed=5)
    first, a = evaluate(model_dir, **FAST)
    second, b = evaluate(model_dir, **FAST)
    assert first["model"]["accuracy"] == second["model"]["accuracy"]
    np.testing.assert_array_equal(a["accuracy_per_step"], b["accuracy_per_step"])
    np.testing.assert_array_equal(a["eigenvalues_whh"], b["eigenvalues_whh"])


def test_fast_forward_matches_the_models_own_forward(experiment):
    """The evaluation's float32 recurrence gives the outputs of vbpipe.training.kernel's forward."""
    model_dir = random_model(experiment, seed=4, hidden=32)
    loaded = load_model(model_dir / "checkpoint" / "model.pt")
    task = Task((255, 0, 0), 8, 8)
    inputs = draw_test_set(4, 8, 8, 1, 16)
    x, y, _ = build_batch(task, torch.as_tensor(inputs), 30)
    weights = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in loaded.weights.items()}
    with torch.no_grad():
        reference = rnn_forward_single(x.double(), weights)[8:]
    expected = ((torch.where(reference >= 0, 1.0, -1.0) == y[8:]).double().mean((1, 2))).numpy()
    _, arrays = evaluate(model_dir, test_horizon=30, n_batches=1, batch_size=16)
    np.testing.assert_allclose(arrays[array_key("accuracy_per_step", 8)], expected, atol=1 / 128)
    np.testing.assert_allclose(
        arrays[array_key("sample_prediction", 8)], reference[:, 0].numpy(), atol=1e-5
    )
    np.testing.assert_array_equal(output_targets(task, inputs, 30), y[8:].numpy())
    x_input = input_phase(task, inputs)  # the evaluation's own layout of the input phase
    np.testing.assert_array_equal(x_input, x[:9].numpy())


@pytest.mark.parametrize("bias", [False, True])
def test_gpu_code_path_matches_the_cpu_one(bias):
    """The torch recurrence used on a GPU, run here on the CPU, gives the numpy one's outputs."""
    from vbpipe.recurrence import output_phase, output_phase_torch

    weights = {k: v.numpy() for k, v in init_weights(3, 9, 24, 8, bias=bias).items()}
    task = Task((255, 0, 0), 8, 8, use_eos=True)
    x_input = input_phase(task, draw_test_set(3, 8, 8, 1, 16))
    expected = output_phase(x_input, weights, 40)
    got = output_phase_torch(x_input, weights, 40, "cpu")
    assert got.shape == expected.shape == (40, 16, 8)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_hidden_smaller_than_task_dim_is_evaluated_and_flagged(experiment):
    model_dir = random_model(experiment, seed=2, hidden=32)
    metrics, arrays = evaluate(model_dir, **FAST)
    entry = length_entry(metrics, 8)
    assert metrics["model"]["hidden_too_small"] is True and entry["hidden_too_small"] is True
    assert entry["frob_error"] is None and entry["frob_relative"] is None
    assert entry["variance_ratio"] == pytest.approx(1.0)
    assert arrays[array_key("eigenvalues_sub", 8)].shape == (32,)
    assert arrays[array_key("eigenvalues_theory", 8)].shape == (64,)
    assert entry["n_unit_circle_theory"] == 64
    assert entry["emt_phi_error"] is not None
    assert 0.4 < metrics["model"]["accuracy"] < 0.6


def test_truncated_or_missing_checkpoint_gives_a_clear_error(experiment):
    model_dir = random_model(experiment)
    path = model_dir / "checkpoint" / "model.pt"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        evaluate(model_dir)
    with pytest.raises(CheckpointError, match="does not exist"):
        evaluate(experiment / "var" / "model-99")


def test_identity_must_be_the_checkpoints_seed(experiment):
    loaded = load_model(random_model(experiment, seed=3) / "checkpoint" / "model.pt")
    with pytest.raises(ResultsError, match="seed 3"):
        evaluate_loaded(loaded, ModelIdentity("exp", "var", 4), FAST)
    metrics, _ = evaluate_loaded(loaded, None, FAST)
    assert metrics["identity"]["experiment"] is None and metrics["identity"]["seed"] == 3


def test_bias_is_used_when_the_model_has_one(experiment):
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 12)
    weights["b_h"] = torch.zeros(12, dtype=torch.float64)
    weights["b_r"] = torch.full((3,), 5.0, dtype=torch.float64)  # every prediction becomes +1
    metrics, _ = evaluate(write_model(experiment, weights, (7, 0, 0), 3, 3, seed=1), **FAST)
    assert metrics["params"]["bias"] is True
    assert 0.4 < metrics["model"]["accuracy"] < 0.6  # 1.0 if the bias were ignored


def test_diverged_model_is_reported_not_dropped(experiment):
    weights = init_weights(4, 8, 64, 8)
    weights["W_hh"][0, 0] = float("nan")
    outcome = {"converged": False, "diverged": True, "diverged_at_step": 321}
    model_dir = write_model(experiment, weights, (255, 0, 0), 8, 8, seed=4, outcome=outcome)
    metrics, arrays = evaluate(model_dir, **FAST)
    entry = length_entry(metrics, 8)
    assert metrics["training"]["diverged"] is True
    assert metrics["training"]["diverged_at_step"] == 321
    assert metrics["model"]["weights_finite"] is False
    assert metrics["model"]["accuracy"] == 0.0  # non-finite outputs count as wrong
    assert entry["spectral_error"] is None and metrics["model"]["n_unit_circle_whh"] is None
    assert entry["n_unit_circle_theory"] == 64 and entry["hidden_too_small"] is False
    validate_metrics(metrics)
    json.dumps(metrics, allow_nan=False)
    assert "eigenvalues_whh" not in arrays and array_key("eigenvalues_theory", 8) in arrays


def test_variable_length_model_is_evaluated_at_each_length(experiment):
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 16)
    model_dir = write_model(experiment, weights, (7, 0, 0), 3, [3, 4], seed=6)
    metrics, arrays = evaluate(model_dir, **FAST)
    assert metrics["evaluation"]["seq_lengths"] == [3, 4]
    assert metrics["params"]["seq_length"] == [3, 4]
    at3, at4 = length_entry(metrics, 3), length_entry(metrics, 4)
    assert at3["accuracy"] == 1.0  # the circuit is built for L = 3
    assert at4["accuracy"] < 0.9
    assert metrics["model"]["accuracy"] == pytest.approx((at3["accuracy"] + at4["accuracy"]) / 2)
    assert at4["n_unit_circle_theory"] == 12 and at3["n_unit_circle_theory"] == 9
    np.testing.assert_allclose(
        arrays["accuracy_per_step"],
        (arrays[array_key("accuracy_per_step", 3)] + arrays[array_key("accuracy_per_step", 4)]) / 2,
    )


def test_seq_length_override_and_bad_length(experiment):
    # t1 = 448 chooses positions 6, 7, 8: slot 2, so the window needs L >= 3.
    model_dir = random_model(experiment, d=3, length=3, task_id=(448, 0, 0), hidden=16)
    metrics, _ = evaluate(model_dir, seq_lengths=[5, 4], **FAST)
    assert metrics["evaluation"]["seq_lengths"] == [4, 5]
    assert [e["eval_length"] for e in metrics["lengths"]] == [4, 5]
    with pytest.raises(ResultsError, match="seq_length 2"):
        evaluate(model_dir, seq_lengths=[2], **FAST)


def test_evaluation_lengths_rules():
    assert evaluation_lengths(8) == [8]
    assert evaluation_lengths([3, 5]) == [3, 4, 5]
    assert evaluation_lengths(8, override=[10, 9, 9]) == [9, 10]
    with pytest.raises(ResultsError):
        evaluation_lengths(8, override=[0])


def test_per_step_accuracy_sees_failure_beyond_the_horizon(experiment):
    # A copy circuit whose memory slowly rotates two dimensions (0.05 rad per step): the first
    # output steps are right, later ones drift; the spectrum keeps 9 unit-circle eigenvalues at
    # slightly wrong angles.
    weights, psi, phi = exact_circuit((7, 0, 0), 3, 3, 12)
    rotation = np.eye(9)
    c, s = np.cos(0.05), np.sin(0.05)
    rotation[6:8, 6:8] = [[c, -s], [s, c]]
    weights["W_hh"] = torch.tensor(psi @ rotation @ phi @ psi.T)
    metrics, arrays = evaluate(write_model(experiment, weights, (7, 0, 0), 3, 3, seed=1), **FAST)
    per_step = arrays["accuracy_per_step"]
    assert np.all(per_step[:10] == 1.0)
    assert per_step[-10:].mean() < 0.9
    entry = length_entry(metrics, 3)
    assert entry["n_unit_circle_rnn"] == 9
    assert 1e-3 < entry["spectral_error"] < 0.05


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_evaluation_matches_cpu(experiment):
    weights, _, _ = exact_circuit((7, 4, 5), 3, 3, 12)
    model_dir = write_model(experiment, weights, (7, 4, 5), 3, 3, seed=1)
    cpu, cpu_arrays = evaluate(model_dir, **FAST)
    gpu, gpu_arrays = evaluate(model_dir, device="gpu", **FAST)
    assert gpu["evaluation"]["device"] == "cuda"
    assert gpu["model"]["accuracy"] == cpu["model"]["accuracy"] == 1.0
    np.testing.assert_array_equal(gpu_arrays["accuracy_per_step"], cpu_arrays["accuracy_per_step"])
    assert length_entry(gpu, 3)["emt_phi_error"] == pytest.approx(
        length_entry(cpu, 3)["emt_phi_error"], abs=1e-6
    )
    random_dir = random_model(experiment, seed=7, hidden=48, variant="random")
    cpu, _ = evaluate(random_dir, **FAST)
    gpu, _ = evaluate(random_dir, device="gpu", **FAST)
    assert gpu["model"]["accuracy"] == pytest.approx(cpu["model"]["accuracy"], abs=2e-3)

"""``evaluate_model`` on hand-made checkpoints: keys, reproducibility, edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from evalhelpers import FAST, exact_circuit, random_model, write_model

from vbpipe.checkpoint import CheckpointError
from vbpipe.evaluation.evaluate import evaluate_model, evaluation_lengths, metric_keys
from vbpipe.model import init_weights


def test_random_untrained_model_is_at_chance_and_not_converged(experiment):
    model_dir = random_model(experiment, seed=3, hidden=64)
    metrics, _ = evaluate_model(model_dir, n_batches=4)
    assert abs(metrics["accuracy"] - 0.5) < 0.02
    assert metrics["converged"] is False and metrics["solved"] is False
    assert metrics["diverged"] is False and metrics["weights_finite"] is True
    assert len(metrics["accuracy_per_step"]) == 200
    assert metrics["model_name"] == "model-3"
    assert metrics["variant"] == "var" and metrics["experiment"] == "exp"
    assert metrics["task_label"] == "T1" and metrics["task_id"] == ["255", "0", "0"]
    assert metrics["l2_penalty"] == 0.0 and metrics["learning_rate"] == 0.001  # from config.json
    # Train horizon 10 < test horizon 200: the split accuracies are present.
    assert metrics["accuracy_within_train_horizon"] is not None
    assert metrics["accuracy_beyond_train_horizon"] is not None


def test_every_key_is_present_and_json_is_finite(experiment):
    metrics, arrays = evaluate_model(random_model(experiment), **FAST)
    assert list(metrics) == metric_keys([8])
    text = json.dumps(metrics, allow_nan=False)  # raises on NaN/inf
    assert "NaN" not in text
    assert len(metrics["eigenvalues_whh"]) == 64 and len(metrics["eigenvalues_rnn_seq8"]) == 64
    assert len(metrics["angle_histogram_rnn_seq8"]) == 36
    assert sum(metrics["magnitude_histogram_rnn_seq8"]) == 64
    assert len(metrics["histogram_bins"]["angle"]) == 37
    assert arrays["phi_empirical_seq8"].shape == (74, 74)
    assert arrays["memory_snapshots_seq8"].shape == (10, 8, 8)


def test_evaluation_is_reproducible_and_seeded(experiment):
    model_dir = random_model(experiment, seed=5)
    first, _ = evaluate_model(model_dir, **FAST)
    second, _ = evaluate_model(model_dir / "checkpoint" / "model.pt", **FAST)
    assert first["accuracy"] == second["accuracy"]
    assert first["accuracy_per_step"] == second["accuracy_per_step"]
    assert first["eigenvalues_whh"] == second["eigenvalues_whh"]


def test_hidden_smaller_than_task_dim_is_evaluated_and_flagged(experiment):
    model_dir = random_model(experiment, seed=2, hidden=32)
    metrics, _ = evaluate_model(model_dir, **FAST)
    assert metrics["hidden_too_small"] is True and metrics["hidden_too_small_seq8"] is True
    assert metrics["frob_error_seq8"] is None and metrics["frob_relative_seq8"] is None
    assert metrics["variance_ratio_seq8"] == pytest.approx(1.0)
    assert len(metrics["eigenvalues_rnn_seq8"]) == 32
    assert len(metrics["eigenvalues_theory_seq8"]) == 64
    assert metrics["n_unit_circle_theory_seq8"] == 64
    assert metrics["emt_phi_error_seq8"] is not None
    assert 0.4 < metrics["accuracy"] < 0.6


def test_truncated_checkpoint_gives_a_clear_error(experiment):
    model_dir = random_model(experiment)
    path = model_dir / "checkpoint" / "model.pt"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        evaluate_model(model_dir)
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        evaluate_model(experiment / "var" / "model-99")


def test_bias_is_used_when_the_model_has_one(experiment):
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 12)
    weights["b_h"] = torch.zeros(12, dtype=torch.float64)
    weights["b_r"] = torch.full((3,), 5.0, dtype=torch.float64)  # every prediction becomes +1
    metrics, _ = evaluate_model(write_model(experiment, weights, (7, 0, 0), 3, 3, seed=1), **FAST)
    assert metrics["bias"] is True
    assert 0.4 < metrics["accuracy"] < 0.6  # 1.0 if the bias were ignored


def test_diverged_model_is_reported_not_dropped(experiment):
    weights = init_weights(4, 8, 64, 8)
    weights["W_hh"][0, 0] = float("nan")
    outcome = {"converged": False, "diverged": True, "diverged_at_step": 321}
    model_dir = write_model(experiment, weights, (255, 0, 0), 8, 8, seed=4, outcome=outcome)
    metrics, arrays = evaluate_model(model_dir, **FAST)
    assert metrics["diverged"] is True and metrics["diverged_at_step"] == 321
    assert metrics["weights_finite"] is False
    assert metrics["accuracy"] == 0.0  # non-finite outputs count as wrong
    assert metrics["spectral_error_seq8"] is None and metrics["eigenvalues_whh"] is None
    assert metrics["hidden_too_small_seq8"] is False
    assert list(metrics) == metric_keys([8])
    json.dumps(metrics, allow_nan=False)
    assert "eigenvalues_whh" not in arrays


def test_variable_length_model_is_evaluated_at_each_length(experiment):
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 16)
    model_dir = write_model(experiment, weights, (7, 0, 0), 3, [3, 4], seed=6)
    metrics, _ = evaluate_model(model_dir, **FAST)
    assert metrics["seq_lengths"] == [3, 4] and metrics["seq_length"] == [3, 4]
    assert metrics["accuracy_seq3"] == 1.0  # the circuit is built for L = 3
    assert metrics["accuracy_seq4"] < 0.9
    assert metrics["accuracy"] == pytest.approx(
        (metrics["accuracy_seq3"] + metrics["accuracy_seq4"]) / 2
    )
    assert metrics["n_unit_circle_theory_seq4"] == 12 and metrics["n_unit_circle_theory_seq3"] == 9
    assert list(metrics) == metric_keys([3, 4])


def test_seq_length_override_and_bad_length(experiment):
    # t1 = 448 chooses positions 6, 7, 8: slot 2, so the window needs L >= 3.
    model_dir = random_model(experiment, d=3, length=3, task_id=(448, 0, 0), hidden=16)
    metrics, _ = evaluate_model(model_dir, seq_lengths=[5, 4], **FAST)
    assert metrics["seq_lengths"] == [4, 5]
    assert "spectral_error_seq5" in metrics and "spectral_error_seq3" not in metrics
    with pytest.raises(ValueError, match="seq_length 2"):
        evaluate_model(model_dir, seq_lengths=[2], **FAST)


def test_evaluation_lengths_rules():
    assert evaluation_lengths(8) == [8]
    assert evaluation_lengths([3, 5]) == [3, 4, 5]
    assert evaluation_lengths(8, override=[10, 9, 9]) == [9, 10]
    with pytest.raises(ValueError):
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
    metrics, _ = evaluate_model(write_model(experiment, weights, (7, 0, 0), 3, 3, seed=1), **FAST)
    per_step = np.array(metrics["accuracy_per_step"])
    assert np.all(per_step[:10] == 1.0)
    assert per_step[-10:].mean() < 0.9
    assert metrics["n_unit_circle_rnn_seq3"] == 9
    assert 1e-3 < metrics["spectral_error_seq3"] < 0.05


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_evaluation_matches_cpu(experiment):
    weights, _, _ = exact_circuit((7, 4, 5), 3, 3, 12)
    model_dir = write_model(experiment, weights, (7, 4, 5), 3, 3, seed=1)
    cpu, _ = evaluate_model(model_dir, **FAST)
    gpu, _ = evaluate_model(model_dir, device="gpu", **FAST)
    assert gpu["device"] == "cuda"
    assert gpu["accuracy"] == cpu["accuracy"] == 1.0
    assert gpu["emt_phi_error_seq3"] == pytest.approx(cpu["emt_phi_error_seq3"], abs=1e-6)

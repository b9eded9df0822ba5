"""The exact EMT variable-binding circuit, evaluated end to end from a saved checkpoint.

``W_hh = Ψ Φ Ψᵀ`` with orthonormal Ψ, ``W_ih`` writing ε·u into the newest slot and ``W_r`` reading
it back with 1/ε (ε = 1e-3 keeps tanh linear to ~1e-7). Checkpoints store float32 and the accuracy
forward runs in float32, so "~0" means below 1e-6 (spectral error) or 1e-5 (Φ).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.evaluation import FAST, evaluate, exact_circuit, length_entry, write_model

from vbpipe.evaluation.emt import variable_memory_basis
from vbpipe.results.records import array_key
from vbpipe.tasks import PAPER_TASKS, Task


def _evaluate(root, task_id, d, length, hidden, **options):
    weights, _, _ = exact_circuit(task_id, d, length, hidden)
    model_dir = write_model(root, weights, task_id, d, length, seed=1)
    return evaluate(model_dir, **options)


def test_copy_circuit_d8_l8_is_exact(experiment):
    metrics, arrays = _evaluate(experiment, (255, 0, 0), 8, 8, 80)  # default: 10 x 64 @ 200
    evaluation, model = metrics["evaluation"], metrics["model"]
    assert evaluation["n_test_sequences"] == 640 and evaluation["test_horizon"] == 200
    assert model["accuracy"] == 1.0
    assert np.all(arrays["accuracy_per_step"] == 1.0)
    entry = length_entry(metrics, 8)
    assert entry["n_unit_circle_rnn"] == 64
    assert entry["n_unit_circle_theory"] == 64
    assert model["n_unit_circle_whh"] == 64
    assert entry["unit_circle_count_mismatch"] == 0
    assert entry["spectral_error"] < 1e-6
    assert entry["emt_n_kept"] == 64
    assert entry["emt_phi_error"] < 1e-5
    phi_emp = arrays[array_key("phi_empirical", 8)][:64, :64]
    np.testing.assert_allclose(phi_emp, Task((255, 0, 0), 8, 8).phi(8), atol=1e-4)
    assert model["hidden_too_small"] is False and entry["hidden_too_small"] is False
    assert model["solved"] is True
    # Unit-circle eigenvalues at the 8th roots of unity, eight of each.
    eig = arrays["eigenvalues_whh"]
    k = np.round(np.angle(eig[:64]) / (np.pi / 4)).astype(int) % 8
    assert np.bincount(k, minlength=8).tolist() == [8] * 8


def test_signed_permutation_of_oldest_slot_is_exact(experiment):
    task_id = (
        7,
        4,
        5,
    )  # d = L = 3: y_t[0] = -y_{t-3}[1], y_t[1] = y_{t-3}[2], y_t[2] = -y_{t-3}[0]
    operator = Task(task_id, 3, 3).operator(3)
    assert operator[1, 0] == -1 and operator[2, 1] == 1 and operator[0, 2] == -1
    metrics, arrays = _evaluate(experiment, task_id, 3, 3, 12, **FAST)
    entry = length_entry(metrics, 3)
    assert metrics["model"]["accuracy"] == 1.0
    assert entry["n_unit_circle_rnn"] == entry["n_unit_circle_theory"] == 9
    assert entry["spectral_error"] < 1e-6
    assert entry["emt_n_kept"] == 9
    assert entry["emt_phi_error"] < 1e-5
    np.testing.assert_allclose(
        arrays[array_key("phi_empirical", 3)][:9, :9], Task(task_id, 3, 3).phi(3), atol=1e-4
    )


@pytest.mark.parametrize("name", ["T2", "T3", "T4"])
def test_paper_tasks_t2_t4_spectrum_and_phi(experiment, name):
    task_id = PAPER_TASKS[name]
    metrics, arrays = _evaluate(experiment, task_id, 8, 8, 72, test_horizon=60, n_batches=1)
    entry = length_entry(metrics, 8)
    # The composition row mixes earlier inputs into the newest slot during the input phase, so the
    # circuit is not exact in accuracy, but clearly above chance.
    assert 0.7 < metrics["model"]["accuracy"] < 1.0
    assert entry["n_unit_circle_theory"] == 36
    assert entry["n_unit_circle_rnn"] == 36
    assert entry["spectral_error"] < 1e-6
    assert entry["emt_n_kept"] == 36
    assert entry["emt_phi_error"] < 1e-5
    kept = arrays[array_key("kept", 8)]
    phi = Task(task_id, 8, 8).phi(8)
    np.testing.assert_allclose(
        arrays[array_key("phi_empirical", 8)][np.ix_(kept, kept)],
        phi[np.ix_(kept, kept)],
        atol=1e-4,
    )
    theory = arrays[array_key("eigenvalues_theory", 8)]
    assert np.sum(np.abs(theory) > 0.9) == 36


def test_basis_recovers_phi_directly_in_float64():
    """The algorithm alone (no checkpoint rounding): Ψ*W_hhΨ equals Φ to machine precision."""
    for task_id in PAPER_TASKS.values():
        weights, _, phi = exact_circuit(task_id, 8, 8, 70, seed=5)
        w_hh, w_r = weights["W_hh"].numpy(), weights["W_r"].numpy()
        basis = variable_memory_basis(w_hh, w_r, phi, 8)
        kept = basis.kept
        emp = basis.psi_dual @ w_hh @ basis.psi
        assert basis.n_residual == 0
        np.testing.assert_allclose(emp[np.ix_(kept, kept)], phi[np.ix_(kept, kept)], atol=1e-10)

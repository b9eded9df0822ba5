"""Analytic circuits: the naive EMT circuit and the gated (corrected) one, on known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.input_phase import DIAG4, DIAG4_SIGNED, accuracy, simulate

from vbpipe.checkpoint import load_model, save_model
from vbpipe.circuits import (
    build_circuit,
    check_scale,
    circuit_checkpoint_fields,
    circuit_layout,
    gated_circuit,
    leaky_circuit,
    min_hidden_dim,
    naive_circuit,
)
from vbpipe.evaluation.emt import variable_memory_basis
from vbpipe.evaluation.spectra import count_unit_circle, eigenvalues, spectral_comparison
from vbpipe.taskspec import PAPER_TASKS, Task, repeat_copy_id


def _inputs(rng, length, batch, d):
    return rng.choice((-1.0, 1.0), size=(length, batch, d))


@pytest.mark.parametrize("kind", ["naive", "gated"])
def test_shapes_dtype_and_eos_column(kind):
    w = build_circuit(kind, DIAG4, 4, 4, 40, use_eos=True)
    assert w["W_ih"].shape == (40, 5) and w["W_hh"].shape == (40, 40) and w["W_r"].shape == (4, 40)
    assert all(v.dtype == np.float64 for v in w.values())
    assert np.all(w["W_ih"][:, 4] == 0)  # the circuits do not use the EOS channel


def test_layout_and_capacity_checks():
    assert min_hidden_dim("naive", 4, 4) == 16 and min_hidden_dim("gated", 4, 4) == 24
    with pytest.raises(ValueError, match="hidden_dim >= 24"):
        gated_circuit(DIAG4, 4, 4, 23)
    with pytest.raises(ValueError, match="unknown circuit kind"):
        build_circuit("linear", DIAG4, 4, 4, 40)
    layout = circuit_layout("gated", 4, 4, 30, seed=3)
    gates = np.concatenate([layout.gate_plus, layout.gate_minus])
    assert np.allclose(layout.frame.T @ layout.frame, np.eye(16))
    assert np.all(layout.frame[gates] == 0)  # gate neurons are outside the linear frame


@pytest.mark.parametrize("kind", ["naive", "gated"])
@pytest.mark.parametrize("task_id", [DIAG4, DIAG4_SIGNED, repeat_copy_id(4)])
def test_spectrum_and_empirical_phi_are_the_theory(kind, task_id):
    """Both circuits are spectrally exact: W_hh has Φ's unit-circle eigenvalues, Ψ*W_hhΨ = Φ."""
    w = build_circuit(kind, task_id, 4, 4, 40, seed=7)
    phi = Task(task_id, 4, 4).phi(4)
    eig = eigenvalues(w["W_hh"])
    assert count_unit_circle(eig) == count_unit_circle(eigenvalues(phi))
    assert spectral_comparison(eig, eigenvalues(phi)).error_rad < 1e-6
    basis = variable_memory_basis(w["W_hh"], w["W_r"], phi, 4)
    k = basis.kept
    emp = basis.psi_dual @ w["W_hh"] @ basis.psi
    np.testing.assert_allclose(emp[np.ix_(k, k)], phi[np.ix_(k, k)], atol=1e-10)


def test_naive_circuit_solves_copy_but_not_the_diagonal_task(rng):
    u = _inputs(rng, 4, 200, 4)
    out, target = simulate(
        naive_circuit(repeat_copy_id(4), 4, 4, 32), repeat_copy_id(4), 4, 4, u, 60
    )
    assert accuracy(out, target) == 1.0
    out, target = simulate(naive_circuit(DIAG4, 4, 4, 32), DIAG4, 4, 4, u, 60)
    assert 0.6 < accuracy(out, target) < 0.95
    # Dimension 0 reads the oldest slot (like copy) and is exact; dimension 3 reads the newest
    # slot and accumulates every input of the sequence into its cycle.
    per_dim = np.mean(np.where(out >= 0, 1.0, -1.0) == target, axis=(0, 1))
    assert per_dim[0] == 1.0 and per_dim[3] < 0.9


@pytest.mark.parametrize("task_id", [DIAG4, DIAG4_SIGNED, repeat_copy_id(4)])
@pytest.mark.parametrize("use_eos", [False, True])
def test_gated_circuit_is_exact(rng, task_id, use_eos):
    w = gated_circuit(task_id, 4, 4, 36, seed=1, use_eos=use_eos)
    out, target = simulate(w, task_id, 4, 4, _inputs(rng, 4, 200, 4), 200, use_eos=use_eos)
    assert accuracy(out, target) == 1.0
    assert np.max(np.abs(out - target)) < 1e-3  # exact up to the O(ε²) tanh curvature


@pytest.mark.parametrize("name", ["T2", "T3", "T4"])
def test_paper_tasks_naive_below_gated_exact(rng, name):
    """The known fact at paper size: naive ~0.83-0.87 at horizon 200, gated 1.0."""
    task_id = PAPER_TASKS[name]
    u = _inputs(rng, 8, 64, 8)
    out, target = simulate(naive_circuit(task_id, 8, 8, 128), task_id, 8, 8, u, 200)
    assert 0.75 < accuracy(out, target) < 0.92
    out, target = simulate(gated_circuit(task_id, 8, 8, 128), task_id, 8, 8, u, 200)
    assert accuracy(out, target) == 1.0


def test_gate_pairs_saturate_only_while_inputs_arrive(rng):
    w = gated_circuit(DIAG4, 4, 4, 30, seed=2)
    layout = circuit_layout("gated", 4, 4, 30, seed=2)
    gates = np.concatenate([layout.gate_plus, layout.gate_minus])
    from vbpipe.analysis.input_phase import run_rnn

    x = np.zeros((12, 50, 4))
    x[:4] = _inputs(rng, 4, 50, 4)
    hidden, _, _ = run_rnn(w, x)
    assert np.all(np.abs(hidden[:4][:, :, gates]) > 0.999)  # saturated during the input phase
    assert np.all(np.abs(hidden[4:][:, :, gates]) < 0.01)  # linear in the output phase


@pytest.mark.parametrize("kind", ["naive", "gated"])
def test_checkpoint_round_trip_keeps_the_circuit(tmp_path, rng, kind):
    """The pipeline stores float32: the circuits survive it. The naive circuit's outputs include
    exact ties (u_a - u_b = 0), which float32 rounding breaks either way: its accuracy moves by
    ~0.002; the gated circuit has no ties and stays exact."""
    w = build_circuit(kind, DIAG4, 4, 4, 36, seed=4)
    hparams, outcome = circuit_checkpoint_fields(kind, DIAG4, 4, 4, 36, seed=4)
    path = tmp_path / "model-4" / "checkpoint" / "model.pt"
    save_model(path, {k: torch.as_tensor(v) for k, v in w.items()}, hparams, outcome)
    loaded = load_model(path)
    assert loaded.hparams["model_type"] == "circuit" and loaded.hparams["circuit"]["kind"] == kind
    u = _inputs(rng, 4, 100, 4)
    before = accuracy(*simulate(w, DIAG4, 4, 4, u, 100))
    after = accuracy(*simulate(loaded.weights, DIAG4, 4, 4, u, 100))
    assert after == pytest.approx(before, abs=0.01)
    assert (after == before == 1.0) == (kind == "gated")


def test_leaky_circuit_is_the_naive_one_contracted():
    """``scale = 1`` gives the naive circuit's weights exactly; otherwise W_hh is ``s`` times it,
    so its spectrum is Φ's times ``s`` (spectral radius ``s``), and a bad scale is refused."""
    naive = naive_circuit(DIAG4, 4, 4, 20, seed=3, use_eos=True)
    same = leaky_circuit(DIAG4, 4, 4, 20, scale=1.0, seed=3, use_eos=True)
    assert all(np.array_equal(naive[k], same[k]) for k in naive)
    leaky = build_circuit("leaky", DIAG4, 4, 4, 20, seed=3, scale=0.45)
    np.testing.assert_array_equal(leaky["W_hh"], 0.45 * naive["W_hh"])
    assert np.array_equal(leaky["W_ih"], naive["W_ih"][:, :4])
    assert np.max(np.abs(eigenvalues(leaky["W_hh"]))) == pytest.approx(0.45)
    assert min_hidden_dim("leaky", 4, 4) == 16
    for bad in (0.0, -1.0, 1.5):
        with pytest.raises(ValueError, match=r"circuit scale must be in \(0, 1\]"):
            check_scale(bad)
    hparams, _ = circuit_checkpoint_fields("leaky", DIAG4, 4, 4, 20, scale=0.3)
    assert hparams["circuit"]["scale"] == 0.3
    assert "scale" not in circuit_checkpoint_fields("naive", DIAG4, 4, 4, 20)[0]["circuit"]

"""The EMT variable-memory basis: rank reduction, dual basis, residual PCA, Figure-3 input."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.evaluation import exact_circuit
from hypothesis import given, settings
from hypothesis import strategies as st

from vbpipe.evaluation.emt import (
    FIGURE3_STEPS,
    empirical_phi,
    figure3_inputs,
    kept_memory_indices,
    memory_blocks,
    memory_snapshots,
    memory_trajectory,
    phi_error,
    pseudo_inverse,
    reduced_theory_phi,
    variable_memory_basis,
)
from vbpipe.tasks import PAPER_TASKS, Task


def numeric_kept(phi, threshold=0.8):
    """The reference rule, one eigendecomposition per deleted index."""
    count = lambda m: int(np.sum(np.abs(np.linalg.eigvals(m)) > threshold))  # noqa: E731
    reference = count(phi)
    return [
        c for c in range(phi.shape[0]) if count(np.delete(np.delete(phi, c, 0), c, 1)) < reference
    ]


@pytest.mark.parametrize("name,expected", [("T1", 64), ("T2", 36), ("T3", 36), ("T4", 36)])
def test_rank_reduction_keeps_the_papers_counts(name, expected):
    phi = Task(PAPER_TASKS[name], 8, 8).phi(8)
    kept = kept_memory_indices(phi)
    assert kept.size == expected
    assert kept.tolist() == numeric_kept(phi)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**12 - 1), st.integers(0, 5), st.integers(0, 7))
def test_exact_rule_equals_numeric_rule_on_random_tasks(bits, t2, t3):
    # d = 3, L = 4: choose 3 of the 12 window positions from the bits of a random integer.
    positions = [k for k in range(12) if (bits >> k) & 1][:3]
    positions += [k for k in range(12) if k not in positions][: 3 - len(positions)]
    t1 = sum(1 << k for k in positions)
    task = Task((t1, t2, t3), 3, 4)  # every t2 < 6 is a valid swap sequence for d = 3
    phi = task.phi(4)
    assert kept_memory_indices(phi).tolist() == numeric_kept(phi)


def test_numeric_fallback_for_a_general_matrix():
    phi = np.diag([1.0, 0.5, 0.9])
    phi[0, 1] = 0.3  # not a signed selection: numeric rule
    assert kept_memory_indices(phi).tolist() == [0, 2]


def test_pseudo_inverse_matches_numpy():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((7, 4))
    np.testing.assert_allclose(pseudo_inverse(a), np.linalg.pinv(a), atol=1e-12)
    assert pseudo_inverse(np.zeros((3, 2))).shape == (2, 3)


def test_memory_blocks_are_powers_of_w_hh_on_the_readout_inverse():
    weights, psi, _ = exact_circuit((15, 0, 0), 4, 3, 20)
    w_hh, w_r = weights["W_hh"].numpy(), weights["W_r"].numpy()
    blocks = memory_blocks(w_hh, w_r, 3)
    np.testing.assert_allclose(np.linalg.norm(blocks, axis=0), 1.0)
    # For repeat copy the blocks are exactly the circuit's slots.
    np.testing.assert_allclose(np.abs(blocks.T @ psi), np.eye(12), atol=1e-10)


def test_expanded_basis_shapes_dual_and_residual_pca():
    task_id = PAPER_TASKS["T3"]
    weights, _, phi = exact_circuit(task_id, 8, 8, 90, seed=3)
    w_hh, w_r = weights["W_hh"].numpy(), weights["W_r"].numpy()
    hidden = np.random.default_rng(4).standard_normal((50, 90))
    basis = variable_memory_basis(w_hh, w_r, phi, 8, hidden=hidden)
    assert basis.psi.shape == (90, 74) and basis.psi_dual.shape == (74, 90)
    assert basis.n_kept == 36 and basis.n_residual == 10
    dropped = np.setdiff1d(np.arange(64), basis.kept)
    assert np.all(basis.psi[:, dropped] == 0) and np.all(basis.psi_dual[dropped] == 0)
    # Ψ* Ψ = I on the kept block; residual components orthonormal and orthogonal to the memories.
    k = basis.kept
    np.testing.assert_allclose(basis.psi_dual[k] @ basis.psi[:, k], np.eye(36), atol=1e-10)
    resid = basis.psi[:, 64:]
    np.testing.assert_allclose(resid.T @ resid, np.eye(10), atol=1e-10)
    np.testing.assert_allclose(basis.psi_dual[k] @ resid, 0.0, atol=1e-10)
    emp = empirical_phi(basis, w_hh)
    error, relative = phi_error(emp, phi, basis.kept)
    assert error < 1e-10 and relative < 1e-10
    np.testing.assert_allclose(reduced_theory_phi(phi, k)[np.ix_(k, k)], phi[np.ix_(k, k)])
    assert memory_trajectory(basis, hidden).shape == (50, 74)


def test_residual_components_limited_by_trajectory_length():
    weights, _, phi = exact_circuit((3, 0, 0), 2, 2, 10)
    hidden = np.random.default_rng(0).standard_normal((3, 10))
    basis = variable_memory_basis(weights["W_hh"].numpy(), weights["W_r"].numpy(), phi, 2, hidden)
    assert basis.n_residual == 3


def test_figure3_input_is_the_papers_pattern():
    bits = figure3_inputs(8, 8)
    assert bits.shape == (8, 8) and set(np.unique(bits)) == {-1.0, 1.0}
    assert np.flatnonzero(bits[0] > 0).tolist() == [2, 4, 6]
    assert np.flatnonzero(bits[1] > 0).tolist() == [2, 3, 4, 5, 6]
    assert np.flatnonzero(bits[3] > 0).tolist() == [2, 3, 4, 5, 6]
    assert np.flatnonzero(bits[5] > 0).tolist() == [2, 3, 4, 6]
    assert np.flatnonzero(bits[6] > 0).tolist() == [2, 4, 5, 6]
    assert np.all(bits[[2, 4, 7]] == -1)
    assert figure3_inputs(3, 2).shape == (2, 3)


def test_memory_snapshots_are_slot_by_dim_and_z_scored():
    d, length = 3, 4
    trajectory = np.zeros((20, d * length + 2))
    trajectory[5, : d * length] = np.arange(d * length)  # slot-major: value = slot*d + dim
    images, steps = memory_snapshots(trajectory, d, length)
    assert steps.tolist() == list(FIGURE3_STEPS)
    panel = images[list(steps).index(5)]
    assert panel.shape == (d, length)
    assert panel[1, 2] > panel[1, 1] > panel[0, 1]  # column = slot, row = dimension
    assert panel.mean() == pytest.approx(0.0, abs=1e-12) and panel.std() == pytest.approx(1.0)

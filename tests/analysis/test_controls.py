"""The controls' measurements on cases with known answers (vbpipe.analysis.controls)."""

import numpy as np
import pytest

from vbpipe.analysis.controls import (
    basis_invariant_phi_error,
    contamination_by_source,
    fit_diagonal_similarity,
    relative_change,
    saturation_fraction,
)
from vbpipe.analysis.input_phase import analyse_input_phase
from vbpipe.circuits import build_circuit, circuit_layout
from vbpipe.evaluation.emt import kept_memory_indices
from vbpipe.taskspec import Task


def test_saturation_fraction_of_a_hand_built_state():
    states = np.array([[[0.95, -0.91, 0.5, 0.0]], [[0.9, -1.0, 0.2, 0.99]]])  # (T=2, B=1, N=4)
    assert saturation_fraction(states) == 0.5  # 0.95, -0.91, -1.0, 0.99; 0.9 itself is not above
    assert saturation_fraction(states, level=0.99) == 0.125
    with pytest.raises(ValueError, match="at least one"):
        saturation_fraction(np.zeros((0, 3)))


def test_relative_change():
    start = np.eye(4)
    moved = start.copy()
    moved[0, 0] += 0.5
    assert relative_change(start, moved) == pytest.approx(0.25)
    assert relative_change(start, start) == 0.0
    assert relative_change(np.zeros(3), np.ones(3)) == float("inf")


@pytest.mark.parametrize("task", ["T1", "T3", "T4"])
def test_a_known_diagonal_rescaling_is_recovered_exactly(task):
    phi = Task(task, 8, 8).phi(8)
    kept = kept_memory_indices(phi)
    theory = phi[np.ix_(kept, kept)]
    rng = np.random.default_rng(3)
    scales = np.exp(rng.normal(0, 0.7, kept.size)) * rng.choice([-1.0, 1.0], kept.size)
    rescaled = np.diag(scales) @ theory @ np.diag(1 / scales)  # D Φ D⁻¹: the same network
    fit = fit_diagonal_similarity(rescaled, theory)
    assert fit.error_before > 1.0
    assert fit.error_after < 1e-9
    np.testing.assert_allclose(fit.transformed, theory, atol=1e-10)
    ratio = fit.scales / scales  # D is the rescaling, up to one constant per coupled block
    rows, cols = np.nonzero(theory)
    np.testing.assert_allclose(ratio[rows], ratio[cols], rtol=1e-9)
    before, after = basis_invariant_phi_error(rescaled, theory, np.arange(kept.size))
    assert before == pytest.approx(fit.error_before / np.linalg.norm(theory))
    assert after < 1e-9


@pytest.mark.parametrize("task", ["T1", "T2"])  # T1: eight blocks, coupled only by the noise
def test_the_fit_never_worsens_the_error_and_keeps_what_no_rescaling_removes(task):
    phi = Task(task, 8, 8).phi(8)
    kept = kept_memory_indices(phi)
    theory = phi[np.ix_(kept, kept)]
    rng = np.random.default_rng(0)
    noisy = theory + 0.05 * rng.standard_normal(theory.shape)
    fit = fit_diagonal_similarity(noisy, theory)
    assert fit.error_after <= fit.error_before + 1e-12
    assert fit.error_after > 0.5 * fit.error_before  # noise is not a rescaling
    with pytest.raises(ValueError, match="square"):
        fit_diagonal_similarity(np.zeros((2, 3)), np.zeros((2, 3)))


def _split(weights, task, d, length):
    analysis = analyse_input_phase(weights, task.task_id, d, length, 2 * length)
    parts = contamination_by_source(analysis.routing.routing, analysis.routing.ideal, d, length)
    np.testing.assert_allclose(parts[0] + parts[1], analysis.routing.contamination, atol=1e-12)
    return parts


def test_contamination_split_on_the_circuits():
    """The naive circuit writes every input exactly and mixes: at the end of the input phase 28
    extra terms on 36 correct ones (docs/input_phase.md), all of it mixing; the gated circuit
    neither misplaces nor mixes."""
    task = Task("T2", 8, 8)
    naive = build_circuit("naive", task.task_id, 8, 8, 64, seed=1)
    written, carried, mixing = _split(naive, task, 8, 8)
    np.testing.assert_allclose(written, 0.0, atol=1e-9)
    assert carried[0] == pytest.approx(0.0, abs=1e-9)
    assert carried[7] == pytest.approx(28 / 36, rel=1e-4)  # tanh: O(eps^2) off the linear count
    np.testing.assert_allclose(mixing, carried, atol=1e-9)
    gated = build_circuit("gated", task.task_id, 8, 8, 80, seed=1)
    for part in _split(gated, task, 8, 8):
        np.testing.assert_allclose(part, 0.0, atol=1e-9)


def test_an_input_written_off_its_slot_is_not_mixing():
    """Repeat copy's circuit with u[1] also written on dim 0's coordinate: contamination from the
    first step on, carried along by the shift, and no mixing."""
    d, length, n = 3, 3, 9
    task = Task("repeat_copy", d, length)
    weights = build_circuit("naive", task.task_id, d, length, n, seed=1)
    newest = circuit_layout("naive", d, length, n, 1).frame[:, (length - 1) * d :]
    crossed = np.eye(d)
    crossed[0, 1] = 0.5
    weights["W_ih"] = 1e-3 * newest @ crossed
    written, carried, mixing = _split(weights, task, d, length)
    assert written[0] == pytest.approx(0.25 / 3, rel=1e-4)  # 0.5² on an ideal energy of 3
    assert carried[-1] == pytest.approx(3 * 0.25 / 9, rel=1e-4)  # three such inputs, energy 9
    np.testing.assert_allclose(mixing, 0.0, atol=1e-5)


def test_wilson_and_t_intervals_against_known_values():
    from vbpipe.intervals import t_interval, wilson_interval

    low, high = wilson_interval(10, 10)  # all solved: not [1, 1]
    assert high == pytest.approx(1.0) and low == pytest.approx(0.7225, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    low, high = wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    mean, low, high = t_interval([1.0, 2.0, 3.0])  # t(0.975, 2) = 4.3027, s = 1
    assert mean == 2.0 and high - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    assert t_interval([np.nan, 4.0]) == (4.0, 4.0, 4.0)


def test_the_fit_is_never_worse_than_no_fit_on_an_unrelated_matrix():
    phi = Task("T2", 8, 8).phi(8)
    kept = kept_memory_indices(phi)
    theory = phi[np.ix_(kept, kept)]
    unrelated = np.random.default_rng(5).standard_normal(theory.shape) * 0.3
    unrelated[np.abs(unrelated) < 0.05] = 1e-12  # near-zero entries: wild log-space starts
    fit = fit_diagonal_similarity(unrelated, theory)
    assert np.isfinite(fit.error_after) and fit.error_after <= fit.error_before


def test_phi_errors_are_reported_to_twelve_decimals_so_reruns_agree():
    """An exact similarity's fitted error is rounding noise (~1e-16, different from run to run):
    reported as exactly 0; a real error keeps its value to 1e-12."""
    from vbpipe.analysis.controls import basis_invariant_phi_error, reported_error

    assert reported_error(6.07e-16) == 0.0 and str(reported_error(-3e-17)) == "0.0"
    assert reported_error(0.123456789012345) == 0.123456789012
    rng = np.random.default_rng(3)
    phi = np.roll(np.eye(6), 1, axis=1)
    scales = rng.uniform(0.5, 2.0, 6)
    similar = phi * scales[:, None] / scales[None, :]  # D Φ D⁻¹
    raw, fitted = basis_invariant_phi_error(similar, phi, np.arange(6))
    assert fitted == 0.0 and raw > 0.1

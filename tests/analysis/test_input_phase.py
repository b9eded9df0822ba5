"""Input-phase measurements on hand-built systems with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.input_phase import DIAG4, DIAG4_SIGNED
from helpers.reference_rnn import rnn_forward_single
from matplotlib.figure import Figure

from vbpipe.analysis.input_phase import (
    analyse_input_phase,
    entry_gating_figure,
    entry_strengths,
    input_phase_figure,
    operator_strengths,
    orthogonal_inputs,
    phase_linearisation_accuracy,
    routing_figure,
    run_rnn,
    window_coefficients,
)
from vbpipe.analysis.linear_limits import target_coefficients
from vbpipe.circuits import gated_circuit, leaky_circuit, naive_circuit
from vbpipe.taskspec import Task, repeat_copy_id

COPY4 = repeat_copy_id(4)


def test_orthogonal_design():
    u = orthogonal_inputs(4, 4)
    assert u.shape == (4, 32, 4) and set(np.unique(u)) == {-1.0, 1.0}
    design = u.transpose(1, 0, 2).reshape(32, 16)
    np.testing.assert_array_equal(design.T @ design, 32 * np.eye(16))
    assert np.all(design.sum(axis=0) == 0)


def test_window_coefficients():
    w = window_coefficients(DIAG4, 4, 4, 12)
    np.testing.assert_array_equal(w[3], np.eye(16))  # after L inputs: [u_0 .. u_3]
    np.testing.assert_array_equal(w[0][12:, :4], np.eye(4))  # after one input: newest slot = u_0
    assert np.all(w[0][:12] == 0)
    targets = target_coefficients(DIAG4, 4, 4, 8).reshape(8, 4, 16)
    for k in range(8):  # in the output phase the newest slot holds the target
        np.testing.assert_array_equal(w[4 + k][12:], targets[k])


def test_run_rnn_matches_the_torch_model(rng):
    w = {
        "W_ih": rng.standard_normal((20, 5)) * 0.5,
        "W_hh": rng.standard_normal((20, 20)) * 0.3,
        "W_r": rng.standard_normal((4, 20)),
    }
    x = rng.standard_normal((9, 3, 5))
    hidden, _, _ = run_rnn(w, x)
    y, h = rnn_forward_single(torch.tensor(x), {k: torch.tensor(v) for k, v in w.items()}, True)
    np.testing.assert_allclose(hidden, h.numpy(), atol=1e-12)


def test_operator_strengths_hand_built():
    phi = Task(DIAG4, 4, 4).phi(4)
    kept = np.array([0, 5, 10, 15, 4, 8, 9, 12, 13, 14])
    kept.sort()
    theory = phi[np.ix_(kept, kept)]
    newest = (kept // 4) == 3
    ops = np.stack([theory, 0 * theory, np.where(newest[:, None], 0.0, theory), 2 * theory])
    s = operator_strengths(ops, phi, kept, 4, 4)
    np.testing.assert_allclose(s["composition"], [1, 0, 0, 2])
    np.testing.assert_allclose(s["shift"], [1, 0, 1, 2])
    np.testing.assert_allclose(s["leak"], 0.0)
    # Relative to the weights' own Φ_W, a rescaled basis (diagonal similarity) changes nothing.
    scale = np.diag(np.linspace(0.5, 2.0, kept.size))
    similar = scale @ theory @ np.linalg.inv(scale)
    s = operator_strengths(np.stack([similar, 0.5 * similar]), phi, kept, 4, 4, reference=similar)
    np.testing.assert_allclose(s["composition"], [1, 0.5])
    np.testing.assert_allclose(s["shift"], [1, 0.5])


def test_naive_copy_is_clean():
    a = analyse_input_phase(naive_circuit(COPY4, 4, 4, 24, seed=1), COPY4, 4, 4)
    assert np.nanmax(a.routing.contamination) < 1e-9
    assert np.nanmax(a.routing.memory_error) < 1e-5  # tanh curvature at ε = 1e-3
    np.testing.assert_allclose(a.composition, 1.0, atol=1e-5)
    np.testing.assert_allclose(a.shift, 1.0, atol=1e-5)
    assert a.slot_share[-1] == pytest.approx(1.0) and a.outside_share < 1e-12


@pytest.mark.parametrize("task_id", [DIAG4, DIAG4_SIGNED])
def test_naive_contamination_is_the_linear_recursion(task_id):
    """Independent answer: the naive circuit is z_t = Φ z_{t-1} + e_new u_t in slot coordinates."""
    d = length = 4
    a = analyse_input_phase(naive_circuit(task_id, d, length, 24, seed=2), task_id, d, length)
    phi = Task(task_id, d, length).phi(length)
    ideal = window_coefficients(task_id, d, length, 3 * length)
    kept = a.kept
    z = np.zeros((16, 16))
    for t in range(3 * length):
        z = phi @ z
        if t < length:
            z[12:, t * d : (t + 1) * d] += np.eye(d)
        w = ideal[t][kept]
        expected = np.sum(np.where(w == 0, z[kept], 0.0) ** 2) / np.sum(w**2)
        assert a.routing.contamination[t] == pytest.approx(expected, rel=1e-4, abs=1e-9)
    assert a.routing.contamination[length - 1] > 0.1
    np.testing.assert_allclose(a.composition, 1.0, atol=1e-5)  # the composition never switches off


def test_gated_circuit_switches_the_composition_off_during_input():
    d = length = 4
    n = 30
    a = analyse_input_phase(gated_circuit(DIAG4, d, length, n, seed=3), DIAG4, d, length)
    assert np.nanmax(a.routing.contamination) < 1e-9
    np.testing.assert_allclose(a.composition[:length], 0.0, atol=1e-6)
    np.testing.assert_allclose(a.composition[length:], 1.0, atol=1e-5)
    np.testing.assert_allclose(a.shift, 1.0, atol=1e-5)
    np.testing.assert_allclose(a.mean_gain[:length], 1 - 2 * d / n, atol=1e-6)  # 2d gates saturate
    np.testing.assert_allclose(a.mean_gain[length:], 1.0, atol=1e-5)
    # The write port lies outside the readout-grounded basis: Ψ*W_ih sees none of the input.
    assert a.outside_share == pytest.approx(1.0)
    summary = a.summary()
    assert summary["composition_input_phase"] < 1e-6 < 0.99 < summary["composition_output_phase"]


def test_eos_input_and_figures():
    w = gated_circuit(COPY4, 4, 4, 30, use_eos=True)
    analyses = {
        "naive": analyse_input_phase(naive_circuit(DIAG4, 4, 4, 24), DIAG4, 4, 4),
        "gated": analyse_input_phase(w, COPY4, 4, 4, output_steps=6, use_eos=True),
    }
    assert analyses["gated"].mean_gain.size == 10
    fig = input_phase_figure(analyses, title="test")
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    fig = routing_figure(analyses)
    assert isinstance(fig, Figure) and len(fig.axes) == 3  # two panels and a colour bar


def test_phase_linearisation_known_answers(rng):
    """Gated circuit: without saturation in the input phase its gates stay open and it falls to
    the naive circuit's level; in the output phase it is linear anyway. (Exact ties in the naive
    circuit's outputs are decided by O(ε²) curvature or rounding, so its accuracy moves by a few
    per cent between the interventions; only its range is a known answer.)"""
    d = length = 4
    u = rng.choice((-1.0, 1.0), size=(length, 300, d))
    naive = phase_linearisation_accuracy(
        naive_circuit(DIAG4, d, length, 24), DIAG4, d, length, u, 80
    )
    assert all(0.75 < v < 0.97 for v in naive.values())
    gated = phase_linearisation_accuracy(
        gated_circuit(DIAG4, d, length, 30), DIAG4, d, length, u, 80
    )
    assert gated["none"] == gated["output_phase"] == 1.0
    assert 0.7 < gated["input_phase"] < 0.9 and 0.7 < gated["all"] < 0.9


def test_entry_strengths_of_the_gated_circuit():
    """Composition entries are 0 while inputs arrive and 1 afterwards; every shift entry is 1."""
    d = length = 4
    a = analyse_input_phase(gated_circuit(DIAG4, d, length, 30, seed=5), DIAG4, d, length)
    values, labels = entry_strengths(a.operators, a.phi_kept, a.kept, d, length)
    assert values.shape == (int(np.count_nonzero(a.phi_kept)), a.mean_gain.size)
    composition = np.array([label.startswith("3.") for label in labels])
    assert composition.sum() == 4 and labels[0] == "3.0<-0.0"  # output 0 reads slot 0, dim 0
    np.testing.assert_allclose(values[composition][:, 1:length], 0.0, atol=1e-6)
    np.testing.assert_allclose(values[composition][:, length:], 1.0, atol=1e-5)
    np.testing.assert_allclose(values[~composition], 1.0, atol=1e-5)
    fig = entry_gating_figure(
        {
            "gated": a,
            "naive": analyse_input_phase(naive_circuit(DIAG4, d, length, 24), DIAG4, d, length),
        }
    )
    assert isinstance(fig, Figure)


def test_linearisation_figure():
    from vbpipe.analysis.input_phase import linearisation_figure

    one = {"none": 1.0, "input_phase": 0.7, "output_phase": 0.9, "all": 0.6}
    fig = linearisation_figure({"T2": {"trained": [one, one], "gated": [one]}, "T3": {"x": [one]}})
    assert isinstance(fig, Figure) and len(fig.axes) == 2


def test_perturbation_growth_known_answers(rng):
    """Circuits hold their memories neutrally: one growth factor ≈ 1 per kept memory dimension (16
    for copy, 10 for the diagonal task), the rest 0 (shown as ~0.05: rounding noise to the power
    1/steps). The gated circuit's frame is not orthonormal (gate pairs), so its neutral values
    deviate from 1 by the frame's condition number to the power 1/steps. A contracting linear map
    shrinks everything."""
    from vbpipe.analysis.input_phase import (
        growth_by_task_figure,
        growth_figure,
        perturbation_growth,
    )

    u = rng.choice((-1.0, 1.0), size=(4, 3, 4))
    copy = perturbation_growth(naive_circuit(COPY4, 4, 4, 24), u, start=2, steps=12)
    assert np.sum(np.abs(copy - 1) < 1e-3) == 16 and np.all(copy[16:] < 0.1)
    gated = perturbation_growth(gated_circuit(DIAG4, 4, 4, 30), u, start=2, steps=12)
    assert np.sum(np.abs(gated - 1) < 0.1) == 10 and np.all(gated[10:] < 0.1)
    small = {"W_ih": np.eye(6)[:, :4] * 1e-3, "W_hh": 0.5 * np.eye(6), "W_r": np.eye(6)[:4]}
    np.testing.assert_allclose(perturbation_growth(small, u, 0, 5), 0.5, rtol=1e-4)
    assert isinstance(growth_figure({"copy": copy, "gated": gated}, steps=12), Figure)
    panels = {"copy": {"trained": [copy, 0.9 * copy]}, "diag": {"gated circuit": [gated]}}
    fig = growth_by_task_figure(panels, {"gated circuit": {"color": "C3"}}, steps=12)
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes]
    assert legends[0][0] == "trained (2)" and legends[1][0] == "gated circuit"  # one entry a kind


def test_summary_saturation_phi_fit_and_contamination_sources():
    """Known answers of the numbers the summary reports beside the old ones.

    Gated circuit (N = 30, d = 4): 2d = 8 gate units at ±1 while inputs arrive, none after, so
    the saturated fraction is 8/30 on input steps and 0 in the output phase; its Φ is exact. Naive
    circuit on DIAG4: it writes every input into the newest slot (written = 0, contamination 0 at
    the first input) and all its end-of-input contamination is mixing. Leaky circuit on repeat
    copy: Ψ*W_hhΨ = sΦ on cycles, and no diagonal similarity removes a uniform contraction, so both
    Φ errors are 1 − s."""
    gated = analyse_input_phase(gated_circuit(DIAG4, 4, 4, 30), DIAG4, 4, 4).summary()
    assert gated["saturated_fraction_input_phase"] == pytest.approx(8 / 30)
    assert gated["saturated_fraction_output_phase"] == 0.0
    assert gated["phi_error"] < 1e-9 and gated["phi_error_diagonal_fit"] < 1e-9
    naive = analyse_input_phase(naive_circuit(DIAG4, 4, 4, 24), DIAG4, 4, 4).summary()
    assert naive["saturated_fraction_input_phase"] == naive["saturated_fraction_output_phase"] == 0
    assert naive["contamination_written_end_of_input"] == pytest.approx(0.0, abs=1e-12)
    assert naive["contamination_at_first_input"] == pytest.approx(0.0, abs=1e-12)
    assert naive["contamination_end_of_input"] > 0.1
    assert naive["mixing_end_of_input"] == pytest.approx(naive["contamination_end_of_input"])
    for scale in (0.45, 0.8):
        leaky = analyse_input_phase(
            leaky_circuit(COPY4, 4, 4, 24, scale=scale), COPY4, 4, 4
        ).summary()
        assert leaky["phi_error"] == pytest.approx(1 - scale, abs=1e-9)
        assert leaky["phi_error_diagonal_fit"] == pytest.approx(1 - scale, abs=1e-6)


def test_summary_separates_a_misplaced_write_from_mixing():
    """A hand-built linear memory that writes half of each input on the wrong coordinate (the
    second-newest slot) and then only shifts (repeat copy, whose Φ is a permutation): the
    contamination at the first input is all written, and mixing stays 0 (to tanh's O(ε²))
    through the input phase, while the naive circuit on a mixing task has written = 0."""
    d, length = 2, 3
    task_id = repeat_copy_id(d)
    w = naive_circuit(task_id, d, length, length * d, eps=1e-4)
    psi = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 6)))[0]
    w = {"W_hh": psi @ Task(task_id, d, length).phi(length) @ psi.T}
    newest, second = psi[:, 4:6], psi[:, 2:4]
    w["W_ih"] = 1e-4 * (newest + 0.5 * second)
    w["W_r"] = newest.T / 1e-4
    a = analyse_input_phase(w, task_id, d, length)
    sources = a.contamination_sources()
    assert sources["written"][0] > 0.01
    assert a.routing.contamination[0] == pytest.approx(sources["written"][0])
    np.testing.assert_allclose(sources["mixing"][:length], 0.0, atol=1e-7)
    assert np.all(sources["carried"][1:length] > 0.01)  # the misplaced part is carried, not mixed

"""The controls' training keys: ``activation`` (tanh | linear) and ``init`` (random | a circuit).

Refusals at parse time, stamps of existing (default) models unchanged, the linear kernel against
plain matrix products and autograd, a circuit start equal to the circuit, and exactness in packs."""

import numpy as np
import pytest
import torch
from helpers.reference_rnn import rnn_forward
from helpers.training import OTHER_TASK, alone, assert_same_model, member, same_outcome, small

from vbpipe.circuits import build_circuit
from vbpipe.config import ConfigError, TrainConfig, model_hparams
from vbpipe.evaluation.accuracy import hidden_trajectory
from vbpipe.plan import model_stamp
from vbpipe.recurrence import output_phase
from vbpipe.tasks import Task, build_batch, draw_inputs, make_generator, stacked_model_inputs
from vbpipe.training import MemberSpec, pack_key, train_pack
from vbpipe.training.kernel import MemberGroup, PackedRNN, ParamLayout, init_weights
from vbpipe.training.module import PackModule

# Stamps and resume fingerprints computed with the code before the keys existed (commit 42e0284):
# the defaults must leave every existing model current.
STAMPS_BEFORE = [
    ({}, "bb3bc6bf40a72522ae5a", "99f889039c93100d"),
    (dict(task_id="T3", hidden_dim=80, l2_penalty=0.1), "3c1647453c43ee35bfd5", "1f4af6d750106425"),
    (
        dict(model_type="circuit_gated", hidden_dim=80, task_id="T2"),
        "ad58bbabeb157d497f99",
        "5f77c4f2d7337303",
    ),
]


@pytest.mark.parametrize("values, stamp, fingerprint", STAMPS_BEFORE)
def test_defaults_leave_stamps_and_hyper_parameters_unchanged(values, stamp, fingerprint):
    config = TrainConfig(**values)
    assert model_stamp(config, 7, "code-v1") == stamp
    assert config.fingerprint(7) == fingerprint
    assert not {"activation", "init", "init_eps", "circuit_scale"} & set(model_hparams(config, 7))
    # init_eps means nothing without a circuit start: neither recorded nor stamped
    assert model_stamp(TrainConfig(**values, init_eps=0.5), 7, "code-v1") == stamp
    # circuit_scale means nothing without the leaky circuit
    assert model_stamp(TrainConfig(**values, circuit_scale=0.3), 7, "code-v1") == stamp


def test_circuit_scale_is_recorded_only_for_the_leaky_circuit():
    """At its default (0.45) the key is absent, as the other control keys; set, it is recorded
    for a leaky circuit (built or as a start) and read back; out of (0, 1] it is refused."""
    default = TrainConfig(model_type="circuit_leaky", task_id="T2", hidden_dim=64)
    assert "circuit_scale" not in default.to_dict() and default.circuit_scale == 0.45
    leaky = TrainConfig(model_type="circuit_leaky", task_id="T2", hidden_dim=64, circuit_scale=0.3)
    assert leaky.to_dict()["circuit_scale"] == 0.3
    assert TrainConfig.from_dict(leaky.to_dict()) == leaky
    start = TrainConfig(task_id="T2", hidden_dim=64, init="circuit_leaky", circuit_scale=0.6)
    assert start.to_dict()["circuit_scale"] == 0.6 and start.uses_leaky
    assert model_stamp(leaky, 7, "code-v1") != model_stamp(default, 7, "code-v1")
    for bad in (0, -0.1, 1.01):
        with pytest.raises(ConfigError, match="circuit_scale") as error:
            TrainConfig(model_type="circuit_leaky", task_id="T2", hidden_dim=64, circuit_scale=bad)
        assert "circuit_scale" in str(error.value).splitlines()[0]
    with pytest.raises(ConfigError, match="at least 64"):
        TrainConfig(model_type="circuit_leaky", task_id="T2", hidden_dim=63)


def test_control_keys_are_recorded_and_read_back():
    config = TrainConfig(task_id="T2", hidden_dim=80, init="circuit_gated", init_eps=0.1)
    hparams = model_hparams(config, 3)
    assert (hparams["init"], hparams["init_eps"]) == ("circuit_gated", 0.1)
    assert "activation" not in hparams
    linear = TrainConfig(activation="linear")
    assert linear.to_dict()["activation"] == "linear"
    assert TrainConfig.from_dict(linear.to_dict()) == linear
    assert model_stamp(linear, 7, "code-v1") != STAMPS_BEFORE[0][1]
    assert TrainConfig.from_dict({k: v for k, v in hparams.items() if k != "seed"}) == config


@pytest.mark.parametrize(
    "values, key, words",
    [
        (dict(task_id="T2", hidden_dim=79, init="circuit_gated"), "hidden_dim", "at least 80"),
        (dict(task_id="T2", hidden_dim=63, init="circuit_naive"), "hidden_dim", "at least 64"),
        (dict(seq_length=(3, 5), init="circuit_naive"), "seq_length", "fixed length"),
        (dict(bias=True, init="circuit_naive"), "bias", "bias-free"),
        (dict(model_type="circuit_naive", activation="linear"), "activation", "built, not"),
        (dict(model_type="circuit_gated", init="circuit_gated", hidden_dim=80), "init", "built"),
    ],
)
def test_controls_that_cannot_be_trained_are_refused(values, key, words):
    with pytest.raises(ConfigError, match=words) as error:
        TrainConfig(**values)
    assert error.value.key == key


def test_unknown_activation_or_init_is_refused():
    for values in (dict(activation="relu"), dict(init="orthogonal")):
        with pytest.raises(ValueError, match="input should be"):
            TrainConfig(**values)


def test_linear_forward_is_the_matrix_product():
    """h_t = W_ih x_t + W_hh h_{t-1}, y_t = W_r h_t, for the plain model and the evaluation's."""
    gen = torch.Generator().manual_seed(0)
    w = {
        "W_ih": torch.randn(6, 3, generator=gen, dtype=torch.float64) * 0.4,
        "W_hh": torch.randn(6, 6, generator=gen, dtype=torch.float64) * 0.3,
        "W_r": torch.randn(3, 6, generator=gen, dtype=torch.float64),
    }
    x = torch.randn(9, 4, 3, generator=gen, dtype=torch.float64)  # (T, B, D)
    state, expected, states = torch.zeros(4, 6, dtype=torch.float64), [], []
    for t in range(9):
        state = x[t] @ w["W_ih"].T + state @ w["W_hh"].T
        states.append(state)
        expected.append(state @ w["W_r"].T)
    stacked = {k: v[None] for k, v in w.items()}
    y_hat, hidden = rnn_forward(x[:, None], stacked, return_hidden=True, activation="linear")
    torch.testing.assert_close(y_hat[:, 0], torch.stack(expected), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(hidden[:, 0], torch.stack(states), rtol=1e-13, atol=1e-13)
    tanh = rnn_forward(x[:, None], stacked, activation="tanh")
    assert not torch.allclose(tanh, y_hat)  # the activation is used
    numpy_w = {k: v.numpy() for k, v in w.items()}
    traj = hidden_trajectory(numpy_w, x[:, 0].numpy(), activation="linear")
    np.testing.assert_allclose(traj, torch.stack(states)[:, 0].numpy(), rtol=1e-12, atol=1e-12)
    # evaluation: input phase of 5 steps (its last step is output step 0), then 4 more outputs
    out = output_phase(x[:5].numpy().astype(np.float32), numpy_w, 5, activation="linear")
    free, state = [], torch.stack(states)[4]
    free.append(state @ w["W_r"].T)
    for _ in range(4):
        state = state @ w["W_hh"].T
        free.append(state @ w["W_r"].T)
    np.testing.assert_allclose(out, torch.stack(free).numpy(), rtol=1e-4, atol=1e-5)


def test_linear_kernel_loss_and_gradient_equal_autograd():
    task = Task((7, 4, 5), 3, 2)
    layout = ParamLayout(task.model_input_dim, 6, 3)
    initial = [init_weights(s, 3, 6, 3) for s in range(3)]
    flat = layout.flatten({n: torch.stack([w[n] for w in initial]) for n in initial[0]}).double()
    inputs = torch.stack([draw_inputs(make_generator(s, "train"), 2, 5, 3) for s in range(3)])
    horizon = 7
    built = [build_batch(task, inputs[k].double(), horizon) for k in range(3)]
    x = torch.stack([b[0] for b in built], 1)
    y = torch.stack([b[1] for b in built], 1)
    targets = y[2:].transpose(0, 1).contiguous()
    packed = flat.clone().requires_grad_()
    group = MemberGroup(None, stacked_model_inputs(inputs.double(), False), targets, 2)
    losses, _ = PackedRNN(layout, "linear").loss(packed, [group])
    losses.sum().backward()
    plain = flat.clone().requires_grad_()
    y_hat = rnn_forward(x, layout.views(plain), activation="linear")[2:]
    reference = ((y_hat - y[2:]) ** 2).mean(dim=(0, 2, 3))
    reference.sum().backward()
    torch.testing.assert_close(losses, reference.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(packed.grad, plain.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "kind, hidden", [("circuit_naive", 6), ("circuit_gated", 12), ("circuit_leaky", 6)]
)
def test_circuit_start_is_the_circuit(tmp_path, kind, hidden):
    config = small(hidden_dim=hidden, init=kind, init_eps=0.2, use_eos=True, circuit_scale=0.7)
    random = small(hidden_dim=hidden, use_eos=True)
    module = PackModule(
        [MemberSpec(random, 4, tmp_path / "a"), MemberSpec(config, 4, tmp_path / "b")]
    )
    built = build_circuit(kind.removeprefix("circuit_"), config.task_id, 3, 2, hidden, eps=0.2,
                          seed=4, use_eos=True, scale=0.7)  # fmt: skip
    start = module.member_weights(1)
    assert start.keys() == built.keys()
    for name, value in built.items():
        assert torch.equal(start[name], torch.as_tensor(value, dtype=torch.float32)), name
    # the random member's start is untouched by its neighbour
    for name, value in init_weights(4, 4, hidden, 3).items():
        assert torch.equal(module.member_weights(0)[name], value)


def test_circuit_starts_and_random_starts_are_exact_in_one_pack(tmp_path):
    configs = [
        small(steps_per_epoch=120, hidden_dim=12, init="circuit_gated", init_eps=0.1),
        small(steps_per_epoch=120, hidden_dim=12),
        small(steps_per_epoch=120, hidden_dim=12, init="circuit_naive", task_id=OTHER_TASK),
    ]
    specs = [member(tmp_path / "pack", f"m{i}", c, seed=3 + i) for i, c in enumerate(configs)]
    pack = train_pack(specs, accelerator="cpu", tensorboard=False, log_interval_seconds=0,
                      save_every_steps=0)  # fmt: skip
    for spec in specs:
        path, outcome = alone(spec, tmp_path / "alone")
        assert_same_model(spec.checkpoint, path)
        assert same_outcome(pack.outcomes[spec.checkpoint], outcome)
    stored = torch.load(specs[0].checkpoint, weights_only=True)["hparams"]
    assert stored["init"] == "circuit_gated"


def test_linear_members_are_exact_in_a_pack_and_never_share_one_with_tanh(tmp_path):
    linear = [small(steps_per_epoch=100, activation="linear", learning_rate=3e-3),
              small(steps_per_epoch=100, activation="linear", task_id=OTHER_TASK)]  # fmt: skip
    specs = [member(tmp_path / "pack", f"m{i}", c, seed=i) for i, c in enumerate(linear)]
    pack = train_pack(specs, accelerator="cpu", tensorboard=False, log_interval_seconds=0,
                      save_every_steps=0)  # fmt: skip
    for spec in specs:
        path, outcome = alone(spec, tmp_path / "alone")
        assert_same_model(spec.checkpoint, path)
        assert same_outcome(pack.outcomes[spec.checkpoint], outcome)
    assert pack_key(linear[0]) != pack_key(small())
    mixed = [specs[0], member(tmp_path / "mixed", "tanh", small(), 9)]
    with pytest.raises(ValueError, match="activation"):
        train_pack(mixed, accelerator="cpu", tensorboard=False, log_interval_seconds=0)


def test_controls_job_compares_each_model_with_its_start(tmp_path):
    import json

    from vbpipe.evaluation.accuracy import evaluate_accuracy
    from vbpipe.jobs.controls import analyze_controls, control_row

    configs = {
        "gated": small(steps_per_epoch=40, hidden_dim=12, init="circuit_gated", init_eps=0.1),
        "random": small(steps_per_epoch=40, hidden_dim=12),
    }
    specs = [member(tmp_path, name, c, seed=2) for name, c in configs.items()]
    specs.append(member(tmp_path, "linear", small(steps_per_epoch=40, hidden_dim=12,
                                                  activation="linear"), seed=2))  # fmt: skip
    for spec in specs[:2]:
        alone(spec, tmp_path / "models")
    alone(specs[2], tmp_path / "models")
    paths = [tmp_path / "models" / s.model_dir.name / "checkpoint" / "model.pt" for s in specs]
    gated = control_row(paths[0], horizon=20, n_batches=1)
    circuit = build_circuit("gated", configs["gated"].task_id, 3, 2, 12, eps=0.1, seed=2)
    expected = evaluate_accuracy(configs["gated"].task, circuit, 2, 2, 20, 1, 64).accuracy
    assert gated["condition"] == "tanh circuit_gated"
    assert gated["accuracy_start"] == expected == 1.0  # the start is the circuit, evaluated alike
    assert gated["spectral_error_start"] < 1e-6
    assert 0 < gated["change_W_hh"] < float("inf")
    assert 0 <= gated["saturation_fraction_end"] <= 1
    written = analyze_controls(paths, tmp_path / "out", horizon=20, n_batches=1)
    assert [p.name for p in written] == ["controls.csv", "controls_summary.json", "controls.png"]
    cells = json.loads(written[1].read_text())["cells"]
    assert sorted(c["condition"] for c in cells) == ["linear random", "tanh circuit_gated",
                                                     "tanh random"]  # fmt: skip
    linear = next(c for c in cells if c["condition"] == "linear random")
    assert "saturation_fraction_end" not in linear  # no saturation for the identity
    # the tanh analyses refuse a linear RNN, naming it
    from vbpipe.jobs.fixed_points import analyze_fixed_points
    from vbpipe.jobs.input_phase import analyze_input_phase
    from vbpipe.results.errors import ResultsError

    with pytest.raises(ResultsError, match="linear RNN"):
        analyze_input_phase([paths[2]], ["linear"], tmp_path / "ip")
    with pytest.raises(ValueError, match="linear RNN"):
        analyze_fixed_points([paths[2]], ["linear"], tmp_path / "fp")
    done = analyze_fixed_points([paths[1]], ["random"], tmp_path / "fp", n_starts=4)  # tanh: runs
    assert (tmp_path / "fp" / "fixed_points.json").is_file() and done

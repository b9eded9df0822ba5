"""Training learns, stops early when asked, refuses bad requests by name."""

import pytest
import torch
from helpers.reference_rnn import bit_accuracy, rnn_forward_single
from helpers.training import SMALL, member, small, train

from vbpipe.checkpoint import load_model
from vbpipe.config import ConfigError, TrainConfig
from vbpipe.devices import DeviceError
from vbpipe.tasks import generate_batch, make_generator
from vbpipe.training import resolve_device, train_block


def test_a_small_model_learns_the_copy_task(tmp_path):
    config = TrainConfig(
        task_id="repeat_copy",
        input_dim=4,
        seq_length=3,
        hidden_dim=32,
        learning_rate=1e-2,
        epochs=1,
        steps_per_epoch=700,
        curriculum_horizons=(10, 20),
    )
    result = train_block(config, [5], output_dir=tmp_path, accelerator="cpu", tensorboard=False)
    outcome = result.outcomes[5]
    assert outcome["curriculum_level"] == 1 and outcome["converged"]
    model = load_model(result.checkpoints[5])
    x, y, _, length = generate_batch(config.task, make_generator(5, "test"), 20, 64)
    y_hat = rnn_forward_single(x.double(), model.torch_weights())
    assert bit_accuracy(y_hat[length:], y[length:].double()).mean() > 0.95


def test_early_stop_ends_a_member_before_its_budget(tmp_path):
    config = small(
        curriculum_horizons=(5,),
        steps_per_epoch=2000,
        early_stop=True,
        early_stop_accuracy=0.99,
        early_stop_patience=20,
    )
    spec = member(tmp_path, "m", config, 1)
    outcome = train([spec]).outcomes[spec.checkpoint]
    assert outcome["early_stopped"] and outcome["steps"] < 2000 and outcome["converged"]


def test_a_one_level_member_finishes_at_its_budget(tmp_path):
    spec = member(tmp_path, "m", small(steps_per_epoch=40, curriculum_horizons=(5,)), 1)
    outcome = train([spec]).outcomes[spec.checkpoint]
    assert outcome["status"] == "finished" and outcome["steps"] == 40
    assert outcome["curriculum_history"] == [] and outcome["horizon"] == 5


@pytest.mark.parametrize(
    "key, value",
    [
        ("hidden_dim", 0),
        ("learning_rate", -1.0),
        ("curriculum_threshold", 1.5),
        ("curriculum_horizons", (20, 10)),
        ("batch_size", 2.5),
        ("seq_length", (5, 3)),
        ("task_id", (254, 0, 0)),
        ("model_type", "lstm"),
        ("bias", "yes"),
        ("l2_penalty", -0.1),
    ],
)
def test_bad_hyper_parameters_are_refused_by_name(key, value):
    with pytest.raises(ConfigError, match=key):
        TrainConfig(**{**SMALL, key: value})


def test_unknown_keys_are_refused_by_name():
    with pytest.raises(ConfigError, match="hiden_dim"):
        TrainConfig.from_dict({"hiden_dim": 3})


def test_gpu_request_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="no CUDA device"):
        resolve_device("gpu")
    assert resolve_device("auto") == "cpu"

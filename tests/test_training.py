"""Training: learning, seed-exact ensembles, divergence isolation, early stop, resume after a kill."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from vbpipe.checkpoint import load_model
from vbpipe.config import ConfigError, TrainConfig
from vbpipe.model import bit_accuracy, rnn_forward_single
from vbpipe.tasks import generate_batch, make_generator
from vbpipe.training import EnsembleModule, Member, resume_path, train_block

SMALL = dict(
    task_id="repeat_copy",
    input_dim=3,
    seq_length=2,
    hidden_dim=16,
    learning_rate=1e-2,
    curriculum_horizons=(5, 10, 20),
    validation_batches=0,
    log_every=25,
)


def _weights(path):
    return load_model(path).weights


def test_small_model_learns_copy_task(tmp_path):
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


def test_ensemble_equals_each_seed_trained_alone(tmp_path):
    config = TrainConfig(**SMALL, epochs=1, steps_per_epoch=300)
    seeds = [1, 2, 3]
    together = train_block(
        config, seeds, output_dir=tmp_path / "ensemble", accelerator="cpu", tensorboard=False
    )
    histories = {s: together.outcomes[s]["curriculum_history"] for s in seeds}
    assert all(len(h) == 2 for h in histories.values()), (
        histories
    )  # every seed reached the last level
    assert len({tuple(map(tuple, h)) for h in histories.values()}) > 1  # ... at different steps
    for seed in seeds:
        alone = train_block(
            config, [seed], output_dir=tmp_path / "alone", accelerator="cpu", tensorboard=False
        )
        assert alone.outcomes[seed]["curriculum_history"] == histories[seed]
        a = _weights(together.checkpoints[seed])
        b = _weights(alone.checkpoints[seed])
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-5)


def test_members_may_differ_in_learning_rate_and_task(tmp_path):
    base = TrainConfig(**SMALL, epochs=1, steps_per_epoch=60)
    other = TrainConfig(
        **{**SMALL, "learning_rate": 3e-3, "task_id": (7, 4, 5)}, epochs=1, steps_per_epoch=60
    )
    mixed = train_block(
        base,
        [1, 2],
        output_dir=tmp_path / "mixed",
        configs=[base, other],
        accelerator="cpu",
        tensorboard=False,
    )
    alone = train_block(
        other, [2], output_dir=tmp_path / "alone", accelerator="cpu", tensorboard=False
    )
    a, b = _weights(mixed.checkpoints[2]), _weights(alone.checkpoints[2])
    np.testing.assert_allclose(a["W_hh"], b["W_hh"], atol=1e-5)
    assert load_model(mixed.checkpoints[2]).hparams["learning_rate"] == 3e-3


def test_a_diverging_seed_is_frozen_and_its_neighbours_are_unaffected():
    config = TrainConfig(**SMALL, epochs=1, steps_per_epoch=40)
    ensemble = EnsembleModule([Member(s, config, Path("unused")) for s in (1, 2, 3)])
    solo = EnsembleModule([Member(s, config, Path("unused")) for s in (1, 3)])
    with torch.no_grad():
        ensemble.weights["W_hh"][1, 0, 0] = float("nan")
    poisoned = ensemble.member_weights(1)
    for _ in range(40):
        ensemble.train_step()
        solo.train_step()
    members = ensemble.members
    assert members[1].status == "diverged" and members[1].diverged_at_step == 1
    assert members[1].step == 0
    for name, value in ensemble.member_weights(1).items():
        assert torch.equal(
            torch.nan_to_num(value, nan=7.0), torch.nan_to_num(poisoned[name], nan=7.0)
        )
    assert members[0].status == members[2].status == "finished"
    for index, solo_index in ((0, 0), (2, 1)):
        for name, value in ensemble.member_weights(index).items():
            torch.testing.assert_close(
                value, solo.member_weights(solo_index)[name], rtol=0, atol=1e-6
            )
    assert members[1].outcome()["diverged"] and not members[1].outcome()["converged"]


def test_huge_learning_rate_diverges_without_crashing(tmp_path):
    config = TrainConfig(**{**SMALL, "learning_rate": 10.0}, epochs=1, steps_per_epoch=30)
    result = train_block(config, [1], output_dir=tmp_path, accelerator="cpu", tensorboard=False)
    outcome = result.outcomes[1]
    assert outcome["steps"] <= 30 and not outcome["converged"]
    assert all(np.isfinite(v).all() for v in _weights(result.checkpoints[1]).values())


def test_early_stop_ends_a_seed_before_its_budget(tmp_path):
    config = TrainConfig(
        **{**SMALL, "curriculum_horizons": (5,)},
        epochs=1,
        steps_per_epoch=2000,
        early_stop=True,
        early_stop_accuracy=0.99,
        early_stop_patience=20,
    )
    result = train_block(config, [1], output_dir=tmp_path, accelerator="cpu", tensorboard=False)
    outcome = result.outcomes[1]
    assert outcome["early_stopped"] and outcome["steps"] < 2000 and outcome["converged"]


def test_logs_and_tensorboard_events_sit_beside_the_checkpoint(tmp_path):
    config = TrainConfig(**{**SMALL, "validation_batches": 2}, epochs=2, steps_per_epoch=50)
    result = train_block(config, [4], output_dir=tmp_path, accelerator="cpu")
    folder = result.checkpoints[4].parent
    log = (folder / "training.log").read_text()
    assert "curriculum difficulty increased" in log and "epoch 2/2" in log and "val_acc" in log
    events = list(folder.glob("events.out.tfevents.*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    tags = set(accumulator.Tags()["scalars"])
    assert {"train_loss", "train_acc", "curriculum_level", "val_acc"} <= tags
    assert len(accumulator.Scalars("train_loss")) == 4  # every 25 steps over 100 steps


def test_existing_checkpoints_are_skipped_not_overwritten(tmp_path):
    config = TrainConfig(**SMALL, epochs=1, steps_per_epoch=20)
    first = train_block(config, [1], output_dir=tmp_path, accelerator="cpu", tensorboard=False)
    stamp = first.checkpoints[1].stat().st_mtime_ns
    again = train_block(config, [1, 2], output_dir=tmp_path, accelerator="cpu", tensorboard=False)
    assert 1 in again.skipped and 2 in again.outcomes
    assert first.checkpoints[1].stat().st_mtime_ns == stamp
    with pytest.raises(FileExistsError):
        train_block(config, [1], output_dir=tmp_path, accelerator="cpu", existing="error")


def test_stale_resume_state_from_another_config_is_set_aside(tmp_path):
    config = TrainConfig(**SMALL, epochs=1, steps_per_epoch=20)
    model_dir = tmp_path / "model-1"
    module = EnsembleModule([Member(1, TrainConfig(**{**SMALL, "learning_rate": 0.5}), model_dir)])
    from vbpipe.checkpoint import atomic_torch_save

    atomic_torch_save(module.member_state(0), resume_path(model_dir))
    with pytest.warns(UserWarning, match="not usable"):
        result = train_block(
            config, [1], model_dirs=[model_dir], accelerator="cpu", tensorboard=False
        )
    assert result.outcomes[1]["steps"] == 20
    assert (model_dir / "checkpoint" / "resume.pt.stale").exists()


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


def _train_command(out: Path, save_every: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vbpipe.cli",
        "train",
        "--experiment_name",
        "resume",
        "--output_dir",
        str(out),
        "--task_id",
        "repeat_copy",
        "--input_dim",
        "3",
        "--seq_length",
        "2",
        "--hidden_dim",
        "16",
        "--learning_rate",
        "0.01",
        "--curriculum_horizons",
        "5",
        "10",
        "20",
        "--seeds",
        "1",
        "2",
        "--models_per_job",
        "2",
        "--epochs",
        "8",
        "--steps_per_epoch",
        "100",
        "--accelerator",
        "cpu",
        "--threads",
        "1",
        "--validation_batches",
        "1",
        "--save_every",
        str(save_every),
        "--no_progress",
    ]


def _wait_for(path: Path, text: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_killed_training_resumes_to_the_uninterrupted_result(tmp_path, how):
    reference = subprocess.run(
        _train_command(tmp_path / "reference", 50), capture_output=True, text=True
    )
    assert reference.returncode == 0, reference.stderr
    out = tmp_path / "interrupted"
    process = subprocess.Popen(
        _train_command(out, 50), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    log = out / "resume" / "model-1" / "checkpoint" / "training.log"
    _wait_for(log, "state saved" if how == signal.SIGKILL else "epoch 2/8")
    process.send_signal(how)
    process.communicate(timeout=120)
    expected_code = 128 + signal.SIGTERM if how == signal.SIGTERM else -signal.SIGKILL
    assert process.returncode == expected_code
    checkpoint = out / "resume" / "model-1" / "checkpoint"
    assert not (checkpoint / "model.pt").exists()  # nothing that looks finished
    assert (checkpoint / "resume.pt").exists()
    rerun = subprocess.run(_train_command(out, 50), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming seed 1 at step" in log.read_text()
    for seed in (1, 2):
        a = _weights(
            tmp_path / "reference" / "resume" / f"model-{seed}" / "checkpoint" / "model.pt"
        )
        b = _weights(out / "resume" / f"model-{seed}" / "checkpoint" / "model.pt")
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
        assert not (out / "resume" / f"model-{seed}" / "checkpoint" / "resume.pt").exists()


def test_gpu_request_without_cuda_is_a_clear_error(monkeypatch):
    from vbpipe.training import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_device("gpu")

"""The wall-clock deadline (``VBPIPE_TRAIN_DEADLINE``): training stops between steps, every member saves its exact
resume state, and the rerun ends with the weights of an uninterrupted run."""

import time

import pytest
import pytorch_lightning as pl
from helpers.training import alone, assert_same_model, member, same_outcome, small, train

from vbpipe.errors import VbpipeError
from vbpipe.training import TrainingInterrupted, resume_path
from vbpipe.training.pack import DEADLINE_ENV


class WaitPastDeadline(pl.Callback):
    """Holds pack step ``step`` until the deadline has passed (so the test does not depend on speed)."""

    def __init__(self, step: int, deadline: float):
        self.step, self.deadline = step, deadline

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx + 1 == self.step:
            time.sleep(max(0.0, self.deadline - time.time()) + 0.01)


def test_the_deadline_saves_every_member_and_the_rerun_ends_exact(tmp_path, monkeypatch):
    configs = [small(steps_per_epoch=90), small(steps_per_epoch=60, l2_penalty=0.01)]
    specs = [member(tmp_path / "run", f"m{i}", c, seed=i) for i, c in enumerate(configs)]
    deadline = time.time() + 2.0
    monkeypatch.setenv(DEADLINE_ENV, f"{deadline:.3f}")
    with pytest.raises(TrainingInterrupted, match="deadline") as caught:
        train(specs, callbacks=[WaitPastDeadline(40, deadline)])
    assert caught.value.reason is not None
    for spec in specs:
        assert resume_path(spec.model_dir).exists() and not spec.checkpoint.exists()
    log = (specs[0].model_dir / "checkpoint" / "training.log").read_text()
    assert "state saved" in log
    monkeypatch.delenv(DEADLINE_ENV)
    result = train(specs)
    for spec in specs:
        path, outcome = alone(spec, tmp_path / "alone")
        assert_same_model(spec.checkpoint, path)
        assert same_outcome(result.outcomes[spec.checkpoint], outcome)
        assert not resume_path(spec.model_dir).exists()


def test_a_deadline_already_past_trains_nothing_and_saves_step_zero(tmp_path, monkeypatch):
    spec = member(tmp_path, "m1", small(steps_per_epoch=30), 1)
    monkeypatch.setenv(DEADLINE_ENV, str(time.time() - 1))
    with pytest.raises(TrainingInterrupted):
        train([spec])
    assert resume_path(spec.model_dir).exists() and not spec.checkpoint.exists()
    monkeypatch.setenv(DEADLINE_ENV, str(time.time() + 3600))  # far away: no effect
    train([spec])
    assert_same_model(spec.checkpoint, alone(spec, tmp_path / "alone")[0])


def test_a_relative_deadline_counts_from_the_start_of_training(tmp_path, monkeypatch):
    spec = member(tmp_path, "m1", small(steps_per_epoch=30), 1)
    monkeypatch.setenv(DEADLINE_ENV, "+0")
    with pytest.raises(TrainingInterrupted, match="deadline"):
        train([spec])
    monkeypatch.setenv(DEADLINE_ENV, "+3600")
    train([spec])
    assert_same_model(spec.checkpoint, alone(spec, tmp_path / "alone")[0])


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf", "0", "+x", "+-3"])
def test_a_bad_deadline_is_refused_before_training(tmp_path, monkeypatch, value):
    spec = member(tmp_path, "m1", small(steps_per_epoch=5), 1)
    monkeypatch.setenv(DEADLINE_ENV, value)
    with pytest.raises(VbpipeError, match=DEADLINE_ENV):
        train([spec])
    assert not resume_path(spec.model_dir).exists()

"""Interruption and resume: signals save every member's state; any later pack continues each member exactly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytorch_lightning as pl
from helpers.training import alone, assert_same_model, member, same_outcome, small, train

from vbpipe.checkpoint import atomic_torch_save
from vbpipe.training import MemberSpec, TrainingInterrupted, resume_path, train_block
from vbpipe.training.module import PackModule


class SignalAt(pl.Callback):
    """Sends ``signum`` to this process during pack step ``step``."""

    def __init__(self, step: int, signum: int):
        self.step, self.signum = step, signum

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx + 1 == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGUSR1, signal.SIGTERM])
def test_a_signal_saves_every_member_and_the_rerun_continues_exactly(tmp_path, signum):
    configs = [small(steps_per_epoch=90), small(steps_per_epoch=40, l2_penalty=0.01)]
    specs = [member(tmp_path / "run", f"m{i}", c, seed=i) for i, c in enumerate(configs)]
    with pytest.raises(TrainingInterrupted) as caught:
        train(specs, callbacks=[SignalAt(55, signum)])
    assert caught.value.signum == signum
    assert signal.getsignal(signum) is not None  # handlers restored
    for spec in specs:
        assert resume_path(spec.model_dir).exists() and not spec.checkpoint.exists()
    log = (specs[0].model_dir / "checkpoint" / "training.log").read_text()
    assert "step 55: state saved" in log
    result = train(specs)
    for spec in specs:
        path, outcome = alone(spec, tmp_path / "alone")
        assert_same_model(spec.checkpoint, path)
        assert same_outcome(result.outcomes[spec.checkpoint], outcome)
        assert not resume_path(spec.model_dir).exists()
    assert (
        "resuming seed 0 at step 55"
        in (specs[0].model_dir / "checkpoint" / "training.log").read_text()
    )


def test_a_regrouped_pack_resumes_each_member_exactly(tmp_path):
    """Interrupt a pack of three; continue one member alone and two in a new pack with a newcomer."""
    specs = [member(tmp_path / "run", f"m{s}", small(steps_per_epoch=80), s) for s in range(3)]
    with pytest.raises(TrainingInterrupted):
        train(specs, callbacks=[SignalAt(30, signal.SIGINT)])
    newcomer = member(tmp_path / "run", "m9", small(steps_per_epoch=80, l2_penalty=0.1), 9)
    train([specs[1]])
    train([specs[2], newcomer, specs[0]])
    for spec in [*specs, newcomer]:
        assert_same_model(spec.checkpoint, alone(spec, tmp_path / "alone")[0])


def test_stale_resume_state_of_another_config_is_set_aside(tmp_path):
    config = small(steps_per_epoch=20)
    spec = member(tmp_path, "model-1", config, 1)
    other = PackModule([MemberSpec(small(learning_rate=0.5), 1, spec.model_dir)])
    atomic_torch_save(other.member_state(0), resume_path(spec.model_dir))
    with pytest.warns(UserWarning, match="not usable"):
        result = train([spec])
    assert result.outcomes[spec.checkpoint]["steps"] == 20
    assert (spec.model_dir / "checkpoint" / "resume.pt.stale").exists()


def test_existing_checkpoints_are_skipped_refused_or_retrained(tmp_path):
    config = small(steps_per_epoch=20)
    first = train_block(config, [1], output_dir=tmp_path, accelerator="cpu", tensorboard=False)
    stamp = first.checkpoints[1].stat().st_mtime_ns
    again = train_block(config, [1, 2], output_dir=tmp_path, accelerator="cpu", tensorboard=False)
    assert 1 in again.skipped and 2 in again.outcomes
    assert first.checkpoints[1].stat().st_mtime_ns == stamp
    with pytest.raises(FileExistsError):
        train_block(config, [1], output_dir=tmp_path, accelerator="cpu", existing="error")
    redo = train_block(config, [1], output_dir=tmp_path, accelerator="cpu", existing="overwrite")
    assert 1 in redo.outcomes and first.checkpoints[1].stat().st_mtime_ns != stamp


DRIVER = """
import sys
from pathlib import Path
from vbpipe.config import TrainConfig
from vbpipe.training import MemberSpec, TrainingInterrupted, train_pack

def specs(out):
    config = TrainConfig(task_id="repeat_copy", input_dim=3, seq_length=2, hidden_dim=16,
                         learning_rate=0.01, curriculum_horizons=(5, 10, 20), epochs=4,
                         steps_per_epoch=60, validation_batches=1)
    return [MemberSpec(config, seed, out / f"model-{seed}") for seed in (1, 2)]

if __name__ == "__main__":
    try:
        train_pack(specs(Path(sys.argv[1])), accelerator="cpu", save_every_steps=25,
                   tensorboard=False, log_interval_seconds=0)
    except TrainingInterrupted as error:
        sys.exit(128 + error.signum)
"""


def _run(out: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(out)], **popen)


def _reference(out: Path) -> None:
    """The uninterrupted run, in this process (the driver's own ``specs``)."""
    namespace = {"__name__": "driver"}
    exec(DRIVER, namespace)
    train(namespace["specs"](out))


def _wait_for(path: Path, text: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_process_resumes_to_the_uninterrupted_result(tmp_path, how):
    _reference(tmp_path / "reference")
    out = tmp_path / "interrupted"
    process = _run(out, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = out / "model-1" / "checkpoint" / "training.log"
    _wait_for(log, "state saved" if how == signal.SIGKILL else "epoch 2/4")
    process.send_signal(how)
    process.communicate(timeout=120)
    assert process.returncode == (128 + how if how == signal.SIGTERM else -how)
    assert not (out / "model-1" / "checkpoint" / "model.pt").exists()  # nothing looks finished
    assert resume_path(out / "model-1").exists()
    assert _run(out).wait(timeout=300) == 0
    assert "resuming seed 1 at step" in log.read_text()
    for seed in (1, 2):
        assert_same_model(
            tmp_path / "reference" / f"model-{seed}" / "checkpoint" / "model.pt",
            out / f"model-{seed}" / "checkpoint" / "model.pt",
        )
        assert not resume_path(out / f"model-{seed}").exists()

"""Issue 16, item 3-4: provenance in model.json and metrics.json, outside every stamp; TensorBoard
HParams per member, read back from the event files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from vbpipe import provenance
from vbpipe.config import TrainConfig
from vbpipe.fingerprint import code_fingerprint, module_closure
from vbpipe.plan import STAMP_EXCLUDES, TRAINING_MODULE, disk_state, model_stamp, training_code
from vbpipe.sidecar import read_sidecar

REPO = Path(__file__).resolve().parents[2]


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_git_state_of_a_checkout_and_outside_one(tmp_path):
    assert provenance.git_state(tmp_path) == (None, None)  # not a git checkout
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.txt").write_text("1\n")
    _git(repo, "add", "a.txt")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert provenance.git_state(repo) == (head, False)
    (repo / "untracked.txt").write_text("x")
    assert provenance.git_state(repo) == (head, False)  # untracked files do not count
    (repo / "a.txt").write_text("2\n")
    assert provenance.git_state(repo) == (head, True)


def test_a_record_names_the_slurm_job_host_device_and_versions(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    record = provenance.collect("cpu")
    assert list(record) == list(provenance.FIELDS)
    assert record["slurm_job_id"] == "4242"
    assert record["device"] == "cpu" and record["device_name"]
    assert record["host"]
    assert record["versions"]["numpy"] and record["versions"]["python"]
    monkeypatch.delenv("SLURM_JOB_ID")
    assert provenance.collect(None)["slurm_job_id"] is None
    assert provenance.collect(None)["device_name"] is None


def test_provenance_enters_no_training_stamp():
    """A commit, a host or a Slurm job never retrains: the modules that record provenance are not
    in the training stamp's code, and the stamp takes only the config, the seed and that code."""
    closure = {p.name for p in module_closure(module=TRAINING_MODULE, exclude=STAMP_EXCLUDES)}
    assert "provenance.py" not in closure and "train_records.py" not in closure
    config = TrainConfig(task_id="repeat_copy", input_dim=3, seq_length=2, hidden_dim=8)
    assert model_stamp(config, 1, training_code()) == model_stamp(config, 1, training_code())
    # the workflow stamps with the same code as `vbpipe train` (not its script's closure, which
    # includes the records and the layout)
    common = (REPO / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    assert "plan_training(CONFIG)" in common
    script = code_fingerprint(REPO / "workflow" / "scripts" / "train_pack.py")
    assert script != training_code()


def _circuit_member(tmp_path) -> dict:
    config = TrainConfig(
        task_id="repeat_copy", input_dim=3, seq_length=2, hidden_dim=8, model_type="circuit_naive"
    )
    model_dir = tmp_path / "exp" / "v" / "model-1"
    return {
        "experiment": "exp",
        "variant": "v",
        "seed": 1,
        "config": config.to_dict(),
        "model_dir": str(model_dir),
        "checkpoint": str(model_dir / "checkpoint" / "model.pt"),
        "stamp": model_stamp(config, 1, training_code()),
    }


def test_model_json_gets_provenance_and_stays_current(tmp_path, monkeypatch):
    from vbpipe.jobs.train import train_pack_job
    from vbpipe.jobs.train_records import record_members

    monkeypatch.setenv("SLURM_JOB_ID", "77")
    member = _circuit_member(tmp_path)
    train_pack_job([member], accelerator="cpu")
    before = read_sidecar(member["checkpoint"])
    assert "provenance" not in before
    assert record_members([member], "cpu", tensorboard=False) == 1
    after = read_sidecar(member["checkpoint"])
    assert {k: v for k, v in after.items() if k != "provenance"} == before
    assert after["provenance"]["slurm_job_id"] == "77"
    assert disk_state(member["checkpoint"], member["stamp"]) == "current"
    assert record_members([member], "cpu") == 0  # once only
    stale = {**member, "stamp": "other"}
    assert record_members([stale], "cpu") == 0  # never on a model of another stamp


def test_metrics_json_carries_training_and_evaluation_provenance(tmp_path, monkeypatch):
    from vbpipe.jobs.evaluate import evaluate_models
    from vbpipe.jobs.train import train_pack_job
    from vbpipe.jobs.train_records import record_members
    from vbpipe.results.records import metrics_provenance, read_metrics

    member = _circuit_member(tmp_path)
    monkeypatch.setenv("SLURM_JOB_ID", "1")
    train_pack_job([member], accelerator="cpu")
    record_members([member], "cpu", tensorboard=False)
    monkeypatch.setenv("SLURM_JOB_ID", "2")
    results = Path(member["model_dir"]) / "results"
    evaluate_models(
        [(member["checkpoint"], results, {"experiment": "exp", "variant": "v", "seed": 1})],
        {"test_horizon": 10, "n_batches": 1, "batch_size": 4},
        log=None,
    )
    record = read_metrics(results / "metrics.json")
    both = metrics_provenance(record)
    assert both["training"]["slurm_job_id"] == "1"
    assert both["evaluation"]["slurm_job_id"] == "2"
    assert both["evaluation"]["device"] == "cpu"
    # an older record without provenance still reads, with None for both
    del record["provenance"]
    (results / "metrics.json").write_text(json.dumps(record))
    assert metrics_provenance(read_metrics(results / "metrics.json")) == {
        "evaluation": None,
        "training": None,
    }


def _hparams_of(folder: Path) -> tuple[dict, dict]:
    """Hyper-parameters and final metrics of a run folder, as TensorBoard's HParams tab reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    content = accumulator.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]
    ).session_start_info
    hparams = {}
    for key, value in start.hparams.items():
        kind = value.WhichOneof("kind")
        hparams[key] = getattr(value, kind)
    metrics = {tag: accumulator.Scalars(tag)[-1].value for tag in accumulator.Tags()["scalars"]}
    return hparams, metrics


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_each_member_of_a_pack_has_its_hparams_and_final_metrics(tmp_path):
    """Two members of one pack, another L2 each: the HParams tab tells them apart, with their
    final training accuracy and loss as the checkpoint's outcome records them."""
    from vbpipe.jobs.train import train_pack_job
    from vbpipe.jobs.train_records import record_members

    members = []
    for seed, l2 in ((1, 0.0), (2, 0.001)):
        config = TrainConfig(
            task_id="repeat_copy", input_dim=3, seq_length=2, hidden_dim=8, epochs=1,
            steps_per_epoch=30, curriculum_horizons=(5, 10), validation_batches=0, log_every=10,
            l2_penalty=l2,
        )  # fmt: skip
        model_dir = tmp_path / "exp" / f"l2_{l2}" / f"model-{seed}"
        members.append(
            {
                "experiment": "exp",
                "variant": f"l2_{l2}",
                "seed": seed,
                "config": config.to_dict(),
                "model_dir": str(model_dir),
                "checkpoint": str(model_dir / "checkpoint" / "model.pt"),
                "stamp": model_stamp(config, seed, training_code()),
            }
        )
    train_pack_job(members, accelerator="cpu")
    assert record_members(members, "cpu") == 2
    for member in members:
        folder = Path(member["checkpoint"]).parent
        hparams, metrics = _hparams_of(folder)
        outcome = read_sidecar(member["checkpoint"])["outcome"]
        assert hparams["seed"] == member["seed"]
        assert hparams["l2_penalty"] == member["config"]["l2_penalty"]
        assert hparams["variant"] == member["variant"]
        assert metrics["final/train_accuracy"] == pytest.approx(outcome["train_accuracy"])
        assert metrics["final/train_loss"] == pytest.approx(outcome["train_loss"])
        assert metrics["final/train_steps"] == outcome["steps"] == 30
        assert "train_loss" in metrics  # the training curves are in the same run

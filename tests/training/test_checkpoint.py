"""model.pt: written atomically, loadable with weights_only, refused clearly when broken or foreign."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vbpipe.checkpoint import CheckpointError, atomic_torch_save, load_model, save_model
from vbpipe.config import TrainConfig, model_hparams
from vbpipe.training.kernel import init_weights

CONFIG = TrainConfig(task_id="repeat_copy", input_dim=3, seq_length=2, hidden_dim=8)
OUTCOME = {
    "steps": 10,
    "status": "finished",
    "curriculum_level": 4,
    "horizon": 100,
    "train_accuracy": 0.99,
    "train_loss": 0.01,
    "converged": True,
    "diverged": False,
    "diverged_at_step": None,
    "early_stopped": False,
    "curriculum_history": [[3, 1]],
    "wall_seconds": 1.5,
}


def write(path: Path, **changes) -> Path:
    weights = init_weights(1, 3, 8, 3)
    hparams = {**model_hparams(CONFIG, 1), **changes}
    save_model(path, weights, hparams, OUTCOME)
    return path


def test_round_trip_with_weights_only(tmp_path):
    path = write(tmp_path / "model.pt")
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "vbpipe-model" and set(raw["state_dict"]) == {"W_ih", "W_hh", "W_r"}
    model = load_model(path)
    assert model.weights["W_hh"].shape == (8, 8) and model.hparams["seed"] == 1
    assert model.hparams["task_id"] == ["7", "0", "0"] and model.outcome["converged"]
    assert {"torch", "numpy", "vbpipe", "pytorch_lightning"} <= set(model.versions)
    json.dumps(model.hparams)  # JSON-ready


def test_truncated_file_is_a_clear_error(tmp_path):
    path = write(tmp_path / "model.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_model(path)


def test_foreign_and_missing_files_are_clear_errors(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a vbpipe model checkpoint"):
        load_model(tmp_path / "foreign.pt")
    torch.save({"state_dict": {}}, tmp_path / "lightning.ckpt")  # read as the original project's
    with pytest.raises(CheckpointError, match="Lightning checkpoint without hyper_parameters"):
        load_model(tmp_path / "lightning.ckpt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nothing.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "text.pt")


def test_inconsistent_shapes_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="has shape .* expected"):
        write(tmp_path / "model.pt", hidden_dim=9)
    assert not (tmp_path / "model.pt").exists()


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = write(tmp_path / "model.pt")
    before = path.read_bytes()

    def broken_save(obj, handle):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_torch_save({"x": 1}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.pt"]


def test_the_sidecar_records_stamp_size_and_checksum(tmp_path):
    from vbpipe.checkpoint import file_sha256, read_sidecar

    path = tmp_path / "model.pt"
    save_model(path, init_weights(1, 3, 8, 3), model_hparams(CONFIG, 1), OUTCOME, stamp="abc")
    sidecar = read_sidecar(path)
    assert sidecar["stamp"] == "abc" and sidecar["size"] == path.stat().st_size
    assert sidecar["sha256"] == file_sha256(path) and sidecar["outcome"] == OUTCOME
    assert torch.load(path, weights_only=True)["stamp"] == "abc"
    (tmp_path / "model.json").write_text("{not json")
    assert read_sidecar(path) is None


@pytest.mark.parametrize("bias", [False, True])
def test_reading_without_torch_equals_torch_load(tmp_path, bias):
    from vbpipe import torchfile

    path = tmp_path / "model.pt"
    config = TrainConfig(task_id="repeat_copy", input_dim=3, seq_length=2, hidden_dim=8, bias=bias)
    save_model(path, init_weights(2, 3, 8, 3, bias=bias), model_hparams(config, 2), OUTCOME)
    ours = torchfile.load(path)
    reference = torch.load(path, weights_only=True)
    assert set(ours["state_dict"]) == set(reference["state_dict"])
    for name, tensor in reference["state_dict"].items():
        assert ours["state_dict"][name].dtype == np.float32
        np.testing.assert_array_equal(ours["state_dict"][name], tensor.numpy())
    assert {k: v for k, v in ours.items() if k != "state_dict"} == {
        k: v for k, v in reference.items() if k != "state_dict"
    }
    transposed = {"W_hh": init_weights(2, 3, 8, 3)["W_hh"].t()}  # a non-contiguous tensor
    torch.save(transposed, tmp_path / "t.pt")
    np.testing.assert_array_equal(
        torchfile.load(tmp_path / "t.pt")["W_hh"], transposed["W_hh"].numpy()
    )


def test_files_the_reader_does_not_know_go_to_torch(tmp_path):
    from vbpipe import torchfile

    torch.save({"x": torch.zeros(2, dtype=torch.complex64)}, tmp_path / "c.pt")
    with pytest.raises(torchfile.UnsupportedFile):
        torchfile.load(tmp_path / "c.pt")
    path = write(tmp_path / "model.pt")
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(torchfile.UnsupportedFile):
        torchfile.load(path)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_model(path)

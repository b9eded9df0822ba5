"""File I/O of the evaluation stage: atomic writes, JSON without NaN, model discovery."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from evalhelpers import random_model

from vbpipe.checkpoint import CheckpointError
from vbpipe.evaluation import io


def test_write_json_turns_non_finite_into_null_and_numpy_into_python(tmp_path):
    path = io.write_json(
        tmp_path / "a" / "m.json",
        {"x": math.nan, "y": np.float32(1.5), "z": np.array([1, np.inf]), "c": 1 + 2j},
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"x": None, "y": 1.5, "z": [1.0, None], "c": [1.0, 2.0]}
    assert not list(tmp_path.rglob("*.tmp"))


def test_failed_write_leaves_the_old_file(tmp_path):
    path = io.write_json(tmp_path / "m.json", {"ok": 1})
    with pytest.raises(TypeError):
        io.write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}

    class BrokenFigure:  # fails half-way through writing
        def savefig(self, handle, **_):
            handle.write(b"partial")
            raise RuntimeError("disk full")

    target = tmp_path / "figure.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        io.save_figure(BrokenFigure(), target)
    assert target.read_bytes() == b"old"
    assert not list(tmp_path.glob(".*.tmp"))


def test_npz_round_trip_with_complex(tmp_path):
    arrays = {"eig": np.array([1 + 1j, 0.5j]), "m": np.eye(3)}
    back = io.read_npz(io.write_npz(tmp_path / "arrays.npz", arrays))
    np.testing.assert_array_equal(back["eig"], arrays["eig"])
    np.testing.assert_array_equal(back["m"], arrays["m"])


def test_natural_sort_and_model_discovery(tmp_path):
    root = tmp_path / "exp"
    for seed in (10, 2, 1):
        random_model(root, seed=seed, hidden=4, d=2, length=2, task_id=(3, 0, 0), variant="v-h10")
    random_model(root, seed=3, hidden=4, d=2, length=2, task_id=(3, 0, 0), variant="v-h9")
    (root / "v-h9" / "model-empty").mkdir()  # no checkpoint: not a model
    found = io.find_model_dirs(root)
    assert [f"{p.parent.name}/{p.name}" for p in found] == [
        "v-h9/model-3",
        "v-h10/model-1",
        "v-h10/model-2",
        "v-h10/model-10",
    ]
    assert io.find_model_dirs(root / "v-h10" / "model-2") == [root / "v-h10" / "model-2"]
    assert len(io.find_model_dirs(root / "v-h10")) == 3
    assert sorted(["model-10", "model-9", "model-1"], key=io.natural_key) == [
        "model-1",
        "model-9",
        "model-10",
    ]
    with pytest.raises(FileNotFoundError):
        io.find_model_dirs(root / "missing")


def test_resolve_checkpoint_and_variant_config(tmp_path):
    model_dir = random_model(tmp_path / "exp", hidden=4, d=2, length=2, task_id=(3, 0, 0))
    checkpoint = io.resolve_checkpoint(model_dir)
    assert checkpoint == model_dir / "checkpoint" / "model.pt"
    assert io.resolve_checkpoint(checkpoint) == checkpoint
    assert io.model_dir_of(checkpoint) == model_dir
    assert io.read_variant_config(model_dir)["model"]["hidden_dim"] == 4
    with pytest.raises(CheckpointError, match="no checkpoint found"):
        io.resolve_checkpoint(tmp_path)

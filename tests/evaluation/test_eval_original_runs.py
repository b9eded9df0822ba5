"""Runs of the original project (its layout, its Lightning ``.ckpt``): read safely, and evaluated,
aggregated and analysed exactly like vbpipe's own checkpoints of the same weights."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.evaluation import exact_circuit, write_model
from helpers.original_runs import (
    HIDDEN,
    LENGTH,
    D,
    assert_same_evaluation,
    original_config,
    original_hparams,
    write_original_ckpt,
)

from vbpipe.checkpoint import CheckpointError, load_model
from vbpipe.cli import main
from vbpipe.original_runs import lightning_checkpoint_in, model_checkpoints
from vbpipe.results.records import read_metrics
from vbpipe.results.table import read_table
from vbpipe.tasks import Task
from vbpipe.training.kernel import init_weights

FAST_ARGS = ["--test_horizon", "60", "--n_batches", "2", "--batch_size", "16", "--no_figures"]


@pytest.fixture(scope="module")
def twin_runs(tmp_path_factory):
    """The same two models (seeds 0 and 1000: the original's model-1 and model-2) in vbpipe's layout
    and in the original's, each evaluated by ``vbpipe evaluate``."""
    from lightning_fabric.utilities.data import AttributeDict

    tmp = tmp_path_factory.mktemp("original_runs")
    task_id = Task("repeat_copy", D, LENGTH).task_id
    circuit, _, _ = exact_circuit(task_id, D, LENGTH, HIDDEN)
    models = {0: circuit, 1000: init_weights(1000, D, HIDDEN, D)}
    own, original = tmp / "own" / "exp", tmp / "original" / "exp"
    original_config(original, task_id, len(models))
    for i, (seed, weights) in enumerate(models.items(), 1):
        weights = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in weights.items()}
        write_model(own, weights, task_id, D, LENGTH, seed, variant="var")
        hyper = original_hparams(task_id, seed)
        # Lightning < 2 pickled hyper_parameters as an AttributeDict: read through a stand-in.
        write_original_ckpt(
            original / f"model-{i}", weights, AttributeDict(hyper) if i == 2 else hyper
        )
    for root in (own / "var", original):
        assert main(["evaluate", "--models_dir", str(root), *FAST_ARGS]) == 0
    return own / "var", original


def test_original_runs_give_the_same_per_model_results(twin_runs):
    own, original = twin_runs
    for seed, index in ((0, 1), (1000, 2)):
        ours = own / f"model-{seed}" / "results"
        theirs = original / f"model-{index}" / "results"
        _, b = assert_same_evaluation(ours, theirs)
        assert b["identity"] == {
            "experiment": "exp",
            "variant": None,
            "seed": seed,
            "model_name": f"model-{index}",
        }
        assert b["training"]["train_steps"] == 4000
    assert (
        read_metrics(original / "model-1" / "results" / "metrics.json")["model"]["accuracy"] > 0.99
    )
    table_a, table_b = (
        read_table(own / "evaluation_table.csv"),
        read_table(original / "evaluation_table.csv"),
    )
    for column in ("seed", "accuracy", "spectral_error", "emt_phi_error", "hidden_dim"):
        assert table_a[column].equals(table_b[column]), column


def test_aggregate_and_analyze_read_the_original_layout(twin_runs, tmp_path):
    _, original = twin_runs
    before = read_table(original / "evaluation_table.csv")
    (original / "evaluation_table.csv").unlink()
    assert main(["aggregate", "--models_dir", str(original), "--no_figures"]) == 0
    assert read_table(original / "evaluation_table.csv").equals(before)
    out = tmp_path / "fixed"
    args = ["analyze", "fixed_points", "--models", str(original / "model-1")]
    assert main([*args, "--output_dir", str(out), "--n_starts", "4"]) == 0
    record = json.loads((out / "fixed_points.json").read_text())
    assert [m["model"] for m in record["models"]] == ["model-1"]


def test_the_latest_checkpoint_of_a_model_directory_is_used(tmp_path):
    task_id = Task("repeat_copy", D, LENGTH).task_id
    weights = init_weights(1, D, HIDDEN, D)
    hyper = original_hparams(task_id, 1)
    write_original_ckpt(tmp_path / "model-1", weights, hyper, step=2000, version=0)
    write_original_ckpt(tmp_path / "model-1", weights, hyper, step=2000, version=1)
    latest = write_original_ckpt(tmp_path / "model-1", weights, hyper, step=10000, version=1)
    (tmp_path / "model-2").mkdir()  # no checkpoint: not a model
    assert lightning_checkpoint_in(tmp_path / "model-1") == latest
    assert model_checkpoints(tmp_path) == [(tmp_path / "model-1", latest)]


def test_biases_are_kept_and_foreign_models_refused(tmp_path):
    task_id = Task("repeat_copy", D, LENGTH).task_id
    weights = init_weights(1, D, HIDDEN, D)
    path = write_original_ckpt(
        tmp_path / "a", weights, original_hparams(task_id, 1, bias=True), extra={}
    )
    payload = torch.load(path, weights_only=False)
    payload["state_dict"]["model.rnn.bias_ih_l0"] = torch.ones(HIDDEN)
    payload["state_dict"]["model.rnn.bias_hh_l0"] = torch.full((HIDDEN,), 0.5)
    payload["state_dict"]["model.readout.bias"] = torch.full((D,), 0.25)
    torch.save(payload, path)
    loaded = load_model(path)
    assert loaded.hparams["bias"] is True and loaded.hparams["task_id"] == [str(t) for t in task_id]
    np.testing.assert_array_equal(loaded.weights["b_h"], np.full(HIDDEN, 1.5))
    np.testing.assert_array_equal(loaded.weights["b_r"], np.full(D, 0.25))
    np.testing.assert_array_equal(loaded.weights["W_hh"], weights["W_hh"].double().numpy())

    lstm = write_original_ckpt(tmp_path / "b", weights, original_hparams(task_id, 1))
    payload = torch.load(lstm, weights_only=False)
    payload["state_dict"] = {"model.lstm.weight_hh_l0": torch.zeros(4 * HIDDEN, HIDDEN)}
    torch.save(payload, lstm)
    with pytest.raises(CheckpointError, match="lacks .*model.rnn.weight_ih_l0"):
        load_model(lstm)
    infinite = write_original_ckpt(
        tmp_path / "c", weights, original_hparams(task_id, 1, output_horizon=15, total_length=300)
    )
    with pytest.raises(CheckpointError, match="infinite-horizon"):
        load_model(infinite)


class _Exploit:
    """A pickle that would run a shell command when unpickled by ``pickle.load``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_that_would_run_code_is_refused_unrun(tmp_path):
    task_id = Task("repeat_copy", D, LENGTH).task_id
    marker = tmp_path / "pwned"
    hyper = original_hparams(task_id, 1, note=_Exploit(marker))
    path = write_original_ckpt(tmp_path / "model-1", init_weights(1, D, HIDDEN, D), hyper)
    with pytest.raises(CheckpointError, match=r"cannot be read safely.*system"):
        load_model(path)
    assert not marker.exists()

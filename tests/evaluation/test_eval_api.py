"""The Python API (``vbpipe.load_experiment``, ``load_model``, ``load_model_results``)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers.evaluation import FAST, random_model

import vbpipe
from vbpipe import recurrence
from vbpipe.evaluation.directory import evaluate_directory
from vbpipe.results.errors import ResultsError
from vbpipe.results.records import read_metrics
from vbpipe.training.kernel import init_weights


def test_import_vbpipe_stays_cheap_and_the_api_loads_on_use():
    code = (
        "import sys, vbpipe; assert 'torch' not in sys.modules and 'vbpipe.api' not in sys.modules;"
        "vbpipe.load_experiment, vbpipe.load_model; assert 'torch' not in sys.modules;"
        "print(sorted(set(vbpipe.__all__) & set(dir(vbpipe))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "load_model_results" in out.stdout
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        vbpipe.nonesuch  # noqa: B018


def test_load_experiment_and_model_read_what_evaluation_wrote(experiment):
    model_dir = random_model(experiment, seed=3, hidden=16, d=3, length=3, task_id=(7, 0, 0))
    variant_dir = model_dir.parent
    with pytest.raises(ResultsError, match="not aggregated yet"):
        vbpipe.load_experiment(variant_dir)
    with pytest.raises(ResultsError, match="not evaluated yet"):
        vbpipe.load_model_results(model_dir)
    evaluate_directory(variant_dir, settings=FAST, figures=False, log=None)

    results = vbpipe.load_experiment(variant_dir)
    metrics, arrays = vbpipe.load_model_results(model_dir)
    assert metrics == read_metrics(model_dir / "results" / "metrics.json")
    assert results.table["accuracy"].tolist() == [metrics["lengths"][0]["accuracy"]]
    np.testing.assert_array_equal(results.arrays["eigenvalues_whh"][0], arrays["eigenvalues_whh"])

    model = vbpipe.load_model(model_dir)
    assert model.hparams["hidden_dim"] == 16 and model.weights["W_hh"].dtype == np.float64
    same = vbpipe.load_model(model_dir / "checkpoint" / "model.pt")
    np.testing.assert_array_equal(model.weights["W_hh"], same.weights["W_hh"])
    with pytest.raises(ResultsError, match="model directory without"):
        vbpipe.load_model(experiment)


@pytest.mark.parametrize("bias", [False, True])
def test_the_torch_module_is_the_model_the_evaluation_runs(experiment, bias):
    weights = init_weights(5, 3, 16, 3, bias=bias)
    if bias:  # init_weights' biases are U(-1/sqrt(N), ...): large enough to matter
        weights["b_h"] += 0.1
    from helpers.evaluation import write_model

    model_dir = write_model(experiment, weights, (7, 0, 0), 3, 3, 5)
    module = vbpipe.load_model(model_dir, as_torch=True)
    assert isinstance(module, torch.nn.Module)
    assert (
        "rnn.weight_hh_l0" in module.state_dict()
        and ("readout.bias" in module.state_dict()) == bias
    )
    x = torch.randn(12, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y_hat, hidden = module(x)
    loaded = vbpipe.load_model(model_dir)
    expected_h = recurrence.forward(loaded.weights, x.numpy())
    expected_y = recurrence.readout(loaded.weights, expected_h)
    np.testing.assert_allclose(y_hat.numpy(), expected_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hidden.numpy(), expected_h, rtol=1e-12, atol=1e-12)

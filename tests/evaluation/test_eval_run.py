"""File-level entry points and the CLI: per-model results, summary + schema, global figures, paper
figures."""

from __future__ import annotations

import argparse
import copy
import json
import math

import numpy as np
import pytest
import torch
from evalhelpers import FAST, exact_circuit, random_model, write_model
from matplotlib.figure import Figure

from vbpipe.evaluation import figures, io
from vbpipe.evaluation.cli import add_aggregate_parser, add_evaluate_parser
from vbpipe.evaluation.run import (
    GLOBAL_FIGURES,
    run_aggregate,
    run_evaluate_model,
    run_model_figures,
    run_paper_figures,
)
from vbpipe.evaluation.summary import SummaryValidationError, build_summary, validate_summary
from vbpipe.model import init_weights


def make_parser():
    parser = argparse.ArgumentParser(prog="vbpipe")
    sub = parser.add_subparsers(dest="command", required=True)
    add_evaluate_parser(sub)
    add_aggregate_parser(sub)
    return parser


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """An experiment with two variants, evaluated once through ``vbpipe evaluate`` (no figures: they
    are slow to draw; :func:`test_cli_evaluate_with_figures` draws them for one model)."""
    root = tmp_path_factory.mktemp("cli") / "exp"
    weights, _, _ = exact_circuit((7, 4, 5), 3, 3, 12)
    for seed in (10, 2):
        write_model(root, weights, (7, 4, 5), 3, 3, seed=seed, variant="perm-h12")
    random_model(root, seed=1, hidden=6, d=3, length=3, task_id=(7, 0, 0), variant="copy-h6")
    args = make_parser().parse_args(
        ["evaluate", "--models_dir", str(root), "--test_horizon", "40", "--n_batches", "2",
         "--batch_size", "16", "--accelerator", "cpu", "--magnitude_threshold", "0.5",
         "--no_figures", "--threads", "1"]
    )  # fmt: skip
    threads = torch.get_num_threads()
    try:
        status = args.func(args)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    return root, status


def test_cli_evaluate_writes_results_summary_and_config(evaluated):
    root, status = evaluated
    assert status == 0
    for model in ("copy-h6/model-1", "perm-h12/model-2", "perm-h12/model-10"):
        results = root / model / "results"
        assert sorted(p.name for p in results.iterdir()) == ["arrays.npz", "metrics.json"]
    assert not (root / "global_analysis").exists()
    config = json.loads((root / "eval_config.json").read_text())
    assert config["evaluation"]["magnitude_threshold"] == 0.5
    assert config["metadata"]["script"] == "vbpipe evaluate"
    assert not list(root.rglob("*.tmp"))


def test_cli_evaluate_with_figures(tmp_path):
    """One model, one variant directory given as --models_dir: per-model and global figures."""
    root = tmp_path / "exp"
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 12)
    model_dir = write_model(root, weights, (7, 0, 0), 3, 3, seed=4)
    args = make_parser().parse_args(
        ["evaluate", "--models_dir", str(root / "var"), "--test_horizon", "30", "--n_batches", "1",
         "--batch_size", "8", "--accelerator", "cpu", "--seq_length", "3"]
    )  # fmt: skip
    assert args.func(args) == 0
    results = model_dir / "results"
    expected = ["test_sample.png", "accuracy_per_step.png", "eigenspectrum_full.png",
                "phi_empirical_seq3.png", "variable_memory_trajectory_seq3.png"]  # fmt: skip
    for name in expected:
        assert (results / name).stat().st_size > 10_000, name
    for name in GLOBAL_FIGURES:
        assert (root / "var" / "global_analysis" / name).stat().st_size > 10_000, name
    summary = json.loads((root / "var" / "evaluation_summary.json").read_text())
    assert summary["evaluation_config"]["training_config"]["model"]["hidden_dim"] == 12
    assert summary["metrics"][0]["output_dir"] == str(results)


def test_figures_of_a_diverged_model_come_from_saved_files_alone(tmp_path):
    weights = init_weights(4, 3, 8, 3)
    weights["W_hh"][0, 0] = float("inf")
    outcome = {"converged": False, "diverged": True, "diverged_at_step": 5}
    model_dir = write_model(tmp_path, weights, (7, 0, 0), 3, 3, seed=4, outcome=outcome)
    run_evaluate_model(model_dir, model_dir / "results", test_horizon=20, n_batches=1)
    (model_dir / "checkpoint" / "model.pt").unlink()  # figures need only metrics + arrays
    files = run_model_figures(model_dir / "results")
    names = ["test_sample.png", "accuracy_per_step.png", "eigenspectrum_full.png"]
    assert [p.name for p in files] == names
    assert all(p.stat().st_size > 10_000 for p in files)


def test_summary_is_valid_natural_sorted_and_nan_free(evaluated):
    root, _ = evaluated
    text = (root / "evaluation_summary.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    summary = json.loads(text)
    validate_summary(summary)
    assert summary["n_models"] == 3 and summary["n_failed"] == 0
    names = [(m["variant"], m["model_name"]) for m in summary["metrics"]]
    assert names == [("copy-h6", "model-1"), ("perm-h12", "model-2"), ("perm-h12", "model-10")]
    small = summary["metrics"][0]
    assert small["hidden_too_small"] is True and small["frob_error_seq3"] is None
    perm = summary["metrics"][1]
    assert perm["accuracy"] == 1.0 and perm["spectral_error_seq3"] < 1e-6
    assert set(summary["variants"]) == {"copy-h6", "perm-h12"}
    assert summary["variants"]["perm-h12"]["model"]["hidden_dim"] == 12
    for key in ("timestamp", "n_models", "evaluation_config", "metrics"):
        assert key in summary


def test_validate_summary_rejects_nan_missing_keys_and_bad_counts(evaluated):
    root, _ = evaluated
    summary = json.loads((root / "evaluation_summary.json").read_text())
    bad = copy.deepcopy(summary)
    bad["metrics"][0]["accuracy"] = math.nan
    with pytest.raises(SummaryValidationError, match="non-finite"):
        validate_summary(bad)
    bad = copy.deepcopy(summary)
    del bad["metrics"][1]["spectral_error_seq3"]
    with pytest.raises(SummaryValidationError, match="spectral_error_seq3"):
        validate_summary(bad)
    bad = copy.deepcopy(summary)
    bad["n_models"] = 7
    with pytest.raises(SummaryValidationError, match="n_models"):
        validate_summary(bad)
    bad = copy.deepcopy(summary)
    bad["metrics"][0]["eigenvalues_rnn_seq3"] = [[1.0]]
    with pytest.raises(SummaryValidationError, match="eigenvalues_rnn_seq3"):
        validate_summary(bad)


def test_schema_is_versioned_and_packaged():
    schema = io.load_summary_schema()
    assert schema["$id"].endswith("1.0.0") and schema["version"] == "1.0.0"
    assert schema["properties"]["schema_version"]["const"] == "1.0.0"
    assert build_summary([], {})["schema_version"] == "1.0.0"
    validate_summary(build_summary([], {"evaluation": {}}))


def test_cli_flags_and_seq_length_range():
    parser = make_parser()
    args = parser.parse_args(["evaluate", "--models_dir", "x", "--seq_length", "3", "5"])
    assert args.seq_length == [3, 4, 5]
    assert args.test_horizon == 200 and args.accelerator == "auto" and args.n_batches == 10
    assert args.magnitude_threshold == 0.0 and args.model_pattern == "model-*"
    assert parser.parse_args(["evaluate", "--models_dir", "x", "--seq_length", "8"]).seq_length == [
        8
    ]
    for bad in (
        ["--seq_length", "3", "4", "5"],
        ["--seq_length", "5", "3"],
        ["--accelerator", "tpu"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(["evaluate", "--models_dir", "x", *bad])


def test_failed_model_is_reported_not_dropped(tmp_path, capsys):
    root = tmp_path / "exp"
    random_model(root, seed=1, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    broken = random_model(root, seed=2, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    (broken / "checkpoint" / "model.pt").write_bytes(b"not a checkpoint")
    args = make_parser().parse_args(
        ["evaluate", "--models_dir", str(root), "--no_figures", "--test_horizon", "20",
         "--n_batches", "1", "--batch_size", "8", "--accelerator", "cpu"]
    )  # fmt: skip
    assert args.func(args) == 1
    summary = json.loads((root / "evaluation_summary.json").read_text())
    assert summary["n_models"] == 1 and summary["n_failed"] == 1
    assert "model-2" in summary["failed_models"][0]["model"]
    assert "CheckpointError" in summary["failed_models"][0]["error"]
    assert not (root / "global_analysis").exists()
    assert "FAILED" in capsys.readouterr().err


def test_aggregate_cli_and_run_aggregate(evaluated, tmp_path):
    root, _ = evaluated
    paths = io.find_metrics_files(root)
    assert [p.parent.parent.name for p in paths] == ["model-1", "model-2", "model-10"]
    files = run_aggregate(paths, tmp_path / "s.json", None, tmp_path / "tables", {"evaluation": {}})
    assert [f.name for f in files] == ["s.json", "table1.csv", "table1.tex"]
    out = tmp_path / "agg"
    args = make_parser().parse_args(
        ["aggregate", "--experiment_dir", str(root), "--summary", str(out / "summary.json"),
         "--no_figures", "--no_tables"]
    )  # fmt: skip
    assert args.func(args) == 0
    assert json.loads((out / "summary.json").read_text())["n_models"] == 3


def test_run_evaluate_model_writes_arrays_then_metrics(tmp_path):
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 12)
    model_dir = write_model(tmp_path / "exp", weights, (7, 0, 0), 3, 3, seed=4)
    out = tmp_path / "results"
    files = run_evaluate_model(model_dir / "checkpoint" / "model.pt", out, **FAST)
    assert [f.name for f in files] == ["arrays.npz", "metrics.json"]
    metrics = io.read_json(out / "metrics.json")
    assert metrics["output_dir"] == str(out) and metrics["accuracy"] == 1.0
    arrays = io.read_npz(out / "arrays.npz")
    assert arrays["phi_empirical_seq3"].shape == (19, 19)
    np.testing.assert_array_equal(arrays["accuracy_per_step"], metrics["accuracy_per_step"])


def test_paper_figures_choose_the_best_model_per_task(evaluated, tmp_path):
    root, _ = evaluated
    files = run_paper_figures([root / "evaluation_summary.json"], tmp_path, tasks=["7_4_5"])
    names = sorted(f.name for f in files)
    assert names == ["figure3_7_4_5.png", "figure4_7_4_5.png", "paper_figures_7_4_5.json"]
    chosen = json.loads((tmp_path / "paper_figures_7_4_5.json").read_text())["chosen"]
    assert chosen["model_name"] == "model-2"  # equal errors: the lower seed wins
    assert chosen["candidates"] == 2
    # A requested task without any model still gets its (placeholder) figures.
    files = run_paper_figures([root / "evaluation_summary.json"], tmp_path / "none", tasks=["T9"])
    assert sorted(f.name for f in files) == [
        "figure3_T9.png",
        "figure4_T9.png",
        "paper_figures_T9.json",
    ]
    assert json.loads(files[-1].read_text()) == {"chosen": None}


def test_figure_functions_return_labelled_figures():
    rng = np.random.default_rng(0)
    fig = figures.phi_figure(rng.standard_normal((14, 14)), np.eye(12, 3), 3, 4, title="t")
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert any(ax.get_label() == "<colorbar>" for ax in axes)
    main = [ax for ax in axes if ax.get_title()]
    assert {ax.get_title() for ax in main} >= {"empirical Φ = Re(Ψ* W_hh Ψ)"}
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in main)
    fig = figures.memory_trajectory_figure(rng.standard_normal((10, 3, 4)), range(10), 4)
    assert len([ax for ax in fig.get_axes() if ax.get_title().startswith("t = ")]) == 10
    records = [{"eigenvalues_whh": [[1.0, 0.0], [0.0, 0.5]], "accuracy": 0.7}]
    fig = figures.global_statistics_figure(records, [8])
    assert fig.get_suptitle() == "Statistics over 1 models"

"""The evaluation stage's jobs and CLI: block evaluation, aggregation, summary + schema, figures."""

from __future__ import annotations

import argparse
import copy
import json
import math

import numpy as np
import pytest
import torch
from helpers.evaluation import FAST, exact_circuit, job_of, random_model, write_model
from matplotlib.figure import Figure

from vbpipe.errors import VbpipeError
from vbpipe.evaluation import figures
from vbpipe.evaluation.cli import add_aggregate_parser, add_evaluate_parser
from vbpipe.jobs.aggregate import aggregate_experiment
from vbpipe.jobs.evaluate import EvaluationError, evaluate_models
from vbpipe.jobs.figures import draw_paper_figures, global_data
from vbpipe.jobs.model_figures import draw_model_figures
from vbpipe.results.errors import ResultsError
from vbpipe.results.layout import GLOBAL_FIGURES, model_figure_names
from vbpipe.results.records import (
    EvaluationJob,
    ModelIdentity,
    array_key,
    read_metrics,
    read_model_arrays,
)
from vbpipe.results.summary import (
    SUMMARY_SCHEMA_VERSION,
    SummaryValidationError,
    build_summary,
    experiment_from_summary,
    load_summary_schema,
    validate_summary,
)
from vbpipe.training.kernel import init_weights


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


def test_cli_evaluate_writes_results_table_summary_and_config(evaluated):
    root, status = evaluated
    assert status == 0
    for model in ("copy-h6/model-1", "perm-h12/model-2", "perm-h12/model-10"):
        results = root / model / "results"
        assert sorted(p.name for p in results.iterdir()) == ["arrays.npz", "metrics.json"]
    names = {p.name for p in root.iterdir()}
    assert names >= {
        "eval_config.json",
        "evaluation_summary.json",
        "evaluation_table.csv",
        "evaluation_arrays.npz",
        "tables",
    }
    assert "global_analysis" not in names
    assert sorted(p.name for p in (root / "tables").iterdir()) == ["table1.csv", "table1.tex"]
    config = json.loads((root / "eval_config.json").read_text())
    assert config["evaluation"]["magnitude_threshold"] == 0.5
    assert config["metadata"]["script"] == "vbpipe evaluate"
    assert not list(root.rglob("*.tmp"))


def test_cli_evaluate_with_figures(tmp_path):
    """One variant directory given as --models_dir: per-model and global figures."""
    root = tmp_path / "exp"
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 12)
    model_dir = write_model(root, weights, (7, 0, 0), 3, 3, seed=4)
    args = make_parser().parse_args(
        ["evaluate", "--models_dir", str(root / "var"), "--test_horizon", "30", "--n_batches", "1",
         "--batch_size", "8", "--accelerator", "cpu", "--seq_length", "3", "4"]
    )  # fmt: skip
    assert args.func(args) == 0
    results = model_dir / "results"
    for name in model_figure_names([3, 4]):
        assert (results / name).stat().st_size > 10_000, name
    for name in GLOBAL_FIGURES:
        assert (root / "var" / "global_analysis" / name).stat().st_size > 10_000, name
    summary = json.loads((root / "var" / "evaluation_summary.json").read_text())
    assert summary["evaluation_config"]["training_config"]["model"]["hidden_dim"] == 12
    assert summary["metrics"][0]["seq_lengths"] == [3, 4]


def test_figures_of_a_diverged_model_come_from_saved_files_alone(tmp_path):
    weights = init_weights(4, 3, 8, 3)
    weights["W_hh"][0, 0] = float("inf")
    outcome = {"converged": False, "diverged": True, "diverged_at_step": 5}
    model_dir = write_model(tmp_path, weights, (7, 0, 0), 3, 3, seed=4, outcome=outcome)
    evaluate_models([job_of(model_dir)], {"test_horizon": 20, "n_batches": 1}, log=None)
    (model_dir / "checkpoint" / "model.pt").unlink()  # figures need only metrics + arrays
    files = draw_model_figures([model_dir / "results"])
    assert [p.name for p in files] == model_figure_names([3])  # every declared file exists
    assert all(p.stat().st_size > 5_000 for p in files)


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
    assert perm["hidden_dim"] == 12 and perm["params"]["task_id"] == ["7", "4", "5"]
    assert len(perm["eigenvalues_rnn_seq3"]) == 9 and len(perm["eigenvalues_rnn_seq3"][0]) == 2
    assert sum(perm["angle_histogram_rnn_seq3"]) == 9
    assert len(perm["accuracy_per_step_seq3"]) == 40 and len(perm["histogram_bins"]["angle"]) == 37
    assert perm["spectral_error_deg_seq3"] == pytest.approx(
        math.degrees(perm["spectral_error_seq3"])
    )
    for key in ("timestamp", "n_models", "evaluation_config", "metrics"):
        assert key in summary
    for record in summary["metrics"]:
        assert not any("path" in key or key == "output_dir" for key in record)


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
    schema = load_summary_schema()
    assert schema["$id"].endswith(SUMMARY_SCHEMA_VERSION) and schema["version"] == "2.0.0"
    assert schema["properties"]["schema_version"]["const"] == SUMMARY_SCHEMA_VERSION
    empty = experiment_from_summary({"metrics": []})
    document = build_summary(empty, {"evaluation": {}})
    assert document["schema_version"] == SUMMARY_SCHEMA_VERSION and document["n_models"] == 0
    validate_summary(document)


def test_cli_flags_and_seq_length_range():
    parser = make_parser()
    args = parser.parse_args(["evaluate", "--models_dir", "x", "--seq_length", "3", "5"])
    assert args.seq_length == [3, 4, 5]
    assert args.test_horizon == 200 and args.accelerator == "auto" and args.n_batches == 10
    assert args.magnitude_threshold == 0.0 and args.model_pattern == "model-*"
    args = parser.parse_args(["evaluate", "--models_dir", "x", "--seq_length", "8"])
    assert args.seq_length == [8]
    for bad in (
        ["--seq_length", "3", "4", "5"],
        ["--seq_length", "5", "3"],
        ["--accelerator", "tpu"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(["evaluate", "--models_dir", "x", *bad])
    args = parser.parse_args(["aggregate", "--experiment_dir", "e"])  # the earlier flag name
    assert args.models_dir == "e"


def test_failed_model_is_reported_not_dropped(tmp_path, capsys):
    root = tmp_path / "exp"
    random_model(root, seed=1, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    broken = random_model(root, seed=2, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    (broken / "checkpoint" / "model.pt").write_bytes(b"not a checkpoint")
    args = make_parser().parse_args(
        ["evaluate", "--models_dir", str(root), "--no_figures", "--test_horizon", "20",
         "--n_batches", "1", "--batch_size", "8", "--accelerator", "cpu"]
    )  # fmt: skip
    with pytest.raises(EvaluationError, match="model.pt") as error:
        args.func(args)
    assert isinstance(error.value, VbpipeError) and "\n" not in str(error.value)
    summary = json.loads((root / "evaluation_summary.json").read_text())
    assert summary["n_models"] == 1 and summary["n_failed"] == 1
    assert summary["failed_models"][0]["model"] == "var/model-2"
    assert "cannot be read as a checkpoint" in summary["failed_models"][0]["error"]
    assert not (broken / "results" / "metrics.json").exists()
    assert "FAILED" in capsys.readouterr().err


def test_cli_errors_name_the_directory(tmp_path):
    parser = make_parser()
    for argv, match in (
        (["evaluate", "--models_dir", str(tmp_path / "nope")], "does not exist"),
        (["evaluate", "--models_dir", str(tmp_path)], "neither a variant directory"),
    ):
        with pytest.raises(ResultsError, match=match):
            args = parser.parse_args(argv)
            args.func(args)
    (tmp_path / "config.json").write_text(json.dumps({"metadata": {"experiment_name": "e"}}))
    args = parser.parse_args(["evaluate", "--models_dir", str(tmp_path)])
    with pytest.raises(ResultsError, match="no model directory"):
        args.func(args)


def test_aggregate_cli(evaluated, tmp_path):
    root, _ = evaluated
    out = tmp_path / "agg"
    args = make_parser().parse_args(
        ["aggregate", "--models_dir", str(root), "--output_root", str(out), "--no_figures",
         "--no_tables"]
    )  # fmt: skip
    assert args.func(args) == 0
    assert json.loads((out / "evaluation_summary.json").read_text())["n_models"] == 3
    assert (out / "evaluation_table.csv").is_file() and not (out / "tables").exists()


def test_evaluate_models_writes_arrays_then_metrics_for_a_block(tmp_path):
    weights, _, _ = exact_circuit((7, 0, 0), 3, 3, 12)
    dirs = [write_model(tmp_path / "exp", weights, (7, 0, 0), 3, 3, seed=s) for s in (4, 5)]
    jobs = [job_of(dirs[0]), EvaluationJob.coerce(job_of(dirs[1]))]
    report = evaluate_models(jobs, FAST, "cpu", log=None)
    assert report.results_dirs == [d / "results" for d in dirs] and report.failures == []
    for model_dir in dirs:
        metrics = read_metrics(model_dir / "results" / "metrics.json")
        assert metrics["model"]["accuracy"] == 1.0
        arrays = read_model_arrays(model_dir / "results" / "arrays.npz")
        assert arrays[array_key("phi_empirical", 3)].shape == (19, 19)
        np.testing.assert_array_equal(
            arrays["accuracy_per_step"], arrays[array_key("accuracy_per_step", 3)]
        )
    with pytest.raises(ResultsError, match="unknown evaluation setting"):
        evaluate_models(jobs, {"magnitude_threshold": 0.5}, log=None)
    with pytest.raises(ResultsError, match="results directory of both"):
        evaluate_models([jobs[0], jobs[0]], FAST, log=None)


def test_paper_figures_choose_the_best_model_per_task(evaluated, tmp_path):
    root, _ = evaluated
    dirs = sorted(root.glob("*/model-*/results"))
    files = draw_paper_figures(
        dirs, "7_4_5", tmp_path / "f3.png", tmp_path / "f4.png", tmp_path / "choice.json"
    )
    assert [f.name for f in files] == ["f3.png", "f4.png", "choice.json"]
    choice = json.loads((tmp_path / "choice.json").read_text())
    assert choice["chosen"]["model_name"] == "model-2"  # equal errors: the lower seed wins
    assert choice["chosen"]["variant"] == "perm-h12" and choice["candidates"] == 2
    assert len(choice["chosen"]["checkpoint_sha256"]) == 64
    # A requested task without any model still gets its (placeholder) figures.
    files = draw_paper_figures(
        dirs, "T9", tmp_path / "g3.png", tmp_path / "g4.png", tmp_path / "none.json"
    )
    assert all(f.is_file() for f in files)
    assert json.loads(files[-1].read_text())["chosen"] is None


def test_global_figures_data_and_labels(evaluated):
    root, _ = evaluated
    results = experiment_from_summary(root / "evaluation_summary.json")
    data = global_data(results)
    assert data.n_models == 3 and data.lengths == [3] and len(data.whh) == 3
    assert len(data.theory[3]) == 3 and len(data.unit_counts[3]) == 3
    fig = figures.global_statistics_figure(data)
    assert fig.get_suptitle() == "Statistics over 3 models"


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


def test_aggregate_refuses_a_half_table1_request(evaluated, tmp_path):
    root, _ = evaluated
    with pytest.raises(ValueError, match="both"):
        aggregate_experiment(
            [],
            summary=tmp_path / "s.json",
            table=tmp_path / "t.csv",
            arrays=tmp_path / "a.npz",
            table1_csv=tmp_path / "t1.csv",
        )
    assert ModelIdentity("e", None, 3).label == "model-3"


def test_main_cli_prints_user_errors_as_one_line(tmp_path, capsys):
    from vbpipe.cli import main

    assert main(["evaluate", "--models_dir", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing" in err
    root = tmp_path / "exp"
    broken = random_model(root, seed=2, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    (broken / "checkpoint" / "model.pt").write_bytes(b"not a checkpoint")
    argv = ["evaluate", "--models_dir", str(root), "--no_figures", "--test_horizon", "10",
            "--n_batches", "1", "--batch_size", "4", "--accelerator", "cpu"]  # fmt: skip
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert "model-2/checkpoint/model.pt" in lines[-1] and lines[-1].startswith("vbpipe evaluate")
    assert main(["aggregate", "--models_dir", str(root)]) == 2  # model-2 has no result
    assert "metrics file does not exist" in capsys.readouterr().err

"""The vbpipe command: train round trip, refusals, and the task explainer."""

import json

import numpy as np
import pandas as pd
import pytest

from vbpipe.checkpoint import load_model
from vbpipe.cli import build_parser, main

ARGS = [
    "train",
    "--experiment_name",
    "exp",
    "--task_id",
    "repeat_copy",
    "--input_dim",
    "3",
    "--seq_length",
    "2",
    "--hidden_dim",
    "8",
    "--num_models",
    "2",
    "--seed",
    "5",
    "--epochs",
    "1",
    "--steps_per_epoch",
    "30",
    "--learning_rate",
    "0.01",
    "--curriculum_horizons",
    "5",
    "10",
    "--accelerator",
    "cpu",
    "--no_progress",
]


def test_train_round_trip_writes_original_config_and_checkpoints(tmp_path, capsys):
    assert main([*ARGS, "--output_dir", str(tmp_path)]) == 0
    config = json.loads((tmp_path / "exp" / "config.json").read_text())
    assert set(config) == {"metadata", "task", "model", "training", "execution"}
    assert config["training"]["seeds"] == [5, 1005]  # the original rule: seed + 1000 * i
    assert config["task"]["task_id"] == ["7", "0", "0"] and config["model"]["hidden_dim"] == 8
    for seed in (5, 1005):
        model = load_model(tmp_path / "exp" / f"model-{seed}" / "checkpoint" / "model.pt")
        assert model.hparams["seed"] == seed and model.outcome["steps"] == 30
    assert "trained 2" in capsys.readouterr().err


def test_rerun_skips_finished_seeds_and_adds_new_ones(tmp_path, capsys):
    main([*ARGS, "--output_dir", str(tmp_path)])
    capsys.readouterr()
    assert main([*ARGS, "--output_dir", str(tmp_path), "--num_models", "3"]) == 0
    err = capsys.readouterr().err
    assert err.count("skipped") == 2 and "seed 2005: finished" in err
    config = json.loads((tmp_path / "exp" / "config.json").read_text())
    assert config["training"]["seeds"] == [5, 1005, 2005]


def test_a_different_config_in_the_same_directory_is_refused(tmp_path, capsys):
    main([*ARGS, "--output_dir", str(tmp_path)])
    capsys.readouterr()
    code = main([*ARGS, "--output_dir", str(tmp_path), "--learning_rate", "0.5"])
    assert code == 2 and "different configuration" in capsys.readouterr().err


@pytest.mark.parametrize(
    "bad, message",
    [
        (["--task_id", "254", "0", "0"], "one-bits"),
        (["--hidden_dim", "0"], "hidden_dim"),
        (["--curriculum_threshold", "1.5"], "curriculum_threshold"),
        (["--seq_length", "3", "2"], "seq_length"),
        (["--task_id", "1", "2"], "task_id"),
    ],
)
def test_bad_arguments_fail_before_training(tmp_path, capsys, bad, message):
    assert main([*ARGS, "--output_dir", str(tmp_path), *bad]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "exp").exists()


def test_variable_length_training_through_the_cli(tmp_path, capsys):
    args = [a if a != "2" else "2" for a in ARGS]
    index = args.index("--seq_length")
    args[index + 1 : index + 2] = ["2", "3"]
    assert main([*args, "--output_dir", str(tmp_path), "--num_models", "1"]) == 0
    model = load_model(tmp_path / "exp" / "model-5" / "checkpoint" / "model.pt")
    assert model.hparams["seq_length"] == [2, 3]

    # evaluated at each length, then vbpipe analyze variable_length: per-length means of the
    # table, and the best linear filter beside them (repeat copy), under the run's name
    from vbpipe.jobs.variable_length import mse_optimal_linear_accuracy

    exp = tmp_path / "exp"
    argv = ["evaluate", "--models_dir", str(exp), "--seq_length", "2", "3", "--n_batches", "2",
            "--no_figures"]  # fmt: skip
    assert main(argv) == 0
    table = exp / "evaluation_table.csv"
    argv = ["analyze", "variable_length", "--table_file", str(table),
            "--arrays_file", str(exp / "evaluation_arrays.npz")]  # fmt: skip
    assert main(argv) == 0
    found = json.loads((exp / "analysis" / "variable_length" / "variable_length.json").read_text())
    rows = pd.read_csv(table)
    assert found["lengths"] == [2, 3] and list(found["accuracy"]) == ["exp"]
    for length in (2, 3):
        expected = rows.loc[rows["eval_length"] == length, "accuracy"].mean()
        assert found["accuracy"]["exp"][str(length)] == pytest.approx(expected)
        reference = mse_optimal_linear_accuracy([2, 3], 200)[length].mean()
        assert found["mse_optimal_linear_accuracy"][str(length)] == pytest.approx(reference)
        assert 0.5 < reference < 1.0  # one operator cannot shift with periods 2 and 3 at once
    assert (exp / "analysis" / "variable_length" / "variable_length_roots.png").stat().st_size > 0

    # the input-phase analysis needs one length: refused before anything is written
    capsys.readouterr()
    argv = ["analyze", "input_phase", "--models", str(exp / "model-5"), "--output_dir",
            str(tmp_path / "ip")]  # fmt: skip
    _fails_in_one_line(capsys, argv, "fixed sequence length")
    assert not (tmp_path / "ip").exists()


def test_task_explainer(capsys):
    assert main(["task", "T3"]) == 0
    out = capsys.readouterr().out
    assert "y_t[0] = -y_(t-4)[4]" in out and "36 eigenvalues" in out


def _fails_in_one_line(capsys, argv, *words):
    try:
        code = main(argv)
    except SystemExit as exit:  # argument errors exit from argparse
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--accelerator", "gpu"], ["--accelerator gpu", "no CUDA"]),
        (["--seeds", "1", "1", "--models_per_job", "2"], ["--seeds", "distinct"]),
        (["--num_models", "0"], ["--num_models", ">= 1"]),
        (["--models_per_job", "0"], ["--models_per_job"]),
        (["--threads", "0"], ["--threads"]),
        (["--l2_penalty", "1e39"], ["l2_penalty", "1000"]),
    ],
)
def test_train_refusals_are_one_line_and_write_nothing(tmp_path, capsys, extra, words):
    import torch

    if extra[:2] == ["--accelerator", "gpu"] and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    _fails_in_one_line(capsys, [*ARGS, "--output_dir", str(tmp_path), *extra], *words)
    assert not (tmp_path / "exp").exists()


def test_output_dir_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a directory")
    _fails_in_one_line(capsys, [*ARGS, "--output_dir", str(target)], "is not a directory")
    assert target.read_text() == "not a directory"


def test_task_and_stage_refusals_are_one_line(tmp_path, capsys):
    _fails_in_one_line(capsys, ["task", "T1", "--seq_length", "0"], "--seq_length")
    _fails_in_one_line(capsys, ["task", "T3", "--seq_length", "3"], "task_id")
    _fails_in_one_line(capsys, ["evaluate", "--models_dir", str(tmp_path / "nope")], "nope")
    (tmp_path / "empty").mkdir()
    _fails_in_one_line(capsys, ["evaluate", "--models_dir", str(tmp_path / "empty")], "empty")


def test_no_curriculum_keeps_the_original_spelling(tmp_path):
    from vbpipe.cli import config_from_args

    parser = build_parser()
    for flag in ("--no_curriculum", "--no-curriculum"):
        args = parser.parse_args([*ARGS, flag])
        assert config_from_args(args).curriculum is False
    assert "--no-curriculum" in parser._subparsers._group_actions[0].choices["train"].format_help()


def test_analytic_circuits_are_built_and_evaluated_like_trained_models(tmp_path, capsys):
    """The diagonal task y_t[j] = y_{t-3+j}[j] (d = L = 3): the naive EMT circuit mixes inputs during
    the input phase and fails some bits; the gated circuit solves it exactly."""
    from vbpipe.results.records import read_metrics

    accuracy = {}
    for kind in ("circuit_naive", "circuit_gated"):
        argv = ["train", "--experiment_name", kind, "--output_dir", str(tmp_path), "--task_id",
                "273", "0", "0", "--input_dim", "3", "--seq_length", "3", "--hidden_dim", "16",
                "--seeds", "1", "--model_type", kind, "--accelerator", "cpu", "--no_progress"]  # fmt: skip
        assert main(argv) == 0, capsys.readouterr().err
        assert main(["evaluate", "--models_dir", str(tmp_path / kind), "--no_figures"]) == 0
        metrics = read_metrics(tmp_path / kind / "model-1" / "results" / "metrics.json")
        assert metrics["training"]["train_steps"] == 0
        accuracy[kind] = metrics["model"]["accuracy"]
    assert accuracy["circuit_gated"] == 1.0 and accuracy["circuit_naive"] < 0.99, accuracy

    # the leaky circuit through the same path: its scale a training flag, recorded, and W_hh the
    # naive circuit's (same seed, same frame) times the scale
    argv = ["train", "--experiment_name", "circuit_leaky", "--output_dir", str(tmp_path),
            "--task_id", "273", "0", "0", "--input_dim", "3", "--seq_length", "3", "--hidden_dim",
            "16", "--seeds", "1", "--model_type", "circuit_leaky", "--circuit_scale", "0.3",
            "--accelerator", "cpu", "--no_progress"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert main(["evaluate", "--models_dir", str(tmp_path / "circuit_leaky"), "--no_figures"]) == 0
    leaky = load_model(tmp_path / "circuit_leaky" / "model-1" / "checkpoint" / "model.pt")
    naive = load_model(tmp_path / "circuit_naive" / "model-1" / "checkpoint" / "model.pt")
    assert leaky.hparams["circuit_scale"] == 0.3 and "circuit_scale" not in naive.hparams
    np.testing.assert_allclose(leaky.weights["W_hh"], 0.3 * naive.weights["W_hh"], rtol=1e-6)
    metrics = read_metrics(tmp_path / "circuit_leaky" / "model-1" / "results" / "metrics.json")
    assert metrics["training"]["train_steps"] == 0 and 0.5 < metrics["model"]["accuracy"] <= 1

    # vbpipe analyze input_phase on the two circuits as "models": the naive one leaks inputs into
    # the memories by the end of the input phase, the gated one does not (the known answer).
    out = tmp_path / "input_phase"
    models = [str(tmp_path / kind / "model-1") for kind in ("circuit_naive", "circuit_gated")]
    argv = ["analyze", "input_phase", "--models", *models, "--names", "naive", "gated",
            "--output_dir", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    rows = {r["model"]: r for r in json.loads((out / "input_phase.json").read_text())["models"]}
    assert rows["naive"]["contamination_end_of_input"] > 0.01
    assert rows["gated"]["contamination_end_of_input"] < 1e-9
    assert rows["gated"]["linearisation"]["none"] == 1.0
    assert {"naive circuit", "gated circuit", "leaky circuit"} <= set(rows)
    assert rows["gated circuit"]["saturated_fraction_input_phase"] > 0
    assert rows["naive circuit"]["contamination_written_end_of_input"] < 1e-9
    assert (out / "input_phase_growth.png").stat().st_size > 0


def test_every_stage_has_a_subcommand():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"train", "evaluate", "analyze", "task"} <= set(commands)


def test_census_through_the_cli(tmp_path, capsys):
    """vbpipe analyze census on a run trained and evaluated by the CLI (no variants: checkpoints
    found under the run's directory); a bad threshold is refused in one line before any work."""
    assert main([*ARGS, "--output_dir", str(tmp_path)]) == 0
    exp = tmp_path / "exp"
    argv = ["evaluate", "--models_dir", str(exp), "--n_batches", "1", "--no_figures"]
    assert main(argv) == 0
    source = ["--table_file", str(exp / "evaluation_table.csv"),
              "--arrays_file", str(exp / "evaluation_arrays.npz")]  # fmt: skip
    capsys.readouterr()
    assert main(["analyze", "census", *source, "--chance_accuracy", "0.95"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chance_accuracy < solved_accuracy" in err
    assert not (exp / "analysis" / "census").exists()
    argv = ["analyze", "census", *source, "--horizons", "300", "--n_sequences", "16"]
    assert main(argv) == 0
    models = pd.read_csv(exp / "analysis" / "census" / "census_models.csv")
    table = pd.read_csv(exp / "evaluation_table.csv")
    assert sorted(models["seed"]) == [5, 1005]
    assert list(models["accuracy"]) == pytest.approx(list(table["accuracy"]))
    assert set(models["mechanism"]) <= {"collapsed", "emt_linear", "contracting", "other"}
    assert {"accuracy_h300", "late_accuracy_h300", "holds_at_h300"} <= set(models.columns)
    assert (exp / "analysis" / "census" / "census.png").stat().st_size > 0

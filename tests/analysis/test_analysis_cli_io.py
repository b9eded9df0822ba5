"""``vbpipe analyze``: flags, sources (summary or table + arrays), default output directories."""

import argparse
import json

import numpy as np
import pytest

from vbpipe.analysis.cli import add_analyze_parser, default_comparison_dir, default_output_dir
from vbpipe.fileio import save_npy, write_json
from vbpipe.results.errors import ResultsError


def _parser():
    parser = argparse.ArgumentParser(prog="vbpipe")
    sub = parser.add_subparsers(dest="command", required=True)
    add_analyze_parser(sub)
    return parser


def _run(argv):
    args = _parser().parse_args(argv)
    return args.func(args)


def test_cli_defaults_and_func():
    args = _parser().parse_args(["analyze", "embedding", "--summary_file", "exp/s.json"])
    assert args.seq_length == 8 and args.method == "pca" and args.spectrum == "subspace"
    assert args.signature_type == "combined" and args.color_by == "accuracy"
    assert args.distance_metric == "euclidean" and args.annotate_outliers is False
    assert callable(args.func)
    args = _parser().parse_args(
        ["analyze", "persistence", "--summary_file", "s.json", "--metric", "wasserstein",
         "--embedding_method", "tsne", "--max_dimension", "0", "--normalize"]
    )  # fmt: skip
    assert (args.metric, args.embedding_method, args.max_dimension, args.normalize) == (
        "wasserstein",
        "tsne",
        0,
        True,
    )
    for bad in (
        ["analyze", "embedding", "--summary_file", "s", "--method", "umap"],
        ["analyze"],
        ["analyze", "eigenvalue"],  # no source
        ["analyze", "eigenvalue", "--summary_file", "s", "--table_file", "t"],
    ):
        with pytest.raises(SystemExit):
            _parser().parse_args(bad)


def test_cli_round_trip_eigenvalue_default_output_dir(make_summary, capsys):
    summary = make_summary(3, directory="exp_a")
    assert _run(["analyze", "eigenvalue", "--summary_file", str(summary), "--no_figures"]) == 0
    out_dir = summary.parent / "analysis" / "eigenvalue"
    assert (out_dir / "eigenvalue_statistics.json").is_file()
    assert str(out_dir / "eigenvalue_statistics.json") in capsys.readouterr().out


def test_cli_table_and_arrays_give_what_the_summary_gives(make_table, make_summary, tmp_path):
    table, arrays = make_table(4, directory="t")
    summary = make_summary(4, directory="s")
    for source, out in (
        (["--table_file", str(table), "--arrays_file", str(arrays)], tmp_path / "a"),
        (["--summary_file", str(summary)], tmp_path / "b"),
    ):
        argv = ["analyze", "eigenvalue", *source, "--output_dir", str(out), "--no_figures"]
        assert _run([*argv, "--eigenvalue_key", "eigenvalues_whh"]) == 0
    a = json.loads((tmp_path / "a" / "eigenvalue_statistics.json").read_text())
    b = json.loads((tmp_path / "b" / "eigenvalue_statistics.json").read_text())
    assert a["spectrum"] == "full" and a["models"] == b["models"]
    with pytest.raises(ResultsError, match="--arrays_file"):
        _run(["analyze", "eigenvalue", "--table_file", str(table)])
    with pytest.raises(ResultsError, match="--eigenvalue_key"):
        _run(["analyze", "eigenvalue", "--summary_file", str(summary), "--eigenvalue_key", "x"])


def test_cli_round_trip_compare(make_summary, tmp_path):
    a = make_summary(3, seed=1, directory="runs/exp_a")
    b = make_summary(3, seed=2, directory="runs/exp_b")
    argv = ["analyze", "compare", "--summary_files", str(a), str(b), "--labels", "A", "B",
            "--seq_length", "8", "--no_figures"]  # fmt: skip
    assert _run(argv) == 0
    data = json.loads((tmp_path / "runs" / "comparison" / "comparison_statistics.json").read_text())
    assert [d["label"] for d in data] == ["A", "B"]
    argv = ["analyze", "compare", "--summary_files", str(a), "--by", "hidden_dim", "--no_figures"]
    assert _run(argv) == 0
    data = json.loads(
        (a.parent / "analysis" / "comparison" / "comparison_statistics.json").read_text()
    )
    assert [d["label"] for d in data] == ["hidden_dim=64", "hidden_dim=128"]


def test_cli_round_trip_embedding_explicit_output(make_summary, tmp_path):
    summary = make_summary(6)
    out = tmp_path / "elsewhere"
    argv = ["analyze", "embedding", "--summary_file", str(summary), "--output_dir", str(out),
            "--method", "mds", "--signature_type", "statistics", "--color_by", "none",
            "--no_figures"]  # fmt: skip
    assert _run(argv) == 0
    assert np.load(out / "mds_embedding.npy").shape == (6, 2)


def test_default_dirs(tmp_path):
    assert default_output_dir("persistence", tmp_path / "e" / "s.json") == (
        tmp_path / "e" / "analysis" / "persistence"
    )
    assert default_comparison_dir(
        [tmp_path / "x" / "a" / "s.json", tmp_path / "x" / "b" / "s.json"]
    ) == (tmp_path / "x" / "comparison")


def test_write_json_converts_nan_and_numpy(tmp_path):
    path = write_json(
        tmp_path / "sub" / "x.json",
        {"a": np.float64("nan"), "b": np.arange(3), "c": np.int64(4), "d": [float("inf"), 1.5]},
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": [0, 1, 2], "c": 4, "d": [None, 1.5]}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]  # no temp file left behind


def test_save_npy_round_trip(tmp_path):
    arr = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(np.load(save_npy(tmp_path / "a.npy", arr)), arr)


def test_unreadable_summaries_are_user_errors(tmp_path):
    with pytest.raises(ResultsError, match="does not exist"):
        _run(["analyze", "eigenvalue", "--summary_file", str(tmp_path / "missing.json")])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"no": "metrics"}))
    with pytest.raises(ResultsError, match="metrics"):
        _run(["analyze", "eigenvalue", "--summary_file", str(bad)])
    bad.write_text(json.dumps({"metrics": [{"model_name": "m", "accuracy": 0.5}]}))
    with pytest.raises(ResultsError, match="seq_lengths"):
        _run(["analyze", "eigenvalue", "--summary_file", str(bad)])


def test_an_original_summary_is_read(tmp_path):
    """A summary of the original evaluate_multiple.py: only its keys."""
    rng = np.random.default_rng(0)
    records = []
    for i in range(3):
        eig = rng.normal(size=8) + 1j * rng.normal(size=8)
        records.append(
            {
                "model_name": f"model-{i}",
                "model_path": f"/old/model-{i}/x.ckpt",
                "accuracy": 0.9 + i / 100,
                "seq_lengths": [8],
                "hidden_dim": 128,
                "input_dim": 8,
                "batch_size": 64,
                "frob_relative_seq8": 0.5,
                "eigenvalues_rnn_seq8": [[z.real, z.imag] for z in eig],
                "eigenvalues_theory_seq8": [[1.0, 0.0]] * 8,
            }
        )
    summary = tmp_path / "old" / "evaluation_summary.json"
    write_json(summary, {"timestamp": "t", "n_models": 3, "metrics": records})
    argv = ["analyze", "embedding", "--summary_file", str(summary), "--method", "mds",
            "--color_by", "frob_error", "--no_figures"]  # fmt: skip
    assert _run(argv) == 0
    stats = json.loads(
        (tmp_path / "old" / "analysis/embedding/distance_statistics.json").read_text()
    )
    assert stats["model_names"] == ["model-0", "model-1", "model-2"]
    assert stats["color_by"] == "frob_relative"

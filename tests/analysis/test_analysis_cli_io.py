import argparse
import json

import numpy as np
import pytest

from vbpipe.analysis.cli import add_analyze_parser, default_comparison_dir, default_output_dir
from vbpipe.analysis.io import read_summary, save_npy, write_json


def _parser():
    parser = argparse.ArgumentParser(prog="vbpipe")
    sub = parser.add_subparsers(dest="command", required=True)
    add_analyze_parser(sub)
    return parser


def test_cli_defaults_and_func():
    args = _parser().parse_args(["analyze", "embedding", "--summary_file", "exp/s.json"])
    assert args.seq_length == 8 and args.method == "pca"
    assert args.signature_type == "combined" and args.color_by == "accuracy"
    assert args.distance_metric == "euclidean" and args.annotate_outliers is False
    assert callable(args.func)
    args = _parser().parse_args(
        [
            "analyze",
            "persistence",
            "--summary_file",
            "s.json",
            "--metric",
            "wasserstein",
            "--embedding_method",
            "tsne",
            "--max_dimension",
            "0",
            "--normalize",
        ]
    )
    assert (args.metric, args.embedding_method, args.max_dimension, args.normalize) == (
        "wasserstein",
        "tsne",
        0,
        True,
    )
    with pytest.raises(SystemExit):
        _parser().parse_args(["analyze", "embedding", "--summary_file", "s", "--method", "umap"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["analyze"])


def test_cli_round_trip_eigenvalue_default_output_dir(make_summary, capsys):
    summary = make_summary(3, directory="exp_a")
    args = _parser().parse_args(
        ["analyze", "eigenvalue", "--summary_file", str(summary), "--no_figures"]
    )
    assert args.func(args) == 0
    out_dir = summary.parent / "analysis" / "eigenvalue"
    assert (out_dir / "eigenvalue_statistics.json").is_file()
    assert str(out_dir / "eigenvalue_statistics.json") in capsys.readouterr().out


def test_cli_round_trip_compare(make_summary, tmp_path):
    a = make_summary(3, seed=1, directory="runs/exp_a")
    b = make_summary(3, seed=2, directory="runs/exp_b")
    args = _parser().parse_args(
        [
            "analyze",
            "compare",
            "--summary_files",
            str(a),
            str(b),
            "--labels",
            "A",
            "B",
            "--seq_length",
            "8",
            "--no_figures",
        ]
    )
    assert args.func(args) == 0
    data = json.loads((tmp_path / "runs" / "comparison" / "comparison_statistics.json").read_text())
    assert [d["label"] for d in data] == ["A", "B"]


def test_cli_round_trip_embedding_explicit_output(make_summary, tmp_path):
    summary = make_summary(6)
    out = tmp_path / "elsewhere"
    args = _parser().parse_args(
        [
            "analyze",
            "embedding",
            "--summary_file",
            str(summary),
            "--output_dir",
            str(out),
            "--method",
            "mds",
            "--signature_type",
            "statistics",
            "--color_by",
            "none",
            "--no_figures",
        ]
    )
    assert args.func(args) == 0
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


def test_write_json_failure_keeps_old_file(tmp_path):
    path = write_json(tmp_path / "x.json", {"ok": 1})
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_save_npy_round_trip(tmp_path):
    arr = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(np.load(save_npy(tmp_path / "a.npy", arr)), arr)


def test_read_summary_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_summary(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"no": "metrics"}))
    with pytest.raises(ValueError, match="metrics"):
        read_summary(bad)

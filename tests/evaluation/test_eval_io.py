"""File I/O (vbpipe.fileio) and the layout's discovery rules (vbpipe.results)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers.evaluation import random_model

from vbpipe import fileio
from vbpipe.errors import VbpipeError
from vbpipe.results.errors import ResultsError
from vbpipe.results.layout import (
    Layout,
    find_variant_dirs,
    model_dirs_of,
    model_figure_names,
    natural_key,
    seed_of_model_dir,
    variant_identity,
)


def test_write_json_turns_non_finite_into_null_and_numpy_into_python(tmp_path):
    path = fileio.write_json(
        tmp_path / "a" / "m.json",
        {"x": math.nan, "y": np.float32(1.5), "z": np.array([1, np.inf]), "c": 1 + 2j},
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"x": None, "y": 1.5, "z": [1.0, None], "c": [1.0, 2.0]}
    assert not list(tmp_path.rglob("*.tmp"))


def test_failed_write_leaves_the_old_file(tmp_path):
    path = fileio.write_json(tmp_path / "m.json", {"ok": 1})
    with pytest.raises(TypeError):
        fileio.write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}

    class BrokenFigure:  # fails half-way through writing
        def savefig(self, handle, **_):
            handle.write(b"partial")
            raise RuntimeError("disk full")

    target = tmp_path / "figure.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        fileio.save_figure(BrokenFigure(), target)
    assert target.read_bytes() == b"old"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("level", [0, 1])
def test_npz_round_trip_with_complex(tmp_path, level):
    arrays = {"eig": np.array([1 + 1j, 0.5j]), "m": np.eye(3), "s": np.array(["a", "bc"])}
    path = fileio.write_npz(tmp_path / "arrays.npz", arrays, compresslevel=level)
    with np.load(path) as data:  # a plain numpy .npz
        assert sorted(data.files) == ["eig", "m", "s"]
    back = fileio.read_npz(path)
    for key, value in arrays.items():
        np.testing.assert_array_equal(back[key], value)


def test_reading_missing_or_corrupt_files_names_them(tmp_path):
    with pytest.raises(fileio.MissingFileError, match="missing.json"):
        fileio.read_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": NaN}')
    with pytest.raises(fileio.CorruptFileError, match="bad.json"):
        fileio.read_json(bad)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(fileio.CorruptFileError, match="broken.npz"):
        fileio.read_npz(broken)
    # user errors, still the exception types callers caught before
    assert issubclass(fileio.MissingFileError, (VbpipeError, FileNotFoundError))
    assert issubclass(fileio.CorruptFileError, (VbpipeError, ValueError))


def test_natural_sort_and_model_discovery(tmp_path):
    root = tmp_path / "exp"
    for seed in (10, 2, 1):
        random_model(root, seed=seed, hidden=4, d=2, length=2, task_id=(3, 0, 0), variant="v-h10")
    random_model(root, seed=3, hidden=4, d=2, length=2, task_id=(3, 0, 0), variant="v-h9")
    (root / "v-h9" / "model-empty").mkdir()  # no checkpoint: not a model
    (root / "notes").mkdir()  # no config.json: not a variant
    variants = find_variant_dirs(root)
    assert [v.name for v in variants] == ["v-h9", "v-h10"]
    assert find_variant_dirs(root / "v-h10") == [root / "v-h10"]
    models = model_dirs_of(root / "v-h10")
    assert [m.name for m in models] == ["model-1", "model-2", "model-10"]
    assert [m.name for m in model_dirs_of(root / "v-h10", "model-1*")] == ["model-1", "model-10"]
    assert variant_identity(root / "v-h10") == ("exp", "v-h10")
    assert seed_of_model_dir(models[2]) == 10
    with pytest.raises(ResultsError, match="model-SEED"):
        seed_of_model_dir(root / "v-h9" / "model-empty")
    assert sorted(["model-10", "model-9", "model-1"], key=natural_key) == [
        "model-1",
        "model-9",
        "model-10",
    ]
    with pytest.raises(ResultsError, match="does not exist"):
        find_variant_dirs(root / "missing")
    with pytest.raises(ResultsError, match="neither a variant directory"):
        find_variant_dirs(root / "notes")


def test_variant_config_without_metadata_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"task": {}}))
    with pytest.raises(ResultsError, match="metadata.experiment_name"):
        variant_identity(tmp_path)
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(ResultsError, match="not valid JSON"):
        variant_identity(tmp_path)


def test_layout_names_every_file_once():
    layout = Layout("results")
    assert str(layout.metrics("{experiment}", "{variant}", "{seed}")) == (
        "results/{experiment}/{variant}/model-{seed}/results/metrics.json"
    )
    assert str(layout.checkpoint("e", "v", 3)) == "results/e/v/model-3/checkpoint/model.pt"
    assert [p.name for p in layout.model_figures("e", "v", 3, [3, 4])] == model_figure_names([3, 4])
    assert model_figure_names([8]) == [
        "test_sample.png",
        "accuracy_per_step.png",
        "eigenspectrum_full.png",
        "phi_empirical_seq8.png",
        "variable_memory_trajectory_seq8.png",
    ]
    assert [str(p) for p in layout.table1("e")] == [
        "results/e/tables/table1.csv",
        "results/e/tables/table1.tex",
    ]
    assert str(layout.paper_figures("e", "T1")[1]) == "results/e/paper_figures/figure4_T1.png"
    assert str(layout.analysis("e", "embedding", "pca")) == "results/e/analysis/embedding/pca"
    assert str(layout.comparison("c")) == "results/comparison/c"


def test_workflow_file_names():
    from vbpipe.results import layout as results

    assert results.model_file("e", "v", "{seed}", "sidecar") == (
        "results/e/v/model-{seed}/checkpoint/model.json"
    )
    assert results.model_file("e", "v", 3, "phi_empirical_seq8.png").endswith(
        "model-3/results/phi_empirical_seq8.png"
    )
    assert (
        results.variant_file("e", "v", "evaluate_benchmark")
        == "results/e/v/benchmarks/evaluate.tsv"
    )
    assert results.experiment_file("e", "aggregate_log") == "results/e/logs/aggregate.log"
    with pytest.raises(ResultsError, match="no model file"):
        results.model_file("e", "v", 3, "other.png")
    figures = results.model_figures([3])
    assert [f.name for f in figures] == model_figure_names([3])
    assert all(f.caption.endswith(".rst") and f.label for f in figures)
    outputs = results.experiment_outputs(
        "e",
        tasks=["T1"],
        analysis={"eigenvalue": True, "embedding": ["pca", "tsne"], "persistence": False},
        n_models=4,
    )
    assert "results/e/evaluation_table.csv" in outputs
    assert "results/e/paper_figures/paper_figures_T1.json" in outputs
    assert "results/e/analysis/embedding/pca/pca_embedding.png" in outputs
    assert not any("tsne" in o or "persistence" in o for o in outputs)  # 4 models: no t-SNE

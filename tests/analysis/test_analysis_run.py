import json
import time

import numpy as np
import pytest

from vbpipe.analysis.data import MissingDataWarning
from vbpipe.analysis.persistence import statistics_keys
from vbpipe.analysis.run import run_compare, run_eigenvalue, run_embedding, run_persistence
from vbpipe.analysis.statistics import STATISTIC_NAMES


def _names(paths):
    return sorted(p.name for p in paths)


def test_run_eigenvalue_three_models(make_summary, tmp_path, strict_json, monkeypatch):
    summary = make_summary(3)
    monkeypatch.chdir(tmp_path)  # nothing may land in the CWD
    out = tmp_path / "out" / "eigenvalue"
    written = run_eigenvalue(summary, out, 8)
    assert _names(written) == [
        "complex_plane_examples.png",
        "eigenvalue_statistics.json",
        "statistics_scatter_matrix.png",
    ]
    assert all(p.parent == out and p.stat().st_size > 0 for p in written)
    data = strict_json(out / "eigenvalue_statistics.json")
    assert data["n_models"] == 3 and [m["model_name"] for m in data["models"]] == [
        "model-1",
        "model-2",
        "model-3",
    ]
    assert list(data["models"][0]["statistics"]) == list(STATISTIC_NAMES)
    assert isinstance(data["models"][0]["statistics"]["n_unstable"], int)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment", "out"]


def test_missing_eigenvalues_are_skipped_with_warning(make_summary, tmp_path, strict_json):
    broken = [
        {"model_name": "model-x", "accuracy": 0.5},
        {"model_name": "model-y", "accuracy": None, "eigenvalues_rnn_seq8": []},
    ]
    summary = make_summary(3, extra_entries=broken)
    with pytest.warns(MissingDataWarning, match="model-x.*model-y"):
        run_eigenvalue(summary, tmp_path / "o", 8, make_figures=False)
    assert strict_json(tmp_path / "o" / "eigenvalue_statistics.json")["n_models"] == 3


def test_no_usable_model_raises(make_summary, tmp_path):
    summary = make_summary(2)
    with pytest.warns(MissingDataWarning), pytest.raises(ValueError, match="no model"):
        run_eigenvalue(summary, tmp_path / "o", seq_length=16, make_figures=False)
    assert not (tmp_path / "o").exists()


def test_eigenvalue_key_full_whh(make_summary, tmp_path, strict_json):
    summary = make_summary(3, n_eig=6)
    run_eigenvalue(summary, tmp_path / "o", 8, eigenvalue_key="eigenvalues_whh", make_figures=False)
    data = strict_json(tmp_path / "o" / "eigenvalue_statistics.json")
    assert data["eigenvalue_key"] == "eigenvalues_whh"
    assert data["models"][0]["n_eigenvalues"] == 8


@pytest.mark.parametrize("method", ["pca", "mds", "isomap"])
def test_run_embedding_three_models(make_summary, tmp_path, strict_json, method):
    summary = make_summary(3)
    out = tmp_path / "emb"
    figs = method == "pca"
    written = run_embedding(
        summary, out, 8, method=method, color_by="spectral_error", make_figures=figs
    )
    expected = {f"{method}_embedding.npy", "distance_matrix.npy", "distance_statistics.json"}
    if figs:
        expected |= {"pca_variance.png", "pca_embedding.png"}
    assert set(_names(written)) == expected
    coords = np.load(out / f"{method}_embedding.npy")
    assert coords.shape == (3, 2) and np.all(np.isfinite(coords))
    d = np.load(out / "distance_matrix.npy")
    assert np.array_equal(d, d.T) and np.all(np.diag(d) == 0)
    stats = strict_json(out / "distance_statistics.json")
    assert stats["n_pairs"] == 3 and stats["signature_type"] == "combined"


def test_run_embedding_tsne_too_few_models_writes_nothing(make_summary, tmp_path):
    summary = make_summary(3)
    with pytest.raises(ValueError, match="t-SNE needs at least 5 models"):
        run_embedding(summary, tmp_path / "emb", 8, method="tsne")
    assert not (tmp_path / "emb").exists()


def test_run_embedding_unknown_color_metric(make_summary, tmp_path):
    with pytest.raises(ValueError, match="no model has a metric 'nonexistent'"):
        run_embedding(make_summary(3), tmp_path / "e", 8, color_by="nonexistent")


def test_run_embedding_300_models(make_summary, tmp_path, strict_json):
    summary = make_summary(300, n_eig=64, seed=5)
    out = tmp_path / "emb"
    t0 = time.perf_counter()
    run_embedding(summary, out, 8, method="pca", annotate_outliers=True)
    run_embedding(
        summary,
        out,
        8,
        method="tsne",
        signature_type="statistics",
        distance_metric="cityblock",
        color_by="frob_error",
        make_figures=False,
    )
    run_embedding(
        summary,
        out,
        8,
        method="mds",
        distance_metric="wasserstein_2d",
        color_by="none",
        make_figures=False,
    )
    assert time.perf_counter() - t0 < 60
    for method in ("pca", "tsne", "mds"):
        assert np.load(out / f"{method}_embedding.npy").shape == (300, 2)
    stats = strict_json(out / "distance_statistics.json")
    assert stats["n_pairs"] == 300 * 299 // 2 and stats["distance_metric"] == "wasserstein_2d"
    assert len(stats["model_names"]) == 300


@pytest.mark.parametrize("metric", ["bottleneck", "wasserstein"])
def test_run_persistence_three_models(make_summary, tmp_path, strict_json, metric):
    summary = make_summary(3)
    out = tmp_path / "pers"
    figs = metric == "bottleneck"
    written = run_persistence(
        summary, out, 8, metric=metric, embedding_method="mds", make_figures=figs
    )
    expected = {
        f"persistence_{metric}_distances.npy",
        "persistence_mds_embedding.npy",
        "persistence_statistics.json",
    }
    if figs:
        expected |= {
            "persistence_mds_embedding.png",
            "example_persistence_diagrams.png",
            "topological_features.png",
            "betti_curves.png",
        }
    assert set(_names(written)) == expected
    d = np.load(out / f"persistence_{metric}_distances.npy")
    assert d.shape == (3, 3) and np.array_equal(d, d.T) and np.all(np.diag(d) == 0)
    data = strict_json(out / "persistence_statistics.json")
    assert data["n_models"] == 3
    keys = statistics_keys(1)
    assert all(set(keys) <= set(s) for s in data["statistics"])
    assert set(data["aggregate_statistics"]) == set(keys)


def test_run_persistence_300_models_with_subset(make_summary, tmp_path, strict_json):
    summary = make_summary(300, n_eig=32, seed=6)
    out = tmp_path / "pers"
    t0 = time.perf_counter()
    run_persistence(
        summary,
        out,
        8,
        metric="bottleneck",
        embedding_method="pca",
        normalize=True,
        max_models=120,
        make_figures=False,
    )
    elapsed = time.perf_counter() - t0
    assert elapsed < 60
    data = strict_json(out / "persistence_statistics.json")
    assert data["n_models"] == 300 and len(data["statistics"]) == 300
    assert len(data["distance_models"]) == 120
    assert np.load(out / "persistence_bottleneck_distances.npy").shape == (120, 120)
    assert np.load(out / "persistence_pca_embedding.npy").shape == (120, 2)


def test_run_compare(make_summary, tmp_path, strict_json):
    a = make_summary(4, seed=1, directory="exp_h128")
    b = make_summary(5, seed=2, directory="exp_h64", spread=3.0)
    out = tmp_path / "cmp"
    written = run_compare([a, b], ["h128", "h64"], out, 8)
    assert set(_names(written)) == {
        "comparison_statistics.json",
        "comparison_complex_plane.png",
        "comparison_metrics.png",
        "comparison_spectra.png",
    }
    data = strict_json(out / "comparison_statistics.json")
    assert [d["label"] for d in data] == ["h128", "h64"]
    assert [d["n_models"] for d in data] == [4, 5]
    assert set(data[0]["statistics"]) == set(STATISTIC_NAMES)
    assert set(data[0]["statistics"]["mag_mean"]) == {"mean", "std", "min", "max", "sem", "n"}
    with pytest.raises(ValueError, match="label"):
        run_compare([a, b], ["only-one"], out, 8)


def test_written_json_has_no_nan_even_with_null_metrics(make_summary, tmp_path):
    summary = make_summary(4)
    raw = json.loads(summary.read_text())
    for m in raw["metrics"]:
        m["accuracy"] = None
    summary.write_text(json.dumps(raw))
    run_persistence(summary, tmp_path / "p", 8, make_figures=False)
    text = (tmp_path / "p" / "persistence_statistics.json").read_text()
    assert "NaN" not in text and '"accuracy": null' in text

"""The analysis jobs on synthetic experiment results (in memory, a summary file or a table)."""

import json

import numpy as np
import pytest

from vbpipe.analysis.data import MissingDataWarning, NoModelsError
from vbpipe.analysis.persistence import statistics_keys
from vbpipe.analysis.statistics import STATISTIC_NAMES
from vbpipe.jobs.compare import analyze_compare
from vbpipe.jobs.eigenvalue import analyze_eigenvalue
from vbpipe.jobs.embedding import analyze_embedding
from vbpipe.jobs.persistence import analyze_persistence
from vbpipe.results.errors import ResultsError
from vbpipe.results.layout import (
    COMPARISON_OUTPUTS,
    EIGENVALUE_OUTPUTS,
    embedding_outputs,
    persistence_outputs,
)


def _names(paths):
    return sorted(p.name for p in paths)


def test_run_eigenvalue_three_models(make_summary, tmp_path, strict_json, monkeypatch):
    summary = make_summary(3)
    monkeypatch.chdir(tmp_path)  # nothing may land in the CWD
    out = tmp_path / "out" / "eigenvalue"
    written = analyze_eigenvalue(summary, out, 8)
    assert _names(written) == sorted(EIGENVALUE_OUTPUTS)
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
    summary = make_summary(3, n_diverged=2)
    with pytest.warns(MissingDataWarning, match="model-4.*model-5"):
        analyze_eigenvalue(summary, tmp_path / "o", 8, make_figures=False)
    assert strict_json(tmp_path / "o" / "eigenvalue_statistics.json")["n_models"] == 3


def test_no_usable_model_raises(make_summary, tmp_path):
    summary = make_summary(2)
    with pytest.raises(NoModelsError, match="no model"):
        analyze_eigenvalue(summary, tmp_path / "o", seq_length=16, make_figures=False)
    assert not (tmp_path / "o").exists()


def test_full_spectrum_from_a_table(make_table, tmp_path, strict_json):
    table, arrays = make_table(3, n_eig=6)
    analyze_eigenvalue((table, arrays), tmp_path / "o", 8, spectrum="full", make_figures=False)
    data = strict_json(tmp_path / "o" / "eigenvalue_statistics.json")
    assert data["spectrum"] == "full" and data["source"] == str(table)
    assert data["models"][0]["n_eigenvalues"] == 8


@pytest.mark.parametrize("method", ["pca", "mds", "isomap"])
def test_run_embedding_three_models(make_summary, tmp_path, strict_json, method):
    summary = make_summary(3)
    out = tmp_path / "emb"
    figs = method == "pca"
    written = analyze_embedding(
        summary, out, 8, method=method, color_by="spectral_error", make_figures=figs
    )
    assert set(_names(written)) == set(embedding_outputs(method, figures=figs))
    coords = np.load(out / f"{method}_embedding.npy")
    assert coords.shape == (3, 2) and np.all(np.isfinite(coords))
    d = np.load(out / "distance_matrix.npy")
    assert np.array_equal(d, d.T) and np.all(np.diag(d) == 0)
    stats = strict_json(out / "distance_statistics.json")
    assert stats["n_pairs"] == 3 and stats["signature_type"] == "combined"


def test_run_embedding_tsne_too_few_models_writes_nothing(make_summary, tmp_path):
    summary = make_summary(3)
    with pytest.raises(ValueError, match="t-SNE needs at least 5 models"):
        analyze_embedding(summary, tmp_path / "emb", 8, method="tsne")
    assert not (tmp_path / "emb").exists()


def test_run_embedding_unknown_color_metric(make_summary, tmp_path):
    with pytest.raises(ResultsError, match="no metric 'nonexistent'"):
        analyze_embedding(make_summary(3), tmp_path / "e", 8, color_by="nonexistent")


def test_run_embedding_300_models(make_experiment, tmp_path, strict_json):
    summary = make_experiment(300, n_eig=64, seed=5)
    out = tmp_path / "emb"
    analyze_embedding(summary, out, 8, method="pca", annotate_outliers=True)
    analyze_embedding(
        summary,
        out,
        8,
        method="tsne",
        signature_type="statistics",
        distance_metric="cityblock",
        color_by="frob_error",
        make_figures=False,
    )
    analyze_embedding(
        summary,
        out,
        8,
        method="mds",
        distance_metric="wasserstein_2d",
        color_by="none",
        make_figures=False,
    )
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
    written = analyze_persistence(
        summary, out, 8, metric=metric, embedding_method="mds", make_figures=figs
    )
    assert set(_names(written)) == set(persistence_outputs(metric, "mds", figures=figs))
    d = np.load(out / f"persistence_{metric}_distances.npy")
    assert d.shape == (3, 3) and np.array_equal(d, d.T) and np.all(np.diag(d) == 0)
    data = strict_json(out / "persistence_statistics.json")
    assert data["n_models"] == 3
    keys = statistics_keys(1)
    assert all(set(keys) <= set(s) for s in data["statistics"])
    assert set(data["aggregate_statistics"]) == set(keys)


def test_run_persistence_300_models_with_subset(make_experiment, tmp_path, strict_json):
    summary = make_experiment(300, n_eig=32, seed=6)
    out = tmp_path / "pers"
    analyze_persistence(
        summary,
        out,
        8,
        metric="bottleneck",
        embedding_method="pca",
        normalize=True,
        max_models=120,
        make_figures=False,
    )
    data = strict_json(out / "persistence_statistics.json")
    assert data["n_models"] == 300 and len(data["statistics"]) == 300
    assert len(data["distance_models"]) == 120
    assert np.load(out / "persistence_bottleneck_distances.npy").shape == (120, 120)
    assert np.load(out / "persistence_pca_embedding.npy").shape == (120, 2)


def test_analyze_compare(make_summary, tmp_path, strict_json):
    a = make_summary(4, seed=1, directory="exp_h128")
    b = make_summary(5, seed=2, directory="exp_h64", spread=3.0)
    out = tmp_path / "cmp"
    written = analyze_compare([a, b], ["h128", "h64"], out, 8)
    assert set(_names(written)) == set(COMPARISON_OUTPUTS)
    data = strict_json(out / "comparison_statistics.json")
    assert [d["label"] for d in data] == ["h128", "h64"]
    assert [d["n_models"] for d in data] == [4, 5]
    assert set(data[0]["statistics"]) == set(STATISTIC_NAMES)
    assert set(data[0]["statistics"]["mag_mean"]) == {"mean", "std", "min", "max", "sem", "n"}
    with pytest.raises(ValueError, match="label"):
        analyze_compare([a, b], ["only-one"], out, 8)


def test_written_json_has_no_nan_even_with_null_metrics(make_summary, tmp_path):
    summary = make_summary(4)
    raw = json.loads(summary.read_text())
    for m in raw["metrics"]:
        m["accuracy_seq8"] = None
    summary.write_text(json.dumps(raw))
    analyze_persistence(summary, tmp_path / "p", 8, make_figures=False)
    text = (tmp_path / "p" / "persistence_statistics.json").read_text()
    assert "NaN" not in text and '"accuracy": null' in text


def test_compare_by_a_column_of_one_experiment(make_experiment, tmp_path, strict_json):
    results = make_experiment(10, seed=4)
    written = analyze_compare([results], None, tmp_path / "by", 8, by="hidden_dim")
    assert set(_names(written)) == set(COMPARISON_OUTPUTS)
    data = strict_json(tmp_path / "by" / "comparison_statistics.json")
    assert [d["label"] for d in data] == ["hidden_dim=64", "hidden_dim=128"]
    assert [d["n_models"] for d in data] == [5, 5] and data[0]["by"] == "hidden_dim"
    with pytest.raises(ResultsError, match="only the group"):
        analyze_compare([results], None, tmp_path / "x", 8, by="l2_penalty")
    with pytest.raises(ResultsError, match="not a column"):
        analyze_compare([results], None, tmp_path / "x", 8, by="colour")
    with pytest.raises(ValueError, match="one experiment"):
        analyze_compare([results, results], None, tmp_path / "x", 8, by="hidden_dim")


def test_sources_must_be_explicit(tmp_path):
    with pytest.raises(ResultsError, match="evaluation_summary.json"):
        analyze_eigenvalue(tmp_path / "evaluation_table.csv", tmp_path / "o", 8)
    with pytest.raises(ResultsError, match="does not exist"):
        analyze_eigenvalue(tmp_path / "evaluation_summary.json", tmp_path / "o", 8)

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from vbpipe.analysis.embedding import (
    classical_mds,
    embed,
    pca_embedding,
    tsne_embedding,
    tsne_perplexity,
)


def test_tsne_perplexity_rule():
    assert tsne_perplexity(5) == pytest.approx(4 / 3)
    assert tsne_perplexity(31) == pytest.approx(10.0)
    assert tsne_perplexity(2400) == 30.0


@pytest.mark.parametrize("n", [2, 3, 4])
def test_tsne_too_few_models_raises_documented_error(n):
    x = np.random.default_rng(0).normal(size=(n, 4))
    with pytest.raises(ValueError, match="t-SNE needs at least 5 models"):
        tsne_embedding(x)
    with pytest.raises(ValueError, match="at least 5"):
        embed("tsne", distance_matrix=squareform(pdist(x)))


def test_tsne_precomputed_runs_on_few_models():
    x = np.random.default_rng(0).normal(size=(8, 3))
    out = embed("tsne", distance_matrix=squareform(pdist(x)))
    assert out["coords"].shape == (8, 2) and np.all(np.isfinite(out["coords"]))
    assert out["perplexity"] == pytest.approx(7 / 3)


def test_pca_explained_variance():
    rng = np.random.default_rng(0)
    x = np.column_stack([10 * rng.normal(size=50), rng.normal(size=50), 0.1 * rng.normal(size=50)])
    out = pca_embedding(x)
    ratio = out["explained_variance_ratio"]
    assert out["coords"].shape == (50, 2)
    assert ratio.shape == (3,) and ratio.sum() == pytest.approx(1.0)
    assert ratio[0] > 0.9


def test_pca_single_feature_padded():
    out = pca_embedding(np.arange(5.0)[:, None])
    assert out["coords"].shape == (5, 2) and np.all(out["coords"][:, 1] == 0)


def test_classical_and_metric_mds_recover_planar_distances():
    pts = np.random.default_rng(2).normal(size=(12, 2))
    d = squareform(pdist(pts))
    assert np.allclose(squareform(pdist(classical_mds(d))), d, atol=1e-8)
    out = embed("mds", distance_matrix=d)
    assert np.allclose(squareform(pdist(out["coords"])), d, atol=1e-3)


def test_isomap_and_unknown_method():
    x = np.random.default_rng(3).normal(size=(10, 3))
    assert embed("isomap", features=x)["coords"].shape == (10, 2)
    with pytest.raises(ValueError, match="unknown embedding method"):
        embed("umap", features=x)

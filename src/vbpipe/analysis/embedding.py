"""Two-dimensional embeddings of models: PCA, t-SNE, MDS and Isomap.

Each function returns a dict with ``coords`` (``(n, 2)`` float array) and method-specific entries.
:func:`embed` dispatches on the method name. Methods and rules:

``pca``
    PCA of the feature matrix (rows = models). ``explained_variance_ratio`` holds the ratio of
    every component (at most ``min(n_models, n_features)``), not only the first two. When
    only a distance matrix is given, PCA is applied to its rows.
``tsne``
    scikit-learn t-SNE, ``random_state`` 42 by default. The perplexity is
    ``min(30, (n_models - 1) / 3)``; t-SNE needs **at least 5 models** (below that the
    perplexity is < 4/3 and the embedding meaningless), otherwise a ``ValueError`` is raised.
    With a precomputed distance matrix ``init="random"`` is used (scikit-learn rejects
    ``init="pca"`` there).
``mds``
    Metric MDS (SMACOF, scikit-learn) of a distance matrix (euclidean distances of the features
    when no matrix is given), started from the classical (Torgerson) MDS solution, so a single
    deterministic run suffices; ``random_state`` 42, tolerance :data:`MDS_EPS`.
``isomap``
    scikit-learn Isomap with ``min(5, n_models - 1)`` neighbours (precomputed distances allowed).

All methods need at least 2 models (t-SNE: 5). If there are fewer than two coordinates (e.g. PCA of
a single feature), the missing column is filled with zeros.
"""

from __future__ import annotations

import inspect

import numpy as np
from scipy.linalg import eigh
from scipy.sparse.linalg import eigsh
from scipy.spatial.distance import pdist, squareform

from ..constants import EMBEDDING_METHODS
from ..results.layout import TSNE_MIN_MODELS

__all__ = [
    "EMBEDDING_METHODS",
    "TSNE_MIN_MODELS",
    "tsne_perplexity",
    "classical_mds",
    "pca_embedding",
    "tsne_embedding",
    "mds_embedding",
    "isomap_embedding",
    "embed",
]

#: SMACOF convergence tolerance. Started from classical MDS, 1e-4 stops after ~15 iterations for
#: 2400 models with a stress within ~1% of the fully converged (1e-6, ~150 iterations) value.
MDS_EPS = 1e-4


def _pad2(coords: np.ndarray) -> np.ndarray:
    coords = np.asarray(coords, dtype=float)
    if coords.shape[1] >= 2:
        return coords[:, :2]
    return np.hstack([coords, np.zeros((coords.shape[0], 2 - coords.shape[1]))])


def _check_n(n: int, method: str, minimum: int = 2) -> None:
    if n < minimum:
        raise ValueError(f"{method} embedding needs at least {minimum} models; got {n}")


def _check_square(distance_matrix: np.ndarray) -> np.ndarray:
    d = np.asarray(distance_matrix, dtype=float)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distance matrix must be square; got shape {d.shape}")
    return d


def tsne_perplexity(n_models: int) -> float:
    """The perplexity used for ``n_models``: ``min(30, (n_models - 1) / 3)``.

    Raises ``ValueError`` when ``n_models < 5`` (:data:`TSNE_MIN_MODELS`).
    """
    if n_models < TSNE_MIN_MODELS:
        raise ValueError(
            f"t-SNE needs at least {TSNE_MIN_MODELS} models (perplexity = min(30, (n-1)/3) "
            f"must be >= 4/3); got {n_models}. Use --method pca or mds for so few models."
        )
    return float(min(30.0, (n_models - 1) / 3.0))


def classical_mds(distance_matrix: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Classical (Torgerson) MDS: top eigenvectors of the double-centred squared distances.

    Uses a dense eigensolver for small matrices and Lanczos (``eigsh``, deterministic start
    vector) above 300 models. Each axis' sign is fixed so that its largest entry is positive.
    """
    d = _check_square(distance_matrix)
    n = d.shape[0]
    k = min(n_components, n)
    b = -0.5 * d**2
    b -= b.mean(axis=0, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    if n > 300 and k < n - 1:
        vals, vecs = eigsh(b, k=k, which="LA", v0=np.linspace(1.0, 2.0, n))
    else:
        vals, vecs = eigh(b, subset_by_index=[n - k, n - 1])
    order = np.argsort(vals)[::-1]
    vals, vecs = np.clip(vals[order], 0.0, None), vecs[:, order]
    signs = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(k)])
    coords = vecs * np.where(signs == 0, 1.0, signs) * np.sqrt(vals)
    if k < n_components:
        coords = np.hstack([coords, np.zeros((n, n_components - k))])
    return coords


def pca_embedding(features: np.ndarray, n_components: int = 2) -> dict:
    """PCA of ``features`` (rows = models): coords and the full explained variance ratio."""
    from sklearn.decomposition import PCA

    x = np.asarray(features, dtype=float)
    _check_n(x.shape[0], "PCA")
    n_full = min(x.shape)
    pca = PCA(n_components=n_full)
    scores = pca.fit_transform(x)
    ratio = np.nan_to_num(pca.explained_variance_ratio_, nan=0.0)
    return {"coords": _pad2(scores[:, :n_components]), "explained_variance_ratio": ratio}


def tsne_embedding(
    features: np.ndarray | None = None,
    distance_matrix: np.ndarray | None = None,
    *,
    random_state: int = 42,
    metric: str = "euclidean",
) -> dict:
    """t-SNE of features or of a precomputed distance matrix (see module docstring)."""
    from sklearn.manifold import TSNE

    if distance_matrix is not None:
        x = _check_square(distance_matrix)
        kwargs = {"metric": "precomputed", "init": "random"}
    elif features is not None:
        x = np.asarray(features, dtype=float)
        kwargs = {"metric": metric, "init": "pca"}
    else:
        raise ValueError("t-SNE needs features or a distance matrix")
    perplexity = tsne_perplexity(x.shape[0])
    tsne = TSNE(n_components=2, perplexity=perplexity, random_state=random_state, **kwargs)
    return {"coords": tsne.fit_transform(x), "perplexity": perplexity}


def _make_mds(random_state: int):
    from sklearn.manifold import MDS

    params = inspect.signature(MDS).parameters
    kwargs = {
        "n_components": 2,
        "n_init": 1,
        "random_state": random_state,
        "max_iter": 300,
        "eps": MDS_EPS,
    }
    if "metric_mds" in params:  # scikit-learn >= 1.8
        kwargs.update(metric="precomputed", metric_mds=True, init="random")
    else:
        kwargs.update(dissimilarity="precomputed")
    return MDS(**kwargs)


def mds_embedding(
    features: np.ndarray | None = None,
    distance_matrix: np.ndarray | None = None,
    *,
    random_state: int = 42,
) -> dict:
    """Metric MDS of a distance matrix (or of euclidean distances between feature rows)."""
    if distance_matrix is None:
        if features is None:
            raise ValueError("MDS needs features or a distance matrix")
        distance_matrix = squareform(pdist(np.asarray(features, dtype=float)))
    d = _check_square(distance_matrix)
    _check_n(d.shape[0], "MDS")
    init = classical_mds(d, 2)
    if not np.any(d > 0):
        return {"coords": init, "stress": 0.0}
    mds = _make_mds(random_state)
    coords = mds.fit_transform(d, init=init)
    return {"coords": np.asarray(coords, dtype=float), "stress": float(mds.stress_)}


def isomap_embedding(
    features: np.ndarray | None = None,
    distance_matrix: np.ndarray | None = None,
    *,
    n_neighbors: int = 5,
) -> dict:
    """Isomap with ``min(n_neighbors, n_models - 1)`` neighbours."""
    from sklearn.manifold import Isomap

    if distance_matrix is not None:
        x, metric = _check_square(distance_matrix), "precomputed"
    elif features is not None:
        x, metric = np.asarray(features, dtype=float), "euclidean"
    else:
        raise ValueError("Isomap needs features or a distance matrix")
    n = x.shape[0]
    _check_n(n, "Isomap", 3)
    k = min(n_neighbors, n - 1)
    iso = Isomap(n_neighbors=k, n_components=min(2, n - 1), metric=metric)
    return {"coords": _pad2(iso.fit_transform(x)), "n_neighbors": k}


def embed(
    method: str,
    features: np.ndarray | None = None,
    distance_matrix: np.ndarray | None = None,
    *,
    random_state: int = 42,
) -> dict:
    """Embed models in 2-D with ``method`` (``pca``, ``tsne``, ``mds``, ``isomap``).

    PCA uses ``features`` (or the rows of ``distance_matrix`` when no features are given); the
    other methods use ``distance_matrix`` when given, else ``features``. The result always has
    ``coords`` (``(n, 2)``) and ``method``.
    """
    if method == "pca":
        x = features if features is not None else distance_matrix
        if x is None:
            raise ValueError("PCA needs features or a distance matrix")
        out = pca_embedding(x)
    elif method == "tsne":
        out = tsne_embedding(features, distance_matrix, random_state=random_state)
    elif method == "mds":
        out = mds_embedding(features, distance_matrix, random_state=random_state)
    elif method == "isomap":
        out = isomap_embedding(features, distance_matrix)
    else:
        raise ValueError(f"unknown embedding method {method!r}; choose from {EMBEDDING_METHODS}")
    out["method"] = method
    return out

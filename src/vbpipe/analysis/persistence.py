"""Persistent homology of each model's eigenvalue cloud and distances between models.

Point cloud
    A model's eigenvalues as 2-D points ``(Re lambda, Im lambda)``. With ``normalize=True`` each
    eigenvalue is projected onto the unit circle (``lambda / |lambda|``); exact zeros have no
    direction and are dropped.
Diagrams
    Vietoris-Rips persistence from ``ripser`` (``maxdim`` 1 by default): one ``(k, 2)`` array of
    ``(birth, death)`` per homology dimension.
Statistics (:func:`diagram_statistics`)
    Per dimension ``d`` over the **finite** points: ``h{d}_count``, ``h{d}_total_persistence``,
    ``h{d}_max_persistence``, ``h{d}_mean_persistence``, ``h{d}_mean_birth``, ``h{d}_mean_death``,
    ``h{d}_max_death`` and Betti numbers ``h{d}_betti_0`` ... ``h{d}_betti_9`` at the 10 scales
    ``linspace(0, h{d}_max_death, 10)`` (Betti number at scale e = #{birth <= e < death}). H0's
    single infinite bar (the component that never dies) is **dropped**, so ``h0_count`` is
    ``n_points - 1`` for distinct points and H0 Betti numbers are one less than the number of
    connected components. Every key is always present; an empty diagram gives zeros.
Distances (:func:`diagram_distance_matrix`)
    Distance between two models = sum over homology dimensions of the bottleneck or the
    1-Wasserstein distance between the finite parts of their diagrams, with exactly the
    conventions of ``persim.bottleneck`` (L-infinity ground metric, distance to the diagonal
    ``(death - birth) / 2``) and ``persim.wasserstein`` (Euclidean ground metric, distance to the
    diagonal ``(death - birth) / sqrt(2)``). ``backend="persim"`` calls persim for every pair;
    the default ``backend="fast"`` computes the same numbers (checked against persim in the
    tests) much faster: H0 diagrams of a Rips filtration all have birth 0, which makes the
    matching a 1-D problem solved by an exact dynamic programme vectorised over all pairs; the
    other dimensions use ``scipy.optimize.linear_sum_assignment`` (Wasserstein) or a binary
    search over candidate values with an assignment feasibility test (bottleneck). The matrix is
    symmetric with a zero diagonal; empty diagrams are handled (distance = cost of sending every
    point of the other diagram to the diagonal). For very many models use ``max_models``
    (:func:`vbpipe.analysis.data.subsample_indices`) to compute distances on a seeded random subset.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..results.layout import PERSISTENCE_METRICS

__all__ = [
    "PERSISTENCE_METRICS",
    "N_BETTI_SCALES",
    "eigenvalue_points",
    "persistence_diagrams",
    "finite_diagram",
    "betti_curve",
    "diagram_statistics",
    "statistics_keys",
    "betti_curves",
    "diagram_distance",
    "diagram_distance_matrix",
]

N_BETTI_SCALES = 10
_STAT_FIELDS = (
    "count",
    "total_persistence",
    "max_persistence",
    "mean_persistence",
    "mean_birth",
    "mean_death",
    "max_death",
)


# --------------------------------------------------------------------------- diagrams


def eigenvalue_points(eigenvalues, normalize: bool = False) -> np.ndarray:
    """``(n, 2)`` points ``(Re, Im)``; ``normalize`` projects onto the unit circle (drops zeros)."""
    eig = np.ravel(np.asarray(eigenvalues)).astype(complex)
    if normalize:
        mag = np.abs(eig)
        keep = mag > 0
        eig = eig[keep] / mag[keep]
    return np.column_stack([eig.real, eig.imag])


def persistence_diagrams(points: np.ndarray, maxdim: int = 1) -> list[np.ndarray]:
    """Vietoris-Rips diagrams ``[H0, ..., H_maxdim]`` of a point cloud (ripser; H0 keeps inf)."""
    from ripser import ripser

    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if pts.shape[0] == 0:
        return [np.empty((0, 2)) for _ in range(maxdim + 1)]
    if pts.shape[0] == 1:
        return [np.array([[0.0, np.inf]])] + [np.empty((0, 2)) for _ in range(maxdim)]
    dgms = ripser(pts, maxdim=maxdim)["dgms"]
    out = [np.asarray(d, dtype=float).reshape(-1, 2) for d in dgms]
    while len(out) < maxdim + 1:
        out.append(np.empty((0, 2)))
    return out


def finite_diagram(diagram: np.ndarray) -> np.ndarray:
    """The points of a diagram with finite death (drops H0's infinite bar)."""
    d = np.asarray(diagram, dtype=float).reshape(-1, 2)
    return d[np.isfinite(d[:, 1])]


def betti_curve(diagram: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Betti numbers ``#{birth <= e < death}`` of the finite points at each scale ``e``."""
    d = finite_diagram(diagram)
    s = np.asarray(scales, dtype=float)
    if d.shape[0] == 0:
        return np.zeros(s.shape, dtype=int)
    alive = (d[:, 0][None, :] <= s[:, None]) & (s[:, None] < d[:, 1][None, :])
    return alive.sum(axis=1)


def statistics_keys(maxdim: int = 1) -> list[str]:
    """Every key :func:`diagram_statistics` returns, in order."""
    keys = []
    for dim in range(maxdim + 1):
        keys += [f"h{dim}_{f}" for f in _STAT_FIELDS]
        keys += [f"h{dim}_betti_{k}" for k in range(N_BETTI_SCALES)]
    return keys


def diagram_statistics(diagrams: Sequence[np.ndarray], maxdim: int | None = None) -> dict:
    """Per-dimension statistics of the finite points (see module docstring); never misses a key."""
    if maxdim is None:
        maxdim = len(diagrams) - 1
    out: dict[str, float] = {}
    for dim in range(maxdim + 1):
        d = finite_diagram(diagrams[dim]) if dim < len(diagrams) else np.empty((0, 2))
        pers = d[:, 1] - d[:, 0]
        n = d.shape[0]
        max_death = float(d[:, 1].max()) if n else 0.0
        out[f"h{dim}_count"] = int(n)
        out[f"h{dim}_total_persistence"] = float(pers.sum()) if n else 0.0
        out[f"h{dim}_max_persistence"] = float(pers.max()) if n else 0.0
        out[f"h{dim}_mean_persistence"] = float(pers.mean()) if n else 0.0
        out[f"h{dim}_mean_birth"] = float(d[:, 0].mean()) if n else 0.0
        out[f"h{dim}_mean_death"] = float(d[:, 1].mean()) if n else 0.0
        out[f"h{dim}_max_death"] = max_death
        curve = betti_curve(d, np.linspace(0.0, max_death, N_BETTI_SCALES))
        for k in range(N_BETTI_SCALES):
            out[f"h{dim}_betti_{k}"] = int(curve[k])
    return out


def betti_curves(
    diagram_sets: Sequence[Sequence[np.ndarray]], dim: int, n_scales: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Betti curves of dimension ``dim`` for all models on one common grid.

    Returns ``(scales, curves)`` with ``scales = linspace(0, max finite death over models,
    n_scales)`` and ``curves`` of shape ``(n_models, n_scales)``.
    """
    finite = [finite_diagram(ds[dim]) if dim < len(ds) else np.empty((0, 2)) for ds in diagram_sets]
    top = max((float(d[:, 1].max()) for d in finite if d.shape[0]), default=0.0)
    scales = np.linspace(0.0, top if top > 0 else 1.0, n_scales)
    curves = np.array([betti_curve(d, scales) for d in finite], dtype=int).reshape(-1, n_scales)
    return scales, curves


# --------------------------------------------------------------------------- distances


def _check_metric(metric: str) -> None:
    if metric not in PERSISTENCE_METRICS:
        raise ValueError(
            f"unknown persistence metric {metric!r}; choose from {PERSISTENCE_METRICS}"
        )


def _cost_parts(s: np.ndarray, t: np.ndarray, metric: str):
    """Cross costs (len(s) x len(t)) and the diagonal costs of s and t."""
    if metric == "bottleneck":
        cross = np.maximum(
            np.abs(s[:, 0][:, None] - t[:, 0][None, :]), np.abs(s[:, 1][:, None] - t[:, 1][None, :])
        )
        scale = 0.5
    else:
        diff = s[:, None, :] - t[None, :, :]
        cross = np.sqrt((diff**2).sum(axis=2))
        scale = 1.0 / np.sqrt(2.0)
    return cross, scale * (s[:, 1] - s[:, 0]), scale * (t[:, 1] - t[:, 0])


def _pair_distance(s: np.ndarray, t: np.ndarray, metric: str) -> float:
    """Exact bottleneck / W1 distance between two finite diagrams (persim conventions)."""
    m, n = s.shape[0], t.shape[0]
    if m == 0 and n == 0:
        return 0.0
    cross, ds, dt = _cost_parts(s, t, metric)
    if m == 0 or n == 0:
        costs = np.concatenate([ds, dt])
        return float(costs.max() if metric == "bottleneck" else costs.sum())
    big = np.full((m + n, m + n), np.inf)
    big[:m, :n] = cross
    big[m:, n:] = 0.0
    big[np.arange(m), n + np.arange(m)] = ds
    big[m + np.arange(n), np.arange(n)] = dt
    if metric == "wasserstein":
        rows, cols = linear_sum_assignment(big)
        return float(big[rows, cols].sum())
    # Bottleneck: smallest candidate value that admits a perfect matching using entries <= it.
    upper = float(max(ds.max(), dt.max()))  # every point to the diagonal is always feasible
    lower = float(max(big.min(axis=1).max(), big.min(axis=0).max()))
    cand = np.unique(big[(big >= lower) & (big <= upper)])
    if cand.size == 0:
        return upper
    lo, hi = 0, cand.size - 1
    while lo < hi:
        mid = (lo + hi) // 2
        blocked = (big > cand[mid]).astype(float)
        rows, cols = linear_sum_assignment(blocked)
        if blocked[rows, cols].sum() == 0:
            hi = mid
        else:
            lo = mid + 1
    return float(cand[lo])


def _h0_dp(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distances between many pairs of birth-0 diagrams given by their sorted deaths.

    ``a`` (n, P) and ``b`` (m, P) hold sorted deaths (one column per pair), zero-padded: a point
    (0, 0) lies on the diagonal and costs nothing. In 1-D an optimal matching can be taken
    non-crossing, so the distance is an alignment: dp[i, j] = min(dp[i-1, j] (+|max) diag(a_i),
    dp[i, j-1] (+|max) diag(b_j), dp[i-1, j-1] (+|max) |a_i - b_j|), with + for Wasserstein
    and max for bottleneck. It is computed along anti-diagonals t = i + j, vectorised over
    pairs; ``b`` is stored reversed so that every access is a contiguous slice.
    """
    n, p = a.shape
    m = b.shape[0]
    scale = 0.5 if metric == "bottleneck" else 1.0 / np.sqrt(2.0)
    op = np.maximum if metric == "bottleneck" else np.add
    a = np.ascontiguousarray(a, dtype=float)
    br = np.ascontiguousarray(b[::-1], dtype=float)
    da, dbr = scale * a, scale * br
    # Three rotating buffers: prev[i] = dp[i, t-1-i], prev2[i] = dp[i, t-2-i], cur[i] = dp[i, t-i].
    # Entries outside the valid range of a diagonal that the next steps read are kept at inf.
    prev2, prev, cur = (np.full((n + 1, p), np.inf) for _ in range(3))
    tmp = np.empty((n + 1, p))
    prev[0] = 0.0  # t = 0: dp[0, 0]
    for t in range(1, n + m + 1):
        lo, hi = max(0, t - m), min(n, t)
        s, e = max(lo, 1), min(hi, t - 1)
        cur[max(0, lo - 1) : s] = np.inf
        cur[hi + 1 : hi + 2] = np.inf
        op(prev[s - 1 : hi], da[s - 1 : hi], out=cur[s : hi + 1])  # drop a_i: from dp[i-1, j]
        if lo <= e:  # drop b_j (j >= 1): from dp[i, j-1]; b_j = br[m - t + i]
            view, work = cur[lo : e + 1], tmp[lo : e + 1]
            op(prev[lo : e + 1], dbr[m - t + lo : m - t + e + 1], out=work)
            np.minimum(view, work, out=view)
        if s <= e:  # match a_i with b_j (i, j >= 1): from dp[i-1, j-1]
            view, work = cur[s : e + 1], tmp[s : e + 1]
            np.subtract(a[s - 1 : e], br[m - t + s : m - t + e + 1], out=work)
            np.abs(work, out=work)
            op(prev2[s - 1 : e], work, out=work)
            np.minimum(view, work, out=view)
        prev2, prev, cur = prev, cur, prev2
    return prev[n].copy()


def diagram_distance(
    diagrams1: Sequence[np.ndarray], diagrams2: Sequence[np.ndarray], metric: str = "bottleneck"
) -> float:
    """Sum over dimensions of the distance between the finite parts of two models' diagrams."""
    _check_metric(metric)
    total = 0.0
    for d1, d2 in zip(diagrams1, diagrams2, strict=True):
        total += _pair_distance(finite_diagram(d1), finite_diagram(d2), metric)
    return total


def _persim_distance(s: np.ndarray, t: np.ndarray, metric: str) -> float:
    import persim

    if s.shape[0] == 0 and t.shape[0] == 0:
        return 0.0
    fn = persim.bottleneck if metric == "bottleneck" else persim.wasserstein
    return float(fn(s, t))


_WORKER_STATE: dict = {}


def _init_worker(finite_sets, metric, backend):
    _WORKER_STATE.update(finite=finite_sets, metric=metric, backend=backend)


def _rows_worker(rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    st = _WORKER_STATE
    return rows, [_row_distances(st["finite"], int(r), st["metric"], st["backend"]) for r in rows]


def _row_distances(finite_sets, i: int, metric: str, backend: str) -> np.ndarray:
    """Distances from model i to models i+1..n-1 for the dimensions handled pair by pair."""
    fn = _persim_distance if backend == "persim" else _pair_distance
    out = np.zeros(len(finite_sets) - i - 1)
    for k, j in enumerate(range(i + 1, len(finite_sets))):
        out[k] = sum(fn(s, t, metric) for s, t in zip(finite_sets[i], finite_sets[j], strict=True))
    return out


def _h0_matrix(h0: list[np.ndarray], metric: str, chunk: int = 4096) -> np.ndarray:
    """All-pairs H0 distances for birth-0 diagrams via :func:`_h0_dp`, in chunks of pairs."""
    n = len(h0)
    width = max((d.shape[0] for d in h0), default=0)
    deaths = np.zeros((n, max(width, 1)))
    for k, d in enumerate(h0):
        deaths[k, : d.shape[0]] = d[:, 1]
    deaths.sort(axis=1)
    iu, ju = np.triu_indices(n, k=1)
    vals = np.empty(iu.size)
    for start in range(0, iu.size, chunk):
        sl = slice(start, start + chunk)
        vals[sl] = _h0_dp(deaths[iu[sl]].T, deaths[ju[sl]].T, metric)
    out = np.zeros((n, n))
    out[iu, ju] = vals
    return out + out.T


def diagram_distance_matrix(
    diagram_sets: Sequence[Sequence[np.ndarray]],
    metric: str = "bottleneck",
    *,
    backend: str = "fast",
    n_jobs: int = 1,
) -> np.ndarray:
    """``(n, n)`` matrix of :func:`diagram_distance` between all models (symmetric, zero diagonal).

    ``backend="fast"`` (default) or ``"persim"`` (reference, slow); ``n_jobs`` > 1 spreads the
    pairs over that many processes (``-1``: all CPUs).
    """
    _check_metric(metric)
    if backend not in ("fast", "persim"):
        raise ValueError(f"unknown backend {backend!r}; choose 'fast' or 'persim'")
    n = len(diagram_sets)
    if n < 2:
        return np.zeros((n, n))
    n_dims = max(len(ds) for ds in diagram_sets)
    finite = [
        [finite_diagram(ds[k]) if k < len(ds) else np.empty((0, 2)) for k in range(n_dims)]
        for ds in diagram_sets
    ]
    out = np.zeros((n, n))
    pairwise_dims = list(range(n_dims))
    if backend == "fast" and all(np.all(f[0][:, 0] == 0.0) for f in finite):
        out += _h0_matrix([f[0] for f in finite], metric)
        pairwise_dims = pairwise_dims[1:]
    if pairwise_dims:
        sets = [[f[k] for k in pairwise_dims] for f in finite]
        upper = np.zeros((n, n))
        if n_jobs == -1:
            n_jobs = os.cpu_count() or 1
        if n_jobs > 1 and n > 2:
            # Interleave rows so that every chunk has a similar amount of work.
            chunks = [np.arange(r, n - 1, 4 * n_jobs) for r in range(4 * n_jobs)]
            chunks = [c for c in chunks if c.size]
            with ProcessPoolExecutor(
                max_workers=n_jobs,
                mp_context=get_context("spawn"),
                initializer=_init_worker,
                initargs=(sets, metric, backend),
            ) as pool:
                for rows, results in pool.map(_rows_worker, chunks):
                    for r, vals in zip(rows, results, strict=True):
                        upper[r, r + 1 :] = vals
        else:
            for i in range(n - 1):
                upper[i, i + 1 :] = _row_distances(sets, i, metric, backend)
        out += upper + upper.T
    np.fill_diagonal(out, 0.0)
    return out

"""Fixed points and slow points of a model's autonomous dynamics ``h -> tanh(W_hh h)``.

After the input phase the RNN runs with zero input, so its output phase is this map. Its fixed points
(and the slow points near which it barely moves) and their linear stability say how memories are held:
EMT reads the variable-binding circuit off the Jacobian at the origin, ``W_hh`` itself.

Method (after Sussillo & Barak 2013): minimise the speed ``q(h) = 0.5 ||tanh(W_hh h) - h||²`` from many
starts with a trust-region Newton method (exact gradient and Hessian, scipy ``trust-exact``). Every
minimum with ``q < fixed_tol`` is a fixed point; a minimum with ``fixed_tol <= q < slow_tol`` is a slow
point; anything else is dropped. Minima closer than ``dedup_tol`` (Euclidean) are one point, the
one with the smaller ``q`` kept. Stability comes from the spectral radius ρ of the Jacobian
``J = diag(1 - tanh(W_hh h)²) W_hh``: ``stable`` when ρ < 1 - ``stability_tol``, ``unstable`` when
ρ > 1 + ``stability_tol``, ``marginal`` otherwise (e.g. the origin of a rotation).

A slow point is a minimum of q with F = tanh(W_hh h) - h != 0, so grad q = (J - I)ᵀ F = 0 forces an
eigenvalue of J exactly at 1: slow points are always ``marginal`` or ``unstable`` (the "ghost" of a
fixed point that disappeared in a saddle-node bifurcation).

Starts: :func:`sample_starts` picks states of the model's own trajectory (seeded) plus small noise,
so the search covers the region the network visits. The origin is always a fixed point of a bias-free
RNN and is always included as a start. Everything is deterministic for given inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = [
    "FixedPointResult",
    "find_fixed_points",
    "fixed_point_summary",
    "jacobian",
    "sample_starts",
    "speed",
]

STABILITY = ("stable", "marginal", "unstable")


def speed(w_hh: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``q(h) = 0.5 ||tanh(W_hh h) - h||²`` for one state ``(N,)`` or a batch ``(m, N)``."""
    h = np.asarray(h, dtype=float)
    return 0.5 * ((np.tanh(h @ np.asarray(w_hh).T) - h) ** 2).sum(axis=-1)


def jacobian(w_hh: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``diag(1 - tanh(W_hh h)²) W_hh``: the map's Jacobian at ``h``."""
    w = np.asarray(w_hh, dtype=float)
    return (1.0 - np.tanh(w @ np.asarray(h, dtype=float)) ** 2)[:, None] * w


def _objective(w: np.ndarray):
    """q, its gradient and its Hessian as functions of h (exact)."""
    eye = np.eye(w.shape[0])

    def parts(h):
        t = np.tanh(w @ h)
        f = t - h
        d1 = 1.0 - t * t  # tanh'
        return t, f, d1

    def fun(h):
        _, f, d1 = parts(h)
        jf = d1[:, None] * w - eye  # Jacobian of F(h) = tanh(Wh) - h
        return 0.5 * f @ f, jf.T @ f

    def hess(h):
        t, f, d1 = parts(h)
        jf = d1[:, None] * w - eye
        d2 = -2.0 * t * d1  # tanh''
        return jf.T @ jf + w.T @ ((f * d2)[:, None] * w)

    return fun, hess


def sample_starts(
    trajectory: np.ndarray, n_starts: int = 64, noise: float = 0.01, seed: int = 0
) -> np.ndarray:
    """``(n_starts, N)`` starts: states drawn (without replacement when possible) from a trajectory
    ``(T, N)``, plus Gaussian noise of std ``noise`` times the trajectory's RMS; seeded."""
    traj = np.asarray(trajectory, dtype=float)
    if traj.ndim != 2 or traj.shape[0] == 0:
        raise ValueError(f"trajectory must be (T, N) with T > 0, got shape {traj.shape}")
    rng = np.random.default_rng(seed)
    replace = n_starts > traj.shape[0]
    rows = np.sort(rng.choice(traj.shape[0], size=n_starts, replace=replace))
    scale = noise * float(np.sqrt(np.mean(traj**2)))
    return traj[rows] + scale * rng.standard_normal((n_starts, traj.shape[1]))


@dataclass
class FixedPointResult:
    """Deduplicated points (fixed points first, then slow points; by ``q`` within each)."""

    points: np.ndarray  # (m, N)
    q: np.ndarray  # (m,) speed at each point
    kind: np.ndarray  # (m,) "fixed" or "slow"
    spectral_radius: np.ndarray  # (m,) of the Jacobian
    stability: np.ndarray  # (m,) "stable" | "marginal" | "unstable"
    jacobian_eigenvalues: np.ndarray  # (m, N) complex, by decreasing magnitude
    n_starts: int
    n_converged: int  # minimisations that ended below slow_tol

    def __len__(self) -> int:
        return int(self.q.size)


def _dedup(points: np.ndarray, q: np.ndarray, tol: float) -> np.ndarray:
    """Indices kept: by increasing q, a point is kept unless within ``tol`` of a kept one."""
    kept: list[int] = []
    for i in np.argsort(q, kind="stable"):
        if all(np.linalg.norm(points[i] - points[j]) > tol for j in kept):
            kept.append(int(i))
    return np.array(kept, dtype=int)


def find_fixed_points(
    w_hh: np.ndarray,
    starts: np.ndarray,
    *,
    fixed_tol: float = 1e-14,
    slow_tol: float = 1e-4,
    dedup_tol: float = 1e-3,
    stability_tol: float = 1e-6,
    max_iter: int = 200,
    include_origin: bool = True,
) -> FixedPointResult:
    """Fixed and slow points of ``h -> tanh(W_hh h)`` from ``starts`` ``(m, N)``; see the module
    docstring for the method and the thresholds (``q`` values, so ``fixed_tol = 1e-14`` means
    ``||tanh(W h) - h|| < 1.4e-7``)."""
    w = np.asarray(w_hh, dtype=float)
    n = w.shape[0]
    if w.shape != (n, n):
        raise ValueError(f"W_hh must be square, got shape {w.shape}")
    x0 = np.atleast_2d(np.asarray(starts, dtype=float))
    if x0.shape[1] != n:
        raise ValueError(f"starts have {x0.shape[1]} dimensions, W_hh has {n}")
    if include_origin:
        x0 = np.vstack([np.zeros(n), x0])
    fun, hess = _objective(w)
    ends = np.empty_like(x0)
    for i, h0 in enumerate(x0):
        res = minimize(
            fun,
            h0,
            jac=True,
            hess=hess,
            method="trust-exact",
            options={"maxiter": max_iter, "gtol": 1e-12},
        )
        ends[i] = res.x
    q = speed(w, ends)
    converged = q < slow_tol
    pts, qs = ends[converged], q[converged]
    keep = _dedup(pts, qs, dedup_tol)
    pts, qs = pts[keep], qs[keep]
    kind = np.where(qs < fixed_tol, "fixed", "slow")
    order = np.lexsort((qs, kind != "fixed"))
    pts, qs, kind = pts[order], qs[order], kind[order]
    eigs = np.array([np.linalg.eigvals(jacobian(w, p)) for p in pts]).reshape(len(pts), n)
    eigs = np.take_along_axis(eigs, np.argsort(-np.abs(eigs), axis=1, kind="stable"), axis=1)
    rho = np.abs(eigs).max(axis=1) if len(pts) else np.zeros(0)
    stability = np.select(
        [rho < 1.0 - stability_tol, rho > 1.0 + stability_tol], ["stable", "unstable"], "marginal"
    )
    return FixedPointResult(
        points=pts,
        q=qs,
        kind=kind,
        spectral_radius=rho,
        stability=stability.astype(str),
        jacobian_eigenvalues=eigs,
        n_starts=int(x0.shape[0]),
        n_converged=int(converged.sum()),
    )


def fixed_point_summary(result: FixedPointResult) -> dict:
    """JSON-ready counts: fixed and slow points by stability, the origin's spectral radius, the
    largest ``q`` among fixed points and the starts used."""
    out: dict = {"n_starts": result.n_starts, "n_converged": result.n_converged}
    for kind in ("fixed", "slow"):
        sel = result.kind == kind
        out[f"n_{kind}"] = int(sel.sum())
        for label in STABILITY:
            out[f"n_{kind}_{label}"] = int((sel & (result.stability == label)).sum())
    origin = np.flatnonzero(np.linalg.norm(result.points, axis=1) < 1e-8) if len(result) else []
    out["origin_spectral_radius"] = (
        float(result.spectral_radius[origin[0]]) if len(origin) else None
    )
    out["origin_stability"] = str(result.stability[origin[0]]) if len(origin) else None
    fixed_q = result.q[result.kind == "fixed"]
    out["max_q_fixed"] = float(fixed_q.max()) if fixed_q.size else None
    return out

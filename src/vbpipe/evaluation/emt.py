"""EMT's variable-memory ("privileged") basis, the empirical Φ and the hidden trajectory in that
basis.

Algorithm (re-implemented from the description of ``emt_tools.utils.get_grounded_bases``)
------------------------------------------------------------------------------------------
Inputs: ``W_hh`` (N×N), the readout ``W_r`` (d×N), the sequence length ``L``, the theory ``Φ`` (L·d
× L·d) and optionally a hidden trajectory ``h`` (T×N).

1. Grounding in the readout: ``G = pinv(W_r)`` (N×d).
2. Memory blocks ``Ψ_k = W_hh^(L−1−k) G`` for slots ``k = 0..L−1`` (slot ``L−1``, the newest, is
   ``G``); every column normalised to unit L2 norm; ``Ψ = [Ψ_0 | … | Ψ_{L−1}]`` (slot-major: column
   ``k·d + i``).
3. Rank reduction against Φ: with ``r = #{|λ(Φ)| > 0.8}``, index ``c`` is *kept* when deleting row
   and column ``c`` of Φ lowers that count below ``r``. For the task's Φ (a signed selection: every
   row has at most one entry ±1) this is decided exactly from the graph "row i reads column σ(i)":
   the count drops exactly when ``c`` lies on a cycle of σ (each cycle of length m contributes m
   eigenvalues of modulus 1, the rest of Φ is nilpotent). Other matrices use the numerical rule (one
   eigendecomposition per index). Repeat copy keeps all L·d indices; the paper's other three tasks
   keep 36 of 64. ``Ψ ← Ψ[:, kept]``, columns re-normalised.
4. Dual basis ``Ψ* = pinv(Ψ)`` (SVD pseudo-inverse, singular values below 1e-15·max discarded).
5. Residual subspace: ``h_⊥ = h − h Ψ*ᵀ Ψᵀ``, mean-centred PCA by numpy SVD with ``n = min(10, T,
   N)`` components (0 without a trajectory); each component's sign is fixed so that its
   largest-magnitude entry is positive.
6. ``Ψ_exp`` (N × (L·d + n)) holds the kept columns at their original indices (dropped ones stay
   zero) and the residual components in the last n columns; ``Ψ*_exp`` ((L·d + n) × N) likewise by
   rows.

The empirical ``Φ = Ψ*_exp W_hh Ψ_exp`` should equal Φ on the kept block (a shift super-diagonal
plus Fᵀ in the last slot). The theory holds the same structure with the dropped rows/columns zeroed.
Everything is real float64 (the original carried complex128 with zero imaginary parts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RANK_THRESHOLD = 0.8
N_RESIDUAL = 10

#: The paper notebook's hand-drawn input of Figure 3 ("315"): at these input steps these bits are
#: +1, all other input bits are -1 (d = L = 8). For other shapes the pattern is clipped to (L, d).
FIGURE3_PATTERN: dict[int, tuple[int, ...]] = {
    0: (2, 4, 6),
    1: (2, 3, 4, 5, 6),
    3: (2, 3, 4, 5, 6),
    5: (2, 3, 4, 6),
    6: (2, 4, 5, 6),
}
#: Time steps shown in Figure 3: input phase 1-5 and output phase 14-18.
FIGURE3_STEPS = (1, 2, 3, 4, 5, 14, 15, 16, 17, 18)
#: Total length of the Figure-3 sequence (input phase + output phase).
FIGURE3_LENGTH = 200

__all__ = [
    "FIGURE3_LENGTH",
    "FIGURE3_PATTERN",
    "FIGURE3_STEPS",
    "VariableMemoryBasis",
    "empirical_phi",
    "figure3_inputs",
    "kept_memory_indices",
    "memory_blocks",
    "memory_snapshots",
    "memory_trajectory",
    "phi_error",
    "pseudo_inverse",
    "reduced_theory_phi",
    "variable_memory_basis",
]


def pseudo_inverse(matrix: np.ndarray, rcond: float = 1e-15) -> np.ndarray:
    """Moore-Penrose pseudo-inverse by SVD, discarding singular values below ``rcond * max``."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.size == 0:
        return np.zeros(matrix.shape[::-1])
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    cutoff = rcond * (s.max() if s.size else 0.0)
    inv_s = np.divide(1.0, s, out=np.zeros_like(s), where=s > cutoff)
    return (vt.T * inv_s) @ u.T


def _normalise_columns(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=0)
    return matrix / np.where(norms > 0, norms, 1.0)


def memory_blocks(w_hh: np.ndarray, w_r: np.ndarray, seq_length: int) -> np.ndarray:
    """``Ψ`` (N × L·d, slot-major): ``Ψ_k = W_hh^(L−1−k) pinv(W_r)``, columns normalised."""
    w_hh = np.asarray(w_hh, dtype=np.float64)
    block = pseudo_inverse(w_r)
    blocks = [None] * seq_length
    for slot in range(seq_length - 1, -1, -1):
        blocks[slot] = block
        block = w_hh @ block
    return _normalise_columns(np.concatenate(blocks, axis=1))


def _signed_selection_map(phi: np.ndarray) -> np.ndarray | None:
    """``σ`` with ``Φ[i, σ(i)] = ±1`` the only nonzero of row ``i`` (−1 for a zero row), or None."""
    nonzero = phi != 0
    if np.any(nonzero.sum(axis=1) > 1) or not np.all(np.isin(phi[nonzero], (-1.0, 1.0))):
        return None
    sigma = np.full(phi.shape[0], -1, dtype=np.int64)
    rows, cols = np.nonzero(nonzero)
    sigma[rows] = cols
    return sigma


def kept_memory_indices(phi: np.ndarray, threshold: float = RANK_THRESHOLD) -> np.ndarray:
    """Indices ``c`` whose deletion from Φ lowers ``#{|λ| > threshold}`` (step 3 of the
    algorithm)."""
    phi = np.asarray(phi, dtype=np.float64)
    n = phi.shape[0]
    sigma = _signed_selection_map(phi) if threshold < 1.0 else None
    if sigma is not None:
        kept = []
        for c in range(n):
            node = sigma[c]
            for _ in range(n):
                if node < 0 or node == c:
                    break
                node = sigma[node]
            if node == c:
                kept.append(c)
        return np.array(kept, dtype=np.int64)
    reference = int(np.sum(np.abs(np.linalg.eigvals(phi)) > threshold))
    kept = []
    for c in range(n):
        reduced = np.delete(np.delete(phi, c, axis=0), c, axis=1)
        if int(np.sum(np.abs(np.linalg.eigvals(reduced)) > threshold)) < reference:
            kept.append(c)
    return np.array(kept, dtype=np.int64)


def reduced_theory_phi(phi: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Φ with the rows and columns not in ``kept`` zeroed (the notebook's
    ``construct_phi_from_operator``)."""
    mask = np.zeros(phi.shape[0], dtype=bool)
    mask[np.asarray(kept, dtype=np.int64)] = True
    return np.where(mask[:, None] & mask[None, :], phi, 0.0)


@dataclass(frozen=True)
class VariableMemoryBasis:
    """The expanded basis: ``psi`` (N × (m + r)), ``psi_dual`` ((m + r) × N), ``m = L·d`` memory
    slots."""

    psi: np.ndarray
    psi_dual: np.ndarray
    kept: np.ndarray
    memory_dim: int
    n_residual: int

    @property
    def n_kept(self) -> int:
        return int(self.kept.size)


def _residual_components(hidden, psi, psi_dual, n_components):
    n = min(n_components, hidden.shape[0], hidden.shape[1])
    if n <= 0:
        return np.zeros((hidden.shape[1], 0))
    orth = hidden - (hidden @ psi_dual.T) @ psi.T
    centred = orth - orth.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:n]
    signs = np.sign(comps[np.arange(n), np.argmax(np.abs(comps), axis=1)])
    return (comps * np.where(signs == 0, 1.0, signs)[:, None]).T


def variable_memory_basis(
    w_hh: np.ndarray,
    w_r: np.ndarray,
    phi: np.ndarray,
    seq_length: int,
    hidden: np.ndarray | None = None,
    n_residual: int = N_RESIDUAL,
    threshold: float = RANK_THRESHOLD,
    kept: np.ndarray | None = None,
) -> VariableMemoryBasis:
    """Build ``Ψ_exp`` and ``Ψ*_exp`` (see the module docstring). ``kept`` may be passed
    precomputed."""
    w_hh = np.asarray(w_hh, dtype=np.float64)
    n = w_hh.shape[0]
    memory_dim = phi.shape[0]
    psi_full = memory_blocks(w_hh, w_r, seq_length)
    if psi_full.shape[1] != memory_dim:
        raise ValueError(
            f"Φ is {memory_dim}-dimensional but the readout gives {psi_full.shape[1]} columns"
        )
    kept = kept_memory_indices(phi, threshold) if kept is None else np.asarray(kept, dtype=np.int64)
    psi = _normalise_columns(psi_full[:, kept])
    psi_dual = pseudo_inverse(psi)
    if hidden is None:
        residual = np.zeros((n, 0))
    else:
        residual = _residual_components(
            np.asarray(hidden, dtype=np.float64), psi, psi_dual, n_residual
        )
    r = residual.shape[1]
    psi_exp = np.zeros((n, memory_dim + r))
    psi_exp[:, kept] = psi
    psi_exp[:, memory_dim:] = residual
    dual_exp = np.zeros((memory_dim + r, n))
    dual_exp[kept, :] = psi_dual
    dual_exp[memory_dim:, :] = residual.T
    return VariableMemoryBasis(psi_exp, dual_exp, kept, memory_dim, r)


def empirical_phi(basis: VariableMemoryBasis, w_hh: np.ndarray) -> np.ndarray:
    """``Ψ*_exp W_hh Ψ_exp`` ((L·d + r) × (L·d + r))."""
    return basis.psi_dual @ np.asarray(w_hh, dtype=np.float64) @ basis.psi


def phi_error(phi_emp: np.ndarray, phi: np.ndarray, kept: np.ndarray) -> tuple[float, float | None]:
    """``‖Φ_emp − Φ‖_F`` on the kept block, and that norm divided by ``‖Φ‖_F`` on the same block."""
    idx = np.ix_(kept, kept)
    theory = np.asarray(phi)[idx]
    error = float(np.linalg.norm(np.asarray(phi_emp)[idx] - theory))
    norm = float(np.linalg.norm(theory))
    return error, (error / norm if norm > 0 else None)


def memory_trajectory(basis: VariableMemoryBasis, hidden: np.ndarray) -> np.ndarray:
    """Coordinates ``Ψ*_exp h_t`` of a hidden trajectory ``(T, N)``: ``(T, L·d + r)``."""
    return np.asarray(hidden, dtype=np.float64) @ basis.psi_dual.T


def figure3_inputs(input_dim: int, seq_length: int) -> np.ndarray:
    """The paper's Figure-3 input phase ``(L, d)`` of ±1 (see :data:`FIGURE3_PATTERN`)."""
    bits = -np.ones((seq_length, input_dim))
    for step, ones in FIGURE3_PATTERN.items():
        if step < seq_length:
            bits[step, [b for b in ones if b < input_dim]] = 1.0
    return bits


def memory_snapshots(
    trajectory: np.ndarray, input_dim: int, seq_length: int, steps=FIGURE3_STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """Figure-3 panels: for each step ``t``, ``(Ψ*h_t)[:L·d]`` as a ``(d, L)`` image (row = dim,
    column = slot), z-scored per panel. Returns ``(images (n, d, L), steps used)``; steps past the
    trajectory are skipped."""
    trajectory = np.asarray(trajectory)
    memory_dim = input_dim * seq_length
    used = np.array([t for t in steps if 0 <= t < trajectory.shape[0]], dtype=np.int64)
    images = np.zeros((used.size, input_dim, seq_length))
    for i, t in enumerate(used):
        panel = trajectory[t, :memory_dim].reshape(seq_length, input_dim).T
        std = panel.std()
        images[i] = (panel - panel.mean()) / (std if std > 0 else 1.0)
    return images, used

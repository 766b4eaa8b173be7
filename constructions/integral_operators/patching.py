"""Function-space patching (Calvello, Kovachki, Levine & Stuart 2024, arXiv 2406.06486, sec. on
patched attention / the ViT neural operator).

The domain [0,1]^2 is cut into a fixed P x P grid of patches; patch p (row i, column j) carries the
function u_p(z) = u((i + z_1)/P, (j + z_2)/P) on the reference patch z in [0,1]^2. Patches are
the tokens; queries, keys and values act pointwise on their values, and the score of two patch
functions is their L^2 inner product on the reference patch:

    s_pq = s * int_{[0,1]^2} <Q u_p(z), K u_q(z)> dz,
    (A u)_p(z) = sum_q softmax_q(s_p.) V u_q(z).

On m x m pixels per patch (pixel centres z_k, cell area h^2 = 1/m^2) the integral is the
midpoint rule sum_k h^2 <Q u_p(z_k), K u_q(z_k)>, with error -(h^2/24) int Laplacian + O(h^4):
scores and outputs converge at O(m^-2) with the patch grid fixed. Dropping the h^2 weight (summing
pixel products, as a pixel-level implementation would) multiplies every score by m^2, so the
softmax collapses onto the single best patch as the resolution grows.
"""

from __future__ import annotations

import numpy as np

from constructions.integral_operators.continuum_attention import AttentionParams

__all__ = ["patch_points", "patch_scores", "patch_attention", "patch_scores_laplacian"]


def _check(P: int, what: str) -> None:
    if isinstance(P, bool) or not isinstance(P, int | np.integer) or P < 1:
        raise ValueError(f"{what} must be a positive int, got {P!r}")


def patch_points(P: int, z: np.ndarray) -> np.ndarray:
    """Global points (P*P, n, 2) of the local points z (n, 2) in every patch (row-major patches)."""
    _check(P, "P (patches per side)")
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"local points must have shape (n, 2), got {z.shape}")
    ij = np.stack(np.meshgrid(np.arange(P), np.arange(P), indexing="ij"), axis=-1).reshape(-1, 2)
    return (ij[:, None, :] + z[None, :, :]) / P


def _pixel_rule(m: int) -> tuple[np.ndarray, np.ndarray]:
    _check(m, "m (pixels per patch side)")
    c = (np.arange(m) + 0.5) / m
    z = np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1).reshape(-1, 2)
    return z, np.full(m * m, 1.0 / (m * m))


def patch_scores(field, P: int, params: AttentionParams, *, m: int | None = None, nodes=None, weights=None,
                 cell_area: bool = True) -> np.ndarray:
    """s_pq on m x m pixel centres (or on a given rule (nodes, weights) on [0,1]^2); (P^2, P^2).

    cell_area=False drops the pixel area h^2 (the negative control).
    """
    if nodes is None:
        if m is None:
            raise ValueError("give m (pixels per side) or a rule (nodes, weights)")
        nodes, weights = _pixel_rule(m)
    nodes = np.asarray(nodes, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (nodes.shape[0],) or np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError("weights must be finite, non-negative, one per node")
    if not cell_area:
        weights = np.ones_like(weights)
    x = patch_points(P, nodes)  # (T, n, 2)
    T, n, _ = x.shape
    u = field(x.reshape(-1, 2)).reshape(T, n, -1)
    q = np.einsum("tnd,kd->tnk", u, params.Q)
    k = np.einsum("tnd,kd->tnk", u, params.K)
    return params.scale * np.einsum("pnk,qnk,n->pq", q, k, weights)


def patch_attention(field, P: int, params: AttentionParams, z_eval, *, scores: np.ndarray) -> np.ndarray:
    """(A u)_p(z) at local points z_eval (n_z, 2) for given scores; returns (P^2, n_z, d_v)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (P * P, P * P) or not np.all(np.isfinite(s)):
        raise ValueError(f"scores must be a finite ({P * P}, {P * P}) array, got {s.shape}")
    a = np.exp(s - s.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    x = patch_points(P, np.asarray(z_eval, dtype=np.float64))
    T, n, _ = x.shape
    vu = field(x.reshape(-1, 2)).reshape(T, n, -1) @ params.V.T  # (T, n, d_v)
    return np.einsum("pq,qnd->pnd", a, vu)


def patch_scores_laplacian(field, P: int, params: AttentionParams, nodes, weights) -> np.ndarray:
    """s * int Laplacian_z <Q u_p(z), K u_q(z)> dz by the rule (nodes, weights): the constant of the
    midpoint error (-(h^2/24) times this). Uses the field's analytic derivatives (d/dz = (1/P) d/dx)."""
    x = patch_points(P, np.asarray(nodes, dtype=np.float64))
    T, n, _ = x.shape
    flat = x.reshape(-1, 2)
    total = np.zeros((T, T))
    for axis in (0, 1):
        d = [field.derivative(flat, k, axis=axis).reshape(T, n, -1) / P**k for k in range(3)]
        q = [np.einsum("tnd,kd->tnk", dk, params.Q) for dk in d]
        kk = [np.einsum("tnd,kd->tnk", dk, params.K) for dk in d]
        total += (np.einsum("pnk,qnk,n->pq", q[2], kk[0], weights)
                  + 2.0 * np.einsum("pnk,qnk,n->pq", q[1], kk[1], weights)
                  + np.einsum("pnk,qnk,n->pq", q[0], kk[2], weights))
    return params.scale * total

"""Anisotropic Gaussian radial basis functions (akbarianbafghi2026).

Akbarian Bafghi et al., "From Centerlines to Hemodynamics: Anisotropic RBF Decoders for Coronary
Arteries" (arXiv 2605.27578), decode a wall field as a weighted sum of Gaussians whose axes follow
the vessel's local (centreline) frame. Centre j carries a frame R_j (D x D orthogonal, columns = the
local axes) and per-axis lengths s_j (D,), i.e. the metric M_j = R_j diag(s_j)^-2 R_j^T, and

    phi_j(x) = exp(-|diag(s_j)^-1 R_j^T (x - c_j)|^2 / 2) = exp(-(x - c_j)^T M_j (x - c_j) / 2).

Interpolation solves A w = v with the collocation matrix A[i, j] = phi_j(c_i) and returns
s(x) = sum_j w_j phi_j(x). **The per-centre metrics are not symmetrised**: A[i, j] uses centre j's
metric, so A is symmetric (and, for a shared metric and distinct centres, positive definite: the
Gaussian is a strictly positive-definite kernel) only when all metrics agree; with differing
metrics A is a general square matrix that can be indefinite or singular. The solver uses Cholesky
when all metrics are equal and the factorisation succeeds, LU otherwise; it reports the 2-norm
condition number of A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from numerics.validation import as_float_array

__all__ = ["anisotropic_kernel", "collocation_matrix", "rbf_interpolate", "RBFInterpolant"]

# Frames must be orthogonal to this accuracy: |R^T R - I|_max <= _ORTHO_TOL (a rotation assembled in
# float64 from angles is orthogonal to ~1e-15; 1e-8 admits frames read from files with 8+ digits).
_ORTHO_TOL = 1e-8


def _check_geometry(centres, frames, scales) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = as_float_array("centres", centres, ndim=2)
    n, d = c.shape
    if n < 1 or d < 1:
        raise ValueError(f"centres must be (N, D) with N >= 1, D >= 1, got {c.shape}")
    R = as_float_array("frames", frames, shape=(n, d, d))
    s = as_float_array("scales", scales, shape=(n, d))
    if np.any(s <= 0):
        raise ValueError("scales must be positive (per-centre, per-axis lengths)")
    dev = np.abs(np.einsum("nki,nkj->nij", R, R) - np.eye(d)).max()
    if dev > _ORTHO_TOL:
        raise ValueError(f"frames must be orthogonal matrices (columns = local axes); max |R^T R - I| = {dev:.2e}")
    return c, R, s


def _kernel(x: np.ndarray, c: np.ndarray, R: np.ndarray, s: np.ndarray) -> np.ndarray:
    # z[i, j, :] = diag(s_j)^-1 R_j^T (x_i - c_j); (x - c) @ R_j gives R_j^T (x - c) as a row.
    z = np.einsum("mnd,nde->mne", x[:, None, :] - c[None, :, :], R) / s[None, :, :]
    return np.exp(-0.5 * np.sum(z * z, axis=2))


def anisotropic_kernel(x, centres, frames, scales) -> np.ndarray:
    """K[i, j] = exp(-|diag(scales[j])^-1 frames[j]^T (x[i] - centres[j])|^2 / 2), shape (M, N).

    x (M, D) query points (M >= 0); centres (N, D); frames (N, D, D) orthogonal, columns = local
    axes; scales (N, D) positive lengths along those axes.
    """
    c, R, s = _check_geometry(centres, frames, scales)
    q = as_float_array("x", x, ndim=2)
    if q.shape[1] != c.shape[1]:
        raise ValueError(f"x must have D = {c.shape[1]} columns (as centres), got shape {q.shape}")
    return _kernel(q, c, R, s)


def collocation_matrix(centres, frames, scales) -> np.ndarray:
    """A[i, j] = phi_j(c_i) (centre j's metric): symmetric only if the metrics agree."""
    c, R, s = _check_geometry(centres, frames, scales)
    return _kernel(c, c, R, s)


@dataclass(frozen=True)
class RBFInterpolant:
    """s(x) = sum_j weights[j] phi_j(x); call on (M, D) points. ``condition`` = cond_2(A);
    ``shared_metric`` tells whether all centres carry the same metric; ``solver`` is
    "cholesky" or "lu"."""

    centres: np.ndarray
    frames: np.ndarray
    scales: np.ndarray
    weights: np.ndarray
    condition: float
    shared_metric: bool
    solver: str

    def __call__(self, x) -> np.ndarray:
        q = as_float_array("x", x, ndim=2)
        if q.shape[1] != self.centres.shape[1]:
            raise ValueError(f"x must have D = {self.centres.shape[1]} columns, got shape {q.shape}")
        return _kernel(q, self.centres, self.frames, self.scales) @ self.weights


def rbf_interpolate(centres, values, frames, scales) -> RBFInterpolant:
    """The interpolant s with s(centres[i]) = values[i] (see the module docstring: A[i, j] = phi_j(c_i),
    per-centre metrics NOT symmetrised). Centres must be distinct (else A has two equal rows).
    Raises numpy.linalg.LinAlgError when A is exactly singular."""
    c, R, s = _check_geometry(centres, frames, scales)
    v = as_float_array("values", values, shape=(c.shape[0],))
    if np.unique(c, axis=0).shape[0] != c.shape[0]:
        raise ValueError("centres must be distinct (a repeated centre makes the collocation matrix singular)")
    A = _kernel(c, c, R, s)
    # The metric M_j = R_j diag(s_j)^-2 R_j^T is what enters phi_j; compare metrics, not frames
    # (a frame's column signs and the order of equal scales do not change phi_j).
    metrics = np.einsum("nij,nj,nkj->nik", R, 1.0 / s**2, R)
    shared = bool(np.allclose(metrics, metrics[0], rtol=1e-14, atol=0.0))
    cond = float(np.linalg.cond(A))
    w = None
    solver = "lu"
    if shared:
        try:
            w = scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, lower=True), v)
            solver = "cholesky"
        except np.linalg.LinAlgError:  # numerically not positive definite (cond ~ 1/eps): fall back
            w = None
    if w is None:
        lu, piv = scipy.linalg.lu_factor(A, check_finite=False)
        if np.any(np.diag(lu) == 0.0):
            raise np.linalg.LinAlgError("collocation matrix is exactly singular")
        w = scipy.linalg.lu_solve((lu, piv), v)
    return RBFInterpolant(c, R, s, w, cond, shared, solver)

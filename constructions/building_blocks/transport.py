"""Optimal-transport pairing for flow matching (buss2026).

Buss et al., "AllShowers" (arXiv 2601.11716), pair noise and data points by a minimum-cost
assignment (shower- and layer-wise optimal transport) before regressing the conditional
flow-matching velocity. For two equal-size point sets x0, x1 (rows) the pairing is the permutation

    perm = argmin_sigma  sum_i |x0[i] - x1[sigma(i)]|^2,

a linear assignment problem, solved exactly by ``scipy.optimize.linear_sum_assignment`` (the
Jonker-Volgenant shortest augmenting path method). The straight interpolant of conditional flow
matching (Lipman et al. 2023; Tong et al. 2024 for minibatch OT) is

    x_t = (1 - t) x0 + t x1,     u_t = d x_t / dt = x1 - x0.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import scipy.spatial.distance

from numerics.validation import as_float_array

__all__ = ["as_point_set", "squared_cost_matrix", "pairing_cost", "ot_pairing", "flow_matching_target"]


def as_point_set(name: str, x) -> np.ndarray:
    """x as a finite float64 (n, d) array; a 1-D array of n scalars is (n, 1). n >= 1, d >= 1."""
    arr = as_float_array(name, x, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one point of dimension >= 1, got shape {arr.shape}")
    return arr


def _pair_sets(x0, x1) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_point_set("x0", x0), as_point_set("x1", x1)
    if a.shape != b.shape:
        raise ValueError(f"x0 and x1 must have the same shape (n points of dimension d), got {a.shape} and {b.shape}")
    return a, b


def squared_cost_matrix(x0, x1) -> np.ndarray:
    """C[i, j] = |x0[i] - x1[j]|^2, computed from the differences (no |a|^2 + |b|^2 - 2ab cancellation)."""
    a, b = as_point_set("x0", x0), as_point_set("x1", x1)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x0 and x1 must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    return scipy.spatial.distance.cdist(a, b, "sqeuclidean")


def pairing_cost(x0, x1, perm) -> float:
    """sum_i |x0[i] - x1[perm[i]]|^2 for a permutation ``perm`` of range(n)."""
    a, b = _pair_sets(x0, x1)
    p = np.asarray(perm)
    if p.shape != (a.shape[0],) or p.dtype.kind not in "iu":
        raise ValueError(f"perm must be an int array of shape ({a.shape[0]},), got {p.dtype} {p.shape}")
    if not np.array_equal(np.sort(p), np.arange(a.shape[0])):
        raise ValueError("perm must be a permutation of range(n)")
    return float(np.sum((a - b[p]) ** 2))


def ot_pairing(x0, x1) -> np.ndarray:
    """The permutation perm (int64 array of length n) minimising sum_i |x0[i] - x1[perm[i]]|^2.

    x0, x1: (n, d) arrays (or (n,) for d = 1) of the same shape, finite. Exact (linear assignment);
    when several permutations attain the minimum, the one scipy returns is given.
    """
    a, b = _pair_sets(x0, x1)
    cost = scipy.spatial.distance.cdist(a, b, "sqeuclidean")
    rows, cols = scipy.optimize.linear_sum_assignment(cost)
    perm = np.empty(a.shape[0], dtype=np.int64)
    perm[rows] = cols
    return perm


def flow_matching_target(x0, x1, t) -> tuple[np.ndarray, np.ndarray]:
    """(x_t, u_t) of the straight interpolant: x_t = (1 - t) x0 + t x1, u_t = x1 - x0.

    x0, x1: (n, d) (or (n,)) of equal shape, paired row by row; t: a scalar or an (n,) / (n, 1)
    array in [0, 1] (one time per pair). Returns arrays of the shape of x0 as given ((n,) stays (n,)).
    """
    a, b = _pair_sets(x0, x1)
    tt = as_float_array("t", t, ndim=(0, 1, 2))
    if tt.ndim == 2 and tt.shape == (a.shape[0], 1):  # a column of times, one per pair
        tt = tt[:, 0]
    if tt.ndim >= 1 and tt.shape != (a.shape[0],):
        raise ValueError(f"t must be a scalar or of shape ({a.shape[0]},) or ({a.shape[0]}, 1), got {tt.shape}")
    if np.any(tt < 0) or np.any(tt > 1):
        raise ValueError("t must lie in [0, 1]")
    tcol = tt[:, None] if tt.ndim == 1 else tt
    xt = (1.0 - tcol) * a + tcol * b
    ut = b - a
    if np.ndim(x0) == 1:
        return xt[:, 0], ut[:, 0]
    return xt, ut

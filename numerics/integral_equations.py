"""Second-kind integral equations (paper-agnostic): damped fixed-point and Nystrom solvers.

A second-kind equation on [a, b] (or any domain with a quadrature rule (s_j, w_j)) reads

    y(x) = f(x) + int G(x, s, y(s)) ds ,        written  y = T(y).

Damped (Krasnoselskii-Mann) iteration. ``y <- alpha y + (1 - alpha) T(y)`` with 0 <= alpha < 1.
For an affine T(y) = f + M y the error obeys e_{k+1} = (alpha I + (1 - alpha) M) e_k, so the
asymptotic contraction factor is the spectral radius

    rho(alpha) = max over eigenvalues mu of M of |alpha + (1 - alpha) mu|,

and the iteration converges for every start iff rho(alpha) < 1 (for a nonlinear T, locally, with M
the Jacobian of T at the fixed point). Undamped iteration (alpha = 0) diverges as soon as one
|mu| > 1; damping rescues every spectrum with Re mu < 1.

Divergence is reported, never waited out: :func:`damped_fixed_point` raises
:class:`FixedPointDivergenceError` (a ValueError) when the increment grows by ``blowup`` over its
smallest value or stops being finite, and :class:`FixedPointNotConvergedError` when ``max_iter``
is exhausted without divergence.

Nystrom method (Atkinson, *The Numerical Solution of Integral Equations of the Second Kind*,
1997, ch. 4). For a linear kernel, y(x) = f(x) + int k(x, s) y(s) ds is replaced on the nodes by
(I - K W) y = f with K_ij = k(x_i, x_j), W = diag(w); the discrete solution is extended by the
Nystrom interpolant y(x) = f(x) + sum_j w_j k(x, x_j) y_j and converges at the order of the
quadrature rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FixedPointDivergenceError",
    "FixedPointNotConvergedError",
    "FixedPointResult",
    "damped_fixed_point",
    "predicted_contraction",
    "observed_contraction",
    "nystrom_matrix",
    "nystrom_solve",
    "nystrom_interpolate",
]


class FixedPointDivergenceError(ValueError):
    """The damped iteration diverges (increments grow, or become non-finite)."""

    def __init__(self, message: str, history: np.ndarray):
        super().__init__(message)
        self.history = history

    def __reduce__(self):
        # survives pickling across a process boundary (the constructor takes two arguments)
        return (type(self), (self.args[0], self.history))


class FixedPointNotConvergedError(ValueError):
    """max_iter was exhausted before the increment fell below the tolerance."""

    def __init__(self, message: str, history: np.ndarray):
        super().__init__(message)
        self.history = history

    def __reduce__(self):
        # survives pickling across a process boundary (the constructor takes two arguments)
        return (type(self), (self.args[0], self.history))


@dataclass(frozen=True)
class FixedPointResult:
    """solution, iterations, increments ||y_{k+1} - y_k|| (history) and iterates if kept."""

    solution: np.ndarray
    iterations: int
    history: np.ndarray
    iterates: np.ndarray | None


def _check_alpha(alpha: float) -> float:
    a = float(alpha)
    if not np.isfinite(a) or not 0.0 <= a < 1.0:
        raise ValueError(f"damping alpha must lie in [0, 1), got {alpha!r}")
    return a


def damped_fixed_point(
    T: Callable[[np.ndarray], np.ndarray],
    y0: np.ndarray,
    *,
    alpha: float = 0.0,
    tol: float = 1e-12,
    max_iter: int = 1000,
    min_iter: int = 0,
    blowup: float = 1e6,
    keep_iterates: bool = False,
) -> FixedPointResult:
    """Iterate y_{k+1} = alpha y_k + (1 - alpha) T(y_k) until ||y_{k+1} - y_k||_max <= tol ||y_{k+1}||_max.

    Raises FixedPointDivergenceError when an increment exceeds ``blowup`` times the smallest
    increment so far (or is not finite); FixedPointNotConvergedError after ``max_iter``.
    ``min_iter`` forces at least that many iterations (to measure a rate past the tolerance).
    """
    a = _check_alpha(alpha)
    y = np.array(y0, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(y)):
        raise ValueError("damped_fixed_point: the initial guess must be finite")
    for name, v in (("tol", tol), ("blowup", blowup)):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"damped_fixed_point: {name} must be finite and positive, got {v!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"damped_fixed_point: max_iter must be a positive int, got {max_iter!r}")
    history: list[float] = []
    iterates = [y.copy()] if keep_iterates else None
    smallest = np.inf
    for k in range(int(max_iter)):
        ty = np.asarray(T(y), dtype=np.float64)
        if ty.shape != y.shape:
            raise ValueError(f"damped_fixed_point: T changed the shape {y.shape} -> {ty.shape}")
        y_new = a * y + (1.0 - a) * ty
        inc = float(np.max(np.abs(y_new - y))) if y.size else 0.0
        history.append(inc)
        if keep_iterates:
            iterates.append(y_new.copy())
        hist = np.asarray(history)
        if not np.isfinite(inc) or not np.all(np.isfinite(y_new)) or inc > blowup * max(smallest, 1e-300):
            raise FixedPointDivergenceError(
                f"damped fixed-point iteration (alpha={a:g}) diverges: increment {inc:.3e} at "
                f"iteration {k + 1} exceeds {blowup:g} x the smallest increment {smallest:.3e}",
                hist,
            )
        smallest = min(smallest, inc)
        y = y_new
        scale = max(float(np.max(np.abs(y))) if y.size else 0.0, 1e-300)
        if inc <= tol * scale and k + 1 >= min_iter:
            return FixedPointResult(y, k + 1, hist, np.asarray(iterates) if keep_iterates else None)
    raise FixedPointNotConvergedError(
        f"damped fixed-point iteration (alpha={a:g}) did not converge in {max_iter} iterations "
        f"(last increment {history[-1]:.3e})",
        np.asarray(history),
    )


def predicted_contraction(eigenvalues: np.ndarray, alpha: float) -> float:
    """rho(alpha) = max |alpha + (1 - alpha) mu| over the (complex) eigenvalues mu."""
    a = _check_alpha(alpha)
    mu = np.asarray(eigenvalues)
    if mu.size == 0 or not np.all(np.isfinite(mu)):
        raise ValueError("predicted_contraction: need a non-empty finite spectrum")
    return float(np.max(np.abs(a + (1.0 - a) * mu)))


def observed_contraction(errors: np.ndarray, start: int, stop: int) -> float:
    """(e_stop / e_start)^(1/(stop - start)): the geometric mean error ratio over a window."""
    e = np.asarray(errors, dtype=np.float64)
    if not 0 <= start < stop < e.size:
        raise ValueError(f"observed_contraction: need 0 <= start < stop < {e.size}, got {start}, {stop}")
    if e[start] <= 0 or e[stop] <= 0:
        raise ValueError("observed_contraction: errors in the window must be positive")
    return float((e[stop] / e[start]) ** (1.0 / (stop - start)))


def _check_rule(nodes: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(nodes, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if x.ndim != 1 or w.shape != x.shape or x.size == 0:
        raise ValueError(f"Nystrom: nodes and weights must be equal-length 1-D arrays, got {x.shape}, {w.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
        raise ValueError("Nystrom: nodes and weights must be finite")
    return x, w


def nystrom_matrix(kernel: Callable[[np.ndarray, np.ndarray], np.ndarray], nodes, weights) -> np.ndarray:
    """M = K W with K = kernel(x_i, x_j): matrix (n, n) for a scalar kernel or (n*p, n*p) for a
    matrix-valued kernel returning (n, n, p, p) (block (i, j) = k(x_i, x_j) w_j)."""
    x, w = _check_rule(nodes, weights)
    K = np.asarray(kernel(x[:, None], x[None, :]), dtype=np.float64)
    n = x.size
    if K.shape == (n, n):
        return K * w[None, :]
    if K.ndim == 4 and K.shape[:2] == (n, n) and K.shape[2] == K.shape[3]:
        p = K.shape[2]
        return (K * w[None, :, None, None]).transpose(0, 2, 1, 3).reshape(n * p, n * p)
    raise ValueError(f"nystrom_matrix: kernel returned shape {K.shape}, expected ({n}, {n}) or ({n}, {n}, p, p)")


def nystrom_solve(kernel, f: Callable[[np.ndarray], np.ndarray], nodes, weights) -> np.ndarray:
    """Nodal values y_j of the Nystrom solution of y = f + int k(., s) y(s) ds: (I - K W) y = f.

    Returns shape (n,) for a scalar kernel or (n, p) for a (p x p)-matrix-valued kernel.
    """
    x, _ = _check_rule(nodes, weights)
    M = nystrom_matrix(kernel, x, weights)
    fx = np.asarray(f(x), dtype=np.float64)
    shape = fx.shape
    if fx.shape[0] != x.size or fx.size != M.shape[0]:
        raise ValueError(f"nystrom_solve: f(nodes) has shape {fx.shape}, incompatible with {M.shape}")
    y = np.linalg.solve(np.eye(M.shape[0]) - M, fx.reshape(-1))
    return y.reshape(shape)


def nystrom_interpolate(kernel, f, nodes, weights, values, x) -> np.ndarray:
    """y(x) = f(x) + sum_j w_j k(x, x_j) y_j (the Nystrom extension of nodal values)."""
    s, w = _check_rule(nodes, weights)
    xq = np.asarray(x, dtype=np.float64)
    K = np.asarray(kernel(xq[:, None], s[None, :]), dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    fx = np.asarray(f(xq), dtype=np.float64)
    if K.ndim == 2:
        return fx + K @ (w * y)
    return fx + np.einsum("ijab,j,jb->ia", K, w, y)

"""The method of manufactured solutions and defect correction, after Bischof, Piovarci, Kraus,
Mishra & Bickel, "HyPINO: multi-physics neural operators via HyperPINNs and the method of
manufactured solutions", NeurIPS 2025, arXiv 2509.05117.

* :func:`manufacture` -- from a chosen u*(x, y) (a sympy expression) and the constant-coefficient
  operator L u = a u_xx + b u_yy + c u_x + d u_y + e u, the source f = L u* and the boundary data
  (Dirichlet g = u*, Neumann h = grad u* . n) generated symbolically, so that u* solves the
  problem exactly; numpy callables by ``sympy.lambdify``.
* :func:`poisson_fd` -- the five-point finite-difference solver of -Lap u = f on the unit square
  with Dirichlet data on x = 0, y = 0, y = 1 and Neumann data u_x = h on x = 1 (a ghost node
  eliminated by the centred boundary difference, second order); returns the grid solution.
* :func:`poisson_matrix` -- its sparse matrix and right-hand side (unknowns at nodes
  x_i = i/n, i = 1..n, y_j = j/n, j = 1..n-1, ordered with j fastest).
* :func:`defect_correction` -- HyPINO's iterative "delta" refinement for a linear problem:
  u_{k+1} = u_k + S(f - L u_k) (the delta solves the residual problem approximately through S);
  the error obeys e_{k+1} = (I - S L) e_k.
* :func:`jacobi_smoother` -- S = m damped-Jacobi sweeps from zero, as a callable r -> S r.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import sympy as sp

from numerics.validation import check_int, check_positive

__all__ = [
    "Manufactured",
    "manufacture",
    "poisson_matrix",
    "poisson_fd",
    "defect_correction",
    "jacobi_smoother",
    "X",
    "Y",
]

X, Y = sp.symbols("x y", real=True)


@dataclass(frozen=True)
class Manufactured:
    """A manufactured problem: u*, f = L u*, and the boundary data, symbolic and as numpy callables."""

    u: sp.Expr
    f: sp.Expr
    ux: sp.Expr
    uy: sp.Expr
    coefficients: tuple[float, float, float, float, float]
    u_fn: Callable
    f_fn: Callable
    ux_fn: Callable
    uy_fn: Callable

    def residual(self) -> sp.Expr:
        """L u* - f, simplified (identically 0 by construction)."""
        a, b, c, d, e = self.coefficients
        u = self.u
        Lu = a * sp.diff(u, X, 2) + b * sp.diff(u, Y, 2) + c * sp.diff(u, X) + d * sp.diff(u, Y) + e * u
        return sp.simplify(Lu - self.f)


def _vectorised(expr: sp.Expr) -> Callable:
    fn = sp.lambdify((X, Y), expr, modules="numpy")

    def call(x, y):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        return np.broadcast_to(np.asarray(fn(x, y), dtype=np.float64), np.broadcast(x, y).shape).copy()

    return call


def manufacture(u, coefficients=(-1.0, -1.0, 0.0, 0.0, 0.0)) -> Manufactured:
    """Manufacture f = L u* for L u = a u_xx + b u_yy + c u_x + d u_y + e u (default: -Lap, the
    Poisson problem -Lap u = f). ``u`` is a sympy expression in ``X``, ``Y`` (or a string parsed
    with x, y)."""
    if isinstance(u, str):
        u = sp.sympify(u, locals={"x": X, "y": Y})
    if not isinstance(u, sp.Expr):
        raise TypeError(f"u must be a sympy expression in x, y, got {type(u).__name__}")
    extra = u.free_symbols - {X, Y}
    if extra:
        raise ValueError(f"u must depend on x and y only, found {sorted(map(str, extra))}")
    coeffs = tuple(float(c) for c in coefficients)
    if len(coeffs) != 5 or not all(np.isfinite(coeffs)):
        raise ValueError("coefficients must be five finite numbers (a, b, c, d, e)")
    a, b, c, d, e = coeffs
    if a == 0 and b == 0:
        raise ValueError("the operator must be second order (a or b non-zero)")
    f = a * sp.diff(u, X, 2) + b * sp.diff(u, Y, 2) + c * sp.diff(u, X) + d * sp.diff(u, Y) + e * u
    ux, uy = sp.diff(u, X), sp.diff(u, Y)
    return Manufactured(u, f, ux, uy, coeffs, _vectorised(u), _vectorised(f), _vectorised(ux), _vectorised(uy))


def poisson_matrix(n: int, f: Callable, g: Callable, h: Callable) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """Sparse L_h and rhs of the five-point scheme for -Lap u = f, u = g on x = 0, y = 0, y = 1 and
    u_x = h on x = 1, mesh width 1/n (n >= 2). Rows: interior nodes (i = 1..n-1) the standard
    stencil; Neumann nodes (i = n) with the ghost u_{n+1} = u_{n-1} + 2 (1/n) h eliminated."""
    n = check_int("n", n, 2)
    hh = 1.0 / n
    nx, ny = n, n - 1
    idx = lambda i, j: (i - 1) * ny + (j - 1)  # noqa: E731
    rows, cols, vals = [], [], []
    rhs = np.zeros(nx * ny)
    xs = np.arange(n + 1) * hh
    for i in range(1, n + 1):
        for j in range(1, n):
            r = idx(i, j)
            xi, yj = xs[i], xs[j]
            rhs[r] = float(f(xi, yj))
            rows.append(r)
            cols.append(r)
            vals.append(4.0 / hh**2)
            # x-neighbours
            left = (i - 1, j)
            if left[0] == 0:
                rhs[r] += float(g(0.0, yj)) / hh**2
            else:
                rows.append(r)
                cols.append(idx(*left))
                vals.append((-2.0 if i == n else -1.0) / hh**2)
            if i < n:
                rows.append(r)
                cols.append(idx(i + 1, j))
                vals.append(-1.0 / hh**2)
            else:  # ghost node: u_{n+1} = u_{n-1} + 2 hh h(1, y)
                rhs[r] += 2.0 * float(h(1.0, yj)) / hh
            for jj in (j - 1, j + 1):
                if jj == 0 or jj == n:
                    rhs[r] += float(g(xi, xs[jj])) / hh**2
                else:
                    rows.append(r)
                    cols.append(idx(i, jj))
                    vals.append(-1.0 / hh**2)
    L = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(nx * ny, nx * ny))
    return L, rhs


def poisson_fd(n: int, f: Callable, g: Callable, h: Callable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x_nodes (n,), y_nodes (n-1,), U (n, n-1)): the five-point solution at x_i = i/n,
    i = 1..n and y_j = j/n, j = 1..n-1 (sparse LU solve)."""
    L, rhs = poisson_matrix(n, f, g, h)
    U = scipy.sparse.linalg.spsolve(L.tocsc(), rhs)
    xs = np.arange(1, n + 1) / n
    ys = np.arange(1, n) / n
    return xs, ys, U.reshape(n, n - 1)


def jacobi_smoother(L, sweeps: int, omega: float = 2.0 / 3.0) -> Callable[[np.ndarray], np.ndarray]:
    """r -> S r: ``sweeps`` damped-Jacobi sweeps z <- z + omega D^-1 (r - L z) from z = 0."""
    m = check_int("sweeps", sweeps, 1)
    w = check_positive("omega", omega)
    diag = np.asarray(L.diagonal(), dtype=np.float64)
    if np.any(diag == 0):
        raise ValueError("Jacobi needs a non-zero diagonal")

    def apply(r):
        r = np.asarray(r, dtype=np.float64)
        z = w * r / diag
        for _ in range(m - 1):
            z = z + w * (r - L @ z) / diag
        return z

    return apply


def defect_correction(apply_L: Callable, f, u0, apply_S: Callable, n_iter: int,
                      sign: float = 1.0) -> np.ndarray:
    """Iterates u_0, ..., u_K (K = n_iter) of u_{k+1} = u_k + sign * S(f - L u_k), as (K + 1, n).
    ``sign`` = -1 is the wrong-signed correction (a control)."""
    K = check_int("n_iter", n_iter, 0)
    f = np.asarray(f, dtype=np.float64)
    u = np.asarray(u0, dtype=np.float64).copy()
    if u.shape != f.shape or u.ndim != 1:
        raise ValueError(f"u0 and f must be 1-D of equal length, got {u.shape} and {f.shape}")
    out = np.empty((K + 1, u.size))
    out[0] = u
    for k in range(K):
        u = u + float(sign) * np.asarray(apply_S(f - apply_L(u)), dtype=np.float64)
        out[k + 1] = u
    return out

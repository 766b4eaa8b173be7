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
import scipy.fft
import scipy.linalg
import scipy.sparse
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

    def residual(self, simplify: bool = False) -> sp.Expr:
        """L u* - f, expanded (and simplified when ``simplify``; identically 0 by construction)."""
        a, b, c, d, e = (sp.Rational(v) for v in self.coefficients)
        u = self.u
        Lu = a * sp.diff(u, X, 2) + b * sp.diff(u, Y, 2) + c * sp.diff(u, X) + d * sp.diff(u, Y) + e * u
        diff = sp.expand(Lu - self.f)
        return sp.simplify(diff) if simplify and diff != 0 else diff


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
    if coeffs[0] == 0 and coeffs[1] == 0:
        raise ValueError("the operator must be second order (a or b non-zero)")
    # exact rationals of the float64 values: the symbolic residual is then exactly 0
    a, b, c, d, e = (sp.Rational(v) for v in coeffs)
    f = a * sp.diff(u, X, 2) + b * sp.diff(u, Y, 2) + c * sp.diff(u, X) + d * sp.diff(u, Y) + e * u
    ux, uy = sp.diff(u, X), sp.diff(u, Y)
    return Manufactured(u, f, ux, uy, coeffs, _vectorised(u), _vectorised(f), _vectorised(ux), _vectorised(uy))


_NEUMANN = ("centred", "one_sided")


def _grid_data(n: int, f: Callable, g: Callable, h: Callable, neumann: str):
    """The x-operator Tx (n x n), the mask E (which x-rows carry the y-stencil), the y-operator
    Ty ((n-1) x (n-1), Dirichlet) and the right-hand side (n, n-1) of the scheme."""
    n = check_int("n", n, 2)
    if neumann not in _NEUMANN:
        raise ValueError(f"neumann must be one of {_NEUMANN}, got {neumann!r}")
    for name, fn in (("f", f), ("g", g), ("h", h)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable (x, y) -> values")
    hh = 1.0 / n
    xs = np.arange(1, n + 1) * hh
    ys = np.arange(1, n) * hh
    XX, YY = np.meshgrid(xs, ys, indexing="ij")
    main = np.full(n, 2.0 / hh**2)
    lower = np.full(n - 1, -1.0 / hh**2)
    upper = np.full(n - 1, -1.0 / hh**2)
    E = np.ones(n)
    rhs = np.asarray(f(XX, YY), dtype=np.float64) * np.ones_like(XX)
    gl = np.asarray(g(np.zeros_like(ys), ys), dtype=np.float64) * np.ones_like(ys)
    gb = np.asarray(g(xs, np.zeros_like(xs)), dtype=np.float64) * np.ones_like(xs)
    gt = np.asarray(g(xs, np.ones_like(xs)), dtype=np.float64) * np.ones_like(xs)
    hn = np.asarray(h(np.ones_like(ys), ys), dtype=np.float64) * np.ones_like(ys)
    rhs[0, :] += gl / hh**2
    rhs[:, 0] += gb / hh**2
    rhs[:, -1] += gt / hh**2
    if neumann == "centred":
        # ghost node u_{n+1} = u_{n-1} + 2 hh h(1, y): the last row reads (2 u_n - 2 u_{n-1})/hh^2
        lower[-1] = -2.0 / hh**2
        rhs[-1, :] += 2.0 * hn / hh
    else:
        # first-order variant (a control): (u_n - u_{n-1})/hh = h(1, y) replaces the PDE there
        main[-1], lower[-1], E[-1] = 1.0 / hh, -1.0 / hh, 0.0
        rhs[-1, :] = hn
    for name, arr in (("f", rhs),):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"the data ({name}, g, h) must be finite on the grid")
    Ty = scipy.sparse.diags([np.full(n - 2, -1.0), np.full(n - 1, 2.0), np.full(n - 2, -1.0)],
                            [-1, 0, 1]) / hh**2
    Tx = scipy.sparse.diags([lower, main, upper], [-1, 0, 1])
    return Tx, E, Ty, rhs, xs, ys


def poisson_matrix(n: int, f: Callable, g: Callable, h: Callable,
                   neumann: str = "centred") -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """Sparse L_h and rhs of the five-point scheme for -Lap u = f, u = g on x = 0, y = 0, y = 1 and
    u_x = h on x = 1, mesh width 1/n (n >= 2); unknowns U[i, j] at x_i = i/n (i = 1..n),
    y_j = j/n (j = 1..n-1), flattened with j fastest. Interior rows: the standard stencil;
    Neumann rows (i = n): the ghost u_{n+1} = u_{n-1} + 2 (1/n) h eliminated (``neumann="centred"``,
    second order) or the one-sided (u_n - u_{n-1}) n = h (``"one_sided"``, first order: a control).
    L_h = kron(Tx, I) + kron(diag(E), Ty)."""
    Tx, E, Ty, rhs, _, _ = _grid_data(n, f, g, h, neumann)
    L = scipy.sparse.kron(Tx, scipy.sparse.identity(n - 1)) + scipy.sparse.kron(scipy.sparse.diags(E), Ty)
    return L.tocsr(), rhs.reshape(-1)


def poisson_fd(n: int, f: Callable, g: Callable, h: Callable,
               neumann: str = "centred") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x_nodes (n,), y_nodes (n-1,), U (n, n-1)): the solution of :func:`poisson_matrix`'s system,
    by a sine transform in y (DST-I diagonalises the Dirichlet Ty) and one tridiagonal solve in x
    per sine mode (exact up to round-off, O(n^2 log n))."""
    Tx, E, _, rhs, xs, ys = _grid_data(n, f, g, h, neumann)
    hh = 1.0 / n
    k = np.arange(1, n)
    lam = (2.0 - 2.0 * np.cos(k * np.pi / n)) / hh**2
    R = scipy.fft.dst(rhs, type=1, axis=1)
    diag0 = Tx.diagonal(0)
    low = Tx.diagonal(-1)
    up = Tx.diagonal(1)
    Uh = np.empty_like(R)
    for m in range(n - 1):
        ab = np.zeros((3, n))
        ab[0, 1:] = up
        ab[1] = diag0 + lam[m] * E
        ab[2, :-1] = low
        Uh[:, m] = scipy.linalg.solve_banded((1, 1), ab, R[:, m])
    U = scipy.fft.idst(Uh, type=1, axis=1)
    return xs, ys, U


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

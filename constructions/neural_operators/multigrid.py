"""He, Liu & Xu 2023, "MgNO: Efficient Parameterization of Linear Operators via Multigrid"
(arXiv 2310.19809, ICLR 2024), section 3: the multigrid V-cycle that MgNO uses to parameterise each
linear operator W_ij, here with the classical (not learned) choices for -Laplace(u) = f on (0,1)^d.

Discretisation: n = 2^L - 1 interior nodes per axis, h = 1/(n + 1), zero Dirichlet data, the
standard second-order stencil A = (1/h^2) tridiag(-1, 2, -1) (d = 1) or its Kronecker sum (d = 2,
the 5-point stencil). Level l has n_l = 2^l - 1 nodes per axis. Transfers: linear interpolation
P (coarse node i sits at fine node 2i + 1, its neighbours get weight 1/2; d = 2 the tensor product,
bilinear), full-weighting restriction R = P^T / 2^d, Galerkin coarse operators A_{l-1} = R A_l P
(in 1-D the rediscretised operator on 2h; in 2-D a 9-point stencil). Smoother: damped Jacobi
u <- u + omega D^{-1} (f - A u), D = diag(A_l), omega = 2/3 (d = 1) or 4/5 (d = 2) by default.
The coarsest level n = 1 (one unknown) is solved exactly.

One cycle of index gamma (gamma = 1 is the V-cycle, 2 the W-cycle) on level l:
nu_pre Jacobi sweeps, r = f - A u, e_c = (gamma cycles on level l-1 from 0 for R r), u += P e_c,
nu_post Jacobi sweeps. :func:`cycle_work` counts the multiply-adds the same code performs
(every sparse product counts its stored entries, every vector update its length).
"""

from __future__ import annotations

import numbers
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from numerics.validation import as_float_array, check_int

__all__ = ["v_cycle", "jacobi", "multigrid_cycle", "cycle_work", "poisson_matrix", "default_omega"]


def default_omega(d: int) -> float:
    """2/3 in 1-D, 4/5 in 2-D: the damping that best smooths the high frequencies of the stencil."""
    return 2.0 / 3.0 if d == 1 else 4.0 / 5.0


def poisson_matrix(n: int, d: int) -> sp.csr_matrix:
    """The standard second-order -Laplace on n interior nodes per axis, h = 1/(n+1), sparse."""
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    if d not in (1, 2):
        raise ValueError(f"d must be 1 or 2, got {d}")
    h = 1.0 / (n + 1)
    T = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="csr") / h**2
    if d == 1:
        return T.tocsr()
    eye = sp.identity(n, format="csr")
    return (sp.kron(T, eye) + sp.kron(eye, T)).tocsr()


def _interp_1d(nc: int) -> sp.csr_matrix:
    nf = 2 * nc + 1
    rows, cols, vals = [], [], []
    for i in range(nc):
        for r, v in ((2 * i, 0.5), (2 * i + 1, 1.0), (2 * i + 2, 0.5)):
            rows.append(r)
            cols.append(i)
            vals.append(v)
    return sp.csr_matrix((vals, (rows, cols)), shape=(nf, nc))


@lru_cache(maxsize=64)
def _hierarchy(n: int, d: int) -> tuple:
    """(A_l, D_l^{-1}, P_l, R_l) from the fine level down to n = 1 (Galerkin coarse operators)."""
    levels = []
    A = poisson_matrix(n, d)
    m = n
    while True:
        dinv = 1.0 / A.diagonal()
        if m == 1:
            levels.append((A, dinv, None, None))
            break
        mc = (m - 1) // 2
        P1 = _interp_1d(mc)
        P = P1 if d == 1 else sp.kron(P1, P1).tocsr()
        R = (P.T / 2**d).tocsr()
        levels.append((A, dinv, P, R))
        A = (R @ A @ P).tocsr()
        m = mc
    return tuple(levels)


def _levels_of(n: int) -> int:
    L = int(round(np.log2(n + 1)))
    if 2**L - 1 != n:
        raise ValueError(f"the V-cycle needs n = 2^L - 1 interior nodes per axis, got n = {n}")
    return L


def _check_problem(u, f, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    ua = as_float_array("u", u, ndim=(1, 2))
    fa = as_float_array("f", f, ndim=(1, 2))
    if fa.shape != ua.shape:
        raise ValueError(f"{name}: f must have the shape of u {ua.shape}, got {fa.shape}")
    if ua.ndim == 2 and ua.shape[0] != ua.shape[1]:
        raise ValueError(f"{name}: in 2-D u must be square (n, n), got {ua.shape}")
    if ua.shape[0] < 1:
        raise ValueError(f"{name}: u must have at least one node")
    return ua, fa, ua.ndim


def _check_omega(omega, d: int) -> float:
    if omega is None:
        return default_omega(d)
    if isinstance(omega, bool) or not isinstance(omega, numbers.Real) or not np.isfinite(omega) or omega <= 0:
        raise ValueError(f"omega must be a finite real > 0 (or None), got {omega!r}")
    return float(omega)


class _Counter:
    def __init__(self) -> None:
        self.madds = 0


def _cycle(levels, l, u, f, nu_pre, nu_post, omega, gamma, counter):
    A, dinv, P, R = levels[l]
    if P is None:  # one unknown: exact solve
        if counter is not None:
            counter.madds += 1
        return f / A.diagonal()
    for _ in range(nu_pre):
        u = u + omega * dinv * (f - A @ u)
        if counter is not None:
            counter.madds += A.nnz + 2 * u.size
    r = f - A @ u
    rc = R @ r
    ec = np.zeros(rc.size)
    for _ in range(gamma):
        ec = _cycle(levels, l + 1, ec, rc, nu_pre, nu_post, omega, gamma, counter)
    u = u + P @ ec
    if counter is not None:
        counter.madds += A.nnz + u.size + R.nnz + P.nnz + u.size
    for _ in range(nu_post):
        u = u + omega * dinv * (f - A @ u)
        if counter is not None:
            counter.madds += A.nnz + 2 * u.size
    return u


def multigrid_cycle(u, f, *, nu_pre: int = 1, nu_post: int = 1, omega: float | None = None,
                    gamma: int = 1) -> np.ndarray:
    """One multigrid cycle of index gamma (1: V-cycle, 2: W-cycle); see the module docstring."""
    ua, fa, d = _check_problem(u, f, "multigrid_cycle")
    n = ua.shape[0]
    _levels_of(n)
    nu_pre = check_int("nu_pre", nu_pre, 0)
    nu_post = check_int("nu_post", nu_post, 0)
    gamma = check_int("gamma", gamma, 1)
    w = _check_omega(omega, d)
    levels = _hierarchy(n, d)
    out = _cycle(levels, 0, ua.ravel(), fa.ravel(), nu_pre, nu_post, w, gamma, None)
    return out.reshape(ua.shape)


def v_cycle(u, f, *, nu_pre: int = 1, nu_post: int = 1, omega: float | None = None) -> np.ndarray:
    """One V(nu_pre, nu_post)-cycle for -Laplace(u) = f, zero Dirichlet data; returns the new u.

    u, f: shape (n,) (d = 1) or (n, n) (d = 2), n = 2^L - 1, h = 1/(n+1).
    """
    return multigrid_cycle(u, f, nu_pre=nu_pre, nu_post=nu_post, omega=omega, gamma=1)


def jacobi(u, f, *, omega: float | None = None, sweeps: int = 1) -> np.ndarray:
    """``sweeps`` damped Jacobi sweeps u <- u + omega D^{-1}(f - A u) on the fine problem (any n >= 1)."""
    ua, fa, d = _check_problem(u, f, "jacobi")
    sweeps = check_int("sweeps", sweeps, 0)
    w = _check_omega(omega, d)
    A = poisson_matrix(ua.shape[0], d)
    dinv = 1.0 / A.diagonal()
    x, b = ua.ravel(), fa.ravel()
    for _ in range(sweeps):
        x = x + w * dinv * (b - A @ x)
    return x.reshape(ua.shape)


def cycle_work(n: int, d: int, *, nu_pre: int = 1, nu_post: int = 1, gamma: int = 1) -> int:
    """Multiply-adds of one cycle, counted while the cycle code runs (on u = f = 0)."""
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    if d not in (1, 2):
        raise ValueError(f"d must be 1 or 2, got {d}")
    _levels_of(n)
    counter = _Counter()
    levels = _hierarchy(n, d)
    N = n**d
    _cycle(levels, 0, np.zeros(N), np.zeros(N), check_int("nu_pre", nu_pre, 0), check_int("nu_post", nu_post, 0),
           default_omega(d), check_int("gamma", gamma, 1), counter)
    return int(counter.madds)

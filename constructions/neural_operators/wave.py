"""The variable-coefficient wave equation of Xie & Luo 2026, "Frequency Bias and OOD Generalization
in Neural Operators under a Variable-Coefficient Wave Equation" (arXiv 2605.12997):

    u_tt = (c(x)^2 u_x)_x  on the periodic unit interval,  u(0) = u0,  u_t(0) = v0.

:func:`leapfrog` is the second-order scheme (staggered in space, leapfrog in time): on x_j = j/N,
h = 1/N, dt = T/n_steps,

    (L u)_j = (a_{j+1/2} (u_{j+1} - u_j) - a_{j-1/2} (u_j - u_{j-1})) / h^2,   a = c^2 at half nodes,
    u^1 = u^0 + dt v0 + (dt^2/2) L u^0,    u^{n+1} = 2 u^n - u^{n-1} + dt^2 L u^n.

c may be a positive scalar, a callable (evaluated at the half nodes x_{j+1/2}) or an array of N
node values (then a_{j+1/2} = (c_j^2 + c_{j+1}^2)/2, also second order). The scheme conserves the
discrete energy E^{n+1/2} = (h/2) sum_j ((u^{n+1}_j - u^n_j)/dt)^2
+ (h/2) sum_j a_{j+1/2} (D u^{n+1})_{j+1/2} (D u^n)_{j+1/2}, D u_{j+1/2} = (u_{j+1} - u_j)/h,
exactly (:func:`discrete_energy`); it is stable when dt^2 max_j(2 (a_{j-1/2} + a_{j+1/2}))/h^2 <= 4
(Gershgorin; for constant c the CFL condition c dt <= h), and leapfrog raises ValueError otherwise.
"""

from __future__ import annotations

import numbers

import numpy as np

from numerics.validation import as_float_array, check_int, check_positive

__all__ = ["leapfrog", "half_node_coefficient", "wave_operator", "discrete_energy"]


def half_node_coefficient(c, n: int) -> np.ndarray:
    """a_{j+1/2} = c^2 at x_{j+1/2} = (j + 1/2)/N, j = 0..N-1 (see the module docstring)."""
    n = check_int("N", n, 3)
    if callable(c):
        vals = np.asarray(c((np.arange(n) + 0.5) / n), dtype=np.float64)
        if vals.shape != (n,):
            raise ValueError(f"c(x) must return shape ({n},) on the half nodes, got {vals.shape}")
        if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
            raise ValueError("c(x) must be finite and positive")
        return vals**2
    if np.ndim(c) == 0:
        cv = check_positive("c", c)
        return np.full(n, cv**2)
    ca = as_float_array("c", c, ndim=1)
    if ca.shape != (n,):
        raise ValueError(f"c must be a scalar, a callable or an array of N = {n} node values, got shape {ca.shape}")
    if np.any(ca <= 0):
        raise ValueError("c must be positive")
    c2 = ca**2
    return 0.5 * (c2 + np.roll(c2, -1))


def wave_operator(u: np.ndarray, a: np.ndarray, h: float) -> np.ndarray:
    """(L u)_j = (a_{j+1/2} (u_{j+1} - u_j) - a_{j-1/2} (u_j - u_{j-1})) / h^2 (periodic)."""
    flux = a * (np.roll(u, -1) - u)
    return (flux - np.roll(flux, 1)) / h**2


def leapfrog(u0, v0, c, T, n_steps) -> np.ndarray:
    """u(T) of u_tt = (c^2 u_x)_x, periodic, N = len(u0) points, n_steps leapfrog steps."""
    u = as_float_array("u0", u0, ndim=1)
    v = as_float_array("v0", v0, ndim=1)
    n = u.shape[0]
    if n < 3:
        raise ValueError(f"u0 needs at least 3 points, got {n}")
    if v.shape != u.shape:
        raise ValueError(f"v0 must have the shape of u0 {u.shape}, got {v.shape}")
    steps = check_int("n_steps", n_steps, 1)
    if isinstance(T, bool) or not isinstance(T, numbers.Real) or not np.isfinite(T) or T < 0:
        raise ValueError(f"T must be a finite real >= 0, got {T!r}")
    t_end = float(T)
    a = half_node_coefficient(c, n)
    h = 1.0 / n
    dt = t_end / steps
    stiff = np.max(2.0 * (a + np.roll(a, 1))) / h**2
    if dt**2 * stiff > 4.0 * (1.0 + 1e-12):
        raise ValueError(
            f"leapfrog is unstable: dt^2 * max(2 (a_j-1/2 + a_j+1/2)) / h^2 = {dt**2 * stiff:.4g} > 4 "
            f"(dt = {dt:.3g}, h = {h:.3g}); take n_steps >= {int(np.ceil(t_end * np.sqrt(stiff) / 2.0))}"
        )
    prev = u
    cur = u + dt * v + 0.5 * dt**2 * wave_operator(u, a, h)
    for _ in range(steps - 1):
        prev, cur = cur, 2.0 * cur - prev + dt**2 * wave_operator(cur, a, h)
    return cur


def discrete_energy(u_prev, u_next, c, dt: float) -> float:
    """E^{n+1/2} of the module docstring from two consecutive states."""
    up = as_float_array("u_prev", u_prev, ndim=1)
    un = as_float_array("u_next", u_next, ndim=1)
    if up.shape != un.shape:
        raise ValueError("u_prev and u_next must have equal shapes")
    n = up.shape[0]
    a = half_node_coefficient(c, n)
    h = 1.0 / n
    dtt = check_positive("dt", dt)
    kinetic = 0.5 * h * np.sum(((un - up) / dtt) ** 2)
    potential = 0.5 * h * np.sum(a * ((np.roll(un, -1) - un) / h) * ((np.roll(up, -1) - up) / h))
    return float(kinetic + potential)

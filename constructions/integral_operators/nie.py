"""Neural integral equations and their attentional form (Zappala, Fonseca, Caro, Moberly, Higley,
Cardin & van Dijk, "Neural Integral Equations", arXiv 2209.15190; Nature Machine Intelligence 2024).

NIE models data as the solution of a second-kind integral equation

    y(x) = f(x) + int_0^1 G(x, s, y(s)) ds,

solved by iterating y_{k+1} = f + int G(., s, y_k(s)) ds; ANIE replaces the integral by
self-attention over the sample points. The softmax-free attention kernel used here is

    G(x, s, y(s)) = lam <Q z(x), K z(s)> V y(s),     z(x) = [y(x); phi(x)],  phi(x) = (1, x, x^2),

(queries from the point x, keys and values from s; the quadrature weight of s plays the role of
ds). When Q and K see only the positional features phi (``linear=True``) the kernel
k(x, s) = lam <Q phi(x), K phi(s)> V is degenerate (rank d_k), the equation is linear, and its
exact solution is y = f + sum_i a_i(x) V c_i with a_i = lam (Q phi)_i, b_i = (K phi)_i and
C = (c_i) solving the d_k d_y linear system C = F + B C V^T, F_i = int b_i f, B_ij = int b_i a_j
(:func:`degenerate_solution`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from numerics.quadrature import gauss_legendre_nodes_weights
from numerics.random import rng

__all__ = ["ANIEKernel", "random_anie_kernel", "positional_features", "anie_operator",
           "linear_kernel", "degenerate_solution"]


def positional_features(x) -> np.ndarray:
    """phi(x) = (1, x, x^2) for x of shape (n,) -> (n, 3)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.stack([np.ones_like(x), x, x * x], axis=1)


def _features_derivative(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.stack([np.zeros_like(x), np.ones_like(x), 2.0 * x], axis=1)


@dataclass(frozen=True)
class ANIEKernel:
    """Q, K (d_k, d_y + 3), V (d_y, d_y) and the strength lam; linear=True zeroes the y-part of Q, K."""

    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    lam: float
    linear: bool = True

    def __post_init__(self) -> None:
        for name in ("Q", "K", "V"):
            a = np.asarray(getattr(self, name), dtype=np.float64)
            if a.ndim != 2 or not np.all(np.isfinite(a)):
                raise ValueError(f"ANIEKernel: {name} must be a finite 2-D array")
            object.__setattr__(self, name, a)
        dy = self.V.shape[0]
        if self.V.shape != (dy, dy) or self.Q.shape != self.K.shape or self.Q.shape[1] != dy + 3:
            raise ValueError(f"ANIEKernel: need V (d_y, d_y), Q = K (d_k, d_y + 3); got {self.Q.shape}, "
                             f"{self.K.shape}, {self.V.shape}")
        if not np.isfinite(self.lam):
            raise ValueError("ANIEKernel: lam must be finite")
        if self.linear:
            for name in ("Q", "K"):
                a = getattr(self, name).copy()
                a[:, :dy] = 0.0
                object.__setattr__(self, name, a)

    @property
    def d_y(self) -> int:
        return self.V.shape[0]

    def scaled(self, factor: float) -> ANIEKernel:
        return ANIEKernel(self.Q, self.K, self.V, self.lam * float(factor), self.linear)


def random_anie_kernel(d_y: int, d_k: int, seed, *, lam: float = 1.0, linear: bool = True) -> ANIEKernel:
    g = rng(seed)
    dz = d_y + 3
    return ANIEKernel(Q=g.standard_normal((d_k, dz)) / np.sqrt(dz), K=g.standard_normal((d_k, dz)) / np.sqrt(dz),
                      V=g.standard_normal((d_y, d_y)) / np.sqrt(d_y), lam=lam, linear=linear)


def anie_operator(kernel: ANIEKernel, x, weights, f_values, y, xp=np):
    """T(y) on the nodes x with quadrature weights: f + lam ((Z Q^T)(Z K^T)^T * w) (y V^T).

    y of shape (n, d_y); ``xp`` may be jax.numpy (for Jacobians).
    """
    phi = positional_features(x)
    z = xp.concatenate([y, phi], axis=1)
    scores = (z @ kernel.Q.T) @ (z @ kernel.K.T).T
    return f_values + kernel.lam * (scores * weights[None, :]) @ (y @ kernel.V.T)


def linear_kernel(kernel: ANIEKernel) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """k(x, s) = lam <Q phi(x), K phi(s)> V as a callable (x (n,1), s (1,m)) -> (n, m, d_y, d_y)."""
    if not kernel.linear:
        raise ValueError("linear_kernel: the kernel depends on y (linear=False)")
    dy = kernel.d_y

    def k(x, s):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        s = np.asarray(s, dtype=np.float64).reshape(-1)
        a = kernel.lam * positional_features(x) @ kernel.Q[:, dy:].T
        b = positional_features(s) @ kernel.K[:, dy:].T
        return (a @ b.T)[:, :, None, None] * kernel.V[None, None, :, :]

    return k


def degenerate_solution(kernel: ANIEKernel, f: Callable[[np.ndarray], np.ndarray], *, n_gl: int = 40):
    """Exact solution of y = f + int k(., s) y(s) ds for the degenerate linear kernel.

    Returns (y, C): y(x) callable (n,) -> (n, d_y) and the coefficients C (d_k, d_y). The integrals
    F_i, B_ij use an n_gl-point Gauss-Legendre rule (exact to round-off for analytic f).
    """
    if not kernel.linear:
        raise ValueError("degenerate_solution: needs a linear (positional) kernel")
    dy = kernel.d_y
    Qp, Kp = kernel.Q[:, dy:], kernel.K[:, dy:]
    s, w = gauss_legendre_nodes_weights(0.0, 1.0, n_gl)
    a = kernel.lam * positional_features(s) @ Qp.T  # (n, dk)
    b = positional_features(s) @ Kp.T  # (n, dk)
    fs = np.asarray(f(s), dtype=np.float64).reshape(s.size, dy)
    F = (b * w[:, None]).T @ fs  # (dk, dy)
    B = (b * w[:, None]).T @ a  # (dk, dk)
    dk = B.shape[0]
    C = np.linalg.solve(np.eye(dk * dy) - np.kron(B, kernel.V), F.reshape(-1)).reshape(dk, dy)

    def y(x):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        ax = kernel.lam * positional_features(x) @ Qp.T
        return np.asarray(f(x), dtype=np.float64).reshape(x.size, dy) + ax @ C @ kernel.V.T

    return y, C


def degenerate_solution_derivative(kernel: ANIEKernel, fprime, C) -> Callable[[np.ndarray], np.ndarray]:
    """y'(x) = f'(x) + lam (Q phi'(x)) C V^T for the solution with coefficients C."""
    dy = kernel.d_y

    def yp(x):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        return (np.asarray(fprime(x), dtype=np.float64).reshape(x.size, dy)
                + kernel.lam * _features_derivative(x) @ kernel.Q[:, dy:].T @ C @ kernel.V.T)

    return yp


def key_features(kernel: ANIEKernel, x) -> tuple[np.ndarray, np.ndarray]:
    """b(x) = K phi(x) and b'(x) (n, d_k): the key side of the degenerate kernel."""
    dy = kernel.d_y
    return positional_features(x) @ kernel.K[:, dy:].T, _features_derivative(x) @ kernel.K[:, dy:].T


__all__ += ["degenerate_solution_derivative", "key_features"]

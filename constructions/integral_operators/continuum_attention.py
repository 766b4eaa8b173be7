"""Continuum attention (Calvello, Kovachki, Levine & Stuart 2024, arXiv 2406.06486, sec. 3).

For a vector field u : D = [0,1]^dim -> R^{d_u}, matrices Q, K in R^{d_k x d_u}, V in R^{d_v x d_u}
and a probability measure mu on D, the continuum attention operator is

    A(u)(x) = int_D exp(s <Q u(x), K u(y)>) V u(y) dmu(y) / int_D exp(s <Q u(x), K u(z)>) dmu(z).

Scaling. theorycheck's convention (CONTRIBUTING.md section 4) is s = 1/sqrt(d_k). Every function here takes
``scale`` explicitly (default 1/sqrt(d_k)); scale = 1 gives the unscaled kernel exp(<Q u(x), K u(y)>).
The two define the same operator with Q replaced by s Q, so no statement checked here depends on
the choice. (Which of the two forms the paper's definition displays was not verified against the
paper's text in this session.)

Discretisation. Replacing mu by sum_j q_j delta_{y_j} (a quadrature rule, or q_j = 1/N on N i.i.d.
samples: Monte Carlo) gives

    A_q(u)(x) = sum_j q_j exp(s <Q u(x), K u(y_j)>) V u(y_j) / sum_j q_j exp(s <Q u(x), K u(y_j)>),

which for q_j = 1/N is exactly the attention of a transformer on the tokens u(y_j) (the paper's
statement that attention "as implemented in practice is a Monte Carlo or finite difference
approximation" of A). It is evaluated through the log-sum-exp stabilised softmax average of
:mod:`numerics.streaming`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics.random import rng
from numerics.streaming import dense_attention, streaming_attention

__all__ = [
    "AttentionParams",
    "default_scale",
    "random_attention",
    "SmoothField",
    "random_field",
    "discrete_attention",
    "continuum_attention",
    "attention_integrands",
]


def default_scale(d_k: int) -> float:
    """1/sqrt(d_k), theorycheck's softmax convention (CONTRIBUTING.md section 4)."""
    return 1.0 / float(np.sqrt(d_k))


@dataclass(frozen=True)
class AttentionParams:
    """Q (d_k, d_u), K (d_k, d_u), V (d_v, d_u) and the logit scale s."""

    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    scale: float

    def __post_init__(self) -> None:
        for name in ("Q", "K", "V"):
            a = np.asarray(getattr(self, name))
            if a.ndim != 2 or not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
                raise ValueError(f"AttentionParams: {name} must be a finite 2-D float array, got shape {a.shape}")
            object.__setattr__(self, name, a.astype(np.float64))
        if self.Q.shape != self.K.shape:
            raise ValueError(f"AttentionParams: Q and K must have equal shapes, got {self.Q.shape}, {self.K.shape}")
        if self.V.shape[1] != self.Q.shape[1]:
            raise ValueError(f"AttentionParams: V must act on d_u = {self.Q.shape[1]}, got {self.V.shape}")
        if not np.isfinite(self.scale):
            raise ValueError(f"AttentionParams: scale must be finite, got {self.scale}")
        object.__setattr__(self, "scale", float(self.scale))

    @property
    def d_u(self) -> int:
        return self.Q.shape[1]

    @property
    def d_v(self) -> int:
        return self.V.shape[0]


def random_attention(d_u: int, d_k: int, d_v: int, seed, *, gain: float = 1.0,
                     scale: float | None = None) -> AttentionParams:
    """Gaussian Q, K, V with entries N(0, gain^2 / d_u); scale defaults to 1/sqrt(d_k)."""
    for name, n in (("d_u", d_u), ("d_k", d_k), ("d_v", d_v)):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"random_attention: {name} must be a positive int, got {n!r}")
    g = rng(seed)
    sd = gain / np.sqrt(d_u)
    return AttentionParams(
        Q=sd * g.standard_normal((d_k, d_u)),
        K=sd * g.standard_normal((d_k, d_u)),
        V=sd * g.standard_normal((d_v, d_u)),
        scale=default_scale(d_k) if scale is None else float(scale),
    )


@dataclass(frozen=True)
class SmoothField:
    """u(x)_c = sum_m A[c, m] cos(<omega_m, x> + phi_m): an analytic field on R^dim.

    With omega_m in 2 pi Z^dim the field is 1-periodic in every coordinate.
    """

    amplitudes: np.ndarray  # (d_u, n_modes)
    frequencies: np.ndarray  # (n_modes, dim)
    phases: np.ndarray  # (n_modes,)

    @property
    def dim(self) -> int:
        return self.frequencies.shape[1]

    @property
    def d_u(self) -> int:
        return self.amplitudes.shape[0]

    def __call__(self, x, xp=np):
        """x of shape (n, dim) -> (n, d_u); ``xp`` may be jax.numpy (for derivatives)."""
        if xp is np:
            x = np.asarray(x, dtype=np.float64)
            return _small_matmul(np.cos(_small_matmul(x, self.frequencies.T) + self.phases), self.amplitudes.T)
        return xp.cos(x @ self.frequencies.T + self.phases) @ self.amplitudes.T


    def derivative(self, x, order: int, axis: int = 0) -> np.ndarray:
        """d^order/dx_axis^order u(x), shape (n, d_u): cos^(k)(t) = cos(t + k pi/2)."""
        if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 0:
            raise ValueError(f"SmoothField.derivative: order must be a non-negative int, got {order!r}")
        x = np.asarray(x, dtype=np.float64)
        om = self.frequencies[:, axis]
        arg = _small_matmul(x, self.frequencies.T) + self.phases + order * np.pi / 2.0
        return _small_matmul(np.cos(arg) * om[None, :] ** order, self.amplitudes.T)


def _small_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for a tiny inner dimension without BLAS (whose threads only add overhead here)."""
    return np.einsum("ij,jk->ik", a, b)


def random_field(d_u: int, dim: int, seed, *, n_modes: int = 3, periodic: bool = False,
                 max_mode: int = 2) -> SmoothField:
    """A random SmoothField; periodic fields use integer multiples 2 pi k, |k| <= max_mode."""
    g = rng(seed)
    if periodic:
        freqs = 2.0 * np.pi * g.integers(-max_mode, max_mode + 1, size=(n_modes, dim)).astype(np.float64)
    else:
        freqs = g.uniform(0.5, 3.0, size=(n_modes, dim)) * g.choice([-1.0, 1.0], size=(n_modes, dim))
    return SmoothField(
        amplitudes=g.standard_normal((d_u, n_modes)),
        frequencies=freqs,
        phases=g.uniform(0.0, 2.0 * np.pi, size=n_modes),
    )


def _values(name: str, u, d_u: int) -> np.ndarray:
    a = np.asarray(u)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must be a real array, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim != 2 or a.shape[1] != d_u:
        raise ValueError(f"{name} must have shape (n, {d_u}), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return a


def discrete_attention(u_query, u_samples, params: AttentionParams, weights=None, *,
                       chunk: int | None = None) -> np.ndarray:
    """A_q(u)(x_i) from the values u(x_i) (M, d_u) and u(y_j) (N, d_u) with weights q_j >= 0.

    weights=None means equal weights (plain attention). ``chunk`` switches to the streaming
    (running log-sum-exp) evaluation. Returns (M, d_v) float64.
    """
    uq = _values("u_query", u_query, params.d_u)
    us = _values("u_samples", u_samples, params.d_u)
    if us.shape[0] == 0:
        raise ValueError("u_samples must hold at least one sample")
    q, k, v = uq @ params.Q.T, us @ params.K.T, us @ params.V.T
    if chunk is None:
        return dense_attention(q, k, v, weights=weights, scale=params.scale)
    return streaming_attention(q, k, v, weights=weights, chunk=chunk, scale=params.scale)


def _points(name: str, x, dim: int | None) -> np.ndarray:
    """Points of the domain as an (M, dim) float64 array.

    An (M, dim) array is taken as it is. A 1-D array is M points of a ONE-dimensional domain
    (shape (M, 1)); for a field on a domain of dimension dim > 1 it is rejected, since it could be
    either one point or M points and reading it either way silently gives a wrong shape. A scalar
    is one point of a 1-D domain.
    """
    a = np.asarray(x)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must be a real array, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim <= 1:
        if dim is not None and dim != 1:
            raise ValueError(f"{name} must have shape (M, {dim}) for a field on a {dim}-dimensional "
                             f"domain, got shape {a.shape} (a 1-D array is read as M points of a 1-D domain)")
        a = a.reshape(-1, 1)
    if a.ndim != 2 or (dim is not None and a.shape[1] != dim):
        raise ValueError(f"{name} must have shape (M, {dim if dim is not None else 'dim'}), got {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one point")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return a


def _field_dim(field) -> int | None:
    dim = getattr(field, "dim", None)
    return int(dim) if isinstance(dim, int | np.integer) else None


def continuum_attention(field, x_query, params: AttentionParams, nodes, weights) -> np.ndarray:
    """A(u)(x) with mu replaced by the rule (nodes (N, dim), weights (N,)) -- e.g. a fine tensor
    Gauss-Legendre rule for a near-exact value, or a grid / Monte Carlo rule.

    x_query is (M, dim); on a 1-D domain a 1-D array of M points is accepted (and so are 1-D
    nodes). Returns (M, d_v): row i is A(u)(x_query[i]).
    """
    dim = _field_dim(field)
    xq = _points("x_query", x_query, dim)
    y = _points("nodes", nodes, xq.shape[1])
    return discrete_attention(field(xq), field(y), params, weights)


def attention_integrands(field, x_query, params: AttentionParams, y) -> tuple[np.ndarray, np.ndarray]:
    """w(x_i, y_j) = exp(s <Q u(x_i), K u(y_j)>) (M, N) and V u(y_j) (N, d_v): the integrands.

    Points are read as in :func:`continuum_attention` ((M, dim), or 1-D on a 1-D domain)."""
    dim = _field_dim(field)
    xq = _points("x_query", x_query, dim)
    uq = field(xq)
    uy = field(_points("y", y, xq.shape[1]))
    qk = _small_matmul(_small_matmul(uq, params.Q.T), params.K)  # (M, d_u): Q^T K folded into the query
    w = np.exp(params.scale * _small_matmul(qk, uy.T))
    return w, _small_matmul(uy, params.V.T)

"""The Transformer as a multi-particle ODE solver (Lu et al. 2019, arXiv 1906.02762, sections 3-4).

Tokens are particles x_1..x_n in R^d, stored as the rows of X in R^{n x d}. Their ODE is

    dx_i/dt = F(x_i, [x]) + G(x_i)                                           (Lu et al., sec. 3)

* F, the attention (interaction, "diffusion") field (CONTRIBUTING.md section 4):
      F(x_i, [x]) = sum_j softmax_j(<W_Q x_i, W_K x_j> / sqrt(d_k)) W_V x_j ;
  in matrix form F(X) = softmax_rows(Q K^T / sqrt(d_k)) V, Q = X W_Q^T, K = X W_K^T, V = X W_V^T.
* G, the position-wise FFN ("convection") field, applied to every row:
      G(x) = W_2 act(W_1 x + b_1) + b_2,   act = tanh (default) or the tanh-form GeLU;
  both are smooth, which the error expansions (derivatives of F and G) need; ReLU is not offered.

A Transformer layer with step h (residual branches scaled by h; the paper absorbs h into the
weights, h = 1) is Lie–Trotter splitting with one Euler step per sub-flow, attention first:
    X~ = X + h Attn(X),   X' = X~ + h FFN(X~)              (Lu et al., sec. 3, Lie–Trotter + Euler)
and the Macaron layer is Strang–Marchuk splitting with Euler sub-steps, FFN halves outside:
    X1 = X + (h/2) FFN(X),  X2 = X1 + h Attn(X1),  X' = X2 + (h/2) FFN(X2)   (Lu et al., sec. 4).
The layers here are written as blocks with residual connections (what a Transformer code does);
theorems/splitting/lu2019.py checks that they *are* these splitting compositions, against per-particle
fields composed by numerics.splitting. Single head, no layer normalisation, weights shared over
layers (an autonomous ODE); the paper's layer-dependent weights make F, G depend on t.

The fields accept ``xp=numpy`` (default, fast) or ``xp=jax.numpy`` (for jax.jvp derivatives).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from numerics.random import rng

__all__ = [
    "ParticleSystem",
    "random_particle_system",
    "attention_field",
    "ffn_field",
    "particle_field",
    "attention_sublayer",
    "ffn_sublayer",
    "transformer_layer",
    "macaron_layer",
    "transformer",
    "macaron",
    "ACTIVATIONS",
]

ACTIVATIONS = ("tanh", "gelu")


def _real_matrix(name: str, a, ndim: int = 2) -> np.ndarray:
    if type(a) is np.ndarray and a.dtype == np.float64:  # fast path: the ODE solvers call this often
        if a.ndim != ndim:
            raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} must be finite (found NaN or inf)")
        return a
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


@dataclass(frozen=True)
class ParticleSystem:
    """Weights of one attention head and one FFN (shared by every layer / time).

    W_Q, W_K: (d_k, d); W_V: (d, d); W_1: (d_ff, d); b_1: (d_ff,); W_2: (d, d_ff); b_2: (d,).
    activation: "tanh" or "gelu" (tanh form: 0.5 u (1 + tanh(sqrt(2/pi)(u + 0.044715 u^3)))).
    """

    W_Q: np.ndarray
    W_K: np.ndarray
    W_V: np.ndarray
    W_1: np.ndarray
    b_1: np.ndarray
    W_2: np.ndarray
    b_2: np.ndarray
    activation: str = "tanh"

    def __post_init__(self) -> None:
        for name in ("W_Q", "W_K", "W_V", "W_1", "W_2"):
            object.__setattr__(self, name, _real_matrix(name, getattr(self, name)))
        for name in ("b_1", "b_2"):
            object.__setattr__(self, name, _real_matrix(name, getattr(self, name), ndim=1))
        d = self.W_V.shape[0]
        d_k = self.W_Q.shape[0]
        d_ff = self.W_1.shape[0]
        expect = {"W_Q": (d_k, d), "W_K": (d_k, d), "W_V": (d, d), "W_1": (d_ff, d),
                  "b_1": (d_ff,), "W_2": (d, d_ff), "b_2": (d,)}
        for name, shape in expect.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape} (d={d}, d_k={d_k}, d_ff={d_ff}), "
                                 f"got {getattr(self, name).shape}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")

    @property
    def d(self) -> int:
        return int(self.W_V.shape[0])

    @property
    def d_k(self) -> int:
        return int(self.W_Q.shape[0])


def random_particle_system(d: int, d_k: int, d_ff: int, seed, *, scale: float = 1.0,
                           activation: str = "tanh") -> ParticleSystem:
    """Gaussian weights with variance scale^2 / fan_in (so each field is O(scale) on O(1) tokens) and
    biases b_1, b_2 with standard deviation scale / 2, drawn in the order W_Q, W_K, W_V, W_1, b_1, W_2, b_2."""
    for name, v in (("d", d), ("d_k", d_k), ("d_ff", d_ff)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    g = rng(seed)

    def w(rows, cols):
        return scale * g.standard_normal((rows, cols)) / np.sqrt(cols)

    return ParticleSystem(
        W_Q=w(d_k, d), W_K=w(d_k, d), W_V=w(d, d),
        W_1=w(d_ff, d), b_1=scale * 0.5 * g.standard_normal(d_ff),
        W_2=w(d, d_ff), b_2=scale * 0.5 * g.standard_normal(d),
        activation=activation,
    )


def _check_tokens(X, system: ParticleSystem, xp: ModuleType):
    if not isinstance(system, ParticleSystem):
        raise TypeError(f"system must be a ParticleSystem, got {type(system).__name__}")
    if xp is np:
        X = _real_matrix("tokens X", X)
    if X.ndim != 2 or X.shape[1] != system.d or X.shape[0] < 1:
        raise ValueError(f"tokens X must have shape (n, d={system.d}) with n >= 1, got {X.shape}")
    return X


def _activation(u, kind: str, xp: ModuleType):
    if kind == "tanh":
        return xp.tanh(u)
    return 0.5 * u * (1.0 + xp.tanh(np.sqrt(2.0 / np.pi) * (u + 0.044715 * u**3)))


def attention_field(X, system: ParticleSystem, *, xp: ModuleType = np):
    """F(X)_i = sum_j softmax_j(<W_Q x_i, W_K x_j>/sqrt(d_k)) W_V x_j, rows of X are tokens."""
    X = _check_tokens(X, system, xp)
    Q = X @ system.W_Q.T
    K = X @ system.W_K.T
    V = X @ system.W_V.T
    S = (Q @ K.T) / np.sqrt(system.d_k)
    # subtracting the row maximum changes nothing mathematically and avoids overflow in exp
    S = S - xp.max(S, axis=1, keepdims=True)
    P = xp.exp(S)
    P = P / xp.sum(P, axis=1, keepdims=True)
    return P @ V


def ffn_field(X, system: ParticleSystem, *, xp: ModuleType = np):
    """G(X)_i = W_2 act(W_1 x_i + b_1) + b_2 (position-wise)."""
    X = _check_tokens(X, system, xp)
    return _activation(X @ system.W_1.T + system.b_1, system.activation, xp) @ system.W_2.T + system.b_2


def particle_field(X, system: ParticleSystem, *, xp: ModuleType = np):
    """F(X) + G(X): the right-hand side of the particle ODE."""
    return attention_field(X, system, xp=xp) + ffn_field(X, system, xp=xp)


# --- the layers, written as Transformer blocks ---------------------------------------------


def attention_sublayer(X, system: ParticleSystem) -> np.ndarray:
    """Self-attention sub-layer Attn(X) = softmax(Q K^T / sqrt(d_k)) V, computed per query row.

    Written independently of :func:`attention_field` (scores for one query at a time, the
    normaliser by log-sum-exp) so that the block form is not the field's code re-run.
    """
    X = _check_tokens(X, system, np)
    K = X @ system.W_K.T
    V = X @ system.W_V.T
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        s = K @ (system.W_Q @ X[i]) / np.sqrt(system.d_k)
        log_z = np.logaddexp.reduce(s)
        out[i] = np.exp(s - log_z) @ V
    return out


def ffn_sublayer(X, system: ParticleSystem) -> np.ndarray:
    """Position-wise FFN sub-layer: W_2 act(W_1 x + b_1) + b_2 on every token."""
    X = _check_tokens(X, system, np)
    H = np.einsum("fd,nd->nf", system.W_1, X) + system.b_1
    return np.einsum("df,nf->nd", system.W_2, _activation(H, system.activation, np)) + system.b_2


def _check_h(h) -> float:
    if isinstance(h, bool) or not isinstance(h, int | float | np.integer | np.floating):
        raise TypeError(f"step h must be a real number, got {type(h).__name__}")
    if not np.isfinite(h):
        raise ValueError(f"step h must be finite, got {h}")
    return float(h)


def transformer_layer(X, system: ParticleSystem, h: float = 1.0) -> np.ndarray:
    """One post-norm-free Transformer block with residual branches scaled by h:
    X~ = X + h Attn(X);  X' = X~ + h FFN(X~)."""
    h = _check_h(h)
    X = _check_tokens(X, system, np)
    X = X + h * attention_sublayer(X, system)
    return X + h * ffn_sublayer(X, system)


def macaron_layer(X, system: ParticleSystem, h: float = 1.0) -> np.ndarray:
    """One Macaron block: X1 = X + (h/2) FFN(X); X2 = X1 + h Attn(X1); X' = X2 + (h/2) FFN(X2)."""
    h = _check_h(h)
    X = _check_tokens(X, system, np)
    X = X + 0.5 * h * ffn_sublayer(X, system)
    X = X + h * attention_sublayer(X, system)
    return X + 0.5 * h * ffn_sublayer(X, system)


def _stack(layer, X, system, T, n_layers):
    if isinstance(n_layers, bool) or not isinstance(n_layers, int | np.integer) or n_layers < 1:
        raise ValueError(f"n_layers must be a positive int, got {n_layers!r}")
    h = _check_h(T) / int(n_layers)
    for _ in range(int(n_layers)):
        X = layer(X, system, h)
    return X


def transformer(X, system: ParticleSystem, T: float, n_layers: int) -> np.ndarray:
    """n_layers weight-shared Transformer blocks with h = T / n_layers (the particle ODE to time T)."""
    return _stack(transformer_layer, X, system, T, n_layers)


def macaron(X, system: ParticleSystem, T: float, n_layers: int) -> np.ndarray:
    """n_layers weight-shared Macaron blocks with h = T / n_layers."""
    return _stack(macaron_layer, X, system, T, n_layers)

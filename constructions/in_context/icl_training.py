"""Training one linear self-attention layer on random linear-regression prompts (numpy; JAX + optax).

Used for two claims that a *trained* transformer converges to a construction:

* Zhang, Frei & Bartlett (2023), Theorem 4.1: x ~ N(0, Lambda), w ~ N(0, I_d); the trained
  layer's weight product W_PV[d, d] W_KQ[:d, :d] tends to Gamma^{-1},
  Gamma = (1 + 1/N) Lambda + (tr Lambda / N) I.
* von Oswald et al. (2023), section 3 / Figure 2: d = N = 10, x ~ U(-0.5, 0.5)^d, w ~ N(0, I_d);
  the trained layer reaches the loss of one step of gradient descent with the best step size, and
  its predictions and input sensitivities align with that GD step.

Model (the merged LSA convention of CONTRIBUTING.md section 4, with the prediction read with a PLUS
sign from the query's y-slot, whose input is 0):

    yhat = e_{d+1}^T (1/N) W_PV Z M Z^T W_KQ z_q,     z_q = (x_q, 0),  M = diag(1..1, 0),

which is f(Z)[d, N] of constructions.in_context.icl.lsa_forward for one layer (tests check this identity).
Both weight matrices are trained in full ((d+1) x (d+1) each). Loss (von Oswald's convention):
L = (1/2B) sum_b (yhat_b - y_q,b)^2 over minibatches of B prompts drawn from a seeded pool;
optimizer Adam with a cosine-decayed learning rate. Two interchangeable backends: numpy (exact
gradient, no JIT compile; used by the studies) and JAX (jax.grad + optax.adam in a jitted
scan); the tests check that they follow the same trajectory. Everything is float64 and seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

import numerics  # noqa: F401  (float64 JAX first)
from numerics.random import rng
from numerics.validation import check_int

__all__ = [
    "TrainResult",
    "lsa_predict",
    "lsa_loss",
    "lsa_loss_and_grad",
    "train_lsa",
    "erm_product",
    "sample_pool",
    "zhang_init",
    "gd_predict",
    "uniform_gd_optimal_step",
    "uniform_gd_optimal_loss",
    "lsa_sensitivity",
    "gd_sensitivity",
]

DISTRIBUTIONS = ("gaussian", "uniform")


@dataclass(frozen=True)
class TrainResult:
    """Trained weights (float64 numpy), the loss per step, and the run's settings."""

    W_KQ: np.ndarray
    W_PV: np.ndarray
    losses: np.ndarray
    steps: int
    batch: int
    learning_rate: float


def _xp(*arrays):
    """jax.numpy when any input is a jax array or tracer (training, jax.grad), else numpy (no
    per-operation compile for plain evaluation)."""
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


def lsa_predict(W_KQ, W_PV, X, y, xq):
    """Batched yhat_b = (1/N) sum_i (W_PV[d] . z_i) (z_i^T W_KQ z_q); X (B, N, d), y (B, N), xq (B, d)."""
    xp = _xp(W_KQ, W_PV, X, y, xq)
    d = X.shape[-1]
    Z = xp.concatenate([X, y[..., None]], axis=-1)              # (B, N, d+1) context tokens
    zq = xp.concatenate([xq, xp.zeros_like(xq[..., :1])], axis=-1)  # (B, d+1)
    v = Z @ W_PV[d]                                             # (B, N): last row of W_PV . z_i
    s = xp.einsum("bnk,bk->bn", Z, zq @ W_KQ.T)                 # (B, N): z_i^T W_KQ z_q
    return xp.mean(v * s, axis=-1)


def lsa_loss(params, X, y, xq, yq):
    """L = (1/2B) sum (yhat - y_q)^2."""
    W_KQ, W_PV = params
    return 0.5 * jnp.mean((lsa_predict(W_KQ, W_PV, X, y, xq) - yq) ** 2)


def _schedule(learning_rate: float, steps: int) -> np.ndarray:
    """Cosine decay from ``learning_rate`` to 1% of it over ``steps`` (optax.cosine_decay_schedule,
    alpha = 0.01)."""
    k = np.arange(steps, dtype=np.float64)
    return learning_rate * (0.01 + 0.99 * 0.5 * (1.0 + np.cos(np.pi * k / steps)))


def lsa_loss_and_grad(W_KQ: np.ndarray, W_PV: np.ndarray, X: np.ndarray, y: np.ndarray,
                      xq: np.ndarray, yq: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """L = (1/2B) sum (yhat - y_q)^2 and its exact gradient (numpy). With v_i = W_PV[d] . z_i and
    s_i = z_i^T W_KQ z_q, yhat = (1/N) sum_i v_i s_i, so for r = (yhat - y_q)/B
        dL/dW_PV[d] = sum_b r_b (1/N) sum_i s_i z_i,   dL/dW_KQ = sum_b r_b (1/N) sum_i v_i z_i z_q^T
    and the other rows of W_PV do not enter the prediction (zero gradient)."""
    d = X.shape[-1]
    B, N = y.shape
    Z = np.concatenate([X, y[..., None]], axis=-1)
    zq = np.concatenate([xq, np.zeros((B, 1))], axis=-1)
    v = Z @ W_PV[d]
    s = np.matmul(Z, (zq @ W_KQ.T)[..., None])[..., 0]
    yhat = np.mean(v * s, axis=-1)
    r = (yhat - yq) / B
    g_pv = np.zeros_like(W_PV)
    g_pv[d] = ((r[:, None] * s).reshape(1, -1) @ Z.reshape(B * N, -1))[0] / N
    weighted = np.matmul((r[:, None] * v)[:, None, :], Z)[:, 0, :]  # (B, d+1): sum_i r v_i z_i
    g_kq = weighted.T @ zq / N
    return float(0.5 * np.mean((yhat - yq) ** 2)), g_kq, g_pv


def _train_numpy(params, pool, indices, lrs, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma & Ba 2015, with bias correction; optax.adam's defaults) on the exact gradient."""
    W = [np.array(p, dtype=np.float64) for p in params]
    m = [np.zeros_like(w) for w in W]
    v = [np.zeros_like(w) for w in W]
    X, y, xq, yq = pool
    losses = np.empty(len(lrs))
    for k, (idx, lr) in enumerate(zip(indices, lrs)):
        loss, *grads = lsa_loss_and_grad(W[0], W[1], X[idx], y[idx], xq[idx], yq[idx])
        losses[k] = loss
        for j, g in enumerate(grads):
            m[j] = b1 * m[j] + (1 - b1) * g
            v[j] = b2 * v[j] + (1 - b2) * g * g
            m_hat = m[j] / (1 - b1 ** (k + 1))
            v_hat = v[j] / (1 - b2 ** (k + 1))
            W[j] = W[j] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return tuple(W), losses


@jax.jit
def _train_jax(params, pool, indices, lrs):
    """The same run with jax.grad and optax.adam, in one jitted lax.scan."""
    opt = optax.adam(1.0)
    state = opt.init(params)
    X, y, xq, yq = pool

    def step(carry, inputs):
        p, s = carry
        idx, lr = inputs
        loss, grads = jax.value_and_grad(lsa_loss)(p, X[idx], y[idx], xq[idx], yq[idx])
        updates, s = opt.update(grads, s, p)
        updates = jax.tree_util.tree_map(lambda u: lr * u, updates)
        return (optax.apply_updates(p, updates), s), loss

    (params, _), losses = jax.lax.scan(step, (params, state), (indices, lrs))
    return params, losses


def sample_pool(size: int, N: int, d: int, seed, *, distribution: str = "gaussian",
                covariance: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(X, y, xq, yq) for ``size`` prompts drawn with numpy (much faster than JAX's counter-based
    generator in float64): x ~ N(0, covariance) or U(-1/2, 1/2)^d, w ~ N(0, I), y = X w."""
    size = _check("size", size, 1)
    N = _check("N", N, 1)
    d = _check("d", d, 1)
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    g = rng(seed)
    if distribution == "gaussian":
        cov = np.eye(d) if covariance is None else np.asarray(covariance, dtype=np.float64)
        if cov.shape != (d, d):
            raise ValueError(f"covariance must be ({d}, {d}), got {cov.shape}")
        x = g.standard_normal((size, N + 1, d)) @ np.linalg.cholesky(cov).T
    else:
        x = g.uniform(-0.5, 0.5, (size, N + 1, d))
    w = g.standard_normal((size, d))
    yy = np.einsum("bnd,bd->bn", x, w)
    return x[:, :N], yy[:, :N], x[:, N], yy[:, N]


def _check(name: str, value, minimum: int) -> int:
    # these sizes have always been a ValueError when not an int (tests/in_context/test_zhang2023.py)
    return check_int(name, value, minimum, type_error=ValueError)


def zhang_init(d: int, scale: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Zhang et al.'s initialisation (their eq. (4.2) with Theta = I): W_PV = scale e_{d+1} e_{d+1}^T,
    W_KQ = [[scale I, 0], [0, 0]] (all other entries zero, and trained)."""
    d = _check("d", d, 1)
    W_KQ = np.zeros((d + 1, d + 1))
    W_KQ[:d, :d] = scale * np.eye(d)
    W_PV = np.zeros((d + 1, d + 1))
    W_PV[d, d] = scale
    return W_KQ, W_PV


def train_lsa(d: int, N: int, *, steps: int, batch: int, learning_rate: float, seed: int,
              distribution: str = "gaussian", covariance: np.ndarray | None = None,
              init: tuple[np.ndarray, np.ndarray] | None = None, pool: int = 65536,
              backend: str = "numpy") -> TrainResult:
    """Train (W_KQ, W_PV) with Adam (cosine-decayed rate, peak ``learning_rate``) on minibatches of
    ``batch`` prompts drawn (with replacement, seeded) from a seeded pool of ``pool`` prompts.

    backend "numpy": the exact gradient :func:`lsa_loss_and_grad` and a numpy Adam (no JIT compile,
    which costs seconds); backend "jax": jax.grad + optax.adam in one jitted scan. Both see the same
    pool, minibatches and schedule, so they follow the same trajectory (the tests check this).
    The pool makes this empirical-risk minimisation; its minimiser (:func:`erm_product`) differs
    from the population one by O(pool^{-1/2}) with a constant that grows for short prompts and
    ill-conditioned covariances (for the default 2^16 prompts, d = 3: 1-3% at N = 16, 2-7% at N = 2
    and cond(covariance) = 10, seeds 0-4). ``learning_rate = 0`` is allowed (the weights stay at the
    initialisation: a control)."""
    d = _check("d", d, 1)
    N = _check("N", N, 1)
    steps = _check("steps", steps, 1)
    batch = _check("batch", batch, 1)
    pool = _check("pool", pool, 1)
    if backend not in ("numpy", "jax"):
        raise ValueError(f"backend must be 'numpy' or 'jax', got {backend!r}")
    if isinstance(learning_rate, bool) or not np.isfinite(learning_rate) or learning_rate < 0:
        raise ValueError(f"learning_rate must be finite and >= 0, got {learning_rate!r}")
    data = sample_pool(pool, N, d, seed, distribution=distribution, covariance=covariance)
    W_KQ, W_PV = zhang_init(d) if init is None else init
    indices = rng(seed).integers(0, pool, size=(steps, batch))
    lrs = _schedule(float(learning_rate), steps)
    if backend == "numpy":
        (kq, pv), losses = _train_numpy((W_KQ, W_PV), data, indices, lrs)
    else:
        params = (jnp.asarray(W_KQ, dtype=jnp.float64), jnp.asarray(W_PV, dtype=jnp.float64))
        (kq, pv), losses = _train_jax(params, tuple(jnp.asarray(a) for a in data), jnp.asarray(indices),
                                      jnp.asarray(lrs))
    return TrainResult(np.asarray(kq, dtype=np.float64), np.asarray(pv, dtype=np.float64),
                       np.asarray(losses, dtype=np.float64), steps, batch, float(learning_rate))


def erm_product(d: int, N: int, *, seed: int, distribution: str = "gaussian",
                covariance: np.ndarray | None = None, pool: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """The global minimiser of train_lsa's empirical risk within Zhang et al.'s invariant class, and
    its sampling covariance: (P, cov), P (d, d), cov (d^2, d^2) for vec(P) in row-major order.

    In the class the initialisation keeps (W_PV[d, :d] = 0, W_KQ[d, :] = W_KQ[:, d] = 0) the
    prediction is yhat = h^T P x_q with h = (1/N) sum_i y_i x_i and P = W_PV[d, d] W_KQ[:d, :d],
    linear in P, so the minimiser over the same seeded pool as :func:`train_lsa` is a linear least
    squares solve (numpy.linalg.lstsq) over the d^2 features h_j x_q,k; ``cov`` is the
    heteroscedasticity-robust (sandwich) covariance (F^T F)^-1 F^T diag(r^2) F (F^T F)^-1, the
    estimate's covariance about the population minimiser for a large pool."""
    d = _check("d", d, 1)
    N = _check("N", N, 1)
    pool = _check("pool", pool, 1)
    X, y, xq, yq = sample_pool(pool, N, d, seed, distribution=distribution, covariance=covariance)
    h = np.einsum("bn,bnd->bd", y, X) / N
    F = np.einsum("bj,bk->bjk", h, xq).reshape(pool, d * d)
    p, _, rank, _ = np.linalg.lstsq(F, yq, rcond=None)
    if rank < d * d:
        raise ValueError(f"pool = {pool} prompts do not determine the {d * d} entries of P")
    r = yq - F @ p
    A = np.linalg.inv(F.T @ F)
    cov = A @ ((F.T * r**2) @ F) @ A
    return p.reshape(d, d), 0.5 * (cov + cov.T)


def gd_predict(eta: float, X, y, xq):
    """One GD step from w = 0 on (1/2N)||X w - y||^2 with step eta: yhat = eta x_q^T (1/N) X^T y."""
    xp = _xp(X, y, xq)
    return eta * xp.einsum("bd,bd->b", xq, xp.einsum("bnd,bn->bd", X, y)) / X.shape[-2]


def uniform_gd_optimal_step(d: int, N: int) -> float:
    """The loss-minimising eta for x ~ U(-1/2, 1/2)^d, w ~ N(0, I): eta* = E[y_q x_q^T h] / E[(x_q^T h)^2]
    with h = (1/N) X^T y; E x x^T = I/12, E x^4 = 1/80 give
    E[y_q x_q^T h] = d/144 and E[(x_q^T h)^2] = (d/12) [(1/N)(1/80 + (d-1)/144) + (1 - 1/N)/144]."""
    d = _check("d", d, 1)
    N = _check("N", N, 1)
    cross = d / 144.0
    quad = (d / 12.0) * ((1.0 / N) * (1.0 / 80.0 + (d - 1) / 144.0) + (1.0 - 1.0 / N) / 144.0)
    return cross / quad


def uniform_gd_optimal_loss(d: int, N: int) -> float:
    """(1/2) E (yhat_GD(eta*) - y_q)^2 = (1/2)(d/12 - cross^2/quad) (module docstring of the step)."""
    d = _check("d", d, 1)
    N = _check("N", N, 1)
    cross = d / 144.0
    quad = (d / 12.0) * ((1.0 / N) * (1.0 / 80.0 + (d - 1) / 144.0) + (1.0 - 1.0 / N) / 144.0)
    return 0.5 * (d / 12.0 - cross**2 / quad)


def lsa_sensitivity(W_KQ: np.ndarray, W_PV: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d yhat / d x_q of :func:`lsa_predict` in closed form (yhat is linear in x_q):
    (1/N) sum_i (W_PV[d] . z_i) W_KQ[:, :d]^T z_i, per prompt (B, d)."""
    d = X.shape[-1]
    Z = np.concatenate([X, y[..., None]], axis=-1)
    v = Z @ W_PV[d]
    return np.einsum("bn,bnk,kj->bj", v, Z, W_KQ[:, :d]) / X.shape[-2]


def gd_sensitivity(eta: float, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d yhat_GD / d x_q = eta (1/N) X^T y per prompt (B, d)."""
    return eta * np.einsum("bnd,bn->bd", X, y) / X.shape[-2]

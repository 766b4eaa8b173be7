"""A small causal transformer trained in-context on Boolean function prompts (Bhattamishra et al.,
ICLR 2024, Section 4 set-up, scaled down): float64, JAX + optax, seeded.

Prompt encoding: k examples (x_i, y_i) become 2k tokens of dimension n + 1, the x-token
[x_i, 0] followed by the y-token [0, ..., 0, y_i]. A pre-LayerNorm causal transformer (learned
positions, ``layers`` blocks of softmax attention and a GELU MLP) reads out a logit at every x-token;
the prediction for y_i therefore sees (x_1, y_1, ..., x_{i-1}, y_{i-1}, x_i) only. Training minimises
the mean logistic loss over all k positions with Adam on minibatches drawn from a fixed pool of
prompts (one jitted ``lax.scan``).
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from numerics.validation import check_int, check_positive

__all__ = ["encode_prompts", "init_model", "model_logits", "train_in_context", "predict_errors"]


def encode_prompts(X, y) -> np.ndarray:
    """X (B, k, n), y (B, k) in {-1, +1} -> tokens (B, 2k, n + 1)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"X must be (B, k, n) and y (B, k), got {X.shape}, {y.shape}")
    B, k, n = X.shape
    tok = np.zeros((B, 2 * k, n + 1))
    tok[:, 0::2, :n] = X
    tok[:, 1::2, n] = y
    return tok


def init_model(n: int, k: int, *, d: int = 32, layers: int = 2, heads: int = 2, seed: int = 0) -> dict:
    n, k, d = check_int("n", n, 1), check_int("k", k, 1), check_int("d", d, 1)
    layers, heads = check_int("layers", layers, 1), check_int("heads", heads, 1)
    if d % heads:
        raise ValueError(f"d = {d} is not divisible by heads = {heads}")
    keys = iter(jax.random.split(jax.random.PRNGKey(seed), 4 + 4 * layers))
    nrm = lambda shape, s: s * jax.random.normal(next(keys), shape)  # noqa: E731
    p = {"embed": nrm((n + 1, d), 1 / math.sqrt(n + 1)), "pos": nrm((2 * k, d), 0.1),
         "read": nrm((d,), 1 / math.sqrt(d)), "blocks": []}
    for _ in range(layers):
        p["blocks"].append({"qkv": nrm((d, 3 * d), 1 / math.sqrt(d)), "out": nrm((d, d), 1 / math.sqrt(d)),
                            "fc1": nrm((d, 2 * d), 1 / math.sqrt(d)), "fc2": nrm((2 * d, d), 1 / math.sqrt(2 * d)),
                            "b1": jnp.zeros(2 * d)})
    p["heads"] = heads  # static, removed before differentiation
    return p


def _ln(x):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-6)


def model_logits(params: dict, tokens, heads: int):
    """tokens (B, 2k, n + 1) -> logits (B, k) at the x-tokens."""
    h = tokens @ params["embed"] + params["pos"][None]
    T, d = h.shape[1], h.shape[2]
    mask = jnp.tril(jnp.ones((T, T), dtype=bool))
    for b in params["blocks"]:
        q, k, v = jnp.split(_ln(h) @ b["qkv"], 3, axis=-1)
        sp = lambda t: t.reshape(t.shape[0], T, heads, d // heads)  # noqa: E731
        s = jnp.einsum("bqhe,bkhe->bhqk", sp(q), sp(k)) / math.sqrt(d // heads)
        a = jax.nn.softmax(jnp.where(mask, s, -jnp.inf), axis=-1)
        h = h + jnp.einsum("bhqk,bkhe->bqhe", a, sp(v)).reshape(h.shape) @ b["out"]
        h = h + jax.nn.gelu(_ln(h) @ b["fc1"] + b["b1"]) @ b["fc2"]
    return (_ln(h) @ params["read"])[:, 0::2]


def train_in_context(X_pool, y_pool, *, steps: int, batch: int, learning_rate: float = 3e-3, seed: int = 0,
                     d: int = 32, layers: int = 2, heads: int = 2):
    """Adam on the mean logistic loss over minibatches of the pool. Returns (params, losses (steps,))."""
    steps, batch = check_int("steps", steps, 0), check_int("batch", batch, 1)
    learning_rate = check_positive("learning_rate", learning_rate)
    tokens = jnp.asarray(encode_prompts(X_pool, y_pool))
    labels = jnp.asarray(np.asarray(y_pool, dtype=np.float64))
    P, k, n = np.asarray(X_pool).shape
    params = init_model(n, k, d=d, layers=layers, heads=heads, seed=seed)
    params.pop("heads")
    idx = jnp.asarray(np.random.default_rng(seed).integers(0, P, size=(steps, batch)))
    if steps == 0:
        return params, np.zeros(0)
    params, losses = _run(params, tokens, labels, idx, learning_rate, heads)
    return params, np.asarray(losses)


def _loss(p, tok, lab, heads):
    return jnp.mean(jax.nn.softplus(-lab * model_logits(p, tok, heads)))


@partial(jax.jit, static_argnames=("learning_rate", "heads"))
def _run(params, tokens, labels, idx, learning_rate, heads):
    """All Adam steps in one lax.scan (compiled once per shape and hyper-parameters)."""
    opt = optax.adam(learning_rate)

    def step(carry, ii):
        p, s = carry
        loss, g = jax.value_and_grad(_loss)(p, tokens[ii], labels[ii], heads)
        upd, s = opt.update(g, s, p)
        return (optax.apply_updates(p, upd), s), loss

    (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), idx)
    return params, losses


@partial(jax.jit, static_argnames=("heads",))
def _logits(params, tokens, heads):
    return model_logits(params, tokens, heads)


def predict_errors(params: dict, X, y, heads: int = 2) -> np.ndarray:
    """Error rate of sign(logit) at every position: (k,), averaged over the B prompts."""
    logits = _logits(params, jnp.asarray(encode_prompts(X, y)), heads)
    pred = np.where(np.asarray(logits) >= 0, 1.0, -1.0)
    return np.mean(pred != np.asarray(y), axis=0)

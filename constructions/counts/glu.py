"""Activator (Abdullah & Aydin, arXiv 2405.15953): a GLU-gated MLP in place of multi-head
self-attention in a vision-transformer block.

GLU-MLP block on tokens x (n, d), hidden width h (Shazeer 2020, "GLU variants"):

    GLU-MLP(x) = x + (act(LN(x) W_g + b_g) * (LN(x) W_u + b_u)) W_o + b_o,
    act = sigmoid (GLU), gelu (GEGLU), silu (SwiGLU), relu (ReGLU).

Every operation acts on one token's row, so the block does no token mixing. Counts (weights only,
no biases or LayerNorm; MACs of the matrix products, not FLOPs):

    glu_block_params(d, h) = 3 d h                     glu_block_macs(n, d, h) = 3 n d h
    mhsa_mlp_params(d, f)  = 4 d^2 + 2 d f              mhsa_mlp_macs(n, d, f)  = n (4 d^2 + 2 d f) + 2 n^2 d

(the second: the standard ViT block, attention with Q, K, V, output projections and an MLP of width f).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from numerics.validation import check_int

__all__ = ["GLU_VARIANTS", "init_glu_block", "glu_block", "glu_block_params", "glu_block_macs",
           "mhsa_mlp_params", "mhsa_mlp_macs"]

GLU_VARIANTS = {
    "glu": jax.nn.sigmoid,
    "geglu": lambda z: jax.nn.gelu(z, approximate=False),
    "swiglu": jax.nn.silu,
    "reglu": jax.nn.relu,
}


def _check_variant(variant: str) -> None:
    if variant not in GLU_VARIANTS:
        raise ValueError(f"variant must be one of {sorted(GLU_VARIANTS)}, got {variant!r}")


def init_glu_block(d: int, h: int, key) -> dict:
    d, h = check_int("d", d, 1), check_int("h", h, 1)
    k = jax.random.split(key, 3)
    s = 1.0 / jnp.sqrt(d)
    return {"ln": {"g": jnp.ones(d), "b": jnp.zeros(d)},
            "gate": {"w": s * jax.random.normal(k[0], (d, h)), "b": 0.1 * jnp.ones(h)},
            "up": {"w": s * jax.random.normal(k[1], (d, h)), "b": jnp.zeros(h)},
            "down": {"w": jax.random.normal(k[2], (h, d)) / jnp.sqrt(h), "b": jnp.zeros(d)}}


def glu_block(p: dict, x, variant: str = "swiglu"):
    """x (n, d) -> (n, d): the GLU-MLP block of the module docstring."""
    _check_variant(variant)
    if x.ndim != 2:
        raise ValueError(f"x must be (tokens, dim), got {x.shape}")
    mu = jnp.mean(x, axis=-1, keepdims=True)
    y = (x - mu) / jnp.sqrt(jnp.mean((x - mu) ** 2, axis=-1, keepdims=True) + 1e-6) * p["ln"]["g"] + p["ln"]["b"]
    gate = GLU_VARIANTS[variant](y @ p["gate"]["w"] + p["gate"]["b"])
    return x + (gate * (y @ p["up"]["w"] + p["up"]["b"])) @ p["down"]["w"] + p["down"]["b"]


def glu_block_params(d: int, h: int) -> int:
    d, h = check_int("d", d, 0), check_int("h", h, 0)
    return 3 * d * h


def glu_block_macs(n: int, d: int, h: int) -> int:
    n, d, h = check_int("n", n, 0), check_int("d", d, 0), check_int("h", h, 0)
    return 3 * n * d * h


def mhsa_mlp_params(d: int, f: int) -> int:
    d, f = check_int("d", d, 0), check_int("f", f, 0)
    return 4 * d * d + 2 * d * f


def mhsa_mlp_macs(n: int, d: int, f: int) -> int:
    n, d, f = check_int("n", n, 0), check_int("d", d, 0), check_int("f", f, 0)
    return n * (4 * d * d + 2 * d * f) + 2 * n * n * d

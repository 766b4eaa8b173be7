"""Transformer in Transformer (Han, Xiao, Wu, Guo, Xu & Wang, NeurIPS 2021, arXiv 2103.00112),
Section 2.3 "Complexity analysis": one TNT block, written out, and its cost formulas.

A TNT block acts on n visual sentences (patches) of dimension d, each holding m visual words of
dimension c (eqs. 3-6 of the paper):

    inner:  Y' = Y + MSA(LN(Y));  Y = Y' + MLP(LN(Y'))        (per sentence, m words of dim c)
    aggregate: Z += FC(Vec(LN(Y)))                            (flatten m x c -> d, with bias)
    outer:  Z' = Z + MSA(LN(Z));  Z = Z' + MLP(LN(Z'))        (n sentences of dim d)

with MLP expansion ratio 4 in both transformers. The paper's convention (MACs of the matrix
products; parameters of the weight matrices only, no biases, no LayerNorm):

    tnt_macs(n, d, c, m)  = 2 n m c (6c + m) + n m c d + 2 n d (6d + n)
    tnt_params(d, c, m)   = 12 c^2 + m c d + 12 d^2

(a standard ViT/DeiT block alone: 2 n d (6d + n) MACs, 12 d^2 weights). The class token is not part
of the per-block formula; the block here acts on exactly n sentences.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from numerics.validation import check_int

__all__ = ["tnt_macs", "tnt_params", "vit_block_macs_paper", "init_tnt_block", "tnt_block", "init_vit_block",
           "vit_block"]


def tnt_macs(n: int, d: int, c: int, m: int) -> int:
    """MACs of one TNT block (matrix products only): 2nmc(6c + m) + nmcd + 2nd(6d + n)."""
    n, d, c, m = (check_int(k, v, 0) for k, v in (("n", n), ("d", d), ("c", c), ("m", m)))
    return int(2 * n * m * c * (6 * c + m) + n * m * c * d + 2 * n * d * (6 * d + n))


def tnt_params(d: int, c: int, m: int) -> int:
    """Weight-matrix parameters of one TNT block: 12c^2 + mcd + 12d^2."""
    d, c, m = (check_int(k, v, 0) for k, v in (("d", d), ("c", c), ("m", m)))
    return int(12 * c * c + m * c * d + 12 * d * d)


def vit_block_macs_paper(n: int, d: int) -> int:
    """MACs of one standard (DeiT) block in the same convention: 2nd(6d + n)."""
    n, d = check_int("n", n, 0), check_int("d", d, 0)
    return int(2 * n * d * (6 * d + n))


def _dense(key, i, o):
    return {"w": 0.02 * jax.random.normal(key, (i, o)), "b": jnp.zeros(o)}


def _ln(d):
    return {"g": jnp.ones(d), "b": jnp.zeros(d)}


def init_vit_block(d: int, key, mlp_ratio: int = 4) -> dict:
    """Pre-LN transformer block parameters: ln1, qkv (d -> 3d), out, ln2, fc1 (d -> 4d), fc2."""
    d = check_int("d", d, 1)
    k = jax.random.split(key, 4)
    return {"ln1": _ln(d), "qkv": _dense(k[0], d, 3 * d), "out": _dense(k[1], d, d), "ln2": _ln(d),
            "fc1": _dense(k[2], d, mlp_ratio * d), "fc2": _dense(k[3], mlp_ratio * d, d)}


def _layer_norm(x, p, eps=1e-6):
    mu = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / jnp.sqrt(var + eps) * p["g"] + p["b"]


def _lin(x, p):
    return jnp.einsum("...i,io->...o", x, p["w"]) + p["b"]


def vit_block(p: dict, x, heads: int):
    """x (..., tokens, dim) -> same shape; attention over the tokens axis, batched over the rest."""
    dim = x.shape[-1]
    if dim % heads:
        raise ValueError(f"dimension {dim} is not divisible by heads = {heads}")
    y = _layer_norm(x, p["ln1"])
    q, k, v = jnp.split(_lin(y, p["qkv"]), 3, axis=-1)
    split = lambda t: t.reshape(*t.shape[:-1], heads, dim // heads)  # noqa: E731
    q, k, v = split(q), split(k), split(v)
    s = jnp.einsum("...qhe,...khe->...hqk", q, k) / math.sqrt(dim // heads)
    a = jax.nn.softmax(s, axis=-1)
    o = jnp.einsum("...hqk,...khe->...qhe", a, v).reshape(x.shape)
    x = x + _lin(o, p["out"])
    return x + _lin(jax.nn.gelu(_lin(_layer_norm(x, p["ln2"]), p["fc1"])), p["fc2"])


def init_tnt_block(d: int, c: int, m: int, key) -> dict:
    """Inner block (dim c), aggregation LN(c) + FC (m c -> d), outer block (dim d)."""
    d, c, m = check_int("d", d, 1), check_int("c", c, 1), check_int("m", m, 1)
    k = jax.random.split(key, 3)
    return {"inner": init_vit_block(c, k[0]), "proj_ln": _ln(c), "proj": _dense(k[1], m * c, d),
            "outer": init_vit_block(d, k[2])}


def tnt_block(p: dict, words, sentences, heads_inner: int = 4, heads_outer: int = 6):
    """words (n, m, c), sentences (n, d) -> (words', sentences'), the paper's eqs. 3-6."""
    if words.ndim != 3 or sentences.ndim != 2 or words.shape[0] != sentences.shape[0]:
        raise ValueError(f"words must be (n, m, c) and sentences (n, d), got {words.shape}, {sentences.shape}")
    n, m, c = words.shape
    words = vit_block(p["inner"], words, heads_inner)
    sentences = sentences + _lin(_layer_norm(words, p["proj_ln"]).reshape(n, m * c), p["proj"])
    return words, vit_block(p["outer"], sentences, heads_outer)

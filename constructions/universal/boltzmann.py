"""Kajitsuka & Sato (ICLR 2024): softmax attention as the Boltzmann operator.

"Are Transformers with One Layer Self-Attention Using Low-Rank Weight Matrices Universal
Approximators?" (arXiv 2307.14023). With rank-1 weights W_Q = beta w^T, W_K = w^T, W_V = w^T
(head size 1) and a_l = w^T x_l, the attention output at query k is

    y_k = sum_l a_l exp(beta a_k a_l) / sum_l exp(beta a_k a_l) = boltz_{beta a_k}(a),

the Boltzmann operator boltz_t(a) = sum_l a_l e^{t a_l} / sum_l e^{t a_l}. It tends to max(a)
(t -> +inf), min(a) (t -> -inf) and the mean (t = 0). A hardmax attention returns max(a) for every
query with a_k > 0, so it forgets everything but the maximum: one hardmax layer is not a contextual
mapping. The softmax layer keeps the whole multiset in y_k, but differences between contexts that
share the maximum are of size e^{-beta a_k (max a - a_l)}: exponentially small margins that float64
cannot see and mpmath can.

The layer's output token is (x_k, y_k) (W_O writes y_k into a fresh channel); it is a contextual
mapping on a finite input set when y_k differs for the same token in contexts that are not
permutations of each other.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

__all__ = [
    "boltzmann",
    "boltzmann_mp",
    "rank1_attention",
    "attention_scalars",
    "attention_scalars_mp",
    "hardmax_scalars",
]


def _vec(name: str, a) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def boltzmann(a, t: float = 1.0) -> float:
    """boltz_t(a) = sum a_l e^{t a_l} / sum e^{t a_l} in float64 (max-shifted)."""
    a = _vec("a", a)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"a must be a non-empty vector, got shape {a.shape}")
    s = t * a
    e = np.exp(s - s.max())
    return float(np.dot(a, e) / e.sum())


def boltzmann_mp(a, t, dps: int = 60):
    """boltz_t(a) in mpmath at ``dps`` digits (entries may be Fractions: converted exactly)."""
    with mpmath.workdps(dps):
        av = [mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else mpmath.mpf(x) for x in a]
        tt = mpmath.mpf(t.numerator) / t.denominator if isinstance(t, Fraction) else mpmath.mpf(t)
        m = max(tt * x for x in av)
        w = [mpmath.exp(tt * x - m) for x in av]
        return mpmath.fsum(x * wi for x, wi in zip(av, w)) / mpmath.fsum(w)


def rank1_attention(X, w, beta: float, *, transpose_scores: bool = False) -> np.ndarray:
    """Single-head softmax self-attention with rank-1 weights, standard form, float64.

    X is d x n (tokens as columns). Q = beta w^T X, K = w^T X, V = w^T X (1 x n);
    P = softmax over keys of K^T Q; the returned 1 x n row is V P (the head output that W_O
    writes to a fresh channel). ``transpose_scores`` (a negative control) normalises over queries.
    """
    X = _vec("X", X)
    w = _vec("w", w)
    if X.ndim != 2 or w.shape != (X.shape[0],):
        raise ValueError(f"X must be d x n and w of length d, got {X.shape} and {w.shape}")
    if not np.isfinite(beta):
        raise ValueError(f"beta must be finite, got {beta!r}")
    Q, K, V = beta * (w @ X)[None], (w @ X)[None], (w @ X)[None]
    S = K.T @ Q  # (keys, queries)
    axis = 1 if transpose_scores else 0
    P = np.exp(S - S.max(axis=axis, keepdims=True))
    P /= P.sum(axis=axis, keepdims=True)
    return (V @ P)[0]


def attention_scalars(a, beta: float) -> np.ndarray:
    """y_k = boltz_{beta a_k}(a) for every k, float64."""
    a = _vec("a", a)
    return np.array([boltzmann(a, beta * ak) for ak in a])


def attention_scalars_mp(a, beta, dps: int = 60) -> list:
    """y_k = boltz_{beta a_k}(a) for every k in mpmath (exact Fraction inputs allowed)."""
    return [boltzmann_mp(a, beta * ak, dps) for ak in a]


def hardmax_scalars(a) -> list:
    """Hardmax attention: query k attends to argmax_l a_k a_l (ties averaged), exact on Fractions."""
    out = []
    for ak in a:
        scores = [ak * al for al in a]
        top = max(scores)
        sel = [al for al, s in zip(a, scores) if s == top]
        out.append(sum(sel, Fraction(0)) / len(sel) if isinstance(a[0], Fraction) else sum(sel) / len(sel))
    return out

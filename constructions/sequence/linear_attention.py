"""Causal linear attention: the parallel (masked matrix) form and the recurrent (RNN) form.

Katharopoulos, Vyas, Pappas & Fleuret, "Transformers are RNNs: Fast Autoregressive Transformers
with Linear Attention", ICML 2020 (arXiv 2006.16236), Section 3.2-3.4.

With a feature map phi (paper eq. (7): phi(x) = elu(x) + 1, positive), causal linear attention is

    o_i = sum_{j<=i} (phi(q_i)^T phi(k_j)) v_j  /  sum_{j<=i} phi(q_i)^T phi(k_j)      (eq. (8)-(9))

computed either in parallel, ``O = (A V) / (A 1)`` with ``A = (phi(Q) phi(K)^T) * M`` and M the
lower-triangular causal mask (diagonal included), or as a recurrence (eq. (18)-(20), written here
in the d_v x d_k state layout that :mod:`constructions.sequence.delta_rule` uses; the paper's s_i is its
transpose):

    S_i = S_{i-1} + v_i phi(k_i)^T,   z_i = z_{i-1} + phi(k_i),   o_i = S_i phi(q_i) / (z_i^T phi(q_i)).

``normalize=False`` drops the denominator (o_i = S_i phi(q_i)), the unnormalised form that DeltaNet
generalises (delta rule with beta = 0 replaced by the additive update). Tokens are rows; nothing is
scaled inside; outputs are float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import numerics  # noqa: F401  (float64 JAX)
from numerics.validation import as_float_matrix

__all__ = ["elu_plus_one", "identity_map", "causal_parallel", "causal_recurrent", "causal_mask"]

FeatureMap = Callable[[np.ndarray], np.ndarray]


def elu_plus_one(x: np.ndarray) -> np.ndarray:
    """phi(x) = elu(x) + 1 (paper eq. (7)): x + 1 for x > 0, exp(x) otherwise; always > 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def identity_map(x: np.ndarray) -> np.ndarray:
    """phi(x) = x (only sensible with ``normalize=False``: the denominator can vanish)."""
    return np.asarray(x, dtype=np.float64)


def causal_mask(L: int, offset: int = 0) -> np.ndarray:
    """M_ij = 1 for j <= i + offset (offset 0: causal, diagonal included), else 0."""
    return np.tril(np.ones((L, L), dtype=np.float64), offset)


def _validate(q, k, v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q, k, v = (as_float_matrix(name, x) for name, x in (("q", q), ("k", k), ("v", v)))
    if q.shape != k.shape:
        raise ValueError(f"q and k must have the same shape (L, d_k), got {q.shape} and {k.shape}")
    if v.shape[0] != q.shape[0]:
        raise ValueError(f"v must have L = {q.shape[0]} rows, got shape {v.shape}")
    return q, k, v


def _features(phi: FeatureMap, x: np.ndarray, name: str) -> np.ndarray:
    f = np.asarray(phi(x), dtype=np.float64)
    if f.ndim != 2 or f.shape[0] != x.shape[0]:
        raise ValueError(f"feature map must return shape (L, r) for {name}, got {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"feature map returned non-finite values for {name}")
    return f


def causal_parallel(q, k, v, *, feature_map: FeatureMap = elu_plus_one, normalize: bool = True,
                    mask: np.ndarray | None = None) -> np.ndarray:
    """O = (A V) / (A 1), A = (phi(Q) phi(K)^T) * M: the masked quadratic form (eq. (8)-(9)).

    ``mask`` defaults to the causal mask (diagonal included); another L x L mask may be passed
    (the negative controls use an acausal and an off-by-one mask).
    """
    q, k, v = _validate(q, k, v)
    L = q.shape[0]
    fq, fk = _features(feature_map, q, "q"), _features(feature_map, k, "k")
    M = causal_mask(L) if mask is None else np.asarray(mask, dtype=np.float64)
    if M.shape != (L, L):
        raise ValueError(f"mask must have shape ({L}, {L}), got {M.shape}")
    A = (fq @ fk.T) * M
    num = A @ v
    if not normalize:
        return num
    den = A.sum(axis=1)
    if np.any(den == 0):
        raise ValueError("normaliser sum_j A_ij vanished (feature map not positive, or empty mask row)")
    return num / den[:, None]


def causal_recurrent(q, k, v, *, feature_map: FeatureMap = elu_plus_one, normalize: bool = True,
                     S0=None, z0=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The RNN form (eq. (18)-(20)): returns (o, S_L, z_L), S of layout d_v x r, z of length r.

    S0 (d_v x r) and z0 (r,) continue a previous segment (zeros if None), so a sequence split in
    two gives the same outputs when the state is passed on.
    """
    q, k, v = _validate(q, k, v)
    fq, fk = _features(feature_map, q, "q"), _features(feature_map, k, "k")
    L, r = fq.shape
    d_v = v.shape[1]
    S = np.zeros((d_v, r)) if S0 is None else np.array(S0, dtype=np.float64)
    z = np.zeros(r) if z0 is None else np.array(z0, dtype=np.float64)
    if S.shape != (d_v, r) or z.shape != (r,):
        raise ValueError(f"S0 must have shape ({d_v}, {r}) and z0 shape ({r},), got {S.shape}, {z.shape}")
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(z))):
        raise ValueError("S0 and z0 must be finite")
    o = np.empty((L, d_v))
    for i in range(L):
        S = S + np.outer(v[i], fk[i])
        z = z + fk[i]
        num = S @ fq[i]
        if normalize:
            den = float(z @ fq[i])
            if den == 0.0:
                raise ValueError(f"normaliser z_i^T phi(q_i) vanished at i = {i}")
            num = num / den
        o[i] = num
    return o, S, z

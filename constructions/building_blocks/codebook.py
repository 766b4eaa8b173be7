"""Codebook bottlenecks and scalar / vector quantisation (tamkin2023).

Tamkin, Taufeeque & Goodman, "Codebook Features" (arXiv 2310.17230, ICML 2024), Section 3: a
codebook layer replaces an activation a in R^d by the sum of the k codes c_1..c_C (C >= k) with the
highest cosine similarity cos(a, c) = <a, c> / (|a| |c|):

    q(a) = sum_{j in topk_j cos(a, c_j)} c_j,

and trains through it with the straight-through estimator, q_ST(a) = a + stop_gradient(q(a) - a),
whose Jacobian with respect to a is the identity (evaluated as stop_gradient(q(a)) + (a -
stop_gradient(a)): the same value and derivatives, but the forward value is q(a) exactly, where
a + (q - a) rounds twice, relative to |a| + |q|). Ties in the similarity are broken towards the
lower code index (a stable sort; ``jax.lax.top_k`` does the same).

Quantisation classics used to check it: the uniform scalar quantiser with K levels (i + 1/2)/K on
[0, 1] (MSE 1/(12 K^2) on U[0, 1]); Lloyd's algorithm (k-means), whose distortion never increases.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import scipy.spatial.distance

from numerics.random import rng
from numerics.validation import as_float_array, check_int, check_positive

__all__ = [
    "cosine_similarity",
    "codebook_layer",
    "codebook_indices",
    "codebook_layer_straight_through",
    "uniform_quantizer",
    "LloydResult",
    "lloyd",
]


def _check_codebook(a, codes, k) -> tuple[np.ndarray, np.ndarray, int, bool]:
    arr = as_float_array("a", a, ndim=(1, 2))
    single = arr.ndim == 1
    arr = arr[None, :] if single else arr
    C = as_float_array("codes", codes, ndim=2)
    if C.shape[0] < 1 or C.shape[1] != arr.shape[1]:
        raise ValueError(f"codes must be (C >= 1, d = {arr.shape[1]}), got {C.shape}")
    kk = check_int("k", k)
    if kk > C.shape[0]:
        raise ValueError(f"k must be <= the number of codes {C.shape[0]}, got {kk}")
    if np.any(np.linalg.norm(C, axis=1) == 0):
        raise ValueError("codes must be non-zero (cosine similarity is undefined for a zero code)")
    if np.any(np.linalg.norm(arr, axis=1) == 0):
        raise ValueError("activation rows must be non-zero (cosine similarity is undefined for a zero row)")
    return arr, C, kk, single


def cosine_similarity(a, codes) -> np.ndarray:
    """S[b, j] = <a_b, c_j> / (|a_b| |c_j|), shape (B, C) (a (d,) gives (1, C))."""
    arr, C, _, _ = _check_codebook(a, codes, 1)
    an = arr / np.linalg.norm(arr, axis=1, keepdims=True)
    cn = C / np.linalg.norm(C, axis=1, keepdims=True)
    return an @ cn.T


def codebook_indices(a, codes, k) -> np.ndarray:
    """The indices (B, k) of the k codes of highest cosine similarity per row, best first."""
    arr, C, kk, single = _check_codebook(a, codes, k)
    S = cosine_similarity(arr, C)
    idx = np.argsort(-S, axis=1, kind="stable")[:, :kk]
    return idx[0] if single else idx


def codebook_layer(a, codes, k) -> np.ndarray:
    """sum of the k codes with the highest cosine similarity to each row of a.

    a: (B, d) activations (or (d,)); codes: (C, d); 1 <= k <= C. Returns the shape of a.
    """
    arr, C, kk, single = _check_codebook(a, codes, k)
    idx = codebook_indices(arr, C, kk)
    out = C[idx].sum(axis=1)
    return out[0] if single else out


def codebook_layer_straight_through(a, codes, k: int):
    """JAX version with the straight-through estimator: forward value codebook_layer(a, codes, k),
    Jacobian d/da = identity. ``a`` (B, d) or (d,) and ``codes`` (C, d) as JAX or numpy arrays;
    differentiable in a; the codes get a zero gradient (the stop_gradient covers q(a), so a
    codebook is trained by a separate loss). The forward value is q(a) bitwise: it is computed as
    stop_gradient(q) + (a - stop_gradient(a)), whose second term is exactly 0. Inputs are not validated inside a trace; validate
    with codebook_layer first."""
    kk = check_int("k", k)
    a = jnp.asarray(a)
    codes = jnp.asarray(codes)
    squeeze = a.ndim == 1
    a2 = a[None, :] if squeeze else a
    an = a2 / jnp.linalg.norm(a2, axis=1, keepdims=True)
    cn = codes / jnp.linalg.norm(codes, axis=1, keepdims=True)
    _, idx = jax.lax.top_k(an @ cn.T, kk)
    q = codes[idx].sum(axis=1)
    out = jax.lax.stop_gradient(q) + (a2 - jax.lax.stop_gradient(a2))
    return out[0] if squeeze else out


def uniform_quantizer(K: int):
    """The K-level uniform quantiser of [0, 1]: x in [i/K, (i+1)/K) -> (i + 1/2)/K, and 1 -> (K - 1/2)/K.

    Returns a callable on scalars or arrays of values in [0, 1] (ValueError outside)."""
    KK = check_int("K", K)

    def quantize(x):
        arr = as_float_array("x", x)
        if np.any(arr < 0) or np.any(arr > 1):
            raise ValueError("uniform_quantizer: x must lie in [0, 1]")
        i = np.minimum(np.floor(arr * KK), KK - 1)
        return (i + 0.5) / KK

    quantize.levels = (np.arange(KK) + 0.5) / KK
    return quantize


@dataclass(frozen=True)
class LloydResult:
    """centres (K, d); labels (n,); distortions: mean squared distance to the assigned centre after
    each half-step (first entry: the initial assignment; then alternately after the centroid and
    the assignment step); iterations; converged (assignments stopped changing)."""

    centres: np.ndarray
    labels: np.ndarray
    distortions: np.ndarray
    iterations: int
    converged: bool


def _assign(x: np.ndarray, c: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre (lowest index on ties) and its squared distance, in row chunks."""
    lab = np.empty(x.shape[0], dtype=np.int64)
    dist = np.empty(x.shape[0])
    for start in range(0, x.shape[0], chunk):
        d2 = scipy.spatial.distance.cdist(x[start:start + chunk], c, "sqeuclidean")
        j = np.argmin(d2, axis=1)
        lab[start:start + chunk] = j
        dist[start:start + chunk] = d2[np.arange(j.size), j]
    return lab, dist


def lloyd(x, K, seed, *, max_iter: int = 200, relaxation: float = 1.0, init=None) -> LloydResult:
    """Lloyd's algorithm (k-means) on the rows of x ((n, d), or (n,) for d = 1), K <= n centres.

    Initial centres: K distinct rows drawn without replacement with ``numerics.random.rng(seed)``,
    or ``init`` ((K, d) array) when given.
    Iteration: assign each point to its nearest centre (ties to the lower index), then move each
    centre c_j <- c_j + relaxation * (mean of its points - c_j) (relaxation = 1: the centroid, Lloyd's
    step; an empty cluster keeps its centre). Each step cannot increase the distortion for
    0 < relaxation <= 1 (and < 2 for the centroid step). Stops when assignments repeat or after
    ``max_iter`` iterations.
    """
    arr = as_float_array("x", x, ndim=(1, 2))
    arr = arr[:, None] if arr.ndim == 1 else arr
    n = arr.shape[0]
    KK = check_int("K", K)
    if KK > n:
        raise ValueError(f"K must be <= the number of points {n}, got {KK}")
    it_max = check_int("max_iter", max_iter)
    alpha = check_positive("relaxation", relaxation)
    g = rng(seed)
    # distinct rows, so that no initial cluster is empty when points repeat
    uniq = np.unique(arr, axis=0)
    if uniq.shape[0] < KK:
        raise ValueError(f"x has only {uniq.shape[0]} distinct points, fewer than K = {KK}")
    if init is None:
        centres = uniq[g.choice(uniq.shape[0], KK, replace=False)].copy()
    else:
        centres = as_float_array("init", init, shape=(KK, arr.shape[1])).copy()
    labels, d2 = _assign(arr, centres)
    history = [float(d2.mean())]
    converged = False
    iterations = 0
    while iterations < it_max:
        iterations += 1
        counts = np.bincount(labels, minlength=KK)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, arr)
        nonempty = counts > 0
        means = centres.copy()
        means[nonempty] = sums[nonempty] / counts[nonempty, None]
        centres = centres + alpha * (means - centres)
        history.append(float(((arr - centres[labels]) ** 2).sum(axis=1).mean()))
        new_labels, d2 = _assign(arr, centres)
        history.append(float(d2.mean()))
        if np.array_equal(new_labels, labels):
            labels = new_labels
            converged = True
            break
        labels = new_labels
    return LloydResult(centres, labels, np.asarray(history), iterations, converged)

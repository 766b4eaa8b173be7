"""Chunked (streaming) softmax attention with a running log-sum-exp (paper-agnostic).

For queries q_i, keys k_j, values v_j and non-negative weights w_j (quadrature weights; equal
weights give ordinary attention), the weighted softmax average is

    out_i = sum_j w_j exp(s_ij) v_j / sum_j w_j exp(s_ij),      s_ij = scale <q_i, k_j>.

Processing the keys in chunks c = 1, 2, ... keeps a running maximum m_i, a running normaliser
l_i = sum_j w_j exp(s_ij - m_i) and a running numerator a_i = sum_j w_j exp(s_ij - m_i) v_j;
when a chunk raises the maximum to m_i', both are rescaled by exp(m_i - m_i') <= 1 (Milakov &
Gimelshein, "Online normalizer calculation for softmax", 2018; the same recurrence as
FlashAttention). Nothing is ever exponentiated above 0, so logits of any size are safe, and the
working memory is O(M * (chunk + d_v)), independent of the number N of keys when the chunks are
generated on the fly (:func:`streaming_softmax_average` takes any iterable of chunks).

Round-off (derived in :func:`streaming_tolerance`): each term w_j exp(s_ij - m) carries a relative
error of a few eps from the exponential plus eps |s_ij| from the rounding of the logit itself
(d_k products and sums: d_k eps max|q||k| absolute); the sums over N terms add at most N eps
relative to the sum of |terms|; each of the n_chunks rescalings adds one more eps. Relative to
the output the error is therefore <= c eps (N + n_chunks + d_k S) cond with S = max |scale q_i|
|k_j| and cond = sum_j p_ij |v_j| / |sum_j p_ij v_j| (the conditioning of the average).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

__all__ = [
    "dense_attention",
    "streaming_attention",
    "streaming_softmax_average",
    "array_chunks",
    "streaming_tolerance",
]


def _as_2d(name: str, a, cols: int | None = None) -> np.ndarray:
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def _log_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.zeros(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite (found NaN or inf)")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative (quadrature weights of a positive measure)")
    with np.errstate(divide="ignore"):
        return np.log(w)


def _check_scale(scale: float) -> float:
    s = float(scale)
    if not np.isfinite(s):
        raise ValueError(f"scale must be finite, got {scale!r}")
    return s


def _logits(scale: float, q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """scale <q_i, k_j>, refusing logits that overflow float64.

    Logits of any finite size are handled (only differences s_ij - m_i are exponentiated); an
    overflowed product (+-inf, or NaN from inf - inf inside the dot product) carries no usable
    difference, so it is an error, not a key of zero weight.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        raw = scale * (q @ k.T)
    if not np.all(np.isfinite(raw)):
        i, j = np.argwhere(~np.isfinite(raw))[0]
        raise ValueError(
            f"logits overflow float64: scale * <q_{i}, k_{j}> = {raw[i, j]} (|scale| = {abs(scale):.3g}, "
            f"max|q_{i}| = {np.abs(q[i]).max():.3g}, max|k_{j}| = {np.abs(k[j]).max():.3g}); rescale the "
            "queries, keys or scale so that every logit is below 1.8e308")
    return raw


def dense_attention(q, k, v, *, weights=None, scale: float = 1.0) -> np.ndarray:
    """The whole (M, N) score matrix at once, stabilised by its row maximum (the reference)."""
    q = _as_2d("queries", q)
    k = _as_2d("keys", k, q.shape[1])
    v = _as_2d("values", v)
    if v.shape[0] != k.shape[0]:
        raise ValueError(f"keys and values need the same number of rows, got {k.shape[0]} and {v.shape[0]}")
    if k.shape[0] == 0:
        raise ValueError("need at least one key")
    lw = _log_weights(weights, k.shape[0])
    s = _logits(_check_scale(scale), q, k) + lw[None, :]
    m = np.max(s, axis=1, keepdims=True)
    if not np.all(np.isfinite(m)):
        raise ValueError("every query needs at least one key of positive weight")
    p = np.exp(s - m)
    return (p @ v) / np.sum(p, axis=1, keepdims=True)


def streaming_softmax_average(q, chunks: Iterable[tuple], *, scale: float = 1.0) -> np.ndarray:
    """Weighted softmax average over keys delivered as chunks (keys, values[, log_weights]).

    Memory is O(M (chunk + d_v)); the chunks may be generated lazily.
    """
    q = _as_2d("queries", q)
    sc = _check_scale(scale)
    M = q.shape[0]
    m = np.full(M, -np.inf)
    lsum = np.zeros(M)
    acc: np.ndarray | None = None
    seen = 0
    for item in chunks:
        if len(item) == 2:
            kc, vc = item
            lw = None
        elif len(item) == 3:
            kc, vc, lw = item
        else:
            raise ValueError("each chunk must be (keys, values) or (keys, values, log_weights)")
        kc = _as_2d("keys chunk", kc, q.shape[1])
        vc = _as_2d("values chunk", vc)
        if vc.shape[0] != kc.shape[0]:
            raise ValueError("a chunk's keys and values need the same number of rows")
        if kc.shape[0] == 0:
            continue
        if acc is None:
            acc = np.zeros((M, vc.shape[1]))
        elif vc.shape[1] != acc.shape[1]:
            raise ValueError("value dimension changed between chunks")
        if lw is None:
            lw = np.zeros(kc.shape[0])
        else:
            lw = np.asarray(lw, dtype=np.float64)
            if lw.shape != (kc.shape[0],) or np.any(np.isnan(lw)) or np.any(lw == np.inf):
                raise ValueError("log_weights of a chunk must be (n_c,) and < +inf, not NaN")
        s = _logits(sc, q, kc) + lw[None, :]
        m_new = np.maximum(m, np.max(s, axis=1))
        # exp(m - m_new) with m = -inf (nothing seen yet) is 0; guard the inf - inf of empty rows
        finite = np.isfinite(m_new)
        with np.errstate(invalid="ignore"):
            shift = np.where(finite, m - m_new, 0.0)
        corr = np.where(finite, np.exp(shift), 0.0)
        p = np.exp(s - np.where(finite, m_new, 0.0)[:, None])
        p[~finite] = 0.0
        lsum = lsum * corr + np.sum(p, axis=1)
        acc = acc * corr[:, None] + p @ vc
        m = m_new
        seen += kc.shape[0]
    if acc is None or seen == 0:
        raise ValueError("no keys were delivered")
    if not np.all(lsum > 0):
        raise ValueError("every query needs at least one key of positive weight")
    return acc / lsum[:, None]


def array_chunks(k, v, weights=None, *, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Split arrays into chunks of ``chunk`` rows (the last one shorter)."""
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")
    k = _as_2d("keys", k)
    v = _as_2d("values", v)
    if v.shape[0] != k.shape[0]:
        raise ValueError(f"keys and values need the same number of rows, got {k.shape[0]} and {v.shape[0]}")
    lw = _log_weights(weights, k.shape[0])
    for start in range(0, k.shape[0], int(chunk)):
        stop = start + int(chunk)
        yield k[start:stop], v[start:stop], lw[start:stop]


def streaming_attention(q, k, v, *, weights=None, chunk: int = 4096, scale: float = 1.0) -> np.ndarray:
    """:func:`streaming_softmax_average` over arrays split into chunks of ``chunk`` keys."""
    q = _as_2d("queries", q)
    k = _as_2d("keys", k, q.shape[1])
    if k.shape[0] == 0:
        raise ValueError("need at least one key")
    return streaming_softmax_average(q, array_chunks(k, v, weights, chunk=chunk), scale=scale)


def streaming_tolerance(q, k, v, *, weights=None, chunk: int, scale: float = 1.0, c: float = 8.0) -> np.ndarray:
    """Per-query relative tolerance c eps (N + n_chunks + d_k S) cond (module docstring).

    c = 8 covers the few roundings per term (exp, product with the weight, product with v,
    rescaling) on top of the summation bound. Returns shape (M,).
    """
    q = _as_2d("queries", q)
    k = _as_2d("keys", k, q.shape[1])
    v = _as_2d("values", v)
    n = k.shape[0]
    n_chunks = -(-n // int(chunk))
    lw = _log_weights(weights, n)
    s = float(scale) * (q @ k.T) + lw[None, :]
    p = np.exp(s - np.max(s, axis=1, keepdims=True))
    p /= np.sum(p, axis=1, keepdims=True)
    S = abs(float(scale)) * np.max(np.linalg.norm(q, axis=1)[:, None] * np.linalg.norm(k, axis=1)[None, :], axis=1)
    num = p @ np.abs(v)
    den = np.abs(p @ v)
    # cond per query in the max-norm: sum p |v| over the largest |output| entry
    cond = np.max(num, axis=1) / np.maximum(np.max(den, axis=1), 1e-300)
    eps = 2.0**-52
    return c * eps * (n + n_chunks + q.shape[1] * np.maximum(S, 1.0)) * np.maximum(cond, 1.0)

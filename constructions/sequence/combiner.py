"""Combiner-Fixed (causal): full attention factorised through local abstractions.

Ren, Dai, Dai, Yang, Leskovec, Schuurmans & Dai, "Combiner: Full Attention Transformer with
Sparse Computation Cost", NeurIPS 2021 (arXiv 2107.05768), Sections 3-4.

Attention is read as a conditional expectation ``o_i = E_{p(j|i)}[v_j]`` and p(j|i) is factorised.
For the causal *Combiner-Fixed* variant with span (segment length) s, token i lies in segment
``b(i) = floor(i / s)``; segments are ``[r s, min((r+1) s, L))`` (the last one may be shorter).

* direct support  Omega_i^0 = {j : b(j) = b(i), j <= i}: ordinary logits q_i . k_j;
* indirect regions Omega_i^r = segment r for every r < b(i): one logit q_i . kbar_r per region,
  with the region's key summary ``kbar_r = pool_{j in r} k_j``;
* local expectation inside region r: ``p(j | r) = softmax_{j in r}(qbar_r . k_j)`` with
  ``qbar_r = pool_{j in r} q_j``, and the region's abstraction ``vbar_r = sum_j p(j|r) v_j``.

One joint softmax over the direct and indirect logits of row i gives ``p(j|i) = alpha_ij`` for
j in Omega_i^0 and ``p(j|i) = gamma_{i r} p(j|r)`` for j in region r < b(i), so

    o_i = sum_{j in Omega_i^0} alpha_ij v_j + sum_{r < b(i)} gamma_ir vbar_r.

The equivalent dense matrix A (``combiner_fixed_matrix``) is row-stochastic, causal, positive
on every j <= i ("full attention"), and each block (segment a, region r < a) is the outer
product gamma_{:, r} p(. | r)^T: rank one. Logits are scaled by ``scale`` (default 1/sqrt(d)).
``pool`` is "max" (default) or "mean"; the identities do not depend on the choice.

Logit count (causal, every segment of length s, n = L / s segments): direct n s (s + 1) / 2,
indirect s n (n - 1) / 2, local expectation (n - 1) s (the last segment's abstraction is never
used under causality). With s = n = sqrt(L): direct + indirect = L^{3/2} exactly, and the
local-expectation logits add L - sqrt(L).
"""

from __future__ import annotations

import numpy as np

import numerics  # noqa: F401
from numerics.validation import as_float_matrix, check_int

__all__ = ["combiner_fixed", "combiner_fixed_matrix", "logit_counts", "segments"]


def _validate(q, k, v=None):
    q, k = as_float_matrix("q", q), as_float_matrix("k", k)
    v = None if v is None else as_float_matrix("v", v)
    if q.shape != k.shape:
        raise ValueError(f"q and k must have the same shape (L, d), got {q.shape} and {k.shape}")
    if v is not None and v.shape[0] != q.shape[0]:
        raise ValueError(f"v must have L = {q.shape[0]} rows, got shape {v.shape}")
    return q, k, v


def _pool(x: np.ndarray, pool: str) -> np.ndarray:
    if pool == "max":
        return x.max(axis=0)
    if pool == "mean":
        return x.mean(axis=0)
    raise ValueError(f"pool must be 'max' or 'mean', got {pool!r}")


def segments(L: int, span: int) -> list[slice]:
    """The segments [r s, min((r+1) s, L)) of a length-L sequence."""
    span = check_int("span", span, 1)
    return [slice(a, min(a + span, L)) for a in range(0, L, span)]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def _factors(q, k, span, pool, scale):
    """Per-segment pieces: direct weights alpha, indirect weights gamma, local p(.|r), counts."""
    L, d = q.shape
    scale = 1.0 / np.sqrt(d) if scale is None else float(scale)
    segs = segments(L, span)
    n = len(segs)
    local, kbar = [], []
    counts = {"direct": 0, "indirect": 0, "local": 0}
    for seg in segs[:-1]:  # the last segment's abstraction is never used when causal
        kbar.append(_pool(k[seg], pool))
        logits = scale * (k[seg] @ _pool(q[seg], pool))
        counts["local"] += logits.size
        local.append(_softmax(logits))
    kbar = np.array(kbar).reshape(n - 1, d)
    alphas, gammas = [], []
    for a, seg in enumerate(segs):
        m = seg.stop - seg.start
        direct = scale * (q[seg] @ k[seg].T)
        keep = np.tril(np.ones((m, m), dtype=bool))
        indirect = scale * (q[seg] @ kbar[:a].T)  # (m, a)
        counts["direct"] += int(keep.sum())
        counts["indirect"] += indirect.size
        # one softmax per row over the kept direct logits and the a indirect logits
        row_max = np.maximum(np.where(keep, direct, -np.inf).max(axis=1),
                             indirect.max(axis=1) if a else -np.inf)
        ed = np.where(keep, np.exp(direct - row_max[:, None]), 0.0)
        ei = np.exp(indirect - row_max[:, None])
        z = ed.sum(axis=1) + ei.sum(axis=1)
        alphas.append(ed / z[:, None])
        gammas.append(ei / z[:, None])
    counts["total"] = counts["direct"] + counts["indirect"] + counts["local"]
    return segs, alphas, gammas, local, counts


def combiner_fixed(q, k, v, span: int, *, pool: str = "max", scale: float | None = None,
                   return_counts: bool = False):
    """Causal Combiner-Fixed output o (L, d_v), computed in the factorised O(L (s + L/s)) way.

    With ``return_counts`` also returns the number of logits evaluated, by kind
    ({"direct", "indirect", "local", "total"}), tallied from the arrays actually formed
    (masked-out direct entries are not counted).
    """
    span = check_int("span", span, 1)
    q, k, v = _validate(q, k, v)
    segs, alphas, gammas, local, counts = _factors(q, k, span, pool, scale)
    vbar = np.array([p @ v[seg] for p, seg in zip(local, segs[:-1])]).reshape(len(segs) - 1, v.shape[1])
    out = np.empty((q.shape[0], v.shape[1]))
    for a, seg in enumerate(segs):
        out[seg] = alphas[a] @ v[seg] + gammas[a] @ vbar[:a]
    return (out, counts) if return_counts else out


def combiner_fixed_matrix(q, k, span: int, *, pool: str = "max", scale: float | None = None) -> np.ndarray:
    """The dense L x L matrix A with A V = :func:`combiner_fixed` (q, k, V): A_ij = p(j | i)."""
    span = check_int("span", span, 1)
    q, k, _ = _validate(q, k)
    segs, alphas, gammas, local, _ = _factors(q, k, span, pool, scale)
    L = q.shape[0]
    A = np.zeros((L, L))
    for a, seg in enumerate(segs):
        A[seg, seg] = alphas[a]
        for r in range(a):
            A[seg, segs[r]] = np.outer(gammas[a][:, r], local[r])
    return A


def logit_counts(L: int, span: int) -> dict[str, int]:
    """Closed-form logit counts of causal Combiner-Fixed (see the module docstring).

    Segments of lengths m_0..m_{n-1} (all s but possibly the last): direct sum_a m_a (m_a + 1)/2,
    indirect sum_a a m_a, local sum_{r < n-1} m_r.
    """
    span = check_int("span", span, 1)
    L = check_int("L", L, 1, type_error=ValueError)
    full, rest = divmod(L, span)
    lengths = [span] * full + ([rest] if rest else [])
    direct = sum(m * (m + 1) // 2 for m in lengths)
    indirect = sum(a * m for a, m in enumerate(lengths))
    local = sum(lengths[:-1])
    return {"direct": direct, "indirect": indirect, "local": local, "total": direct + indirect + local}

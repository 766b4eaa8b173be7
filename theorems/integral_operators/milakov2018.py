"""Milakov & Gimelshein (2018), "Online normalizer calculation for softmax" (arXiv 1805.02867).

The online normaliser: a softmax-weighted average over N keys can be accumulated chunk by chunk
with a running maximum m, normaliser l and numerator a, rescaled by exp(m_old - m_new) whenever a
chunk raises the maximum (Algorithm 3 of the paper, extended to the weighted value average used by
FlashAttention). The library's implementation is :mod:`numerics.streaming`; these claims check

* ``online_softmax`` (identity): streamed attention equals the dense softmax average computed by an
  independent route (``scipy.special.softmax`` on the full logit matrix) for any number of keys,
  any chunk size (larger than N, not dividing N), quadrature weights, and logits far beyond the
  float64 exponent range, within the derived tolerance of ``streaming_tolerance``. The full profile
  streams N = 2^22 keys. Negative control: chunks whose running sums are not rescaled when the
  maximum grows (each chunk normalised by its own maximum only).
* ``constant_memory`` (complexity): the traced numpy peak of a streamed evaluation is the same for
  N and 16 N keys delivered lazily (within 5%); negative control: materialising the N-column logit
  matrix, whose peak grows with N.
"""

from __future__ import annotations

import tracemalloc
from functools import partial

import numpy as np
import scipy.special

from numerics.random import rng
from numerics.streaming import streaming_softmax_average, streaming_tolerance
from numerics.tolerance import Comparison
from theorems.judges import bound_verdict, identity_verdict, plot_bound, plot_identity
from theorems.registry import Claim, Verdict, register

PAPER = "milakov2018"


def _no_rescale_average(q, chunks, *, scale=1.0):
    """Negative control: each chunk's terms are shifted by that chunk's own maximum and added to
    the running sums without rescaling them (the correction exp(m_old - m_new) dropped)."""
    num, den = None, None
    for kc, vc, lw in chunks:
        s = scale * (q @ kc.T) + lw[None, :]
        p = np.exp(s - s.max(axis=1, keepdims=True))
        num = p @ vc if num is None else num + p @ vc
        den = p.sum(axis=1) if den is None else den + p.sum(axis=1)
    return num / den[:, None]


def _chunks(k, v, lw, chunk):
    for start in range(0, k.shape[0], chunk):
        yield k[start:start + chunk], v[start:start + chunk], lw[start:start + chunk]


def _reference(q, k, v, lw, scale):
    """Dense softmax average by scipy (independent of the streaming recurrence)."""
    p = scipy.special.softmax(scale * (q @ k.T) + lw[None, :], axis=1)
    return p @ v


def study_online_softmax(profile: str, seed: int, average=streaming_softmax_average) -> Verdict:
    g = rng(seed)
    cases = []
    configs = [  # (N, chunk, d, logit scale, weighted)
        (1, 1, 3, 1.0, False), (7, 3, 2, 1.0, True), (100, 1000, 4, 1.0, False),
        (1000, 37, 8, 1.0, True), (4096, 512, 16, 0.25, False), (5000, 128, 4, 300.0, False),
        (3000, 64, 4, 1e4, True),
    ]
    if profile == "full":
        configs += [(2**18, 4096, 16, 0.25, True), (2**22, 2**16, 8, 0.35, False)]
    for N, chunk, d, sc, weighted in configs:
        M = 4 if N > 2**16 else 8
        q, k, v = g.standard_normal((M, d)), g.standard_normal((N, d)), g.standard_normal((N, 3))
        # strictly positive quadrature-like weights, given to the recurrence as log-weights
        w = g.uniform(0.5, 2.0, N) if weighted else np.ones(N)
        lw = np.log(w)
        got = average(q, _chunks(k, v, lw, chunk), scale=sc)
        ref = _reference(q, k, v, lw, sc)
        # per-query relative tolerance from numerics.streaming (c = 8; see its docstring)
        tol = streaming_tolerance(q, k, v, weights=w, chunk=chunk, scale=sc)
        rel = np.max(np.abs(got - ref), axis=1) / np.max(np.abs(ref), axis=1)
        worst = int(np.argmax(rel / tol))
        cases.append((f"N={N},chunk={chunk},scale={sc:g}",
                      Comparison(float(rel[worst]), float(tol[worst]), float(N), 1.0, 8.0)))
    return identity_verdict(cases, expected="streamed == scipy dense softmax average within "
                                            "8 eps (N + n_chunks + d_k S) cond per query")


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def study_constant_memory(profile: str, seed: int, materialise: bool = False) -> Verdict:
    """Traced peak for N and 16 N keys generated lazily chunk by chunk; ratio must be <= 1.05."""
    g = rng(seed)
    M, d, chunk = 16, 8, 2048 if profile == "fast" else 8192
    q = g.standard_normal((M, d))
    kc, vc = g.standard_normal((chunk, d)), g.standard_normal((chunk, d))

    def lazy(n_chunks):
        for _ in range(n_chunks):
            yield kc, vc

    def run(n_chunks):
        if materialise:  # control: the logits of all N keys held at once (a dense evaluation)
            s = np.concatenate([q @ kc.T for _ in range(n_chunks)], axis=1)
            p = np.exp(s - s.max(axis=1, keepdims=True))
            return (p @ np.concatenate([vc] * n_chunks)) / p.sum(axis=1, keepdims=True)
        return streaming_softmax_average(q, lazy(n_chunks))

    small, large = 4, 64
    peaks = np.array([_peak_bytes(partial(run, small)), _peak_bytes(partial(run, large))], dtype=np.float64)
    return bound_verdict(
        [f"N={large * chunk} vs N={small * chunk}"], [peaks[1] / peaks[0]], [1.05],
        expected="peak memory at 16 N within 5% of the peak at N (memory independent of N)",
        extra={"peak_bytes": peaks, "N": np.array([small * chunk, large * chunk], dtype=np.float64)},
    )


register(Claim(
    id="milakov2018.online_softmax",
    paper=PAPER,
    where="Algorithm 3 (online normalizer) and Section 3",
    statement="Softmax (and the softmax-weighted average of values) can be computed in one pass over "
              "the keys with a running maximum and a running normaliser rescaled when the maximum grows; "
              "the result equals the safe (max-subtracted) softmax.",
    kind="identity",
    expected="streamed == dense (scipy) within 8 eps (N + n_chunks + d_k S) cond per query, N up to 2^22",
    study=study_online_softmax,
    plot=plot_identity,
    controls={"running sums not rescaled": partial(study_online_softmax, average=_no_rescale_average)},
))

register(Claim(
    id="milakov2018.constant_memory",
    paper=PAPER,
    where="Section 3 (one pass, O(1) extra memory per softmax row)",
    statement="The online normaliser needs working memory independent of the number of keys N "
              "(keys streamed in chunks).",
    kind="complexity",
    expected="traced peak at 16 N within 5% of the peak at N",
    study=study_constant_memory,
    plot=plot_bound,
    controls={"logits materialised (dense)": partial(study_constant_memory, materialise=True)},
))

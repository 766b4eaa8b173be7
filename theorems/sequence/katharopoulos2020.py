"""Katharopoulos, Vyas, Pappas & Fleuret (ICML 2020): causal linear attention is an RNN.

"Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention", arXiv 2006.16236.

Claim ``katharopoulos2020.causal_rnn``: the causal masked form (eq. (8)-(9), computed as the
masked L x L matrix (phi(Q) phi(K)^T) * M times V, normalised by its row sums) and the recurrent
form (eq. (18)-(20): S_i = S_{i-1} + v_i phi(k_i)^T, z_i = z_{i-1} + phi(k_i)) give the same
outputs, with and without the normaliser, and the recurrence continues across a split when its
state (S, z) is passed on. Both forms (:mod:`constructions.sequence.linear_attention`) are compared with
the definition written here as a double loop over (i, j <= i).

Negative controls: an acausal mask (every token sees the future) and an off-by-one mask
(j <= i + 1), both in the parallel form, judged by the same comparison.
"""

from __future__ import annotations

from functools import partial

import numpy as np

import constructions.sequence.linear_attention as la
from numerics.random import rng
from numerics.tolerance import compare
from theorems.judges import identity_verdict, plot_identity
from theorems.registry import Claim, Verdict, register


def reference_causal_linear_attention(q, k, v, phi, normalize=True):
    """o_i = sum_{j<=i} (phi(q_i) . phi(k_j)) v_j / sum_{j<=i} phi(q_i) . phi(k_j), a plain double loop.

    Also returns max_i (sum_j |a_ij| |v_j|_inf) / |denominator|: the scale of the summed terms.
    """
    fq, fk = phi(q), phi(k)
    L = q.shape[0]
    o = np.zeros((L, v.shape[1]))
    scale = 0.0
    for i in range(L):
        num = np.zeros(v.shape[1])
        den = 0.0
        mag = 0.0
        for j in range(i + 1):
            a = float(np.dot(fq[i], fk[j]))
            num += a * v[j]
            den += a
            mag += abs(a) * np.max(np.abs(v[j]))
        o[i] = num / den if normalize else num
        scale = max(scale, mag / abs(den) if normalize else mag)
    return o, scale


_FEATURES = {"elu+1": la.elu_plus_one, "identity": la.identity_map}


def study_causal_rnn(profile: str, seed: int, mask: str = "causal") -> Verdict:
    """Parallel and recurrent forms vs the double-loop definition, over sizes and feature maps."""
    g = rng(seed)
    sizes = [(1, 1, 1), (2, 3, 1), (5, 2, 4), (17, 4, 3), (40, 6, 6), (33, 1, 5)]
    if profile == "full":
        sizes += [(128, 8, 8), (300, 16, 4), (257, 32, 32)]
    cases = []
    for L, d_k, d_v in sizes:
        for fmap, normalize in (("elu+1", True), ("elu+1", False), ("identity", False)):
            phi = _FEATURES[fmap]
            q, k, v = g.standard_normal((L, d_k)), g.standard_normal((L, d_k)), g.standard_normal((L, d_v))
            o_ref, scale = reference_causal_linear_attention(q, k, v, phi, normalize)
            # size d_k + L: each weight is a length-d_k inner product, each output a sum of <= L
            # terms (and one division); cond = scale / max|o| >= 1 (1 without cancellation: the
            # normalised elu+1 weights are positive). c = 4 as in theorems.sequence.yang2024.
            cond = max(1.0, scale / max(np.max(np.abs(o_ref)), 1e-300))
            tol = dict(size=d_k + L + 1, cond=cond, c=4.0)
            M = {"causal": None, "acausal": np.ones((L, L)), "off-by-one": la.causal_mask(L, 1)}[mask]
            lbl = f"L={L},dk={d_k},dv={d_v},{fmap}{'' if normalize else ',unnorm'}"
            o_par = la.causal_parallel(q, k, v, feature_map=phi, normalize=normalize, mask=M)
            cases.append((lbl + " parallel", compare(o_par, o_ref, **tol)))
            o_rec, _, _ = la.causal_recurrent(q, k, v, feature_map=phi, normalize=normalize)
            cases.append((lbl + " recurrent", compare(o_rec, o_ref, **tol)))
            if L >= 2:
                m = int(g.integers(1, L))
                o1, S, z = la.causal_recurrent(q[:m], k[:m], v[:m], feature_map=phi, normalize=normalize)
                o2, _, _ = la.causal_recurrent(q[m:], k[m:], v[m:], feature_map=phi, normalize=normalize,
                                               S0=S, z0=z)
                cases.append((lbl + f" split@{m}", compare(np.vstack([o1, o2]), o_ref, **tol)))
    return identity_verdict(cases, expected="both forms == definition: rel. error <= 4 eps (d_k + L + 1) cond")


register(Claim(
    id="katharopoulos2020.causal_rnn",
    paper="katharopoulos2020",
    where="Section 3.4 (transformers are RNNs), eq. (8)-(9) (causal masking) and eq. (18)-(20) (recurrence)",
    statement="Causal linear attention computed in parallel, ((phi(Q) phi(K)^T) * M) V normalised by the "
              "masked row sums, equals the recurrence S_i = S_{i-1} + v_i phi(k_i)^T, z_i = z_{i-1} + phi(k_i), "
              "o_i = S_i phi(q_i) / z_i^T phi(q_i) (and the unnormalised forms agree likewise).",
    kind="identity",
    expected="rel. error <= 4 eps (d_k + L + 1) cond, cond = sum |a_ij| |v_j| / |sum a_ij| / max |o|",
    study=study_causal_rnn,
    plot=plot_identity,
    controls={
        "acausal mask (future tokens visible)": partial(study_causal_rnn, mask="acausal"),
        "off-by-one mask (j <= i + 1)": partial(study_causal_rnn, mask="off-by-one"),
    },
))

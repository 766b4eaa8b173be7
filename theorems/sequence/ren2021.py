"""Ren, Dai, Dai, Yang, Leskovec, Schuurmans & Dai (NeurIPS 2021): Combiner.

"Combiner: Full Attention Transformer with Sparse Computation Cost", arXiv 2107.05768.
Variant checked: causal **Combiner-Fixed** (Section 4; the Sparse Transformer's fixed pattern
turned into full attention), construction in :mod:`constructions.sequence.combiner`: direct attention
inside the token's own segment (j <= i), one abstraction per earlier segment (pooled key for the
logit, local expectation vbar_r = sum_j p(j | r) v_j for the value), one joint softmax per row.

Claims:

* ``ren2021.full_attention`` -- the factorised conditional p(j | i) is a probability distribution
  with full causal support: rows sum to 1, every j <= i gets positive mass, no j > i does.
* ``ren2021.factorised_equals_dense`` -- the O(L (s + L/s)) factorised computation equals
  A V with A the dense matrix of p(j | i), built here entry by entry from the factorisation
  (Section 3, eq. for p(j|i) = p(Omega_i^r | i) p(j | Omega_i^r)).
* ``ren2021.rank_one_blocks`` -- every block (rows of segment a, columns of segment r < a) of A
  is an outer product: numerical rank 1 (sigma_2 / sigma_1 below a derived threshold).
* ``ren2021.span1_softmax`` -- with span 1 every region is a single token and Combiner-Fixed is
  exactly causal softmax attention.
* ``ren2021.logit_count`` -- the logits evaluated (instrumented) equal the closed form
  direct n s (s+1)/2 + indirect s n (n-1)/2 + local (n-1) s; with s = sqrt(L) the query logits
  (direct + indirect) number exactly L^{3/2}, and the local expectations add L - sqrt(L): the
  paper's O(L sqrt(L)) for Combiner-Fixed, with its constant.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import scipy.special

import constructions.sequence.combiner as cb
from numerics import EPS
from numerics.plotting import ratio_figure
from numerics.random import rng
from numerics.tolerance import compare
from theorems.judges import identity_verdict, plot_identity
from theorems.registry import Claim, Verdict, register

# --- independent reference ---------------------------------------------------------------------


def reference_matrix(q, k, span, pool="max", scale=None):
    """A_ij = p(j | i) of causal Combiner-Fixed, entry by entry (plain loops, math.exp).

    p(j|i) = exp(q_i.k_j) / Z_i for j in i's segment, j <= i;
    p(j|i) = exp(q_i.kbar_r) / Z_i * exp(qbar_r.k_j) / sum_{j' in r} exp(qbar_r.k_j') for j in
    an earlier segment r;  Z_i = sum over the direct logits and the earlier segments' logits.
    Logits are scaled by ``scale`` (default 1/sqrt(d)); the data used keep them O(1).
    """
    L, d = q.shape
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    n = -(-L // span)
    members = [list(range(r * span, min((r + 1) * span, L))) for r in range(n)]
    red = np.max if pool == "max" else np.mean
    kbar = [red(k[m], axis=0) for m in members]
    qbar = [red(q[m], axis=0) for m in members]
    local = []
    for r in range(n):
        w = [math.exp(scale * float(np.dot(qbar[r], k[j]))) for j in members[r]]
        tot = sum(w)
        local.append({j: wj / tot for j, wj in zip(members[r], w)})
    A = np.zeros((L, L))
    for i in range(L):
        b = i // span
        direct = {j: math.exp(scale * float(np.dot(q[i], k[j]))) for j in members[b] if j <= i}
        indirect = {r: math.exp(scale * float(np.dot(q[i], kbar[r]))) for r in range(b)}
        Z = sum(direct.values()) + sum(indirect.values())
        for j, e in direct.items():
            A[i, j] = e / Z
        for r, e in indirect.items():
            for j in members[r]:
                A[i, j] = e / Z * local[r][j]
    return A


def causal_softmax(q, k, scale=None):
    """softmax over j <= i of q_i . k_j * scale (scipy.special.softmax on masked logits)."""
    L, d = q.shape
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    logits = scale * (q @ k.T)
    logits[np.triu_indices(L, 1)] = -np.inf
    return scipy.special.softmax(logits, axis=1)


def _draw(g, L, d, d_v=3):
    return g.standard_normal((L, d)), g.standard_normal((L, d)), g.standard_normal((L, d_v))


_SIZES = [(1, 1, 2), (4, 2, 3), (9, 3, 4), (10, 3, 2), (16, 4, 4), (17, 5, 3), (12, 1, 2), (7, 10, 3),
          (25, 5, 1)]
_SIZES_FULL = [(64, 8, 8), (100, 10, 16), (90, 7, 4), (144, 12, 8)]


def _sizes(profile):
    return _SIZES + (_SIZES_FULL if profile == "full" else [])


def _max_logit(q, k, d):
    return float(np.max(np.abs(q @ k.T)) / math.sqrt(d))


# --- claims ----------------------------------------------------------------------------------


def _perturbed_matrix(A, span, variant):
    """Negative controls built from the construction's matrix."""
    L = A.shape[0]
    seg = np.arange(L) // span
    same = seg[:, None] == seg[None, :]
    if variant == "no_abstractions":
        # the Sparse Transformer's fixed pattern without Combiner's abstractions, renormalised
        D = np.where(same, A, 0.0)
        return D / D.sum(axis=1, keepdims=True)
    if variant == "separate_normalisation":
        # direct and indirect parts each normalised on its own (no joint softmax)
        D, R = np.where(same, A, 0.0), np.where(same, 0.0, A)
        rs = R.sum(axis=1, keepdims=True)
        return D / D.sum(axis=1, keepdims=True) + np.divide(R, rs, out=np.zeros_like(R), where=rs > 0)
    return A


def study_full_attention(profile: str, seed: int, variant: str = "exact") -> Verdict:
    """Rows of A sum to 1 (derived tolerance); A_ij > 0 for all j <= i and A_ij == 0 for j > i."""
    g = rng(seed)
    cases, bad_support, bad_future = [], 0, 0
    for L, span, d in _sizes(profile):
        for pool in ("max", "mean"):
            q, k, _ = _draw(g, L, d)
            A = _perturbed_matrix(cb.combiner_fixed_matrix(q, k, span, pool=pool), span, variant)
            # a row sum adds <= L weights, each a product/quotient of a few rounded numbers:
            # size L + 4, c = 2 (positive terms, no cancellation: cond 1)
            cases.append((f"L={L},s={span},d={d},{pool}", compare(A.sum(axis=1), np.ones(L), size=L + 4, c=2.0)))
            allowed = np.tril(np.ones((L, L), dtype=bool))
            bad_support += int(np.sum(A[allowed] <= 0))
            bad_future += int(np.sum(A[~allowed] != 0))
    v = identity_verdict(cases, expected="rows sum to 1 (rel. error <= 2 eps (L + 4)); A > 0 on j <= i; A = 0 on j > i")
    support_ok = bad_support == 0 and bad_future == 0
    return Verdict(
        holds=v.holds and support_ok,
        measured=v.measured + f"; {bad_support} zero entries with j <= i, {bad_future} nonzero with j > i",
        expected=v.expected,
        evidence=dict(v.evidence) | {"zero_allowed": bad_support, "nonzero_future": bad_future},
        notes="full support is the paper's 'full attention': every earlier token is reachable directly or "
              "through its segment's abstraction",
    )


def study_factorised_dense(profile: str, seed: int, shift: int = 0) -> Verdict:
    """combiner_fixed(q, k, v) == A_ref V and combiner_fixed_matrix == A_ref (A_ref built here)."""
    g = rng(seed)
    cases = []
    for L, span, d in _sizes(profile):
        for pool in ("max", "mean"):
            q, k, v = _draw(g, L, d)
            A_ref = reference_matrix(q, k, span, pool)
            o_ref = A_ref @ v
            # logits carry relative error ~ d eps, so each weight exp(.) has relative error
            # ~ eps d (1 + max |logit|); a row then sums <= L products with v. size d + L + 4,
            # cond (1 + max|logit|) max|v| / max|o| (outputs are convex combinations of v), c = 4.
            lg = 1.0 + _max_logit(q, k, d)
            o = cb.combiner_fixed(q, k, v, span + shift, pool=pool)
            cond_o = lg * np.max(np.abs(v)) / max(np.max(np.abs(o_ref)), 1e-300)
            lbl = f"L={L},s={span},d={d},{pool}"
            cases.append((lbl + " o", compare(o, o_ref, size=d + L + 4, cond=max(cond_o, 1.0), c=4.0)))
            A = cb.combiner_fixed_matrix(q, k, span + shift, pool=pool)
            cases.append((lbl + " A", compare(A, A_ref, size=d + L + 4, cond=lg, c=4.0)))
    return identity_verdict(cases, expected="rel. error <= 4 eps (d + L + 4) cond in every case")


def study_rank_one(profile: str, seed: int, matrix: str = "combiner") -> Verdict:
    """sigma_2 / sigma_1 of every off-diagonal block (segment a, region r < a) of A.

    Derived threshold: the computed entry gamma_i p_j (1 + theta_ij), |theta| <= u = eps/2, differs
    from an exact outer product by E with ||E||_2 <= ||E||_F <= u sigma_1 (Weyl), and a backward
    stable SVD adds O(eps max(m, n)) sigma_1: tol = 2 eps max(m, n) (numpy's matrix_rank default
    is eps max(m, n)).
    """
    g = rng(seed)
    cases = []
    for L, span, d in _sizes(profile):
        if span < 2 or L < 2 * span:
            continue  # blocks of one row/column, or no earlier segment: rank 1 trivially / no block
        q, k, _ = _draw(g, L, d)
        A = cb.combiner_fixed_matrix(q, k, span) if matrix == "combiner" else causal_softmax(q, k)
        n = -(-L // span)
        for a in range(1, n):
            rows = slice(a * span, min((a + 1) * span, L))
            for r in range(a):
                block = A[rows, r * span:(r + 1) * span]
                m_, n_ = block.shape
                if min(m_, n_) < 2:
                    continue
                s = np.linalg.svd(block, compute_uv=False)
                cases.append((f"L={L},s={span} block({a},{r})",
                              compare(np.array([s[1] / s[0]]), np.zeros(1), size=max(m_, n_), c=2.0)))
    return identity_verdict(cases, expected="sigma_2 / sigma_1 <= 2 eps max(m, n) for every block")


def study_span1(profile: str, seed: int, span: int = 1) -> Verdict:
    """span 1: A == causal softmax (scipy) and combiner_fixed(q, k, v, 1) == softmax V."""
    g = rng(seed)
    cases = []
    for L, _, d in _sizes(profile):
        q, k, v = _draw(g, L, d)
        P = causal_softmax(q, k)
        lg = 1.0 + _max_logit(q, k, d)
        # same derivation as ren2021.factorised_equals_dense
        cases.append((f"L={L},d={d} A", compare(cb.combiner_fixed_matrix(q, k, span), P,
                                                 size=d + L + 4, cond=lg, c=4.0)))
        o_ref = P @ v
        cond_o = max(1.0, lg * np.max(np.abs(v)) / max(np.max(np.abs(o_ref)), 1e-300))
        cases.append((f"L={L},d={d} o", compare(cb.combiner_fixed(q, k, v, span), o_ref,
                                                 size=d + L + 4, cond=cond_o, c=4.0)))
    return identity_verdict(cases, expected="exact causal softmax: rel. error <= 4 eps (d + L + 4) cond")


def _dense_count(L, span):
    """Negative control: logits a dense masked implementation evaluates (all s direct and all n
    indirect logits per row, every segment summarised), sold as the causal count."""
    n = -(-L // span)
    return {"total": L * span + L * n + L}


def study_logit_count(profile: str, seed: int, formula: str = "exact") -> Verdict:
    """Instrumented logit counts == closed form; at s = sqrt(L): direct + indirect == L^{3/2}."""
    g = rng(seed)
    pairs = [(1, 1), (4, 2), (9, 3), (10, 3), (16, 4), (17, 5), (7, 10), (12, 1), (64, 8), (100, 10)]
    if profile == "full":
        pairs += [(400, 20), (1024, 32), (1000, 31), (2500, 50)]
    labels, counted, closed, l15 = [], [], [], []
    for L, span in pairs:
        q, k, v = _draw(g, L, 2, 1)
        _, counts = cb.combiner_fixed(q, k, v, span, return_counts=True)
        f = cb.logit_counts(L, span) if formula == "exact" else _dense_count(L, span)
        labels.append(f"L={L},s={span} total")
        counted.append(counts["total"])
        closed.append(f["total"])
        if span * span == L:
            s3 = span ** 3
            labels.append(f"L={L},s=sqrt(L) direct+indirect vs L^1.5")
            counted.append(counts["direct"] + counts["indirect"])
            closed.append(s3 if formula == "exact" else f["total"])
            l15.append((L, counts["direct"] + counts["indirect"], counts["local"], counts["total"]))
    c_a, f_a = np.array(counted, dtype=np.float64), np.array(closed, dtype=np.float64)
    exact = [c == f for c, f in zip(counted, closed)]
    ratios = c_a / f_a
    worst = int(np.argmax(np.abs(ratios - 1.0)))
    return Verdict(
        holds=all(exact),
        measured=(f"{sum(exact)}/{len(exact)} counts exact; worst counted/closed form {ratios[worst]:.6g} at "
                  f"{labels[worst]}; at s = sqrt(L): " +
                  ", ".join(f"L={L}: {qi} query + {lo} local = {t}" for L, qi, lo, t in l15)),
        expected="instrumented == closed form; direct + indirect == L^1.5 exactly at s = sqrt(L)",
        evidence={"labels": labels, "counted": c_a, "formula": f_a, "ratios": ratios,
                  "max_ratio": float(np.max(np.abs(ratios - 1.0)))},
        notes="total at s = sqrt(L) is L^1.5 + L - sqrt(L) (local expectations of the n - 1 used segments)",
    )


def plot_counts(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["ratios"], ylabel="counted logits / closed form", title=verdict.measured[:90])


register(Claim(
    id="ren2021.full_attention",
    paper="ren2021",
    where="Section 3 (attention as conditional expectation, structured factorisation) and Section 4 (Combiner-Fixed)",
    statement="The factorised p(j|i) of causal Combiner-Fixed is a probability distribution over all j <= i with "
              "full support (every earlier token is attended, directly or through its segment's abstraction) "
              "and none on j > i.",
    kind="identity",
    expected="rows sum to 1 within 2 eps (L + 4); A > 0 exactly on j <= i",
    study=study_full_attention,
    plot=plot_identity,
    controls={
        "fixed sparse pattern without abstractions": partial(study_full_attention, variant="no_abstractions"),
        "direct and indirect parts normalised separately": partial(study_full_attention, variant="separate_normalisation"),
    },
))

register(Claim(
    id="ren2021.factorised_equals_dense",
    paper="ren2021",
    where="Section 3 (p(j|i) = p(Omega_i^r | i) p(j | Omega_i^r)) and Section 4 (Combiner-Fixed)",
    statement="The factorised computation (direct softmax terms plus abstractions vbar_r weighted by "
              "p(Omega_r | i)) equals A V with A_ij = p(j|i) the dense factorised attention matrix.",
    kind="identity",
    expected="rel. error <= 4 eps (d + L + 4) cond",
    study=study_factorised_dense,
    plot=plot_identity,
    controls={"segment boundaries off by one": partial(study_factorised_dense, shift=1)},
))

register(Claim(
    id="ren2021.rank_one_blocks",
    paper="ren2021",
    where="Section 3-4 (indirect attention through a region: p(j|i) = p(Omega_r | i) p(j | Omega_r))",
    statement="Each block of the Combiner-Fixed attention matrix between a query segment and an earlier region is "
              "an outer product gamma p^T: numerical rank 1 (Combiner = sparse direct part + rank-1 blocks).",
    kind="identity",
    expected="sigma_2/sigma_1 <= 2 eps max(m, n) in every block",
    study=study_rank_one,
    plot=plot_identity,
    controls={"exact softmax attention's blocks": partial(study_rank_one, matrix="softmax")},
))

register(Claim(
    id="ren2021.span1_softmax",
    paper="ren2021",
    where="Section 4 (Combiner-Fixed; the limit of single-token regions)",
    statement="With span 1 every region is one token (kbar_r = k_r, p(j|r) = 1), so Combiner-Fixed equals exact "
              "causal softmax attention.",
    kind="identity",
    expected="rel. error <= 4 eps (d + L + 4) cond against scipy.special.softmax",
    study=study_span1,
    plot=plot_identity,
    controls={"span 2 sold as exact": partial(study_span1, span=2)},
))

register(Claim(
    id="ren2021.logit_count",
    paper="ren2021",
    where="Abstract and Section 4 (Combiner-Fixed costs O(L sqrt(L)))",
    statement="Causal Combiner-Fixed with span s evaluates n s (s+1)/2 direct, s n (n-1)/2 indirect and (n-1) s "
              "local-expectation logits (n = L/s); at s = sqrt(L) the query logits number exactly L^{3/2} and the "
              "total is L^{3/2} + L - sqrt(L) = O(L sqrt(L)).",
    kind="complexity",
    expected="instrumented counts == closed form exactly; direct + indirect == L^1.5 at s = sqrt(L)",
    study=study_logit_count,
    plot=plot_counts,
    controls={"dense masked count L (s + n + 1) sold as the causal count": partial(study_logit_count, formula="dense")},
))

__all__ = ["EPS", "reference_matrix", "causal_softmax"]

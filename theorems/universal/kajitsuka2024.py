"""Kajitsuka & Sato (ICLR 2024), "Are Transformers with One Layer Self-Attention Using Low-Rank
Weight Matrices Universal Approximators?" (arXiv 2307.14023).

Claims
* ``kajitsuka2024.boltzmann_identity`` -- a single-head softmax attention layer with rank-1
  weights computes the Boltzmann operator y_k = boltz_{beta a_k}(a), a = w^T X: the standard
  float64 forward against the closed form in mpmath (50+ digits). Control: scores normalised
  over queries instead of keys.
* ``kajitsuka2024.contextual_margin`` -- one rank-1 single-head softmax layer is a contextual
  mapping on a finite vocabulary: the same token in two contexts that are not permutations of
  each other gets different y, with a positive margin delta (their contextual-mapping theorem guarantees one).
  Measured in mpmath at 80 digits; at beta = 60 the margin is ~1e-20 and float64 merges some
  pairs. Controls: hardmax attention and a rank-0 (uniform) layer both collide.
* ``kajitsuka2024.hardmax_not_contextual`` -- the paper's motivating fact: with hardmax one layer
  is not a contextual mapping (exact counterexample in Fractions: X = (1/4, 1, 1/2) and
  X' = (1/4, 1, 3/4) give the token 1/4 the same output 1); softmax separates the pair.
  Control: a pair whose maxima differ (hardmax separates it, so no counterexample).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import partial

import mpmath
import numpy as np

from constructions.universal.boltzmann import (
    attention_scalars_mp,
    boltzmann_mp,
    hardmax_scalars,
    rank1_attention,
)
from numerics.plotting import ratio_figure
from numerics.random import rng
from numerics.tolerance import compare
from theorems.judges import Axis, adversarial_search, identity_verdict, plot_identity, with_search
from theorems.registry import Claim, Verdict, register

# --- identity -----------------------------------------------------------------------------------


def study_boltzmann_identity(profile: str, seed: int, transpose_scores: bool = False) -> Verdict:
    """Random X (d x n), w, beta; float64 layer vs mpmath Boltzmann operator per query."""
    g = rng(seed)
    cases = []
    for _ in range(20 if profile == "fast" else 200):
        d, n = int(g.integers(1, 5)), int(g.integers(2, 9))
        X = g.standard_normal((d, n))
        w = g.standard_normal(d)
        beta = float(10 ** g.uniform(-1, 1))
        y = rank1_attention(X, w, beta, transpose_scores=transpose_scores)
        a = w @ X
        ref = np.array([float(boltzmann_mp(list(a), beta * ak, 50)) for ak in a])
        # Errors: each score beta a_k a_l carries eps |s| absolute error, which moves the weights
        # by a relative eps |s| and y by at most eps max|s| (max a - min a); the sums add eps n.
        smax = float(np.max(np.abs(beta * np.outer(a, a))))
        cond = float((np.ptp(a) + np.max(np.abs(a))) / max(np.max(np.abs(ref)), 1e-300))
        cases.append((f"d={d},n={n},beta={beta:.2f}", compare(y, ref, size=n + smax + 1, cond=max(cond, 1.0), c=4.0)))
    return identity_verdict(cases, expected="rel. error <= 4 eps (n + max|s| + 1) cond")


# --- contextual margin --------------------------------------------------------------------------


def _contexts(V: int, n: int):
    toks = [Fraction(v, V) for v in range(1, V + 1)]
    return list(itertools.combinations_with_replacement(toks, n))


def margin_study(V: int, n: int, beta, mode: str, dps: int = 80):
    """Per token value: outputs y over all contexts (multisets) containing it; returns the
    minimum |y - y'| over pairs of distinct contexts, the number of float64 merges, and pairs."""
    per_token: dict[Fraction, list] = {}
    for combo in _contexts(V, n):
        a = list(combo)
        if mode == "softmax":
            y = attention_scalars_mp(a, beta, dps)
        elif mode == "hardmax":
            y = [mpmath.mpf(v.numerator) / v.denominator for v in hardmax_scalars(a)]
        else:  # rank 0: W_Q = 0, uniform attention, y = mean
            y = [mpmath.fsum([mpmath.mpf(v.numerator) / v.denominator for v in a]) / len(a)] * len(a)
        yf = np.array([float(v) for v in y]) if mode != "softmax" else \
            np.array([float(v) for v in rank1_attention(np.array([[float(v) for v in a]]), np.ones(1), float(beta))])
        for tok, yy, yyf in zip(a, y, yf):
            lst = per_token.setdefault(tok, [])
            if all(c != combo for c, _, _ in lst):
                lst.append((combo, yy, yyf))
    gaps, merged = [], 0
    with mpmath.workdps(dps):
        for lst in per_token.values():
            for (_, y1, f1), (_, y2, f2) in itertools.combinations(lst, 2):
                gaps.append(abs(y1 - y2))
                merged += int(f1 == f2)
    return min(gaps), merged, len(gaps)


def study_contextual_margin(profile: str, seed: int, mode: str = "softmax") -> Verdict:
    """Vocabulary {1..V}/V, n tokens, w = 1: min margin over every pair that must be separated.

    Adversarial search (:func:`theorems.judges.adversarial_search`) over V in 3..6, n in 2..3 and
    beta in [1, 100] for the largest resolution/margin (every context pair is enumerated at each
    point, so the search is over the layer's parameters and the vocabulary)."""
    configs = [(4, 3, 20), (4, 3, 60), (5, 2, 60)] if profile == "fast" else \
        [(4, 3, 20), (4, 3, 60), (5, 2, 60), (6, 3, 60), (4, 4, 40), (8, 2, 100)]
    dps = 80
    resolution = mpmath.mpf(10) ** (-(dps - 10))
    labels, margins, merges, resolved = [], [], [], []
    for V, n, beta in configs:
        gap, merged, pairs = margin_study(V, n, beta, mode, dps)
        labels.append(f"V={V},n={n},beta={beta}")
        margins.append(float(gap))
        merges.append(merged)
        resolved.append(bool(gap > resolution))  # compared in mpmath precision
    margins_arr = np.array(margins, dtype=np.float64)

    def unresolved(V, n, beta):  # resolution / margin: > 1 means the margin is not resolved (or zero)
        gap = margin_study(V, n, beta, mode, dps)[0]
        return float(resolution / gap) if gap > 0 else np.inf

    search = adversarial_search(unresolved, {"V": Axis(3, 6, integer=True), "n": Axis(2, 3, integer=True),
                                             "beta": Axis(1.0, 100.0, log=True)},
                                seed=seed, **({"starts": 2, "evaluations": 12} if profile == "fast" else
                                              {"starts": 4, "evaluations": 30}))
    return with_search(Verdict(
        holds=all(resolved),
        measured=f"min margins {', '.join(f'{m:.2e}' for m in margins)} (mpmath, {dps} digits); "
                 f"float64 merges {merges} pairs",
        expected="every margin > 1e-70 (positive, resolved at 80 digits)",
        evidence={"labels": labels, "margins": margins_arr, "float64_merges": np.array(merges, dtype=np.int64)},
        notes="the margin shrinks like exp(-beta a_k (max a - a_l)): at beta = 60 float64 cannot see "
              "it; the theorem's explicit delta formula was not transcribed (see papers/kajitsuka2024.toml), "
              "so there is no constant to halve: the search attacks resolution/margin over V, n, beta",
    ), search, sweep_worst=float(resolution / max(min(margins), 1e-300)))


def plot_margin(verdict: Verdict):
    ev = verdict.evidence
    m = np.where(ev["margins"] > 0, ev["margins"], 1e-300)
    return ratio_figure(ev["labels"], m / 2.220446049250313e-16, ylabel="margin / float64 eps",
                        title=verdict.measured[:90])


# --- hardmax counterexample ---------------------------------------------------------------------


def study_hardmax(profile: str, seed: int, pair: str = "shared max") -> Verdict:
    """Exact hardmax outputs of the token 1/4 in two non-permutation contexts; softmax in mpmath."""
    del profile, seed
    X1 = [Fraction(1, 4), Fraction(1), Fraction(1, 2)]
    X2 = [Fraction(1, 4), Fraction(1), Fraction(3, 4)] if pair == "shared max" else \
        [Fraction(1, 4), Fraction(3, 4), Fraction(1, 2)]
    h1, h2 = hardmax_scalars(X1)[0], hardmax_scalars(X2)[0]
    s1 = attention_scalars_mp(X1, 1, 50)[0]
    s2 = attention_scalars_mp(X2, 1, 50)[0]
    collide = h1 == h2
    soft_gap = float(abs(s1 - s2))
    return Verdict(
        holds=bool(collide and soft_gap > 0),
        measured=f"hardmax outputs {h1} and {h2} ({'equal' if collide else 'different'}); softmax gap {soft_gap:.3e}",
        expected="hardmax outputs exactly equal for non-permutation contexts; softmax separates them",
        evidence={"hardmax": np.array([float(h1), float(h2)]), "softmax_gap": soft_gap},
    )


register(Claim(
    id="kajitsuka2024.boltzmann_identity",
    paper="kajitsuka2024",
    where="Softmax as the Boltzmann operator (abstract; the rank-1 layer of the contextual-mapping theorem)",
    statement="Single-head softmax self-attention with W_Q = beta w^T, W_K = W_V = w^T outputs "
              "boltz_{beta a_k}(a) = sum_l a_l e^{beta a_k a_l} / sum_l e^{beta a_k a_l} at query k.",
    kind="identity",
    expected="rel. error <= 4 eps (n + max|s| + 1) cond against mpmath",
    study=study_boltzmann_identity,
    plot=plot_identity,
    controls={"softmax over queries instead of keys": partial(study_boltzmann_identity, transpose_scores=True)},
))

register(Claim(
    id="kajitsuka2024.contextual_margin",
    paper="kajitsuka2024",
    where="Contextual-mapping theorem for one-layer single-head rank-1 self-attention (abstract; theorem number not verified here)",
    statement="A rank-1 single-head softmax self-attention layer maps every token of a finite set of "
              "inputs so that equal tokens in non-permutation-equivalent contexts are separated by delta > 0.",
    kind="bound",
    expected="positive margin resolved at 80 digits on every vocabulary/beta tested",
    study=study_contextual_margin,
    plot=plot_margin,
    controls={"hardmax attention": partial(study_contextual_margin, mode="hardmax"),
              "rank 0 (uniform attention)": partial(study_contextual_margin, mode="rank0")},
))

register(Claim(
    id="kajitsuka2024.hardmax_not_contextual",
    paper="kajitsuka2024",
    where="Abstract and introduction (the hardmax interpretation forces deep constructions)",
    statement="With hardmax in place of softmax, one self-attention layer is not a contextual mapping: "
              "contexts sharing their maximum give a token the same output.",
    kind="identity",
    expected="exact equality of hardmax outputs for (1/4, 1, 1/2) and (1/4, 1, 3/4); softmax differs",
    study=study_hardmax,
    plot=lambda v: ratio_figure(["context 1", "context 2"], v.evidence["hardmax"], ylabel="hardmax output",
                                title=v.measured[:90]),
    controls={"pair with different maxima": partial(study_hardmax, pair="different max")},
))

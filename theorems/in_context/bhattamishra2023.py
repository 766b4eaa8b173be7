"""Bhattamishra, Patel, Blunsom & Kanade, "Understanding In-Context Learning in Transformers and LLMs
by Learning to Learn Discrete Functions", ICLR 2024 (arXiv 2310.03016): the learning theory of the
baselines the paper measures transformers against (Sections 3-4, Figure 2 and the teaching-sequence
experiments of Section 5).

Claims checked (constructions.in_context.boolean):

* ``bhattamishra2023.elimination_mistakes`` -- Valiant's elimination learner never makes a false
  positive and makes at most n + 1 mistakes on any sequence. Exhaustive: for every target of
  {-1, 0, +1}^n (n <= 3 fast, <= 4 full) the worst case over ALL example sequences, by a search over
  the learner's reachable states (the learner's state only changes on a mistake, so the worst
  sequence is a longest path of mistakes); beyond, seeded adversarial sequences (positives one bit
  flip apart) and uniform sequences for n up to 16 (full 32), and a seeded adversarial search over
  n, the target's size, the adversary's flips per positive and its near-miss negatives; the worst
  case reported is the larger of the exhaustive and the searched one (ratio 1, the bound attained).
  Controls: the bound n (the first positive example's mistake left out; the search alone finds
  (n + 1)/n) and a learner that also eliminates on negative examples (false positives).
* ``bhattamishra2023.teaching_sequence`` -- the k + 2 example teaching sequence leaves exactly one
  consistent conjunction among all 3^n (every target, n <= 5 fast, <= 7 full); minimality tested:
  for k < n, removing any one example leaves at least two consistent conjunctions (for k = n the two
  positive examples coincide, so only the duplicate can go); after the sequence the elimination
  learner agrees with the target on all 2^n inputs. Controls: the last negative example dropped; the
  second positive example equal to the first.
* ``bhattamishra2023.gf2_span`` -- P(m uniform vectors span GF(2)^n) = prod_{i<n}(1 - 2^{i-m}):
  exact against enumeration of all 2^{nm} matrices for n, m <= 3, and by z-tests against a seeded
  simulation (rank by an independent Python-int XOR basis), family-wise false-failure probability
  1e-3; the public parity learner identifies the target parity exactly when the draw has rank n.
  Control: the formula of m + 1 vectors (z > 20 at the smallest cell).
* ``bhattamishra2023.occam_bound`` -- a consistent learner with m >= (ln|H| + ln(1/delta))/epsilon
  examples has error > epsilon with probability <= delta: elimination for conjunctions (|H| = 3^n)
  and GF(2) elimination for parities (|H| = 2^n), exact errors over all 2^n inputs, one-sided
  binomial test at level 1e-3; and a seeded adversarial search over n <= 6, the class, epsilon,
  delta, the target and a distribution on 4 points for the largest EXACT failure probability /
  delta (inclusion-exclusion over the set of distinct points seen; worst about 0.3 -- the union
  bound's slack). Controls: the 1/epsilon factor dropped; the bound's constant halved
  (m = (ln|H| + ln(1/delta))/(2 epsilon)), which only the search breaks (uniform inputs do not).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from functools import partial
from itertools import product

import numpy as np
from scipy import stats

from constructions.in_context import boolean as bl
from numerics.mc_tests import bonferroni_threshold
from numerics.plotting import series_figure
from numerics.random import rng
from theorems.judges import (
    Axis,
    WorstCase,
    adversarial_search,
    bound_verdict,
    plot_bound,
    with_search,
)
from theorems.registry import Claim, Verdict, register

PAPER = "bhattamishra2023"
ALPHA = 1e-3


# --------------------------------------------------------------------------------------------
# elimination: mistake bound and no false positive

class _EliminateOnEveryExample(bl.EliminationLearner):
    """Near control: removes contradicted literals on negative examples too."""

    def update(self, x, y) -> None:
        guess = self.predict(x)
        x = np.asarray(x, dtype=np.float64)
        if guess != y:
            self.mistakes += 1
            self.false_positives += int(guess == 1)
        self.literals[0] &= x == 1
        self.literals[1] &= x == -1


def _worst_case(learner, X, y, memo) -> tuple[int, int]:
    """(max mistakes, max false positives) over every sequence from this learner state."""
    key = learner.literals.tobytes()
    if key in memo:
        return memo[key]
    best_m, best_fp = 0, 0
    for x, lab in zip(X, y, strict=True):
        guess = learner.predict(x)
        if guess == lab:
            continue  # correct predictions never change the state (no update needed for a bound)
        nxt = copy.deepcopy(learner)
        nxt.update(x, lab)
        if nxt.literals.tobytes() == key:
            # the state did not move although a mistake was made: unbounded mistakes
            memo[key] = (10**9, 10**9)
            return memo[key]
        m, fp = _worst_case(nxt, X, y, memo)
        best_m = max(best_m, 1 + m)
        best_fp = max(best_fp, int(guess == 1) + fp)
    memo[key] = (best_m, best_fp)
    return memo[key]


def _targets(n):
    return np.array(list(product((-1.0, 0.0, 1.0), repeat=n)))


def mistakes_ratio(*, n: int, literals: float, flips: float, negatives: float, sign_seed: float,
                   bound_offset: int = 1, update_negatives: bool = False, seed: int = 0) -> float:
    """mistakes / (n + bound_offset) of the elimination learner on one adversarial sequence of 3n + 2
    examples; a false positive makes the ratio 1 + (false positives) (a violation of the claim
    whatever the mistake count).

    The target has k = round(literals n) literals (signs drawn with ``sign_seed``). The adversary: a
    positive example first (the learner starts contradictory, so this is a mistake), then at each
    step, with probability ``negatives``, a near miss (the last positive with one relevant literal
    flipped, a negative the learner must not eliminate on), else the last positive with
    f = 1 + round(flips (n - k - 1)) irrelevant bits flipped, taken first among the bits whose
    literal is still in the hypothesis (f = 1 then costs one mistake per irrelevant literal)."""
    g = rng(1_000_003 * seed + int(1e6 * sign_seed))
    k = int(round(literals * n))
    w = np.zeros(n)
    rel = g.permutation(n)[:k]
    w[rel] = np.where(g.random(k) < 0.5, -1.0, 1.0)
    irrelevant = np.flatnonzero(w == 0)
    f = 1 + int(round(flips * max(irrelevant.size - 1, 0)))
    learner = _EliminateOnEveryExample(n) if update_negatives else bl.elimination_learner(n)
    x = np.where(w != 0, w, np.where(g.random(n) < 0.5, -1.0, 1.0))
    flipped = np.zeros(n, dtype=bool)
    for step in range(3 * n + 2):
        if step and k and g.random() < negatives:
            z = x.copy()
            z[rel[int(g.integers(k))]] *= -1.0
            learner.update(z, float(bl.conjunction_value(w, z[None])[0]))
            continue
        if step and irrelevant.size:
            fresh, used = irrelevant[~flipped[irrelevant]], irrelevant[flipped[irrelevant]]
            pick = np.concatenate([g.permutation(fresh), g.permutation(used)])[:f]
            x = x.copy()
            x[pick] *= -1.0
            flipped[pick] = True
        learner.update(x, 1.0)
    if learner.false_positives:
        return 1.0 + learner.false_positives
    return learner.mistakes / (n + bound_offset)


def _mistakes_space(profile: str) -> dict:
    n_exh = 3 if profile == "fast" else 4
    return {"n": Axis(n_exh + 1, 16 if profile == "fast" else 32, integer=True), "literals": Axis(0.0, 1.0),
            "flips": Axis(0.0, 1.0), "negatives": Axis(0.0, 0.5), "sign_seed": Axis(0.0, 1.0)}


def _mistakes_budget(profile: str) -> dict:
    return {"starts": 4, "evaluations": 40} if profile == "fast" else {"starts": 12, "evaluations": 80}


def study_mistakes(profile: str, seed: int, *, bound_offset: int = 1, update_negatives: bool = False) -> Verdict:
    """Exhaustive for n <= 3 (fast) / 4 (full): every target and, by a search of the learner's
    states, every sequence (:func:`_worst_case`) -- the exact worst case. Beyond, seeded sequences
    for the sweep, and a seeded adversarial search (:func:`theorems.judges.adversarial_search`,
    :func:`mistakes_ratio`) over n up to 16 (fast) / 32 (full), the target's size, the adversary's
    flips per positive and its rate of near-miss negatives. The worst case reported
    (:func:`theorems.judges.with_search`) is the larger of the exhaustive one and the search's."""
    make = (lambda n: _EliminateOnEveryExample(n)) if update_negatives else bl.elimination_learner
    g = rng(seed)
    labels, measured, bounds, fps = [], [], [], []
    n_exh = 3 if profile == "fast" else 4
    exhaustive = WorstCase(-np.inf, {}, 0, 0)
    for n in range(1, n_exh + 1):
        X = bl.all_inputs(n)
        worst, worst_fp = 0, 0
        for w in _targets(n):
            y = bl.conjunction_value(w, X)
            memo: dict = {}
            m, fp = _worst_case(make(n), X, y, memo)
            ratio = 1.0 + fp if fp else m / (n + bound_offset)
            if ratio > exhaustive.ratio:
                exhaustive = WorstCase(ratio, {"n": n, "literals": int(np.sum(w != 0)), "exhaustive": 1},
                                       exhaustive.evaluations, 0)
            exhaustive = dataclasses.replace(exhaustive, evaluations=exhaustive.evaluations + len(memo))
            worst, worst_fp = max(worst, m), max(worst_fp, fp)
        labels.append(f"exhaustive n={n}")
        measured.append(worst)
        bounds.append(n + bound_offset)
        fps.append(worst_fp)
    n_seq = (5, 8, 12, 16) if profile == "fast" else (5, 8, 12, 16, 24, 32)
    reps = 6 if profile == "fast" else 20
    for n in n_seq:
        worst, worst_fp = 0, 0
        for r in range(reps):
            task = bl.conjunction(n, int(g.integers(2**31)), m=3 * n)
            w = task.params["w"]
            if r % 2 == 0:
                # adversary: a positive example, then positives one irrelevant bit flip away
                base = np.where(w != 0, w, np.where(g.random(n) < 0.5, -1.0, 1.0))
                seq = [base]
                for i in g.permutation(np.flatnonzero(w == 0)):
                    nxt = seq[-1].copy()
                    nxt[i] = -nxt[i]
                    seq.append(nxt)
                Xs = np.array(seq + list(task.X))
            else:
                Xs = task.X
            ys = task.evaluate(Xs)
            learner = make(n)
            for x, lab in zip(Xs, ys, strict=True):
                learner.update(x, float(lab))
            worst, worst_fp = max(worst, learner.mistakes), max(worst_fp, learner.false_positives)
        labels.append(f"sequences n={n}")
        measured.append(worst)
        bounds.append(n + bound_offset)
        fps.append(worst_fp)
    searched = adversarial_search(partial(mistakes_ratio, bound_offset=bound_offset,
                                          update_negatives=update_negatives, seed=seed),
                                  _mistakes_space(profile), seed=seed, **_mistakes_budget(profile))
    # an exhaustive worst case is the adversarial worst case for its sizes: report the larger (on a
    # tie the search's, at the larger n)
    best = exhaustive if exhaustive.ratio > searched.ratio else \
        dataclasses.replace(searched, where=searched.where | {"exhaustive": 0})
    worst_case = WorstCase(best.ratio, best.where, exhaustive.evaluations + searched.evaluations, searched.starts)
    v = bound_verdict(labels, measured, bounds,
                      expected=f"mistakes <= n + {bound_offset} on every sequence; no false positive",
                      extra={"false_positives": np.array(fps, dtype=np.float64),
                             "exhaustive_worst_ratio": exhaustive.ratio, "searched_worst_ratio": searched.ratio,
                             "searched_where": {k: float(x) for k, x in searched.where.items()}})
    no_fp = max(fps) == 0
    v = Verdict(holds=v.holds and no_fp, measured=v.measured + f"; max false positives {max(fps)}",
                expected=v.expected, evidence=v.evidence,
                notes=f"exhaustive = worst case over all sequences by a search of the learner's states "
                      f"(n <= {n_exh}: worst ratio {exhaustive.ratio:.4g}); seeded search beyond: "
                      f"{searched.describe()}; a false positive counts as ratio 1 + (false positives); "
                      f"evaluations = learner states explored exhaustively + search evaluations")
    return with_search(v, worst_case)


register(Claim(
    id="bhattamishra2023.elimination_mistakes",
    paper=PAPER,
    where="Section 4 (conjunctions; Valiant's elimination algorithm as the optimal baseline)",
    statement="The elimination algorithm for conjunctions never labels a negative example positive "
              "and makes at most n + 1 mistakes on any sequence of examples.",
    kind="bound",
    expected="worst mistakes / (n + 1) <= 1 (attained: = 1 exhaustively), false positives 0",
    study=study_mistakes,
    plot=plot_bound,
    controls={"bound n (first positive's mistake left out)": partial(study_mistakes, bound_offset=0),
              "also eliminating on negative examples": partial(study_mistakes, update_negatives=True)},
))


# --------------------------------------------------------------------------------------------
# teaching sequence

def _consistency(C, X, y):
    """mismatch[c, j]: candidate conjunction c disagrees with example j."""
    sat = (C @ X.T) == np.sum(np.abs(C), axis=1)[:, None]
    return sat != (y[None, :] == 1)


def study_teaching(profile: str, seed: int, *, drop_last: bool = False, same_positives: bool = False) -> Verdict:
    del seed  # exhaustive
    n_max = 5 if profile == "fast" else 7
    rows = []
    for n in range(1, n_max + 1):
        C = _targets(n)
        allx = bl.all_inputs(n)
        max_unique, min_after_removal, worst_exact = 0, np.inf, 0
        for w in C:
            X, y = bl.teaching_sequence(w)
            if same_positives:
                X = X.copy()
                X[1] = X[0]
            if drop_last and len(y) > 2:
                X, y = X[:-1], y[:-1]
            mism = _consistency(C, X, y)
            cnt = mism.sum(axis=1)
            consistent = int(np.sum(cnt == 0))
            unique_ok = consistent == 1 and np.array_equal(C[cnt == 0][0], w)
            max_unique = max(max_unique, consistent if unique_ok else 10**6)
            k = int(np.sum(w != 0))
            if k < n:
                after = [int(np.sum(cnt == 0) + np.sum((cnt == 1) & mism[:, j])) for j in range(len(y))]
                min_after_removal = min(min_after_removal, min(after))
            learner = bl.elimination_learner(n)
            for xi, yi in zip(X, y, strict=True):
                learner.update(xi, float(yi))
            worst_exact = max(worst_exact, int(np.sum(learner.predict_all(allx) != bl.conjunction_value(w, allx))))
        rows.append((n, max_unique, min_after_removal, worst_exact, len(C)))
    arr = np.array(rows, dtype=np.float64)
    unique = bool(np.all(arr[:, 1] == 1))
    minimal = bool(np.all(arr[:, 2] >= 2))
    exact = bool(np.all(arr[:, 3] == 0))
    measured = (f"max consistent conjunctions {int(arr[:, 1].max()) if unique else 'not unique'}; "
                f"min consistent after removing one example {int(arr[:, 2].min())} (k < n); "
                f"max disagreements of elimination on 2^n inputs {int(arr[:, 3].max())}; "
                f"{int(arr[:, 4].sum())} targets, n <= {n_max}")
    return Verdict(holds=unique and minimal and exact, measured=measured,
                   expected="exactly 1 consistent conjunction; >= 2 after removing any one example (k < n); "
                            "elimination exact on all 2^n inputs",
                   evidence={"n": arr[:, 0], "max_consistent": np.minimum(arr[:, 1], 1e6),
                             "min_after_removal": arr[:, 2], "max_disagreements": arr[:, 3],
                             "targets": arr[:, 4]})


def plot_teaching(verdict: Verdict):
    ev = verdict.evidence
    return series_figure(ev["n"], {"max #consistent with the teaching sequence": ev["max_consistent"],
                                   "min #consistent after removing one example": ev["min_after_removal"],
                                   "elimination disagreements on 2^n inputs + 1": ev["max_disagreements"] + 1},
                         xlabel="n", ylabel="count", logy=True, title=verdict.measured[:120])


register(Claim(
    id="bhattamishra2023.teaching_sequence",
    paper=PAPER,
    where="Section 5 (teaching sequences; conjunctions have teaching sequences of k + 2 examples)",
    statement="The teaching sequence of a conjunction with k literals (k + 2 examples) is consistent with "
              "exactly one conjunction; after it, the elimination algorithm is exact.",
    kind="identity",
    expected="1 consistent conjunction of 3^n for every target (n <= 7 full); minimal for k < n",
    study=study_teaching,
    plot=plot_teaching,
    controls={"last negative example dropped (k + 1 examples)": partial(study_teaching, drop_last=True),
              "second positive example = first": partial(study_teaching, same_positives=True)},
))


# --------------------------------------------------------------------------------------------
# GF(2) span probability and the parity learner

def _xor_rank(rows) -> int:
    """Rank over GF(2) of integers read as bit vectors (an XOR basis keyed by leading bit)."""
    basis: dict[int, int] = {}
    for v in rows:
        v = int(v)
        while v:
            top = v.bit_length() - 1
            if top not in basis:
                basis[top] = v
                break
            v ^= basis[top]
    return len(basis)


def study_gf2(profile: str, seed: int, *, m_shift: int = 0) -> Verdict:
    formula = lambda n, m: bl.gf2_span_probability(n, m + m_shift)  # noqa: E731
    exact_err = 0.0
    for n in range(1, 4):
        for m in range(0, 4):
            full = sum(_xor_rank(cols) == n for cols in product(range(2**n), repeat=m))
            exact_err = max(exact_err, abs(full / 2 ** (n * m) - formula(n, m)))
    exact_ok = exact_err <= 8 * np.finfo(float).eps
    g = rng(seed)
    M = 2000 if profile == "fast" else 20000
    cells = [(n, m) for n in (4, 8) for m in (n, n + 1, n + 2, n + 4)]
    thr = bonferroni_threshold(ALPHA, len(cells))
    zs, freq, ref, labels = [], [], [], []
    learner_mismatch = 0
    for n, m in cells:
        draws = g.integers(0, 2**n, size=(M, m))
        hits = np.array([_xor_rank(r) == n for r in draws], dtype=np.float64)
        p = formula(n, m)
        se = math.sqrt(max(p * (1 - p), 1.0 / M) / M)  # binomial standard error under the claim
        zs.append((hits.mean() - p) / se)
        freq.append(hits.mean())
        ref.append(p)
        labels.append(f"n={n},m={m}")
        # the public learner on the first draws: identifies the target iff rank n
        for r, h in zip(draws[:50], hits[:50], strict=True):
            X = np.where((r[:, None] >> np.arange(n)) & 1, -1.0, 1.0)
            target = g.random(n) < 0.5
            y = np.prod(np.where(target, X, 1.0), axis=1)
            learner = bl.parity_learner(n).fit(X, y)
            identified = learner.determined and np.array_equal(learner.subset(), target)
            learner_mismatch += int(identified != bool(h))
    zs = np.array(zs)
    worst = int(np.argmax(np.abs(zs)))
    holds = exact_ok and bool(np.all(np.abs(zs) <= thr)) and learner_mismatch == 0
    measured = (f"enumeration max |error| {exact_err:.1e}; worst z {zs[worst]:+.2f} at {labels[worst]} "
                f"(|z| <= {thr:.2f}, {M} draws per cell); parity learner vs rank mismatches {learner_mismatch}")
    return Verdict(holds=holds, measured=measured,
                   expected="formula exact on all 2^{nm} matrices (n, m <= 3); |z| <= threshold in every cell "
                            f"(family false-failure {ALPHA:g})",
                   evidence={"labels": labels, "z": zs, "frequency": np.array(freq), "formula": np.array(ref),
                             "threshold": thr, "exact_error": exact_err})


def plot_gf2(verdict: Verdict):
    ev = verdict.evidence
    return series_figure(np.arange(len(ev["labels"])), {"simulated frequency": ev["frequency"],
                                                         "prod (1 - 2^(i-m))": ev["formula"]},
                         xlabel="cell (n = 4: 0-3, n = 8: 4-7; m = n, n+1, n+2, n+4)",
                         ylabel="P(span GF(2)^n)", title=verdict.measured[:120])


register(Claim(
    id="bhattamishra2023.gf2_span",
    paper=PAPER,
    where="Section 4 (parities: Gaussian elimination over GF(2) needs about n examples)",
    statement="m uniform examples determine an n-bit parity (their bit vectors span GF(2)^n) with "
              "probability prod_{i<n}(1 - 2^{i-m}); Gaussian elimination then returns the target.",
    kind="distribution",
    expected="exact on enumeration; simulation within z-threshold (family level 1e-3)",
    study=study_gf2,
    plot=plot_gf2,
    controls={"formula of m + 1 vectors": partial(study_gf2, m_shift=1)},
))


# --------------------------------------------------------------------------------------------
# Occam bound

def _occam_m(log_h: float, eps: float, delta: float, drop_eps: bool) -> int:
    return math.ceil((log_h + math.log(1 / delta)) / (1.0 if drop_eps else eps))


OCCAM_SUPPORT = 4
OCCAM_N_MAX = 6


def occam_failure_probability(cls: str, w, points, masses, eps: float, m: int) -> float:
    """Exact P(error > eps) of the public consistent learner (elimination for conjunctions, GF(2)
    elimination for parities) after m i.i.d. examples from the distribution with the given masses
    on the given distinct points, labelled by the target w (conjunction literals in {-1, 0, 1}, or
    a parity's 0/1 mask); the error is measured under that distribution.

    Both learners' final hypotheses depend only on the SET of distinct points seen (elimination
    keeps the literals every positive satisfies; the GF(2) basis is kept fully reduced, so its
    particular solution is that of the span's reduced echelon form), so
    P(fail) = sum_S P(seen = S) [err(S) > eps] with, by inclusion-exclusion,
    P(seen = S) = sum_{U subset S} (-1)^{|S - U|} q(U)^m, q(U) the mass of U."""
    pts = np.asarray(points, dtype=np.float64)
    q = np.asarray(masses, dtype=np.float64)
    s, n = pts.shape
    if cls == "conjunction":
        labels = bl.conjunction_value(w, pts)
    else:
        labels = np.prod(np.where(np.asarray(w, dtype=bool), pts, 1.0), axis=1)
    subsets = list(product((0, 1), repeat=s))
    mass = {S: float(q[np.array(S, dtype=bool)].sum()) for S in subsets}
    fail = 0.0
    for S in subsets:
        chosen = np.flatnonzero(S)
        if cls == "conjunction":
            learner = bl.elimination_learner(n)
            for i in chosen:
                learner.update(pts[i], float(labels[i]))
            pred = learner.predict_all(pts)
        else:
            learner = bl.parity_learner(n).fit(pts[chosen], labels[chosen]) if chosen.size else bl.parity_learner(n)
            pred = np.prod(np.where(learner.subset(), pts, 1.0), axis=1)
        if float(q[pred != labels].sum()) <= eps:
            continue
        p_seen = sum((-1) ** (len(chosen) - sum(U)) * mass[U] ** m
                     for U in subsets if all(u <= v for u, v in zip(U, S, strict=True)))
        fail += p_seen
    return float(min(max(fail, 0.0), 1.0))


def occam_ratio(*, n: int, parity: int, eps: float, delta: float, m_scale: float = 1.0, drop_eps: bool = False,
                **coords: float) -> float:
    """P(error > eps) / delta, exact (:func:`occam_failure_probability`), at the Occam sample size
    m = ceil(m_scale (ln|H| + ln(1/delta)) / eps) for one admissible input: n variables, the class
    (parity = 0 conjunctions |H| = 3^n, 1 parities |H| = 2^n), eps, delta, a target (t{i} -> a
    literal -1/0/+1, or in the parity or not), and a distribution on OCCAM_SUPPORT points (p{j}
    -> a point of {-1, 1}^n, q{j} -> its weight; coinciding points merge)."""
    cls = "parity" if parity else "conjunction"
    t = np.array([coords[f"t{i}"] for i in range(n)])
    w = (np.minimum(np.floor(3 * t), 2) - 1.0) if cls == "conjunction" else t >= 0.5
    idx = [min(int(coords[f"p{j}"] * 2**n), 2**n - 1) for j in range(OCCAM_SUPPORT)]
    weights = np.array([coords[f"q{j}"] for j in range(OCCAM_SUPPORT)]) + 1e-12
    uniq = sorted(set(idx))
    masses = np.array([weights[[i == u for i in idx]].sum() for u in uniq]) / weights.sum()
    points = np.where((np.array(uniq)[:, None] >> np.arange(n)) & 1, -1.0, 1.0)
    log_h = n * math.log(2 if parity else 3)
    m = max(1, math.ceil(m_scale * (log_h + math.log(1 / delta)) / (1.0 if drop_eps else eps)))
    return occam_failure_probability(cls, w, points, masses, eps, m) / delta


OCCAM_SPACE = ({"n": Axis(1, OCCAM_N_MAX, integer=True), "parity": Axis(0, 1, integer=True),
                "eps": Axis(0.02, 0.5, log=True), "delta": Axis(1e-3, 0.5, log=True)}
               | {f"t{i}": Axis(0.0, 1.0) for i in range(OCCAM_N_MAX)}
               | {f"p{j}": Axis(0.0, 1.0) for j in range(OCCAM_SUPPORT)}
               | {f"q{j}": Axis(0.0, 1.0) for j in range(OCCAM_SUPPORT)})


def _occam_budget(profile: str) -> dict:
    return {"starts": 6, "evaluations": 60} if profile == "fast" else {"starts": 20, "evaluations": 150}


def study_occam(profile: str, seed: int, *, drop_eps: bool = False, m_scale: float = 1.0) -> Verdict:
    """Sweep: n = 8, eps = 0.1, delta = 0.05, uniform inputs, T = 200 (fast) / 1000 (full) trials
    per class, one-sided binomial test at level 1e-3. Adversarial search
    (:func:`theorems.judges.adversarial_search`, :func:`occam_ratio`) over n <= 6, the class, eps in
    [0.02, 0.5], delta in [1e-3, 0.5], the target and a distribution on 4 points, for the largest
    EXACT P(error > eps) / delta (no sampling noise for the search to exploit). ``m_scale = 1/2``
    (the bound's constant halved, m = (ln|H| + ln(1/delta)) / (2 eps)) is the control the search
    must break: a point of mass just above eps then stays unseen with probability about
    sqrt(delta / |H|) > delta."""
    n, eps, delta = 8, 0.1, 0.05
    T = 200 if profile == "fast" else 1000
    g = rng(seed)
    allx = bl.all_inputs(n)
    out = {}
    for cls, log_h in (("conjunction", n * math.log(3)), ("parity", n * math.log(2))):
        m = math.ceil(m_scale * _occam_m(log_h, eps, delta, drop_eps))
        fails, errs = 0, []
        for _ in range(T):
            X = np.where(g.random((m, n)) < 0.5, -1.0, 1.0)
            if cls == "conjunction":
                w = np.zeros(n)
                rel = g.choice(n, size=int(g.integers(1, 3)), replace=False)
                w[rel] = np.where(g.random(rel.size) < 0.5, -1.0, 1.0)
                y = bl.conjunction_value(w, X)
                learner = bl.elimination_learner(n)
                for xi, yi in zip(X, y, strict=True):
                    learner.update(xi, float(yi))
                err = float(np.mean(learner.predict_all(allx) != bl.conjunction_value(w, allx)))
            else:
                task = bl.sparse_parity(n, int(g.integers(2**31)), m=m)
                learner = bl.parity_learner(n).fit(task.X, task.y)
                pred = np.prod(np.where(learner.subset(), allx, 1.0), axis=1)
                err = float(np.mean(pred != task.evaluate(allx)))
            errs.append(err)
            fails += int(err > eps)
        # one-sided: reject when P(Binom(T, delta) >= fails) < ALPHA / 2 (two classes)
        pval = float(stats.binom.sf(fails - 1, T, delta))
        out[cls] = (m, fails / T, pval, float(np.mean(errs)))
    search = adversarial_search(partial(occam_ratio, m_scale=m_scale, drop_eps=drop_eps), OCCAM_SPACE,
                                seed=seed, **_occam_budget(profile))
    n_found = int(search.where.get("n", OCCAM_N_MAX))  # report only the coordinates the worst case uses
    search = dataclasses.replace(search, where={k: x for k, x in search.where.items()
                                                if not (k.startswith("t") and int(k[1:]) >= n_found)})
    holds = all(p >= ALPHA / 2 for _, _, p, _ in out.values())
    measured = "; ".join(f"{c}: m = {m}, P(err > {eps}) = {f:.3f} (p = {p:.2g}), mean err {e:.3g}"
                         for c, (m, f, p, e) in out.items())
    v = bound_verdict(list(out), [max(f, 1e-300) for _, f, _, _ in out.values()], [delta] * len(out),
                      expected=f"P(err > {eps}) <= delta = {delta} at the Occam m (binomial test, level {ALPHA:g})")
    return with_search(Verdict(holds=holds, measured=measured, expected=v.expected,
                               evidence=dict(v.evidence) | {"m": np.array([o[0] for o in out.values()], dtype=np.float64),
                                                            "pvalues": np.array([o[2] for o in out.values()])},
                               notes=f"sweep: n = {n}, {T} trials per class; conjunction targets with 1-2 literals, "
                                     "uniform inputs; search: exact failure probability over distributions on 4 "
                                     "points (parity = 1: parities)"), search)


register(Claim(
    id="bhattamishra2023.occam_bound",
    paper=PAPER,
    where="Section 4 (sample complexity of the optimal consistent learners)",
    statement="A consistent learner over a finite class H with m >= (ln|H| + ln(1/delta))/epsilon examples "
              "has error > epsilon with probability at most delta (conjunctions |H| = 3^n, parities 2^n).",
    kind="bound",
    expected="failure frequency consistent with <= delta (one-sided binomial, level 1e-3)",
    study=study_occam,
    plot=plot_bound,
    controls={"1/epsilon factor dropped": partial(study_occam, drop_eps=True),
              "bound's constant halved (m = (ln|H| + ln(1/delta)) / (2 epsilon))": partial(study_occam, m_scale=0.5)},
))


# --------------------------------------------------------------------------------------------
# small-scale reproduction: a trained transformer vs the optimal learners

def _pool(sampler, n, k, size, g):
    tasks = [sampler(n, int(g.integers(2**31)), k) for _ in range(size)]
    return np.stack([t.X for t in tasks]), np.stack([t.y for t in tasks])


def _online_errors(make, X, y):
    """Per-position error of an online learner (predict, then update) over prompts X (B, k, n)."""
    errs = np.zeros(X.shape[1])
    for Xi, yi in zip(X, y, strict=True):
        learner = make()
        for j, (x, lab) in enumerate(zip(Xi, yi, strict=True)):
            errs[j] += learner.predict(x) != lab
            learner.update(x, float(lab))
    return errs / X.shape[0]


class _GF2Online:
    """The GF(2) learner in the online protocol (predicts with its particular solution)."""

    def __init__(self, n):
        self.learner = bl.parity_learner(n)

    def predict(self, x):
        return self.learner.predict(x)

    def update(self, x, y):
        self.learner.update(x, y)


NO_SEARCH_TRANSFORMER = (
    "adversarial search: not applicable -- the statement is about a trained network's average error over "
    "the paper's prompt distributions at each training seed, not a bound at every admissible input; a "
    "worst-case prompt would test a pointwise statement the paper does not make, and seeds are never "
    "chosen adversarially for a statistical statement (CONTRIBUTING.md section 5)")

REPRO = {"fast": dict(n=4, k=10, d=16, steps=300, batch=32, lr=1e-2, pool=1024, test=400, seeds=1),
         "full": dict(n=5, k=16, d=16, steps=600, batch=32, lr=5e-3, pool=2048, test=1000, seeds=2)}


def study_transformer(profile: str, seed: int, *, untrained: bool = False) -> Verdict:
    """Gap closure G = (e_const - e_model)/(e_const - e_optimal), errors averaged over the k positions,
    e_const = the better constant predictor's error on the test prompts. Claim: G >= 1/2 on
    conjunctions (the transformer closes at least half the gap to elimination) and G < 1/2 on parity
    (it stays nearer chance than GF(2) elimination) at every training seed."""
    from constructions.in_context import boolean_training as bt

    cfg = REPRO[profile]
    n, k = cfg["n"], cfg["k"]
    g = rng(seed)
    rows, curves = [], {}
    for task, sampler, make in (("conjunction", bl.conjunction, lambda: bl.elimination_learner(n)),
                                ("parity", bl.parity, lambda: _GF2Online(n))):
        X, y = _pool(sampler, n, k, cfg["pool"], g)
        Xt, yt = _pool(sampler, n, k, cfg["test"], g)
        e_opt = _online_errors(make, Xt, yt)
        e_const = float(min(np.mean(yt == 1), np.mean(yt == -1)))
        for s in range(cfg["seeds"]):
            tseed = int(g.integers(2**31))
            params, _ = bt.train_in_context(X, y, steps=0 if untrained else cfg["steps"], batch=cfg["batch"],
                                            learning_rate=cfg["lr"], seed=tseed, d=cfg["d"])
            e_model = bt.predict_errors(params, Xt, yt)
            G = (e_const - e_model.mean()) / (e_const - e_opt.mean())
            rows.append((task, s, float(e_model.mean()), float(e_opt.mean()), e_const, float(G)))
            curves[f"{task} transformer (training seed {s})"] = e_model
        curves[f"{task} optimal learner"] = e_opt
    conj = [r[5] for r in rows if r[0] == "conjunction"]
    par = [r[5] for r in rows if r[0] == "parity"]
    holds = min(conj) >= 0.5 and max(par) < 0.5
    measured = (f"conjunction: G = {min(conj):.2f}..{max(conj):.2f} (errors {np.mean([r[2] for r in rows if r[0] == 'conjunction']):.3f} "
                f"vs elimination {rows[0][3]:.3f}, constant {rows[0][4]:.3f}); parity: G = {min(par):.2f}..{max(par):.2f} "
                f"(errors {np.mean([r[2] for r in rows if r[0] == 'parity']):.3f} vs GF(2) {rows[-1][3]:.3f}, constant {rows[-1][4]:.3f}); "
                f"{cfg['seeds']} training seed(s), n = {n}, k = {k}, {cfg['steps']} Adam steps")
    return Verdict(holds=holds, measured=measured,
                   expected="gap closure >= 1/2 on conjunctions, < 1/2 on parity, at every training seed",
                   evidence={"positions": np.arange(1, k + 1, dtype=np.float64), "curves": curves,
                             "closure": np.array([r[5] for r in rows]),
                             "search_not_applicable": NO_SEARCH_TRANSFORMER},
                   notes="float64, JAX + optax; errors per position over held-out prompts; " + NO_SEARCH_TRANSFORMER)


def plot_transformer(verdict: Verdict):
    ev = verdict.evidence
    return series_figure(ev["positions"], ev["curves"], xlabel="in-context example i", ylabel="error at example i",
                         title=verdict.measured[:120])


register(Claim(
    id="bhattamishra2023.transformer_vs_optimal",
    paper=PAPER,
    where="Section 4, Figure 2 (conjunctions: transformers match the elimination learner; parity: near chance)",
    statement="Transformers trained in-context on conjunctions nearly match the optimal (elimination) learner, "
              "while on parities they stay near chance although Gaussian elimination learns them from about n examples.",
    kind="bound",
    expected="small-scale reproduction: gap closure >= 1/2 (conjunctions), < 1/2 (parity)",
    study=study_transformer,
    plot=plot_transformer,
    controls={"untrained transformer": partial(study_transformer, untrained=True)},
))

"""bhattamishra2023: the claims hold, their controls are rejected, at several seeds."""

import numpy as np
import pytest

from theorems.registry import get

IDS = ["elimination_mistakes", "teaching_sequence", "gf2_span", "occam_bound"]
SLOW_IDS = IDS + ["transformer_vs_optimal"]


@pytest.mark.parametrize("label", IDS)
@pytest.mark.parametrize("seed", [7])  # seed 0 runs in tests/test_claims.py
def test_claim_and_controls(label, seed):
    claim = get(f"bhattamishra2023.{label}")
    v = claim.check("fast", seed)
    assert v.holds, v.measured
    for name, c in claim.run_controls("fast", seed).items():
        assert not c.holds, f"control {name} accepted: {c.measured}"


@pytest.mark.slow
@pytest.mark.parametrize("label", SLOW_IDS)
def test_full_profile(label):
    assert get(f"bhattamishra2023.{label}").check("full", 0).holds


# --- issue 11 section 7: the bounds are attacked, not only sampled ------------------------------

@pytest.mark.parametrize("n", [4, 9, 16, 32])
def test_adversary_attains_n_plus_one_mistakes(n):
    from theorems.in_context import bhattamishra2023 as bh

    # the empty conjunction, one irrelevant bit flipped per positive: exactly n + 1 mistakes
    assert bh.mistakes_ratio(n=n, literals=0.0, flips=0.0, negatives=0.0, sign_seed=0.5) == 1.0
    assert bh.mistakes_ratio(n=n, literals=0.0, flips=0.0, negatives=0.0, sign_seed=0.5,
                             bound_offset=0) == pytest.approx((n + 1) / n)
    # near-miss negatives make the negative-eliminating learner label a negative positive
    assert bh.mistakes_ratio(n=n, literals=0.5, flips=0.0, negatives=0.4, sign_seed=0.5,
                             update_negatives=True) > 1.0


@pytest.mark.parametrize("seed", [0, 5])
def test_mistake_search_reports_worst_case_and_breaks_controls(seed):
    from theorems.in_context import bhattamishra2023 as bh

    v = bh.study_mistakes("fast", seed)
    assert v.holds and v.evidence["search_worst_ratio"] == 1.0 and v.evidence["exhaustive_worst_ratio"] == 1.0
    assert "adversarial worst measured/bound 1 at" in v.measured
    # the seeded search beyond exhaustive reach catches both controls by itself
    for variant in ({"bound_offset": 0}, {"update_negatives": True}):
        c = bh.study_mistakes("fast", seed, **variant)
        assert not c.holds and c.evidence["searched_worst_ratio"] > 1.0, (variant, c.measured)


def test_occam_failure_probability_closed_form_and_simulation():
    from constructions.in_context import boolean as bl
    from theorems.in_context import bhattamishra2023 as bh

    # n = 1, target "true", masses p and 1 - p both above eps: fails unless both points are seen
    p, m, eps = 0.3, 7, 0.2
    got = bh.occam_failure_probability("conjunction", np.zeros(1), np.array([[1.0], [-1.0]]),
                                       np.array([p, 1 - p]), eps, m)
    assert got == pytest.approx(p**m + (1 - p) ** m, rel=1e-12)
    # a 3-point distribution in n = 3, both classes: against a seeded simulation of the public learners
    pts = np.array([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]])
    q = np.array([0.55, 0.3, 0.15])
    g = np.random.default_rng(3)
    T, m, eps = 4000, 6, 0.1
    for cls, w in (("conjunction", np.array([1.0, 0.0, 0.0])), ("parity", np.array([True, False, True]))):
        exact = bh.occam_failure_probability(cls, w, pts, q, eps, m)
        lab = bl.conjunction_value(w, pts) if cls == "conjunction" else np.prod(np.where(w, pts, 1.0), axis=1)
        fails = 0
        for _ in range(T):
            idx = g.choice(3, size=m, p=q)
            if cls == "conjunction":
                learner = bl.elimination_learner(3)
                for i in idx:
                    learner.update(pts[i], float(lab[i]))
                pred = learner.predict_all(pts)
            else:
                pred = np.prod(np.where(bl.parity_learner(3).fit(pts[idx], lab[idx]).subset(), pts, 1.0), axis=1)
            fails += q[pred != lab].sum() > eps
        se = np.sqrt(exact * (1 - exact) / T)
        assert abs(fails / T - exact) <= 4.5 * se + 1e-12, (cls, fails / T, exact)  # 4.5 sigma: 7e-6 per class


@pytest.mark.parametrize("seed", [0, 9])
def test_occam_search_breaks_the_halved_constant_the_sweep_misses(seed):
    from theorems.in_context import bhattamishra2023 as bh

    ok = bh.study_occam("fast", seed)
    assert ok.holds and ok.evidence["search_worst_ratio"] <= 1.0, ok.measured
    halved = bh.study_occam("fast", seed, m_scale=0.5)
    assert not halved.holds and halved.evidence["search_worst_ratio"] > 1.0, halved.measured
    # uniform inputs (the sweep) do not see it: only the search does
    assert np.all(halved.evidence["pvalues"] >= bh.ALPHA / 2)

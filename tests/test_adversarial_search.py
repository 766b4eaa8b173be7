"""theorems.judges.adversarial_search: a seeded search for the worst measured/bound ratio
(CONTRIBUTING.md section 5, "bounds are attacked, not only sampled")."""

import numpy as np
import pytest

import theorems
from theorems.judges import Axis, WorstCase, adversarial_search, bound_verdict, with_search


def test_finds_an_interior_maximum_a_random_sweep_misses():
    # a narrow peak of height 1.2 at (0.7, 3e-3): 30 uniform samples almost surely miss it
    def ratio(x, y):
        return 0.5 + 0.7 * np.exp(-((x - 0.7) ** 2 + (np.log10(y) + 2.5) ** 2) / 0.02)

    space = {"x": Axis(0.0, 1.0), "y": Axis(1e-4, 1.0, log=True)}
    w = adversarial_search(ratio, space, seed=0, starts=4, evaluations=60)
    assert w.ratio > 1.19 and not w.ok
    assert abs(w.where["x"] - 0.7) < 0.05
    assert w.evaluations <= 4 * 60 + 2 * len(space) and w.starts == 4
    assert adversarial_search(ratio, space, seed=0, starts=4, evaluations=60) == w  # deterministic


def test_edge_polish_reaches_the_boundary_and_integers_round():
    w = adversarial_search(lambda k, t: k / 10 + t, {"k": Axis(1, 10, integer=True), "t": Axis(0.0, 0.5)},
                           seed=1, starts=1, evaluations=3)
    assert w.where == {"k": 10, "t": 0.5} and w.ratio == pytest.approx(1.5)


def test_a_nan_is_a_violation_and_verdicts_include_the_search():
    w = adversarial_search(lambda x: np.nan if x > 0.5 else 0.1, {"x": Axis(0.0, 1.0)}, seed=0)
    assert w.ratio == np.inf and not w.ok
    ok = WorstCase(0.5, {"x": 0.1}, 10, 2)
    v = bound_verdict(["a"], [0.5], [1.0], expected="<= 1", search=ok)
    assert v.holds and v.evidence["search_worst_ratio"] == 0.5 and "adversarial" in v.measured
    assert not bound_verdict(["a"], [0.5], [1.0], expected="<= 1", search=WorstCase(1.01, {}, 1, 1)).holds
    assert not with_search(v, WorstCase(2.0, {"x": 0.3}, 5, 1)).holds
    with pytest.raises(ValueError):
        adversarial_search(lambda: 0.0, {}, seed=0)
    with pytest.raises(ValueError):
        Axis(0.0, 1.0, log=True)


SEARCHED = {  # claim -> the control whose bound constant is halved (or quartered, or zero)
    "bai2023.ridge_contraction": "contraction bound halved (0.5 (1 - eta(alpha+lam))^L ||w_ridge||)",
    "bai2023.ridge_layers": "constant 2 -> 1/2 in L = ceil(c kappa log(B_x B_w/(2 eps))) + 1",
    "kajitsuka2024.contextual_margin": "rank 0 (uniform attention)",
    "bhattamishra2023.elimination_mistakes": "bound n (first positive's mistake left out)",
    "bhattamishra2023.occam_bound": "bound's constant halved (m = (ln|H| + ln(1/delta)) / (2 epsilon))",
    "chittyvenkata2023.quantization_error": "bound's constant halved (s/4)",
    "gumaan2025.modulus_bound": "bound's constant halved (c = 1/4 + 20 tau/delta)",
    "gumaan2025.needs_positional_encoding": "lower bound doubled (1 instead of 1/2)",
    "he2023.vcycle_contraction": "bound halved (0.10, 0.185)",
    "tamkin2023.lloyd_monotone": "centroid step over-relaxed to 2.001 (just past the reflection point)",
}
# bound claims with no input space to attack: each verdict says why (evidence["search_not_applicable"])
NOT_SEARCHABLE = {"bhattamishra2023.transformer_vs_optimal", "buss2026.ot_improves_flow_matching",
                  "voelker2019.hurwitz", "xie2026.frequency_bias"}
# trained-network bounds whose fast-profile search is reported but not judged
UNJUDGED_FAST = {"vonoswald2023.trained_matches_gd", "zhang2023.trained_lsa_converges"}


def test_every_bound_claim_is_attacked_or_says_why_not():
    """Issue 11 section 7: a new bound claim must join SEARCHED (a judged search and its halved
    control) or NOT_SEARCHABLE (its verdict carries the reason); the three sets cover every bound."""
    bounds = {c.id for c in theorems.all_claims() if c.kind == "bound"}
    listed = set(SEARCHED) | NOT_SEARCHABLE | UNJUDGED_FAST
    assert bounds == listed, f"unlisted: {sorted(bounds - listed)}; not bounds: {sorted(listed - bounds)}"


@pytest.mark.parametrize("cid", sorted(NOT_SEARCHABLE))
def test_an_unsearchable_bound_says_why(cid):
    v = theorems.get(cid).check("fast", seed=0)
    assert v.holds and "not applicable" in v.evidence["search_not_applicable"]


@pytest.mark.parametrize("cid", sorted(SEARCHED))
def test_bound_claims_report_their_adversarial_worst_case(cid):
    """Every searched bound: the worst ratio found <= 1, reported beside the sweep's; with the
    bound's constant halved (where the constant is not tight, quartered; with no constant, the
    degenerate layer) the same search finds a violation."""
    claim = theorems.get(cid)
    v = claim.check("fast", seed=0)
    assert v.holds and v.evidence["search_judged"] and np.isfinite(v.evidence["search_worst_ratio"])
    assert v.evidence["search_worst_ratio"] <= 1  # signed for lloyd_monotone: < 0 is no increase found
    assert "sweep worst" in v.measured
    broken = claim.controls[SEARCHED[cid]]("fast", 0)
    assert not broken.holds and broken.evidence["search_worst_ratio"] > 1


def test_an_unjudged_search_says_why_and_still_finds_the_halved_violation():
    """The trained-network claims: the fast profile's search is reported, not judged (the reason is
    in the notes); with the tolerance halved (zhang2023) or against the GD step 11% off (von Oswald's
    near control) the same search finds a larger violation."""
    from theorems.in_context import vonoswald2023_trained, zhang2023

    v = theorems.get("vonoswald2023.trained_matches_gd").check("fast", seed=0)
    assert v.evidence["search_judged"] is False and "not judged" in v.notes
    wrong_step = vonoswald2023_trained.study_trained_matches_gd(
        "fast", 0, gd_step_scale=1 + vonoswald2023_trained.STEP_OFFSET).evidence["search_worst_ratio"]
    assert wrong_step > max(1, v.evidence["search_worst_ratio"])
    z = zhang2023.study_trained_lsa("fast", 0)
    assert z.holds and z.evidence["search_judged"] is False and z.evidence["search_worst_ratio"] <= 1
    assert zhang2023.study_trained_lsa("fast", 0, rtol_scale=0.5).evidence["search_worst_ratio"] > 1
    with pytest.raises(ValueError):
        with_search(v, WorstCase(0.5, {}, 1, 1), judged=False)


def test_worst_case_describes_exhaustive_seeded_and_combined_searches_truthfully():
    """An exhaustive search (starts=0, every state visited) is not described as seeded starts; a
    record combining an exhaustive and a seeded search (where["exhaustive"] present) says both and
    which part found the worst case; a seeded search keeps its text."""
    exhaustive = WorstCase(1.0, {"n": 3, "exhaustive": 1}, 27, 0)
    assert exhaustive.describe() == ("adversarial worst measured/bound 1 at (n=3, exhaustive=1) "
                                     "[27 states, exhaustive search]")
    both = WorstCase(1.0, {"n": 3, "exhaustive": 1}, 67, 4)
    assert both.describe().endswith("[67 evaluations: an exhaustive search and 4 seeded starts; "
                                    "worst case from the exhaustive search]")
    searched = WorstCase(0.75, {"n": 16.0, "exhaustive": 0}, 67, 4)
    assert searched.describe().endswith("worst case from the seeded search]")
    seeded = WorstCase(0.5, {"x": 0.125}, 10, 2)
    assert seeded.describe() == "adversarial worst measured/bound 0.5 at (x=0.125) [10 evaluations from 2 seeded starts]"
    assert "seeded starts" not in exhaustive.describe()

"""ren2021 claims: hold over several seeds; every negative control is rejected over several seeds."""

import pytest

from theorems.registry import all_claims

CLAIMS = [c for c in all_claims() if c.paper == "ren2021"]


def test_all_five_claims_registered():
    assert {c.label for c in CLAIMS} == {"full_attention", "factorised_equals_dense", "rank_one_blocks",
                                         "span1_softmax", "logit_count"}


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
@pytest.mark.parametrize("seed", [1, 2])
def test_holds_and_controls_rejected(claim, seed):
    v = claim.check("fast", seed)
    assert v.holds, v.measured
    for name, cv in claim.run_controls("fast", seed).items():
        assert not cv.holds, f"{name}: {cv.measured}"


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_plots(claim):
    assert claim.plot(claim.check("fast", 0)).axes


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_full_profile(claim):
    assert claim.check("full", 0).holds

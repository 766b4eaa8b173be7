"""bhattamishra2023: the claims hold, their controls are rejected, at several seeds."""

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

"""The physics family's claims beyond tests/test_claims.py (which runs every claim and control at
seed 0, fast): every seed 0-19 of the fast profile, and the full profile (both slow)."""

import pytest

import theorems

PHYSICS = [c for c in theorems.all_claims() if c.paper in ("luo2020", "boffi2023", "bischof2025")]


def test_every_physics_claim_is_registered():
    assert len(PHYSICS) == 16


@pytest.mark.slow
@pytest.mark.parametrize("claim", PHYSICS, ids=[c.id for c in PHYSICS])
def test_holds_and_controls_fail_at_seeds_0_to_19(claim):
    for seed in range(20):
        v = claim.study("fast", seed)
        assert v.holds, f"{claim.id} seed {seed}: {v.measured}"
        for name, control in claim.controls.items():
            vc = control("fast", seed)
            assert not vc.holds, f"{claim.id} seed {seed}: control {name!r} accepted: {vc.measured}"


@pytest.mark.slow
@pytest.mark.parametrize("claim", PHYSICS, ids=[c.id for c in PHYSICS])
def test_full_profile(claim):
    assert claim.check("full", 0).holds
    for name, vc in claim.run_controls("full", 0).items():
        assert not vc.holds, f"{claim.id}: control {name!r} accepted in the full profile: {vc.measured}"

"""yang2024 claims: hold over several seeds, controls rejected; plus direct checks of the pieces."""

import numpy as np
import pytest

from theorems.registry import all_claims
from theorems.sequence.yang2024 import chunkwise_variant, growth_factor, reference_delta_rule

CLAIMS = {c.label: c for c in all_claims() if c.paper == "yang2024"}
NUMPY_CLAIMS = ["householder_wy", "chunkwise_equals_recurrent", "flop_count"]


def test_registered():
    assert set(CLAIMS) == {"householder_wy", "chunkwise_equals_recurrent", "gradients", "flop_count"}


@pytest.mark.parametrize("label", NUMPY_CLAIMS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_holds_and_controls_rejected(label, seed):
    claim = CLAIMS[label]
    v = claim.check("fast", seed)
    assert v.holds, v.measured
    for name, cv in claim.run_controls("fast", seed).items():
        assert not cv.holds, f"{name}: {cv.measured}"


def test_each_chunkwise_control_fails_on_its_own_mechanism():
    """first-order T fails only for chunks >= 3; the transposed product and forgetting only with a
    nonzero incoming state, i.e. from the second chunk on."""
    g = np.random.default_rng(0)
    L, d = 9, 3
    q, k, v = g.standard_normal((L, d)), g.standard_normal((L, d)), g.standard_normal((L, 2))
    k /= np.linalg.norm(k, axis=1, keepdims=True)
    beta = g.uniform(0.2, 1, L)
    o_ref, _, _, _ = reference_delta_rule(q, k, v, beta)
    assert growth_factor(k, beta) == 1.0
    err = {var: np.max(np.abs(chunkwise_variant(q, k, v, beta, C, variant=var)[0] - o_ref))
           for var, C in (("first_order", 2), ("transposed", 20), ("forget_state", 20), ("exact", 3))}
    assert max(err.values()) < 1e-13  # all exact in these regimes
    for var in ("first_order", "transposed", "forget_state"):
        assert np.max(np.abs(chunkwise_variant(q, k, v, beta, 3, variant=var)[0] - o_ref)) > 1e-3


def test_gradient_claim_and_control():
    claim = CLAIMS["gradients"]
    v = claim.check("fast", 0)
    assert v.holds, v.measured
    assert all(not cv.holds for cv in claim.run_controls("fast", 0).values())


def test_plots():
    for label in NUMPY_CLAIMS:
        assert CLAIMS[label].plot(CLAIMS[label].check("fast", 0)).axes


@pytest.mark.slow
@pytest.mark.parametrize("label", sorted(CLAIMS))
def test_full_profile(label):
    assert CLAIMS[label].check("full", 0).holds

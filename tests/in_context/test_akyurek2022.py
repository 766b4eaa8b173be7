"""theorems/in_context/akyurek2022.py: the registered claims, their figures, full-profile studies (slow) and
extra negative controls beyond the registered ones."""

from functools import partial

import numpy as np
import pytest

import theorems
from theorems.in_context import akyurek2022 as ak
from theorems.registry import UnknownClaimError

IDS = ["akyurek2022.mov_attention", "akyurek2022.mul_gelu", "akyurek2022.div_layernorm",
       "akyurek2022.aff_exact", "akyurek2022.gd_step_program", "akyurek2022.ridge_sherman_morrison",
       "akyurek2022.ridge_bayes_lambda", "akyurek2022.aff_gelu_bypass", "akyurek2022.gd_step_gradient"]


def test_all_claims_registered_with_controls():
    for cid in IDS:
        claim = theorems.get(cid)
        assert claim.paper == "akyurek2022" and claim.controls and claim.plot is not None


@pytest.mark.parametrize("cid", [c for c in IDS if c != "akyurek2022.ridge_bayes_lambda"])
def test_figure_draws_from_evidence(cid):
    claim = theorems.get(cid)
    fig = claim.plot(claim.check("fast"))
    assert fig.axes


def test_bayes_figure():
    claim = theorems.get("akyurek2022.ridge_bayes_lambda")
    assert claim.plot(claim.check("fast")).axes


def test_rates_report_their_constants():
    v = theorems.get("akyurek2022.mul_gelu").check("fast")
    assert v.evidence["measured_constant"] == pytest.approx(1.0, rel=0.01)
    assert 1.9 < v.evidence["order"] < 2.1
    v = theorems.get("akyurek2022.div_layernorm").check("fast")
    assert v.evidence["measured_constant"] == pytest.approx(1.0, rel=0.01)


def test_extra_controls_rejected():
    # a head that reads its own column (offset 0) instead of the previous one
    assert not ak.study_mov("fast", 0, offset_used=0).holds
    # the registered controls on other data seeds
    assert not ak.study_gd_step("fast", 1, decay_sign=-1.0).holds
    assert not partial(ak.study_ridge, init_inverse="lam")("fast", 2).holds
    assert not ak.study_mul("fast", 3, perturb=True).holds
    assert not ak.study_div("fast", 3, perturb=True).holds


def test_gd_step_gradient_minimal_numbers_and_sign():
    """The construction's step uses Eq. (11)'s +2 lam w (minimal case 0.7); the flipped sign gives 0.9
    and is rejected. weight_decay_sign is no longer a finding (the 'chain as printed' was our own
    transcription of Appendix A, which could not be read here): see papers/akyurek2022.toml."""
    claim = theorems.get("akyurek2022.gd_step_gradient")
    v = claim.check("fast")
    assert v.holds and claim.kind == "identity"
    assert v.evidence["gd_minimal"] == pytest.approx(0.7)
    assert v.evidence["chain_minimal"] == pytest.approx(0.7, abs=1e-5)
    flipped = claim.controls["weight-decay sign flipped (-lam w)"]("fast", 0)
    assert not flipped.holds and flipped.evidence["chain_minimal"] == pytest.approx(0.9, abs=1e-5)
    with pytest.raises(UnknownClaimError):
        theorems.get("akyurek2022.weight_decay_sign")


def test_evidence_is_float64():
    for cid in IDS:
        ev = theorems.get(cid).check("fast").evidence
        for v in ev.values():
            if isinstance(v, np.ndarray):
                assert v.dtype != np.float32


@pytest.mark.slow
@pytest.mark.parametrize("cid", IDS)
def test_full_profile(cid):
    claim = theorems.get(cid)
    assert claim.check("full").holds
    assert not any(v.holds for v in claim.run_controls("full").values())


def test_leading_constants_have_derived_tolerances_that_reject_tanh_gelu():
    """The old hand-set 1% let the tanh approximation of GeLU (constant 1.005) pass; the tolerance
    derived from the next term of the expansion is ~1e-5 and rejects it."""
    from theorems.in_context import akyurek2022 as ak

    v = ak.study_mul("fast", 0)
    assert v.holds and v.evidence["constant_rtol"] < 1e-4
    assert v.evidence["constant_deviation"] <= v.evidence["constant_rtol"]
    t = ak.study_mul("fast", 0, tanh_gelu=True)
    assert not t.holds and 4e-3 < t.evidence["constant_deviation"] < 6e-3
    d = ak.study_div("fast", 0)
    assert d.holds and d.evidence["constant_rtol"] < 1e-5

"""von Oswald et al. (2023): hypothesis-drawn cases through the claims' own comparison
(theorems.in_context.vonoswald2023.gd_case), the negative controls on drawn cases, and the figures."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theorems.in_context.vonoswald2023 as vo
from numerics.random import rng
from numerics.strategies import condition_numbers, seeds
from theorems.in_context import _common as common
from theorems.registry import get


def _case(d, n, cond, seed):
    return common.draw_regression(rng(seed), d, n, cond)


@given(d=st.integers(1, 6), n=st.integers(1, 12), eta=st.floats(0.05, 2.5), steps=st.integers(1, 6),
       cond=condition_numbers(1e6), seed=seeds())
def test_k_layers_are_k_gd_steps(d, n, eta, steps, cond, seed):
    X, y, xq = _case(d, n, cond, seed)
    yrow, xrows = common.gd_case(X, y, xq, eta, steps)
    assert yrow.ok, yrow.describe()
    assert xrows.rel_error == 0.0


@given(d=st.integers(1, 6), n=st.integers(1, 12), eta=st.floats(0.2, 2.0), steps=st.integers(1, 6), seed=seeds())
def test_wrong_step_and_flipped_sign_are_rejected(d, n, eta, steps, seed):
    X, y, xq = _case(d, n, 10.0, seed)
    wrong, _ = common.gd_case(X, y, xq, eta, steps, eta_factor=1.01)
    flipped, _ = common.gd_case(X, y, xq, eta, steps, sign=-1.0)
    assert not wrong.ok, wrong.describe()
    assert not flipped.ok, flipped.describe()


@given(d=st.integers(1, 6), n=st.integers(1, 12), eta=st.floats(0.2, 2.0), seed=seeds())
def test_unmasked_query_one_layer_agrees_two_layers_do_not(d, n, eta, seed):
    X, y, xq = _case(d, n, 10.0, seed)
    one, _ = common.gd_case(X, y, xq, eta, 1, mask_query=False)
    assert one.ok, one.describe()
    two, _ = common.gd_case(X, y, xq, eta, 2, mask_query=False)
    # the unmasked second layer adds (eta/n) pred_1 ||x_q||^2; rejected unless that is negligible
    pred1 = float(common.gd_iterates(X, y, eta, 1)[-1] @ xq)
    if abs(eta / n * pred1 * (xq @ xq)) > 1e-6 * max(1.0, np.abs(y).max()):
        assert not two.ok, two.describe()


def test_gd_iterates_is_plain_gd_and_converges_to_lstsq():
    g = rng(3)
    X, y, _ = common.draw_regression(g, 3, 10, 2.0)
    ws = common.gd_iterates(X, y, 1.0, 400)
    np.testing.assert_allclose(ws[-1], np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10, atol=1e-12)


def test_gdpp_reference_spectral_map_over_steps():
    """Independent of the LSA: the loop's covariance follows lambda -> lambda (1 - gamma lambda)^2."""
    g = rng(4)
    X, y, Xq = common.draw_regression(g, 4, 9, 5.0, m=2)
    gamma, lam = 0.7, np.linalg.eigvalsh(X.T @ X / 9)
    for steps in range(1, 4):
        Xk, _, _, _ = vo.gdpp_reference(X, y, Xq, 0.3, gamma, steps)
        lam = np.sort(lam * (1 - gamma * lam) ** 2)
        np.testing.assert_allclose(np.linalg.eigvalsh(Xk.T @ Xk / 9), lam, rtol=0, atol=1e-14)


@pytest.mark.parametrize("seed", [1, 2])
def test_claims_hold_for_other_seeds(seed):
    for cid in ("vonoswald2023.prop1", "vonoswald2023.multi_layer", "vonoswald2023.gdpp"):
        claim = get(cid)
        v = claim.check("fast", seed)
        assert v.holds, f"{cid} seed {seed}: {v.measured}"
        assert v.evidence["max_ratio"] < 0.1  # the first-order bound is not tight: ratios ~1e-3..1e-2
        for name, cv in claim.run_controls("fast", seed).items():
            assert not cv.holds, f"{cid} control {name} accepted at seed {seed}: {cv.measured}"


def test_no_leak_evidence_and_figures():
    v = get("vonoswald2023.no_leak").check("fast", 0)
    assert v.holds and v.evidence["max_ratio"] == 0.0
    assert np.all(v.evidence["context_dependence"] > 0)
    for cid in ("vonoswald2023.prop1", "vonoswald2023.multi_layer", "vonoswald2023.no_leak"):
        claim = get(cid)
        fig = claim.plot(claim.check("fast", 0))
        assert fig.axes


def test_multi_layer_convergence_under_contraction_envelope():
    ev = get("vonoswald2023.multi_layer").check("fast", 0).evidence
    assert np.all(ev["pred_error"] <= ev["envelope"] * (1 + 1e-12))
    assert ev["pred_error"][-1] < 0.5 * ev["pred_error"][0]


@pytest.fixture(scope="module")
def trained_fast_seed0():
    from theorems.in_context import vonoswald2023_trained as vt

    return vt.study_trained_matches_gd("fast", 0)


def test_trained_gd_loss_z_test_has_power_against_the_gaussian_fourth_moment(trained_fast_seed0):
    """The z-test of the GD loss against its closed form states size 1e-3 and a computed power
    >= 0.999 against the Gaussian-moment closed form (E x^4 = 1/48, 0.21825 vs 0.20623); the old
    20000-prompt test set had less power than that, and the same test set rejects the alternative."""
    from constructions.in_context import icl_training as tr
    from numerics.mc_tests import z_power
    from theorems.in_context import vonoswald2023_trained as vt

    assert vt.gd_loss_with_fourth_moment(10, 10, 1.0 / 80.0) == pytest.approx(tr.uniform_gd_optimal_loss(10, 10),
                                                                               rel=1e-15)
    v = trained_fast_seed0
    ev = v.evidence
    assert v.holds and ev["power"] >= 1 - vt.Z_BETA and abs(ev["alternative_z"]) > 3.29
    effect = ev["alternative_closed_form"] - ev["gd_closed_form"]
    sd = ev["gd_loss_sd"]
    assert z_power(effect, sd, ev["n_test"]) == pytest.approx(ev["power"])
    assert ev["n_test"] > 20_000 and z_power(effect, sd, 20_000) < 1 - vt.Z_BETA
    assert not vt.study_trained_matches_gd("fast", 0, fourth_moment="gaussian").holds


def test_trained_near_control_is_the_wrong_gd_step_only_the_prediction_check_sees(trained_fast_seed0):
    """The near control compares the trained layer with GD at 0.89 eta*: GD is linear in the step, so
    its prediction difference is sqrt((a - x)^2 + p^2) / |1 + x| from the claim's own split (a along,
    p across y_GD) to round-off; the loss gap (flat at eta*) and the cosine (scale-free) still pass,
    and only the prediction difference rejects it."""
    from theorems.in_context import vonoswald2023_trained as vt

    x = vt.STEP_OFFSET
    name = next(n for n in get("vonoswald2023.trained_matches_gd").controls if n.startswith("GD comparator"))
    ev0 = trained_fast_seed0.evidence
    c = get("vonoswald2023.trained_matches_gd").controls[name]("fast", 0)
    ev = c.evidence
    a, p = ev0["pred_diff_along"], ev0["pred_diff_across"]
    assert np.hypot(a, p) == pytest.approx(ev0["pred_diff"], rel=1e-12)
    assert ev["pred_diff"] == pytest.approx(np.hypot(a - x, p) / abs(1 + x), rel=1e-10)
    assert ev["gd_step"] == pytest.approx((1 + x) * ev0["eta_star"], rel=1e-15)
    assert not c.holds and ev["failed_checks"] == ["relative prediction difference <= 0.1"]
    assert ev0["failed_checks"] == []
    assert ev["mean_cos"] == pytest.approx(ev0["mean_cos"], rel=1e-12)
    assert abs(ev["lsa_test_loss"] / ev["gd_test_loss"] - 1) <= 0.05 and ev["z"] == ev0["z"]

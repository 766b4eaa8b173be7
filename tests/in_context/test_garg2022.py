"""Garg et al. baselines and the Bayes ridge closed forms (constructions/in_context/icl_theory.py), and the
garg2022 claim."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theorems
from constructions.in_context import icl_theory as th
from numerics.random import rng
from theorems.in_context import garg2022

data_seeds = st.integers(0, 2**31 - 1)


@given(M=st.integers(1, 4), k=st.integers(1, 8), d=st.integers(1, 8), seed=data_seeds)
def test_min_norm_ls_is_the_pseudo_inverse(M, k, d, seed):
    g = rng(seed)
    X, y = g.standard_normal((M, k, d)), g.standard_normal((M, k))
    got = th.min_norm_ls(X, y)
    ref = np.stack([np.linalg.pinv(X[m]) @ y[m] for m in range(M)])
    np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-8 * np.abs(ref).max())
    assert got.dtype == np.float64


@given(k=st.integers(1, 6), d=st.integers(1, 6), lam=st.floats(0.01, 10.0), seed=data_seeds)
def test_ridge_estimator_solves_its_normal_equations(k, d, lam, seed):
    g = rng(seed)
    X, y = g.standard_normal((2, k, d)), g.standard_normal((2, k))
    w = th.ridge_estimator(X, y, lam)
    for m in range(2):
        np.testing.assert_allclose(X[m].T @ (X[m] @ w[m] - y[m]) + lam * w[m], 0, atol=1e-10 * (1 + lam))


@given(k=st.integers(1, 6), d=st.integers(1, 6), s2=st.floats(0.01, 4.0), t2=st.floats(0.1, 4.0),
       seed=data_seeds)
def test_conditional_ridge_risk_is_minimised_at_sigma2_over_tau2(k, d, s2, t2, seed):
    """For every X the conditional risk has its minimum at lam* = sigma^2/tau^2 (derivative changes
    sign there); and it agrees with a direct E over w, eps computed from the bias/variance split."""
    X = rng(seed).standard_normal((1, k, d))
    lam = th.bayes_ridge_lambda(s2, t2)
    r = lambda lm: float(th.ridge_conditional_risk(X, lm, s2, t2)[0])  # noqa: E731
    assert r(lam) <= r(lam * 1.05) and r(lam) <= r(lam / 1.05)
    # direct: w_lam - w = -(lam G^{-1}) w + G^{-1} X^T eps, G = X^T X + lam I
    G = X[0].T @ X[0] + lam * np.eye(d)
    Gi = np.linalg.inv(G)
    direct = t2 * lam**2 * np.trace(Gi @ Gi) + s2 * np.trace(Gi @ X[0].T @ X[0] @ Gi)
    assert r(lam) == pytest.approx(direct, rel=1e-9)


def test_bayes_lambda_scalings():
    assert th.bayes_ridge_lambda(0.5, 2.0) == 0.25
    assert th.bayes_ridge_lambda(0.5, 2.0, n=10) == pytest.approx(0.025)
    with pytest.raises(ValueError):
        th.bayes_ridge_lambda(0.5, 0.0)


def test_closed_form_edge_cases():
    assert th.min_norm_ls_risk(5, 3) == 2.0
    assert th.min_norm_ls_risk(5, 9) == 0.0
    for k in (4, 5, 6):
        assert th.min_norm_ls_risk(5, k, 0.1) == float("inf")
    assert th.min_norm_ls_risk(10, 4, 1.0) == pytest.approx(6 + 4 / 5)
    assert th.min_norm_ls_risk(4, 10, 1.0) == pytest.approx(4 / 5)
    assert th.averaging_risk(4, 8, 1.0) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        th.min_norm_ls_risk(0, 3)
    with pytest.raises(ValueError):
        th.averaging_risk(3, 3, -1.0)
    with pytest.raises(TypeError):
        th.averaging_risk(3, 3, "1")


def test_noiseless_small_d_exactness():
    """k < d noiseless: ||(I - P) w||^2 with P the projection on the row space: exactly d - k in
    expectation; here the per-prompt value equals ||w||^2 - ||P w||^2 (an identity)."""
    g = rng(0)
    p = th.sample_gaussian_prompts(5, 3, np.eye(6), g)
    w_ls = th.min_norm_ls(p["X"], p["y"])
    err = np.sum((w_ls - p["w"]) ** 2, axis=1)
    np.testing.assert_allclose(err, np.sum(p["w"] ** 2, axis=1) - np.sum(w_ls**2, axis=1), rtol=1e-10)


def test_claim_and_figure():
    claim = theorems.get("garg2022.baseline_errors")
    v = claim.check("fast")
    assert v.holds
    assert claim.plot(v).axes


def test_extra_control_small_ridge_sold_as_least_squares():
    """Another perturbed baseline through the same check: ridge with a small lam (0.1) is still
    rejected as min-norm least squares in the noisy regime."""
    assert not garg2022.study_baselines("fast", 0, ls_ridge=0.1).holds


@pytest.mark.slow
def test_full_profile():
    claim = theorems.get("garg2022.baseline_errors")
    assert claim.check("full").holds
    assert not any(v.holds for v in claim.run_controls("full").values())


def test_bayes_ridge_lambda_values_and_messages():
    """lam* = sigma2 / tau2, or sigma2 / (n tau2) with n; bad arguments are named in the message."""
    assert th.bayes_ridge_lambda(0.5, 2.0) == 0.25 and th.bayes_ridge_lambda(0.5, 2.0, n=5) == 0.05
    with pytest.raises(ValueError, match="^sigma2 must be finite and >= 0"):
        th.bayes_ridge_lambda(-1.0, 1.0)
    with pytest.raises(TypeError, match="^sigma2 must be a real number"):
        th.bayes_ridge_lambda("0.1", 1.0)
    with pytest.raises(ValueError, match="^tau2 must be"):
        th.bayes_ridge_lambda(0.1, 0.0)

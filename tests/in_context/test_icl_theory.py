"""constructions.in_context.icl_theory: every closed form on exact small cases, the samplers' draws
pinned, the estimators against numpy's own solvers, and the validation messages anchored at the
argument's name (mutation campaign seed 5, branch mutC; the claims' tests are test_zhang2023.py and
test_garg2022.py)."""

import numpy as np
import pytest

from constructions.in_context import icl_theory as th
from numerics import EPS
from numerics.random import rng


def test_gamma_risk_and_lsa_weights_on_exact_cases():
    """Lambda = diag(1, 2), N = 4: Gamma = 1.25 Lambda + (3/4) I = diag(2, 3.25); in d = 1 with
    Lambda = l: Gamma = l (1 + 2/N) and R(a) = a^2 l^2 Gamma - 2 a l^2 + l, R* = l - l^2 / Gamma."""
    Lam = np.diag([1.0, 2.0])
    np.testing.assert_array_equal(th.zfb_gamma(Lam, 4), np.diag([2.0, 3.25]))
    off = th.zfb_gamma(Lam, 4, correction=False)
    np.testing.assert_array_equal(off, Lam)
    off[0, 0] = 9.0
    np.testing.assert_array_equal(th.zfb_gamma(Lam, 4, correction=False), Lam)  # a copy each time
    lam, N, a = 3.0, 5, 0.2
    G = lam * (1 + 2 / N)
    assert th.zfb_gamma(np.array([[lam]]), N)[0, 0] == pytest.approx(G, rel=4 * EPS)
    R = th.preconditioner_risk(np.array([[a]]), np.array([[lam]]), N)
    assert R == pytest.approx(a**2 * lam**2 * G - 2 * a * lam**2 + lam, rel=16 * EPS)
    assert isinstance(R, float)
    assert th.zfb_optimal_risk(np.array([[lam]]), N) == pytest.approx(lam - lam**2 / G, rel=16 * EPS)
    assert abs(th.zfb_optimal_risk(Lam, 4, correction=False)) <= 8 * EPS
    Gi = np.linalg.inv(th.zfb_gamma(Lam, 4))
    assert th.preconditioner_risk(Gi, Lam, 4) == pytest.approx(th.zfb_optimal_risk(Lam, 4), rel=1e-13)
    assert th.preconditioner_risk(np.zeros((2, 2)), Lam, 4) == 3.0
    W_KQ, W_PV = th.zfb_lsa_weights(Lam, 4)
    want_kq = np.zeros((3, 3))
    want_kq[:2, :2] = np.diag([0.5, 1 / 3.25])
    np.testing.assert_allclose(W_KQ, want_kq, rtol=4 * EPS, atol=0)
    want_pv = np.zeros((3, 3))
    want_pv[2, 2] = 1.0
    np.testing.assert_array_equal(W_PV, want_pv)


def test_lambda_and_argument_validation():
    good = np.diag([1.0, 2.0])
    asym = good.copy()
    asym[0, 1] = 0.5e-12 * 2.0                       # within 1e-12 max|L|: accepted and symmetrised
    G = th.zfb_gamma(asym, 1, correction=False)
    np.testing.assert_array_equal(G, G.T)
    assert G[0, 1] == 0.5e-12
    for bad, exc, msg in ((np.eye(2, dtype=int), TypeError, r"^Lambda must be a float array"),
                          (np.ones((2, 3)), ValueError, r"^Lambda must be a square matrix"),
                          (np.zeros((0, 0)), ValueError, r"^Lambda must be a square matrix"),
                          (np.ones(2), ValueError, r"^Lambda must be a square matrix"),
                          (np.full((2, 2), np.nan), ValueError, r"^Lambda must be finite"),
                          (np.array([[1.0, 3e-12 * 2], [0.0, 2.0]]), ValueError, r"^Lambda must be symmetric"),
                          (np.diag([1.0, 0.0]), ValueError, r"^Lambda must be positive definite"),
                          (np.diag([1.0, -1.0]), ValueError, r"^Lambda must be positive definite")):
        with pytest.raises(exc, match=msg):
            th.zfb_gamma(bad, 3)
    for N, msg in ((0, r"^N must be an int >= 1, got 0"), (True, r"^N must be an int >= 1, got True"),
                   (2.0, r"^N must be an int >= 1, got 2.0")):
        with pytest.raises(ValueError, match=msg):
            th.zfb_gamma(good, N)
    th.zfb_gamma(good, np.int64(1))
    for bad, exc, msg in ((np.eye(2, dtype=int), TypeError, r"^A must be a float array"),
                          (np.eye(3), ValueError, r"^A must have shape \(2, 2\)"),
                          (np.full((2, 2), np.inf), ValueError, r"^A must be finite")):
        with pytest.raises(exc, match=msg):
            th.preconditioner_risk(bad, good, 3)
    with pytest.raises(ValueError, match=r"^Lambda must be"):
        th.zfb_lsa_weights(np.diag([1.0, 0.0]), 3)
    with pytest.raises(ValueError, match=r"^N must be"):
        th.zfb_lsa_weights(good, 0)
    with pytest.raises(ValueError, match=r"^N must be"):
        th.preconditioner_risk(np.eye(2), good, 0)


def test_sample_gaussian_prompts_replays_its_draws_and_defaults():
    """rng(seed) draws X (M, N, d) then x_q then w then the noise; rows ~ N(0, Lam) through the
    Cholesky factor; defaults sigma = 0 (y = X w exactly), tau = 1."""
    Lam = np.array([[2.0, 0.5], [0.5, 1.0]])
    M, N = 3, 4
    C = np.linalg.cholesky(Lam)
    for kw in ({}, {"sigma": 0.5, "tau": 2.0}):
        p = th.sample_gaussian_prompts(M, N, Lam, 7, **kw)
        g = rng(7)
        X = g.standard_normal((M, N, 2)) @ C.T
        xq = g.standard_normal((M, 2)) @ C.T
        w = kw.get("tau", 1.0) * g.standard_normal((M, 2))
        noise = g.standard_normal((M, N))
        np.testing.assert_array_equal(p["X"], X)
        np.testing.assert_array_equal(p["xq"], xq)
        np.testing.assert_array_equal(p["w"], w)
        y = np.einsum("mnd,md->mn", X, w) + kw.get("sigma", 0.0) * noise
        np.testing.assert_allclose(p["y"], y, rtol=0, atol=8 * EPS * np.abs(y).max())
        np.testing.assert_allclose(p["yq"], (xq * w).sum(1), rtol=0, atol=8 * EPS * np.abs(p["yq"]).max())
        assert set(p) == {"X", "y", "w", "xq", "yq"}
    p0 = th.sample_gaussian_prompts(1, 1, Lam, 0, sigma=0, tau=0)
    assert not p0["w"].any() and not p0["y"].any()
    for args, kw, exc, msg in (((0, 2, Lam, 0), {}, ValueError, r"^M must be an int >= 1"),
                               ((2, 0, Lam, 0), {}, ValueError, r"^N must be an int >= 1"),
                               ((2, 2, Lam, 0), {"sigma": -1.0}, ValueError, r"^sigma must be finite and >= 0"),
                               ((2, 2, Lam, 0), {"tau": float("inf")}, ValueError, r"^tau must be finite and >= 0"),
                               ((2, 2, Lam, 0), {"tau": "1"}, TypeError, r"^tau must be a real number, got str"),
                               ((2, 2, Lam, 0), {"sigma": True}, TypeError, r"^sigma must be a real number, got bool")):
        with pytest.raises(exc, match=msg):
            th.sample_gaussian_prompts(*args, **kw)


def test_preconditioned_predictions_losses_and_directional_derivatives():
    """Against loops: yhat_m = x_q^T A (1/N) sum_i y_i x_i; losses (yhat - y_q)^2; the directional
    derivative of a quadratic in t is its exact central difference."""
    p = th.sample_gaussian_prompts(4, 3, np.diag([1.0, 3.0]), 2, sigma=0.3)
    g = rng(5)
    A, E = g.standard_normal((2, 2)), g.standard_normal((2, 2))
    want = np.array([p["xq"][m] @ A @ (p["y"][m] @ p["X"][m] / 3) for m in range(4)])
    got = th.preconditioned_predictions(A, p["X"], p["y"], p["xq"])
    np.testing.assert_allclose(got, want, rtol=0, atol=32 * EPS * np.abs(want).max())
    losses = th.preconditioner_losses(A, p)
    np.testing.assert_allclose(losses, (want - p["yq"]) ** 2, rtol=0, atol=1e-13 * max(1, losses.max()))
    t = 0.5
    fd = (th.preconditioner_losses(A + t * E, p) - th.preconditioner_losses(A - t * E, p)) / (2 * t)
    dd = th.preconditioner_directional_derivatives(A, E, p)
    np.testing.assert_allclose(dd, fd, rtol=0, atol=1e-12 * max(1, np.abs(fd).max()))
    with pytest.raises(ValueError, match=r"^A must have shape \(2, 2\)"):
        th.preconditioner_losses(np.eye(3), p)
    with pytest.raises(ValueError, match=r"^E must have shape \(2, 2\)"):
        th.preconditioner_directional_derivatives(A, np.eye(3), p)
    with pytest.raises(ValueError, match=r"^A must have shape"):
        th.preconditioner_directional_derivatives(np.eye(3), E, p)


def test_garg_risks_on_every_branch():
    d = 5
    assert th.min_norm_ls_risk(d, 2) == 3.0 and th.min_norm_ls_risk(d, 5) == 0.0 and th.min_norm_ls_risk(d, 9) == 0.0
    assert th.min_norm_ls_risk(d, 2, 1.0) == 3.0 + 2.0 / 2.0
    assert th.min_norm_ls_risk(d, 3, 1.0) == 2.0 + 3.0 / 1.0      # k = d - 2: the last finite one below
    for k in (4, 5, 6):
        assert th.min_norm_ls_risk(d, k, 1.0) == float("inf")
    assert th.min_norm_ls_risk(d, 7, 1.0) == 5.0                  # k = d + 2: sigma^2 d / (k - d - 1)
    assert th.min_norm_ls_risk(d, 9, 0.5) == 0.5 * 5 / 3
    assert isinstance(th.min_norm_ls_risk(d, 2), float)
    assert th.averaging_risk(3, 4, 0.5) == 3 * 4.5 / 4 and th.averaging_risk(3, 4) == 3.0
    for f in (th.min_norm_ls_risk, th.averaging_risk):
        with pytest.raises(ValueError, match=r"^d must be an int >= 1"):
            f(0, 2)
        with pytest.raises(ValueError, match=r"^k must be an int >= 1"):
            f(2, 0)
        with pytest.raises(ValueError, match=r"^sigma2 must be finite and >= 0"):
            f(2, 2, -1.0)


def test_estimators_against_numpy_solvers():
    g = rng(9)
    for k, d in ((2, 4), (4, 4), (6, 3)):
        X, y = g.standard_normal((3, k, d)), g.standard_normal((3, k))
        w = th.min_norm_ls(X, y)
        np.testing.assert_allclose(w, np.stack([np.linalg.pinv(X[m]) @ y[m] for m in range(3)]), rtol=0, atol=1e-12)
        np.testing.assert_allclose(th.averaging_estimator(X, y), np.stack([y[m] @ X[m] / k for m in range(3)]),
                                   rtol=0, atol=1e-14 * k)
        for lam in (0.0, 0.7) if k >= d else (0.7,):
            want = np.stack([np.linalg.solve(X[m].T @ X[m] + lam * np.eye(d), X[m].T @ y[m]) for m in range(3)])
            np.testing.assert_allclose(th.ridge_estimator(X, y, lam), want, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"^lam must be finite and >= 0"):
        th.ridge_estimator(X, y, -1.0)
    # X = one row (3, 4) in d = 2: s = {0, 25}; the zero eigenvalue contributes tau2 (lam > 0)
    Xr = np.array([[[3.0, 4.0]]])
    lam, s2, t2 = 0.5, 0.3, 2.0
    want = t2 + (lam**2 * t2 + s2 * 25) / (25 + lam) ** 2
    got = th.ridge_conditional_risk(Xr, lam, s2, t2)
    assert got.shape == (1,) and got[0] == pytest.approx(want, rel=1e-13)
    with pytest.raises(ValueError, match=r"^lam must be finite and >= 0"):
        th.ridge_conditional_risk(Xr, -0.5, s2, t2)
    assert th.bayes_ridge_lambda(0.5, 2.0) == 0.25 and th.bayes_ridge_lambda(0.5, 2.0, n=5) == 0.05
    with pytest.raises(ValueError, match=r"^tau2 must be positive"):
        th.bayes_ridge_lambda(0.5, 0.0)
    with pytest.raises(ValueError, match=r"^n must be an int >= 1"):
        th.bayes_ridge_lambda(0.5, 2.0, n=0)
    assert th.bayes_ridge_lambda(0.0, 2.0) == 0.0

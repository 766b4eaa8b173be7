"""constructions.physics.entropy_production (boffi2023) against scipy's Lyapunov solvers and the
closed forms, on hypothesis-drawn non-normal models, with input validation."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from constructions.physics import entropy_production as ep
from numerics import EPS
from theorems.physics.boffi2023 import lyapunov_condition, random_ou, reference_eprs

seeds = st.integers(0, 2**31 - 1)


@given(seed=seeds, d=st.integers(1, 7), logc=st.floats(0.0, 3.0))
def test_covariance_and_epr_against_scipy(seed, d, logc):
    A, D = random_ou(np.random.default_rng(seed), d, 10.0**logc)
    S_ref = scipy.linalg.solve_continuous_lyapunov(A, -2 * D)
    cond = lyapunov_condition(A, D, S_ref)
    tol = 4 * EPS * (d**3 + 8) * cond
    S = ep.ou_stationary_covariance(A, D)
    assert np.max(np.abs(S - S_ref)) <= tol * np.max(np.abs(S_ref))
    np.testing.assert_array_equal(S, S.T)
    e = ep.ou_epr(A, D)
    r1, r2 = reference_eprs(A, D)
    assert e >= 0
    assert abs(e - r1) <= tol * max(abs(r1), 1.0) and abs(e - r2) <= tol * max(abs(r2), 1.0)


@given(seed=seeds, d=st.integers(1, 6))
def test_gradient_drift_has_zero_epr(seed, d):
    g = np.random.default_rng(seed)
    _, D = random_ou(g, d)
    K = g.standard_normal((d, d))
    K = K @ K.T + 0.5 * np.eye(d)
    A = -D @ K
    S = ep.ou_stationary_covariance(A, D)
    assert np.max(np.abs(S - np.linalg.inv(K))) <= 1e-10 * np.max(np.abs(S))
    scale = np.trace(np.linalg.inv(D) @ A @ S @ A.T)
    assert ep.ou_epr(A, D) <= 1e-20 * scale


def test_aoup_closed_form_and_dimension():
    for k, v0, eps, gam, dim in [(1.0, 1.0, 1.0, 1.0, 1), (0.3, 2.0, 1e-4, 5.0, 2), (2.0, 0.0, 0.1, 1.0, 3)]:
        A, D = ep.aoup_model(k, v0, eps, gam, dim)
        assert ep.ou_epr(A, D) == pytest.approx(ep.aoup_epr(k, v0, eps, gam, dim), rel=1e-10, abs=1e-300)


def test_per_particle_sum_and_shapes():
    A, D = random_ou(np.random.default_rng(3), 6)
    parts = ep.ou_epr_per_particle(A, D, 3)
    assert parts.shape == (3,) and parts.sum() == pytest.approx(ep.ou_epr(A, D), rel=1e-11)
    assert ep.ou_epr_per_particle(A, D, 1)[0] == pytest.approx(ep.ou_epr(A, D), rel=1e-12)
    with pytest.raises(ValueError, match="divisible"):
        ep.ou_epr_per_particle(A, D, 4)


def test_sample_estimators_with_exact_and_learned_scores():
    A, D = random_ou(np.random.default_rng(5), 3)
    S = ep.ou_stationary_covariance(A, D)
    x = np.random.default_rng(6).standard_normal((50000, 3)) @ np.linalg.cholesky(S).T
    truth = ep.ou_epr(A, D)
    for score in (None, ep.linear_score_matching(x), lambda z: -np.linalg.solve(S, z.T).T):
        for name, (m, se) in ep.epr_from_samples(x, A, D, score=score).items():
            assert abs(m - truth) <= 5 * se, (name, m, se, truth)
    terms = ep.epr_sample_terms(x, A, D)
    # for OU the current is tangent to the level sets: v.s = 0, so two estimators agree per sample
    np.testing.assert_allclose(terms["velocity"], terms["drift_minus_score"], rtol=1e-9, atol=1e-9 * truth)


def test_linear_score_matching_is_the_minimiser():
    x = np.random.default_rng(1).standard_normal((500, 3)) @ np.array([[1, 0, 0], [0.5, 2, 0], [0, 0.3, 0.7]])
    M = ep.linear_score_matching(x)

    def loss(Mf):
        Mm = Mf.reshape(3, 3)
        return np.mean(0.5 * np.sum((x @ Mm.T) ** 2, axis=1)) + np.trace(Mm)

    base = loss(M.ravel())
    for k in range(9):
        e = np.zeros(9)
        e[k] = 1e-4
        assert loss(M.ravel() + e) > base and loss(M.ravel() - e) > base


def test_trajectory_estimator_rules_and_shapes():
    A, D = ep.aoup_model(1.0, 1.0, 0.5, 1.0)
    paths = ep.simulate_ou(A, D, 0.05, 400, 8, 0)
    assert paths.shape == (8, 401, 2)
    est = ep.epr_from_trajectory(paths, 0.05, A, D)
    assert est.shape == (8,) and np.all(np.isfinite(est))
    assert ep.epr_from_trajectory(paths[0], 0.05, A, D).shape == (1,)
    with pytest.raises(ValueError, match="rule"):
        ep.epr_from_trajectory(paths, 0.05, A, D, rule="midpoint")


def test_local_attention_exactly_equivariant_and_translation_invariant():
    g = np.random.default_rng(0)
    p = ep.init_local_attention(3, 6, 1)
    x = g.uniform(0, 2, (12, 3))
    s = ep.local_attention_score(p, x, 1.2)
    for _ in range(10):
        perm = g.permutation(12)
        np.testing.assert_array_equal(ep.local_attention_score(p, x[perm], 1.2), s[perm])
    np.testing.assert_allclose(ep.local_attention_score(p, x + 5.0, 1.2), s, atol=1e-12)


def test_input_validation():
    A, D = ep.aoup_model(1.0, 1.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="singular|positive definite"):
        ep.ou_epr(A, np.diag([1.0, 0.0]))
    with pytest.raises(ValueError, match="positive definite"):
        ep.ou_epr(A, np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="Hurwitz"):
        ep.ou_epr(np.array([[0.1, 0], [0, -1]]), D)
    with pytest.raises(ValueError, match="symmetric"):
        ep.ou_epr(A, np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="same shape"):
        ep.ou_epr(A, np.eye(3))
    with pytest.raises(TypeError):
        ep.ou_epr(A.astype(complex), D)
    with pytest.raises(ValueError, match="finite"):
        ep.ou_stationary_covariance(np.full((2, 2), np.nan), D)
    with pytest.raises(ValueError, match="shape"):
        ep.epr_from_samples(np.ones((10, 3)), A, D)

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


# --- issue 11 section 6: every public function's values, draws, branches and anchored errors ------------

def _model(seed=2, d=3):
    A, D = random_ou(np.random.default_rng(seed), d)
    S = scipy.linalg.solve_continuous_lyapunov(A, -2 * D)
    return A, D, S


def test_velocity_matrix_and_per_particle_against_scipy():
    A, D, S = _model(4, 4)
    B = ep.ou_velocity_matrix(A, D)
    B_ref = A + D @ np.linalg.inv(S)
    np.testing.assert_allclose(B, B_ref, rtol=0, atol=1e-10 * np.abs(B_ref).max())
    C = B @ S  # the stationary current matrix Omega = B S is antisymmetric
    assert np.abs(C + C.T).max() <= 1e-10 * np.abs(C).max()
    cov = np.linalg.inv(D) @ B_ref @ S @ B_ref.T
    parts = ep.ou_epr_per_particle(A, D, 2)
    np.testing.assert_allclose(parts, [np.trace(cov[:2, :2]), np.trace(cov[2:, 2:])], rtol=1e-9)
    np.testing.assert_allclose(ep.ou_epr_per_particle(A, D, 4), np.diag(cov), rtol=1e-9, atol=1e-12)
    # two independent AOUP particles: each particle's share is its own closed form
    A1, D1 = ep.aoup_model(1.0, 2.0, 0.5, 3.0)
    A2, D2 = ep.aoup_model(0.5, 1.0, 0.25, 1.0)
    Z = np.zeros((2, 2))
    A12, D12 = np.block([[A1, Z], [Z, A2]]), np.block([[D1, Z], [Z, D2]])
    np.testing.assert_allclose(ep.ou_epr_per_particle(A12, D12, 2),
                               [ep.aoup_epr(1.0, 2.0, 0.5, 3.0), ep.aoup_epr(0.5, 1.0, 0.25, 1.0)], rtol=1e-12)
    with pytest.raises(ValueError, match=r"^n_particles must be a positive int"):
        ep.ou_epr_per_particle(A, D, 0)
    with pytest.raises(ValueError, match=r"^dimension 4 is not divisible by n_particles = 3"):
        ep.ou_epr_per_particle(A, D, 3)


def test_aoup_model_entries_closed_form_and_errors():
    A, D = ep.aoup_model(2.0, -1.5, 0.25, 3.0, dim=2)
    I2, Z = np.eye(2), np.zeros((2, 2))
    np.testing.assert_array_equal(A, np.block([[-2.0 * I2, -1.5 * I2], [Z, -3.0 * I2]]))
    np.testing.assert_array_equal(D, np.block([[0.25 * I2, Z], [Z, 3.0 * I2]]))
    A1, D1 = ep.aoup_model(1, 2, 1, 1)  # default dim = 1, int arguments
    np.testing.assert_array_equal(A1, [[-1.0, 2.0], [0.0, -1.0]])
    np.testing.assert_array_equal(D1, np.eye(2))
    assert ep.aoup_epr(1.0, 2.0, 0.5, 3.0, dim=2) == 2 * 3.0 * 4.0 / (0.5 * 4.0)
    assert ep.aoup_epr(1.0, 2.0, 0.5, 3.0) == 3.0 * 4.0 / (0.5 * 4.0)
    assert ep.aoup_epr(1.0, 0, 0.5, 3.0) == 0.0
    for f in (ep.aoup_model, ep.aoup_epr):
        for i, name in enumerate(("k", None, "eps", "gamma")):
            if name is None:
                continue
            for bad in (0.0, -1.0, np.nan):
                args = [1.0, 1.0, 1.0, 1.0]
                args[i] = bad
                with pytest.raises(ValueError, match=rf"^{name} must be finite and positive"):
                    f(*args)
        for bad in (np.nan, np.inf, True):
            with pytest.raises(ValueError, match=r"^v0 must be a finite real number"):
                f(1.0, bad, 1.0, 1.0)
        with pytest.raises(ValueError, match=r"^dim must be a positive int"):
            f(1.0, 1.0, 1.0, 1.0, 0)


def test_model_validation_is_anchored_and_its_boundaries():
    A, D = ep.aoup_model(1.0, 1.0, 0.5, 1.0)
    for f in (ep.ou_epr, ep.ou_stationary_covariance, ep.ou_velocity_matrix):
        with pytest.raises(ValueError, match=r"^A must be a non-empty square matrix"):
            f(np.ones((2, 3)), D)
        with pytest.raises(ValueError, match=r"^D must be a non-empty square matrix"):
            f(A, np.ones(2))
        with pytest.raises(ValueError, match=r"^A and D must have the same shape"):
            f(A, np.eye(3))
        with pytest.raises(ValueError, match=r"^A must be Hurwitz"):
            f(np.diag([0.0, -1.0]), D)  # an eigenvalue with real part exactly 0
        with pytest.raises(ValueError, match=r"^D must be symmetric"):
            f(A, np.array([[1.0, 1e-12], [0.0, 1.0]]))
        with pytest.raises(ValueError, match=r"^D must be positive definite"):
            f(A, np.diag([1.0, -1.0]))
        with pytest.raises(ValueError, match=r"^D is numerically singular"):
            f(A, np.diag([1.0, 3e-16]))  # 3e-16 <= 2 eps max(diag D): singular to rounding
    assert ep.ou_epr(A, np.diag([1.0, 1e-15])) > 0  # just above the singularity threshold
    # an asymmetry up to 64 eps n max|D| (here 128 eps) is rounding: D is symmetrised
    Dn = np.array([[0.5, 0.0], [100 * EPS, 1.0]])
    Ds = 0.5 * (Dn + Dn.T)
    assert ep.ou_epr(A, Dn) == ep.ou_epr(A, Ds)
    np.testing.assert_array_equal(ep.ou_stationary_covariance(A, Dn), ep.ou_stationary_covariance(A, Ds))
    np.testing.assert_array_equal(ep.ou_velocity_matrix(A, Dn), ep.ou_velocity_matrix(A, Ds))
    with pytest.raises(ValueError, match=r"^D must be symmetric"):
        ep.ou_epr(A, np.array([[0.5, 0.0], [160 * EPS, 1.0]]))


def test_simulate_ou_draws_are_pinned():
    from numerics.random import rng

    A, D = ep.aoup_model(1.0, 0.5, 0.3, 2.0)
    dt, n_steps, n_paths = 0.1, 3, 2
    paths = ep.simulate_ou(A, D, dt, n_steps, n_paths, 7)
    # by hand: x_0 ~ N(0, S) from the generator's first normals, then one Euler-Maruyama step per row
    g = rng(7)
    LS = np.linalg.cholesky(ep.ou_stationary_covariance(A, D))
    LD = np.linalg.cholesky(D)
    x = g.standard_normal((n_paths, 2)) @ LS.T
    want = [x]
    for _ in range(n_steps):
        x = x + dt * x @ A.T + np.sqrt(2 * dt) * g.standard_normal((n_paths, 2)) @ LD.T
        want.append(x)
    np.testing.assert_allclose(paths, np.stack(want, axis=1), rtol=0, atol=1e-14)
    # a given x0 ((d,) broadcast, or one row per path): no draw for the start
    g = rng(3)
    p1 = ep.simulate_ou(A, D, dt, 1, 2, 3, x0=[1.0, -1.0])
    step = np.array([1.0, -1.0]) + dt * A @ [1.0, -1.0] + np.sqrt(2 * dt) * g.standard_normal((2, 2)) @ LD.T
    np.testing.assert_array_equal(p1[:, 0], [[1.0, -1.0], [1.0, -1.0]])
    np.testing.assert_allclose(p1[:, 1], step, rtol=0, atol=1e-15)
    p2 = ep.simulate_ou(A, D, dt, 1, 2, 3, x0=[[1.0, -1.0], [1.0, -1.0]])
    np.testing.assert_array_equal(p1, p2)
    assert ep.simulate_ou(A, D, dt, 1, 1, 0).shape == (1, 2, 2)  # n_steps = n_paths = 1
    for kw, match in ((dict(dt=0.0), r"^dt must be finite and positive"), (dict(n_steps=0), r"^n_steps must be a positive int"),
                      (dict(n_paths=0), r"^n_paths must be a positive int")):
        args = dict(dt=0.1, n_steps=2, n_paths=2) | kw
        with pytest.raises(ValueError, match=match):
            ep.simulate_ou(A, D, args["dt"], args["n_steps"], args["n_paths"], 0)


def test_sample_terms_against_the_formulas_and_score_forms():
    A, D, S = _model(6, 3)
    x = np.random.default_rng(9).standard_normal((7, 3))
    P, Dinv = np.linalg.inv(S), np.linalg.inv(D)
    rows = []
    for xi in x:
        b, s = A @ xi, -P @ xi
        v = b - D @ s
        rows.append((v @ Dinv @ v, b @ Dinv @ b - s @ D @ s, b @ Dinv @ b + np.trace(A)))
    rows = np.array(rows)
    scale = np.abs(rows).max()
    for score in (None, -P, lambda z: -z @ P.T):
        terms = ep.epr_sample_terms(x, A, D, score)
        for c, name in enumerate(("velocity", "drift_minus_score", "drift_plus_divergence")):
            np.testing.assert_allclose(terms[name], rows[:, c], rtol=0, atol=1e-10 * scale)
    # a score matrix is used as given, s(x) = M x
    M = np.random.default_rng(1).standard_normal((3, 3))
    t = ep.epr_sample_terms(x, A, D, M)
    want = [xi @ A.T @ Dinv @ (A @ xi) - (M @ xi) @ D @ (M @ xi) for xi in x]
    np.testing.assert_allclose(t["drift_minus_score"], want, rtol=1e-10, atol=1e-10 * np.abs(want).max())
    est = ep.epr_from_samples(x, A, D)
    for name, col in terms.items():
        m, se = est[name]
        assert m == pytest.approx(col.mean(), rel=1e-14) and se == pytest.approx(col.std(ddof=1) / np.sqrt(7), rel=1e-12)
    # two samples are the minimum
    assert ep.epr_sample_terms(x[:2], A, D)["velocity"].shape == (2,)
    cases = [
        (x[:1], None, ValueError, r"^samples must have shape \(n >= 2, 3\)"),
        (x[:, :2], None, ValueError, r"^samples must have shape \(n >= 2, 3\)"),
        (x[0], None, ValueError, r"^samples must have shape \(n >= 2, 3\)"),
        (x.astype(complex), None, TypeError, r"^samples must be a real numeric array"),
        (np.where(x > 1, np.nan, x), None, ValueError, r"^samples must be finite"),
        (x, np.ones((2, 3)), ValueError, r"^score must be a non-empty square matrix"),
        (x, np.eye(2), ValueError, r"^a linear score s\(x\) = M x needs M of shape \(3, 3\)"),
        (x, lambda z: z[:, :2], ValueError, r"^score must return shape \(7, 3\)"),
    ]
    for xx, score, err, match in cases:
        with pytest.raises(err, match=match):
            ep.epr_sample_terms(xx, A, D, score)


def test_trajectory_estimator_against_a_loop_for_both_rules():
    A, D, S = _model(3, 2)
    paths = np.random.default_rng(4).standard_normal((3, 5, 2))
    dt = 0.2
    P, Dinv = np.linalg.inv(S), np.linalg.inv(D)

    def loop(rule, M=None):
        out = []
        for p in paths:
            tot = 0.0
            for k in range(4):
                z = 0.5 * (p[k] + p[k + 1]) if rule == "stratonovich" else p[k]
                s = (M if M is not None else -P) @ z
                tot += (A @ z - D @ s) @ Dinv @ (p[k + 1] - p[k])
            out.append(tot / (4 * dt))
        return np.array(out)

    for rule in ("stratonovich", "ito"):
        ref = loop(rule)
        np.testing.assert_allclose(ep.epr_from_trajectory(paths, dt, A, D, rule=rule), ref, rtol=1e-10,
                                   atol=1e-10 * np.abs(ref).max())
    np.testing.assert_allclose(ep.epr_from_trajectory(paths, dt, A, D), loop("stratonovich"), rtol=1e-10)  # default
    M = np.random.default_rng(5).standard_normal((2, 2))
    np.testing.assert_allclose(ep.epr_from_trajectory(paths, dt, A, D, score=M, rule="ito"), loop("ito", M), rtol=1e-10)
    one = ep.epr_from_trajectory(paths[1], dt, A, D)
    assert one.shape == (1,) and one[0] == pytest.approx(loop("stratonovich")[1], rel=1e-10)
    assert ep.epr_from_trajectory(paths[:, :2], dt, A, D).shape == (3,)  # one step is the minimum
    for bad, match in ((paths[:, :1], r"^paths must have shape \(n_paths, n_steps \+ 1 >= 2, 2\)"),
                       (paths[..., :1], r"^paths must have shape"), (paths[None], r"^paths must have shape"),
                       (np.where(paths > 1, np.inf, paths), r"^paths must be finite")):
        with pytest.raises(ValueError, match=match):
            ep.epr_from_trajectory(bad, dt, A, D)
    with pytest.raises(ValueError, match=r"^dt must be finite and positive"):
        ep.epr_from_trajectory(paths, -1.0, A, D)
    with pytest.raises(ValueError, match=r"^rule must be 'stratonovich' or 'ito'"):
        ep.epr_from_trajectory(paths, dt, A, D, rule="Ito")


def test_linear_score_matching_closed_form_and_errors():
    x = np.random.default_rng(2).standard_normal((4, 3))
    np.testing.assert_allclose(ep.linear_score_matching(x), -np.linalg.inv(x.T @ x / 4), rtol=1e-12)
    xi = np.array([[1, 0], [0, 2]])  # n = d is admissible, integer samples
    np.testing.assert_allclose(ep.linear_score_matching(xi), -np.diag([2.0, 0.5]), rtol=1e-15)
    for bad in (x[0], x.astype(complex), x[None]):
        with pytest.raises(ValueError, match=r"^samples must be a real 2-D array \(n, d\)"):
            ep.linear_score_matching(bad)
    with pytest.raises(ValueError, match=r"^need at least d = 3 samples"):
        ep.linear_score_matching(x[:2])
    with pytest.raises(ValueError, match=r"^samples must be finite"):
        ep.linear_score_matching(np.where(x > 1, np.nan, x))


def test_local_attention_draws_values_and_errors():
    from numerics.random import rng

    p = ep.init_local_attention(2, 3, 11)
    g = rng(11)
    ref = {"W1": g.standard_normal((3, 2)), "b1": g.standard_normal(3), "a": g.standard_normal(3) / np.sqrt(3),
           "W2": g.standard_normal((2, 3)) / np.sqrt(3)}
    assert set(p) == set(ref)
    for k in ref:
        np.testing.assert_array_equal(p[k], ref[k])
    x = np.random.default_rng(1).uniform(0, 1.5, (5, 2))
    rc = 1.0

    def loop(positional=0.0):
        out = np.zeros((5, 2))
        for i in range(5):
            ws, vs = [], []
            for j in range(5):
                r2 = np.sum((x[j] - x[i]) ** 2)
                phi = (1 - r2 / rc**2) ** 2 if r2 < rc**2 else 0.0
                h = np.maximum(p["W1"] @ (x[j] - x[i]) + p["b1"], 0.0)
                ws.append(phi * np.exp(p["a"] @ h + positional * j))
                vs.append(p["W2"] @ h)
            ws = np.array(ws) / np.sum(ws)
            out[i] = sum(w * v for w, v in zip(ws, vs, strict=True))
        return out

    s = ep.local_attention_score(p, x, rc)
    np.testing.assert_allclose(s, loop(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ep.local_attention_score(p, x, rc, positional=0.7), loop(0.7), rtol=1e-12, atol=1e-14)
    assert np.abs(ep.local_attention_score(p, x, rc, 0.7) - s).max() > 1e-3
    assert ep.local_attention_score(p, x[:1], rc).shape == (1, 2)  # one particle: only j = i
    for bad in (np.zeros((0, 2)), np.zeros(2), np.zeros((2, 2), dtype=complex)):
        with pytest.raises(ValueError, match=r"^x must be a real 2-D array \(n >= 1, dim\)"):
            ep.local_attention_score(p, bad, rc)
    with pytest.raises(ValueError, match=r"^params shapes do not match"):
        ep.local_attention_score(p, np.zeros((2, 3)), rc)
    for key, bad in (("b1", np.zeros(2)), ("a", np.zeros(4)), ("W2", np.zeros((2, 2))), ("W2", np.zeros((3, 3)))):
        with pytest.raises(ValueError, match=r"^params shapes do not match"):
            ep.local_attention_score(p | {key: bad}, x, rc)
    for bad in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match=r"^cutoff must be finite and positive"):
            ep.local_attention_score(p, x, bad)
    with pytest.raises(ValueError, match=r"^dim must be a positive int"):
        ep.init_local_attention(0, 2, 0)
    with pytest.raises(ValueError, match=r"^width must be a positive int"):
        ep.init_local_attention(2, 0, 0)


def test_local_attention_weights_are_stable_for_large_logits():
    # seed-5 survivor local_attention_score_135 (softmax shift logits + top): logits of order 1e3 to 1e4
    # overflow exp unless the largest is subtracted; the weights are then still a softmax
    p = ep.init_local_attention(2, 3, 11)
    p = p | {"a": 1e4 * np.abs(p["a"]), "b1": np.abs(p["b1"]) + 1.0}
    x = np.random.default_rng(1).uniform(0, 1.5, (5, 2))
    s = ep.local_attention_score(p, x, 1.0)
    assert np.all(np.isfinite(s))
    want = np.zeros((5, 2))
    for i in range(5):
        r2 = np.sum((x - x[i]) ** 2, axis=1)
        phi = np.where(r2 < 1.0, (1 - r2) ** 2, 0.0)
        H = np.maximum((x - x[i]) @ p["W1"].T + p["b1"], 0.0)
        logits = H @ p["a"]
        top = logits[phi > 0].max()
        w = phi * np.exp(np.where(phi > 0, logits - top, 0.0))
        want[i] = (w / w.sum()) @ (H @ p["W2"].T)
    np.testing.assert_allclose(s, want, rtol=1e-9, atol=1e-12 * np.abs(want).max())


def test_score_values_are_read_as_float64():
    # seed-6 survivor epr_sample_terms_16 (the score's values kept as returned): an object array
    # (exact Fractions) must give the terms of its float64 values
    from fractions import Fraction

    A, D, S = _model(6, 2)
    x = np.random.default_rng(3).standard_normal((4, 2))
    M = -np.linalg.inv(S)
    exact = ep.epr_sample_terms(x, A, D, lambda z: np.array([[Fraction(v) for v in row] for row in z @ M.T],
                                                            dtype=object))
    ref = ep.epr_sample_terms(x, A, D, M)
    for k in ref:
        np.testing.assert_array_equal(exact[k], ref[k])

"""Continuum attention, patching and the TNO (calvello2024): constructions against independent
references over drawn sizes and weights, invariants, validation, extra negative controls."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.integral_operators.continuum_attention import (
    AttentionParams,
    attention_integrands,
    continuum_attention,
    discrete_attention,
    random_attention,
    random_field,
)
from constructions.integral_operators.neural_operator import random_tno, tno_apply
from constructions.integral_operators.patching import patch_attention, patch_points, patch_scores
from numerics import EPS
from numerics.quadrature import gauss_legendre_nodes_weights, midpoint_nodes_weights, tensor_rule


def _loop_attention(uq, us, p: AttentionParams, w):
    """sum_j q_j exp(s <Q u_i, K u_j>) V u_j / sum_j q_j exp(...), one query at a time in plain loops."""
    out = np.zeros((uq.shape[0], p.d_v))
    for i in range(uq.shape[0]):
        logits = [p.scale * float(np.dot(p.Q @ uq[i], p.K @ us[j])) for j in range(us.shape[0])]
        m = max(logits)
        den = 0.0
        for j in range(us.shape[0]):
            e = w[j] * np.exp(logits[j] - m)
            den += e
            out[i] += e * (p.V @ us[j])
        out[i] /= den
    return out


@given(n=st.integers(1, 40), m=st.integers(1, 4), du=st.integers(1, 4), dk=st.integers(1, 3), dv=st.integers(1, 3),
       gain=st.floats(0.1, 4.0), seed=st.integers(0, 10_000), chunk=st.one_of(st.none(), st.integers(1, 50)))
def test_discrete_attention_matches_loops(n, m, du, dk, dv, gain, seed, chunk):
    g = np.random.default_rng(seed)
    p = random_attention(du, dk, dv, seed, gain=gain)
    uq, us = g.standard_normal((m, du)), g.standard_normal((n, du))
    w = g.uniform(0.05, 2.0, n)
    got = discrete_attention(uq, us, p, w, chunk=chunk)
    ref = _loop_attention(uq, us, p, w)
    assert got.dtype == np.float64 and got.shape == (m, dv)
    np.testing.assert_allclose(got, ref, rtol=0, atol=64 * EPS * n * (1 + np.max(np.abs(ref))) * (1 + gain**2))


@given(n=st.integers(2, 60), lam=st.floats(1e-6, 1e6), seed=st.integers(0, 10_000))
def test_invariants_drawn(n, lam, seed):
    g = np.random.default_rng(seed)
    p = random_attention(3, 2, 2, seed, gain=2.0)
    uq, us = g.standard_normal((3, 3)), g.standard_normal((n, 3))
    w = g.uniform(0.01, 1.0, n)
    out = discrete_attention(uq, us, p, w)
    tol = 16 * EPS * n * (1 + np.max(np.abs(us @ p.V.T)))
    perm = g.permutation(n)
    np.testing.assert_allclose(discrete_attention(uq, us[perm], p, w[perm]), out, rtol=0, atol=tol)
    np.testing.assert_allclose(discrete_attention(uq, us, p, lam * w), out, rtol=0, atol=tol)
    vals = us @ p.V.T
    assert np.all(out <= vals.max(axis=0) + tol) and np.all(out >= vals.min(axis=0) - tol)
    p0 = AttentionParams(np.zeros_like(p.Q), p.K, p.V, p.scale)
    np.testing.assert_allclose(discrete_attention(uq, us, p0, w), np.tile(w @ vals / w.sum(), (3, 1)), rtol=0, atol=tol)


def test_continuum_attention_against_quad_1d():
    from theorems.integral_operators.calvello2024 import _quad_reference

    field, p = random_field(3, 1, 7), random_attention(3, 2, 2, 8, gain=2.0)
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, 48)
    xq = np.array([[0.2], [0.7]])
    got = continuum_attention(field, xq, p, x[:, None], w)
    for i in range(2):
        np.testing.assert_allclose(got[i], _quad_reference(field, p, xq[i], 1), rtol=1e-13)


def test_importance_weights_repair_sampling_from_rho():
    """The negative control of mc_rate samples from rho = Beta(2,1)^2 without weights and converges to
    the wrong limit; with importance weights mu/rho = 1/(4 y1 y2) it converges to A(u)(x)."""
    field, p = random_field(3, 2, 1), random_attention(3, 2, 2, 2, gain=2.0)
    nodes, weights = tensor_rule(*gauss_legendre_nodes_weights(0.0, 1.0, 48), 2)
    xq = np.array([[0.3, 0.7]])
    limit = continuum_attention(field, xq, p, nodes, weights)
    g = np.random.default_rng(3)
    y = g.beta(2.0, 1.0, size=(400_000, 2))
    plain = discrete_attention(field(xq), field(y), p)
    fixed = discrete_attention(field(xq), field(y), p, 1.0 / (4.0 * y[:, 0] * y[:, 1]))
    assert np.max(np.abs(fixed - limit)) < 0.05  # ~ 5 sigma / sqrt(N) with sigma of order 3-10
    assert np.max(np.abs(plain - limit)) > 10 * np.max(np.abs(fixed - limit))


@given(P=st.integers(1, 3), m=st.integers(1, 5), seed=st.integers(0, 1000))
def test_patch_scores_match_loops(P, m, seed):
    field, p = random_field(3, 2, seed), random_attention(3, 2, 2, seed + 1)
    s = patch_scores(field, P, p, m=m)
    c = (np.arange(m) + 0.5) / m
    ref = np.zeros((P * P, P * P))
    for a in range(P * P):
        for b in range(P * P):
            tot = 0.0
            for z1 in c:
                for z2 in c:
                    xa = np.array([[(a // P + z1) / P, (a % P + z2) / P]])
                    xb = np.array([[(b // P + z1) / P, (b % P + z2) / P]])
                    tot += float((p.Q @ field(xa)[0]) @ (p.K @ field(xb)[0])) / m**2
            ref[a, b] = p.scale * tot
    np.testing.assert_allclose(s, ref, rtol=0, atol=64 * EPS * m * m * (1 + np.max(np.abs(ref))))
    out = patch_attention(field, P, p, np.array([[0.5, 0.5]]), scores=s)
    assert out.shape == (P * P, 1, 2) and out.dtype == np.float64


def test_dropping_cell_area_collapses_attention():
    field, p = random_field(3, 2, 1), random_attention(3, 2, 2, 2, gain=2.0)
    top = []
    for m in (4, 64):
        s = patch_scores(field, 4, p, m=m, cell_area=False)
        a = np.exp(s - s.max(axis=1, keepdims=True))
        top.append(np.mean(np.max(a / a.sum(axis=1, keepdims=True), axis=1)))
    assert top[1] > 0.999 and top[1] > top[0]


def test_tno_is_one_function_of_x():
    field, params = random_field(2, 1, 3), random_tno(2, 1, 4, 2, 4, d_out=2)
    xq = np.linspace(0.0, 1.0, 5)[:, None]
    x, w = midpoint_nodes_weights(0.0, 1.0, 256)
    a = tno_apply(params, field, xq, x[:, None], w)
    # the nodes' own outputs coincide with querying the same points
    b = tno_apply(params, field, x[:7, None], x[:, None], w)
    c = tno_apply(params, field, x[:, None], x[:, None], w)[:7]
    assert a.dtype == np.float64 and a.shape == (5, 2)
    np.testing.assert_allclose(b, c, rtol=0, atol=1e-13)


def test_input_validation():
    p = random_attention(3, 2, 2, 0)
    g = np.random.default_rng(0)
    uq, us = g.standard_normal((2, 3)), g.standard_normal((5, 3))
    with pytest.raises(ValueError, match="shape"):
        discrete_attention(uq[:, :2], us, p)
    bad = us.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        discrete_attention(uq, bad, p)
    with pytest.raises(ValueError, match="non-negative"):
        discrete_attention(uq, us, p, -np.ones(5))
    with pytest.raises(ValueError, match="shape"):
        discrete_attention(uq, us, p, np.ones(4))
    with pytest.raises(ValueError, match="at least one"):
        discrete_attention(uq, us[:0], p)
    with pytest.raises(TypeError):
        discrete_attention(np.array([["a", "b", "c"]]), us, p)
    with pytest.raises(ValueError, match="chunk"):
        discrete_attention(uq, us, p, chunk=0)
    with pytest.raises(ValueError):
        AttentionParams(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError):
        random_attention(0, 2, 2, 0)
    with pytest.raises(ValueError):
        patch_points(0, np.zeros((1, 2)))
    with pytest.raises(ValueError):
        patch_scores(random_field(3, 2, 0), 2, p)
    field = random_field(3, 1, 0)
    with pytest.raises(ValueError):
        field.derivative(np.zeros((1, 1)), -1)
    w, v = attention_integrands(field, np.array([[0.5]]), p, np.array([[0.1], [0.2]]))
    assert w.dtype == np.float64 and v.dtype == np.float64


# --- the quadrature rules added for the grid claims (numerics.quadrature additions) ------------


@given(n=st.integers(1, 30), seed=st.integers(0, 1000))
def test_gauss_legendre_exact_to_degree_2n_minus_1(n, seed):
    g = np.random.default_rng(seed)
    c = g.standard_normal(2 * n)
    poly = np.polynomial.Polynomial(c)
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, n)
    exact = poly.integ()(1.0) - poly.integ()(0.0)
    assert abs(w @ poly(x) - exact) <= 64 * EPS * n * np.sum(np.abs(c))


@given(x=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=40, unique=True), a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_nonuniform_trapezoid_exact_on_affine(x, a, b):
    from numerics.quadrature import nonuniform_trapezoid_weights

    x = np.sort(np.array(x))
    if np.min(np.diff(x)) <= 0:
        return
    w = nonuniform_trapezoid_weights(x)
    exact = a * (x[-1] - x[0]) + 0.5 * b * (x[-1] ** 2 - x[0] ** 2)
    assert abs(w @ (a + b * x) - exact) <= 64 * EPS * x.size * (abs(a) + abs(b) + 1)


def test_rule_shapes_and_validation():
    from numerics.quadrature import (
        closed_equal_nodes_weights,
        nonuniform_trapezoid_weights,
        periodic_nodes_weights,
    )

    x, w = closed_equal_nodes_weights(0.0, 1.0, 4)
    assert x.size == 5 and np.allclose(w, 0.2)
    x, w = periodic_nodes_weights(0.0, 1.0, 4)
    assert x[-1] == 0.75 and np.allclose(w.sum(), 1.0)
    pts, wts = tensor_rule(*gauss_legendre_nodes_weights(0.0, 1.0, 3), 2)
    assert pts.shape == (9, 2) and abs(wts.sum() - 1.0) < 1e-15
    with pytest.raises(ValueError):
        nonuniform_trapezoid_weights(np.array([0.0, 0.5, 0.5]))
    with pytest.raises(ValueError):
        tensor_rule(np.zeros(3), np.zeros(2), 2)
    with pytest.raises(ValueError):
        gauss_legendre_nodes_weights(1.0, 0.0, 3)


def test_one_dimensional_query_arrays_are_m_points_or_rejected():
    """Issue 11, section 4: a 1-D x_query of a 1-D field is M points (it used to become ONE point at
    the sum of the coordinates, A(u)(1.5)); on a 2-D domain a 1-D x_query is ambiguous and raises."""
    field, p = random_field(3, 1, 7), random_attention(3, 2, 2, 8, gain=2.0)
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, 48)
    pts = [0.1, 0.5, 0.9]
    got = continuum_attention(field, pts, p, x, w)
    want = continuum_attention(field, np.array(pts)[:, None], p, x[:, None], w)
    assert got.shape == (3, 2)
    np.testing.assert_array_equal(got, want)
    for i, xi in enumerate(pts):  # each row is A(u) at that point, not at the sum 1.5
        np.testing.assert_allclose(got[i], continuum_attention(field, [[xi]], p, x[:, None], w)[0], rtol=0, atol=16 * EPS * np.abs(got).max())
    wi, vi = attention_integrands(field, pts, p, x)
    assert wi.shape == (3, x.size) and vi.shape == (x.size, 2)

    field2, p2 = random_field(3, 2, 1), random_attention(3, 2, 2, 2)
    nodes, weights = tensor_rule(*gauss_legendre_nodes_weights(0.0, 1.0, 8), 2)
    out = continuum_attention(field2, [[0.1, 0.5], [0.9, 0.3]], p2, nodes, weights)
    assert out.shape == (2, 2)
    with pytest.raises(ValueError, match="x_query must have shape"):
        continuum_attention(field2, [0.1, 0.5], p2, nodes, weights)
    with pytest.raises(ValueError, match="x_query must have shape"):
        continuum_attention(field2, [[0.1, 0.5, 0.9]], p2, nodes, weights)
    with pytest.raises(ValueError, match="nodes must have shape"):
        continuum_attention(field2, [[0.1, 0.5]], p2, nodes[:, :1], weights)


def test_random_attention_defaults_are_pinned():
    """gain = 1 (entries N(0, 1/d_u)) and scale = 1/sqrt(d_k) are the public defaults: reproduce the
    draws from the same generator."""
    import inspect

    from constructions.integral_operators.continuum_attention import random_attention

    params = inspect.signature(random_attention).parameters
    assert params["gain"].default == 1.0 and params["scale"].default is None
    d_u, d_k, d_v, seed = 3, 2, 4, 5
    for gain in (1.0, 2.5):
        kw = {} if gain == 1.0 else {"gain": gain}
        p = random_attention(d_u, d_k, d_v, seed, **kw)
        g = np.random.default_rng(seed)
        sd = gain / np.sqrt(d_u)
        np.testing.assert_array_equal(p.Q, sd * g.standard_normal((d_k, d_u)))
        np.testing.assert_array_equal(p.K, sd * g.standard_normal((d_k, d_u)))
        np.testing.assert_array_equal(p.V, sd * g.standard_normal((d_v, d_u)))
        assert p.scale == 1.0 / np.sqrt(d_k)


def test_random_field_periodic_option_is_one_periodic():
    """periodic=True draws frequencies 2 pi k, k integer with |k| <= max_mode, one row per mode and
    column per coordinate, so u is 1-periodic in every coordinate. Tolerance: cos of an argument
    off by at most 4 eps (|omega|_1 (1 + max|x|) + |phase|) per mode, times sum_m |A_cm|."""
    g = np.random.default_rng(3)
    for dim in (1, 2, 3):
        f = random_field(3, dim, 4, n_modes=6, periodic=True, max_mode=2)
        assert f.frequencies.shape == (6, dim) and f.amplitudes.shape == (3, 6) and f.phases.shape == (6,)
        k = f.frequencies / (2.0 * np.pi)
        np.testing.assert_array_equal(k, np.round(k))
        assert np.abs(k).max() <= 2
        x = g.uniform(0.0, 1.0, (7, dim))
        arg = np.abs(f.frequencies).sum(axis=1) * (1.0 + np.abs(x).max() + 1.0) + np.abs(f.phases)
        tol = 4 * EPS * float((np.abs(f.amplitudes) * arg[None, :]).sum(axis=1).max())
        for i in range(dim):
            np.testing.assert_allclose(f(x + np.eye(dim)[i]), f(x), rtol=0, atol=tol)


def test_attention_params_scale_is_a_float():
    """AttentionParams stores scale as a Python float whatever real scalar it was given."""
    Q = np.eye(2)
    for s in (1, np.float32(0.5), np.int64(2)):
        p = AttentionParams(Q, Q, Q, s)
        assert type(p.scale) is float and p.scale == float(s)


def test_random_attention_sizes_must_be_ints():
    """A bool or float size is rejected, and the message names the size."""
    for bad in (True, 2.0):
        for pos, name in enumerate(("d_u", "d_k", "d_v")):
            sizes = [3, 2, 2]
            sizes[pos] = bad
            with pytest.raises(ValueError, match=f"{name} must be a positive int"):
                random_attention(*sizes, 0)


def test_points_of_any_real_dtype_and_plain_callable_fields():
    """Integer and float32 points are read as float64 points (bool and complex are rejected), and a
    plain callable field (no ``dim`` attribute) is accepted: all give the float64 SmoothField result."""
    field, p = random_field(3, 1, 7), random_attention(3, 2, 2, 8, gain=2.0)
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, 24)
    ref = continuum_attention(field, np.array([[0.0], [1.0]]), p, x[:, None], w)
    np.testing.assert_array_equal(continuum_attention(field, np.array([[0], [1]]), p, x[:, None], w), ref)
    xq32 = np.array([[0.25], [0.5]], dtype=np.float32)
    np.testing.assert_array_equal(continuum_attention(field, xq32, p, x[:, None], w),
                                  continuum_attention(field, xq32.astype(np.float64), p, x[:, None], w))
    plain = lambda pts: field(pts)  # noqa: E731
    np.testing.assert_array_equal(continuum_attention(plain, np.array([[0.0], [1.0]]), p, x[:, None], w), ref)
    wi, vi = attention_integrands(plain, np.array([[0.0], [1.0]]), p, x[:, None])
    assert wi.shape == (2, x.size) and vi.shape == (x.size, 2)
    for bad in (np.array([[True], [False]]), np.array([[0.5 + 0j]])):
        with pytest.raises(TypeError, match="real array"):
            continuum_attention(field, bad, p, x[:, None], w)


def _loop_patch_attention(field, P, p, z_eval, s):
    """(A u)_p(z) = sum_q softmax_q(s_p.) V u_q(z), one patch and one point at a time."""
    out = np.zeros((P * P, z_eval.shape[0], p.d_v))
    for a in range(P * P):
        w = np.exp(s[a] - s[a].max())
        w = w / w.sum()
        for k, z in enumerate(z_eval):
            for b in range(P * P):
                xb = np.array([[(b // P + z[0]) / P, (b % P + z[1]) / P]])
                out[a, k] += w[b] * (p.V @ field(xb)[0])
    return out


def test_patch_attention_matches_loops():
    """patch_attention against a plain-loop softmax over patches, for float64 and float32 scores
    (the softmax is taken in float64 either way: same result as the float64 copy of the scores)."""
    field, p = random_field(3, 2, 4), random_attention(3, 2, 2, 5, gain=2.0)
    z_eval = np.array([[0.5, 0.5], [0.1, 0.8], [0.9, 0.2]])
    for P in (1, 2, 3):
        s = patch_scores(field, P, p, m=3)
        ref = _loop_patch_attention(field, P, p, z_eval, s)
        got = patch_attention(field, P, p, z_eval, scores=s)
        np.testing.assert_allclose(got, ref, rtol=0, atol=16 * EPS * P * P * (1 + np.max(np.abs(ref))))
        s32 = s.astype(np.float32)
        np.testing.assert_array_equal(patch_attention(field, P, p, z_eval, scores=s32),
                                      patch_attention(field, P, p, z_eval, scores=s32.astype(np.float64)))


def test_patch_scores_laplacian_matches_autodiff():
    """The midpoint error constant s int Lap_z <Q u_p(z), K u_q(z)> dz (analytic field derivatives,
    d/dz = (1/P) d/dx) against jax.hessian of the integrand on the same rule. Tolerance: c = 16
    times eps, the 2 x 3 product terms and the rule's 16 nodes, relative to 1 + max|reference|
    (measured: 2.0 eps at P = 1, 1.3 eps at P = 2, against 1536 eps allowed)."""
    import jax
    import jax.numpy as jnp

    from constructions.integral_operators.patching import patch_scores_laplacian

    field, p = random_field(3, 2, 6), random_attention(3, 2, 2, 7, gain=2.0)
    nodes, weights = tensor_rule(*gauss_legendre_nodes_weights(0.0, 1.0, 4), 2)
    for P in (1, 2):
        offsets = jnp.asarray(patch_points(P, np.zeros((1, 2)))[:, 0, :] * P)

        def g(z, offsets=offsets, P=P):
            u = field((offsets + z[None, :]) / P, xp=jnp)
            return p.scale * (u @ jnp.asarray(p.Q).T) @ (u @ jnp.asarray(p.K).T).T

        hess = np.asarray(jax.jit(jax.vmap(jax.hessian(g)))(jnp.asarray(nodes)))  # (n, T, T, 2, 2)
        ref = np.einsum("npq,n->pq", hess[..., 0, 0] + hess[..., 1, 1], weights)
        got = patch_scores_laplacian(field, P, p, nodes, weights)
        assert got.shape == (P * P, P * P)
        np.testing.assert_allclose(got, ref, rtol=0, atol=16 * EPS * 6 * nodes.shape[0] * (1 + np.max(np.abs(ref))))


def test_random_field_default_distribution_is_pinned():
    """random_field's non-periodic draws are part of the public contract (every study's fields):
    frequencies U(0.5, 3) with a random sign, then amplitudes N(0, 1) and phases U(0, 2 pi), from
    the one generator in that order: reproduce them."""
    import inspect

    params = inspect.signature(random_field).parameters
    assert params["n_modes"].default == 3 and params["periodic"].default is False and params["max_mode"].default == 2
    for d_u, dim, seed in ((3, 1, 7), (2, 2, 11)):
        f = random_field(d_u, dim, seed)
        g = np.random.default_rng(seed)
        freqs = g.uniform(0.5, 3.0, size=(3, dim)) * g.choice([-1.0, 1.0], size=(3, dim))
        np.testing.assert_array_equal(f.frequencies, freqs)
        np.testing.assert_array_equal(f.amplitudes, g.standard_normal((d_u, 3)))
        np.testing.assert_array_equal(f.phases, g.uniform(0.0, 2.0 * np.pi, size=3))


def test_integer_values_and_object_weights_are_read_as_float64():
    """discrete_attention takes integer token values as float64 values; tno_apply takes any real
    array-like of weights (an object array of Python floats too) and names its weight check."""
    p = random_attention(3, 2, 2, 1)
    g = np.random.default_rng(2)
    uq, us = g.integers(-3, 4, size=(2, 3)), g.integers(-3, 4, size=(5, 3))
    np.testing.assert_array_equal(discrete_attention(uq, us, p), discrete_attention(uq.astype(float), us.astype(float), p))
    field, params = random_field(2, 1, 3), random_tno(2, 1, 4, 1, 4)
    x, w = midpoint_nodes_weights(0.0, 1.0, 16)
    xq = np.array([[0.3], [0.7]])
    ref = tno_apply(params, field, xq, x[:, None], w)
    np.testing.assert_array_equal(tno_apply(params, field, xq, x[:, None], np.array(w.tolist(), dtype=object)), ref)
    with pytest.raises(ValueError, match="^weights must be finite, non-negative, one per node"):
        tno_apply(params, field, xq, x[:, None], -w)


def test_mc_acceptances_state_a_computed_power_that_the_old_designs_lacked():
    """Both Monte Carlo constants are z-tested with size 1e-3 and a power >= 0.999 that is computed
    from the run against a named alternative (sigma 20% high; b 25% high), which the same samples
    reject; the old sigma design (200 seeds, the '3.29 s.e.' acceptance without a power statement)
    had power below 0.999 against the same alternative, with the same sd."""
    from numerics.mc_tests import z_power
    from theorems.integral_operators import calvello2024 as cal

    rate = cal.study_mc_rate("fast", 0)
    ev = rate.evidence
    assert rate.holds and ev["power"] >= cal.MC_POWER and abs(ev["alternative_z"]) > ev["threshold"]
    sigma = ev["predicted_sigma"]
    effect = ((1 + cal.SIGMA_ALT) * sigma) ** 2 - sigma**2
    assert ev["effect"] == pytest.approx(effect, rel=1e-12)
    sd = ev["sample_sd"]
    assert z_power(effect, sd, 200) < cal.MC_POWER <= z_power(effect, sd, ev["n_seeds"]) == pytest.approx(ev["power"])

    bias = cal.study_mc_bias("fast", 0)
    eb = bias.evidence
    assert bias.holds and eb["power"] >= cal.MC_POWER
    n_top = eb["levels"][-1]
    sd_batch = n_top * eb["bias_se"][-1] * np.sqrt(eb["n_batches"])
    effect_b = cal.BIAS_ALT * eb["predicted_b"] - 4.0 / n_top * eb["alternative_b"]
    assert z_power(effect_b, sd_batch, eb["n_batches"]) == pytest.approx(eb["power"]) and eb["power"] >= cal.MC_POWER
    assert not cal.study_mc_bias("fast", 0, bias_scale=1.0 + cal.BIAS_ALT).holds


def test_grid_periodic_false_failures_are_the_stated_kinds():
    """The stated false-failure probability of calvello2024.grid_periodic (3 of seeds 0-999, fast)
    names two mechanisms; pin them at their seeds, so that a change of the study that fails for
    another reason cannot hide behind the statement: (a) seeds 190 and 770 reach the float64 floor
    within 4 levels; (b) seed 337 (the slow test below) is pre-asymptotic on the fast ladder."""
    import theorems

    claim = theorems.get("calvello2024.grid_periodic")
    for seed in (190, 770):
        v = claim.study("fast", seed)
        errs = np.asarray(v.evidence["errors"])
        assert not v.holds and np.sum(errs > 1e3 * EPS) <= 4
    assert "0.3 %" in claim.expected


@pytest.mark.slow
def test_grid_periodic_pre_asymptotic_fast_failure_holds_on_the_full_ladder():
    """Mechanism (b) of the stated false-failure probability: seed 337 is still far from the floor
    at the fast ladder's end (N = 64) and holds on the full ladder (N to 96)."""
    import theorems

    claim = theorems.get("calvello2024.grid_periodic")
    v = claim.study("fast", 337)
    assert not v.holds and np.asarray(v.evidence["errors"])[-1] > 1e-5
    assert claim.study("full", 337).holds

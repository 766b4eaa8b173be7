"""constructions.sequence.polycom against independent references (numpy.polynomial, scipy BSpline, loops),
input validation and float64 outputs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.polynomial import Polynomial
from numpy.polynomial import chebyshev as cheb
from scipy.interpolate import BSpline

from constructions.sequence.polycom import (
    PolyReLULayer,
    bspline_relu3_layer,
    compose_layers,
    polynomial_layer,
    polynorm,
    polyrelu,
    polyrelu_layer,
    relu_interpolant_layer,
    relu_power,
    shifted_polynomial_layer,
)
from numerics.tolerance import assert_close

coefficient_lists = st.lists(st.floats(-100.0, 100.0, allow_subnormal=False), min_size=1, max_size=9)


@given(x=st.lists(st.floats(-1e50, 1e50), min_size=1, max_size=30), r=st.integers(1, 6))
def test_relu_power_identity_is_exact(x, r):
    x = np.array(x)
    got = relu_power(x, r) + (-1.0) ** r * relu_power(-x, r)
    np.testing.assert_array_equal(got, np.abs(x) ** r * np.sign(x) ** r)


def _cond(c, x, shift=0.0):
    powers = (np.abs(x)[None, :] + shift) ** np.arange(len(c))[:, None]
    return np.max(np.abs(c) @ powers) / max(np.max(np.abs(Polynomial(c)(x))), 1e-300)


@given(c=coefficient_lists, R=st.floats(0.1, 10.0))
def test_width2_layer_equals_the_polynomial(c, R):
    x = np.linspace(-R, R, 257)
    layer = polynomial_layer(c)
    assert layer.width == 2 and not layer.shared
    ref = Polynomial(c)(x)
    got = layer(x)
    assert got.dtype == np.float64
    if np.max(np.abs(ref)) == 0:
        np.testing.assert_array_equal(got, 0.0)
        return
    assert_close(got, ref, size=len(c), cond=_cond(np.array(c), x), c=4.0, what="width-2 layer")


@given(c=coefficient_lists, lo=st.floats(-3.0, 3.0), R=st.floats(0.1, 5.0))
def test_shared_width1_layer_equals_the_polynomial_on_a_half_line(c, lo, R):
    x = np.linspace(lo, lo + R, 257)
    layer = shifted_polynomial_layer(c, lo)
    assert layer.width == 1 and layer.shared
    ref = Polynomial(c)(x)
    if np.max(np.abs(ref)) == 0:
        return
    assert_close(layer(x), ref, size=len(c), cond=_cond(np.array(c), x, 2 * abs(lo)), c=4.0, what="shifted layer")


def test_shared_width1_layer_fails_left_of_its_half_line():
    layer = shifted_polynomial_layer([0.0, 0.0, 1.0], 0.0)  # x^2 on [0, inf)
    assert layer(np.array([-1.0]))[0] == 0.0  # ReLU clips: not x^2 there


@given(m=st.integers(1, 6), n=st.integers(1, 6))
def test_chebyshev_composition(m, n):
    tn, tm = cheb.cheb2poly([0] * n + [1]), cheb.cheb2poly([0] * m + [1])
    net = compose_layers([polynomial_layer(tn), polynomial_layer(tm)])
    x = np.linspace(-1, 1, 501)
    cond = m * m * np.abs(tn).sum() + np.abs(tm).sum() + m * n
    assert_close(net(x), cheb.chebval(x, [0] * (m * n) + [1]), size=max(m, n) + 1, cond=cond, c=4.0)
    np.testing.assert_allclose(net(x), np.cos(m * n * np.arccos(x)), atol=1e-11)


@given(a=st.lists(st.floats(-5, 5), min_size=1, max_size=5), x=st.lists(st.floats(-3, 3), min_size=1, max_size=20))
def test_polyrelu_matches_a_loop(a, x):
    x = np.array(x)
    ref = np.array([sum(ai * max(xi, 0.0) ** i for i, ai in enumerate(a)) for xi in x])
    np.testing.assert_allclose(polyrelu(x, a), ref, rtol=1e-13, atol=1e-13 * (1 + np.abs(ref).max()))


@given(M=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_bspline_layer_is_the_quasi_interpolant(M, seed):
    coef = np.random.default_rng(seed).standard_normal(4)
    f = Polynomial(coef)
    layer, t, lam = bspline_relu3_layer(f, M)
    assert layer.width == M + 7 and layer.n_params == 3 * (M + 7) + 5
    x = np.linspace(-1, 1, 301)
    spline = BSpline(t, lam, 3)(x)
    terms = np.abs(layer.v)[None, :] * np.maximum(x[:, None] + layer.b[None, :], 0.0) ** 3
    assert_close(layer(x), spline, size=layer.width, cond=terms.sum(1).max() / np.abs(spline).max(), c=4.0)
    # the quasi-interpolant reproduces cubics: error at round-off level (B-spline evaluation)
    np.testing.assert_allclose(spline, f(x), rtol=0, atol=1e-12 * np.abs(f(x)).max())


@given(M=st.integers(1, 50))
def test_relu_interpolant_layer_is_the_piecewise_linear_interpolant(M):
    layer = relu_interpolant_layer(np.exp, M)
    x = np.linspace(-1, 1, 401)
    knots = np.linspace(-1, 1, M + 1)
    np.testing.assert_allclose(layer(x), np.interp(x, knots, np.exp(knots)), rtol=1e-13)


def _polynorm_loop(x, a, bias, norm):
    d = x.shape[-1]
    out = np.full(x.shape, bias)
    for i, ai in enumerate(a, start=1):
        p = x**i
        n2 = np.sqrt(np.sum(p * p, axis=-1, keepdims=True) / (d if norm == "rms" else 1))
        out = out + ai * p / n2
    return out


@given(d=st.integers(1, 64), lam=st.floats(1e-3, 1e3), seed=st.integers(0, 2**31 - 1))
def test_polynorm_is_scale_invariant_and_rms_is_sqrt_d_times_l2(d, lam, seed):
    g = np.random.default_rng(seed)
    x = g.standard_normal((3, d))
    a = g.standard_normal(3)
    base = polynorm(x, a, 0.5)
    assert base.dtype == np.float64
    np.testing.assert_allclose(polynorm(lam * x, a, 0.5), base, rtol=1e-12, atol=1e-12 * np.abs(base).max())
    np.testing.assert_allclose(base, _polynorm_loop(x, a, 0.5, "l2"), rtol=1e-12, atol=1e-12 * np.abs(base).max())
    rms = polynorm(x, a, 0.0, norm="rms")
    np.testing.assert_allclose(rms, np.sqrt(d) * polynorm(x, a, 0.0), rtol=1e-12, atol=1e-12 * np.abs(rms).max())


def test_code_regulariser_breaks_scale_invariance_at_small_scale():
    x = np.random.default_rng(1).standard_normal((2, 16))
    a = np.ones(3) / 3
    big = polynorm(x, a, norm="rms", eps=1e-6)
    small = polynorm(1e-3 * x, a, norm="rms", eps=1e-6)
    assert np.abs(big - small).max() > 0.1


def test_validation():
    with pytest.raises(ValueError, match="power r"):
        relu_power([1.0], -1)
    with pytest.raises(TypeError, match="power r"):
        relu_power([1.0], 2.0)
    with pytest.raises(ValueError, match="finite"):
        relu_power([np.nan], 2)
    with pytest.raises(TypeError, match="numeric"):
        polyrelu(["a"], [1.0])
    with pytest.raises(ValueError, match="coeffs"):
        polyrelu([1.0], [])
    with pytest.raises(ValueError, match="finite"):
        polynomial_layer([1.0, np.inf])
    with pytest.raises(ValueError, match="lo"):
        shifted_polynomial_layer([1.0], np.nan)
    with pytest.raises(TypeError, match="PolyReLULayer"):
        compose_layers([])
    with pytest.raises(ValueError, match="positive int"):
        bspline_relu3_layer(np.exp, 0)
    with pytest.raises(ValueError, match="interval"):
        relu_interpolant_layer(np.exp, 4, lo=1.0, hi=-1.0)
    with pytest.raises(ValueError, match="norm"):
        polynorm(np.ones((2, 3)), [1.0], norm="l1")
    with pytest.raises(ValueError, match="eps"):
        polynorm(np.ones((2, 3)), [1.0], eps=-1.0)
    with pytest.raises(ValueError, match="all-zero"):
        polynorm(np.zeros((1, 3)), [1.0])
    with pytest.raises(ValueError, match="finite"):
        polynorm(np.array([[1.0, np.nan]]), [1.0])
    with pytest.raises(TypeError, match="PolyReLULayer"):
        polyrelu_layer(np.ones(3), "not a layer")
    layer = polynomial_layer([1.0, 2.0])
    assert isinstance(layer, PolyReLULayer) and layer.n_params == 3 * 2 + 1 + 4


def test_coefficient_vectors_must_be_one_dimensional():
    from constructions.sequence.polycom import compose_layers, polynomial_layer, polyrelu

    with pytest.raises(ValueError, match=r"^coeffs must have ndim"):
        polyrelu(np.ones(3), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"^poly_coeffs must have ndim"):
        polynomial_layer(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^x must be finite"):
        compose_layers([polynomial_layer([0.0, 1.0])])(np.array([np.nan]))


def test_bspline_default_interval_and_error_names():
    from constructions.sequence.polycom import shifted_polynomial_layer

    M = 4
    _, t, lam = bspline_relu3_layer(np.cos, M)  # default [lo, hi] = [-1, 1]: h = 1/2
    np.testing.assert_allclose(t, -1.0 + (np.arange(M + 7) - 3) * 0.5, rtol=0, atol=1e-15)
    assert lam.size == M + 3
    with pytest.raises(ValueError, match=r"^number of intervals M must be a positive int"):
        bspline_relu3_layer(np.cos, 0)
    with pytest.raises(ValueError, match=r"^lo = 1e\+200 is too large for these poly_coeffs"):
        shifted_polynomial_layer([1.0, 1e300], 1e200)  # the Taylor coefficient c_1 lo overflows

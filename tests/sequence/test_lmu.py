"""constructions.sequence.lmu against independent references (scipy, closed forms, plain loops), input
validation and float64 outputs. The FFT-convolution form is LMUFormer's (liu2024)."""

import numpy as np
import pytest
import scipy.signal
import scipy.special
from hypothesis import given
from hypothesis import strategies as st

from constructions.sequence.lmu import (
    decode_window,
    impulse_response,
    legendre_readout,
    lmu_convolution,
    lmu_matrices,
    lmu_recurrence,
    shifted_legendre,
    zoh_discretise,
)
from numerics import EPS
from numerics.tolerance import assert_close

orders = st.integers(1, 24)
thetas = st.floats(0.05, 20.0)
dt_fractions = st.floats(1e-3, 0.5)


@given(d=orders, theta=thetas)
def test_matrices_match_the_papers_entries(d, theta):
    A, B = lmu_matrices(d, theta)
    assert A.dtype == np.float64 and B.dtype == np.float64 and A.shape == (d, d) and B.shape == (d,)
    for i in range(d):
        assert B[i] == (2 * i + 1) * (-1) ** i / theta
        for j in range(d):
            sign = -1 if i < j else (-1) ** (i - j + 1)
            assert A[i, j] == (2 * i + 1) * sign / theta


@given(d=st.integers(1, 40), r=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_shifted_legendre_matches_scipy(d, r):
    r = np.array(r)
    P = shifted_legendre(d, r)
    ref = np.stack([scipy.special.eval_sh_legendre(i, r) for i in range(d)], axis=1)
    # the recurrence accumulates ~i roundings of size eps * |P| <= eps per degree (size = d); the
    # rounding of x = 2r - 1 (by either side) is amplified by |P_i'| <= i(i + 1)/2 on [-1, 1]
    assert_close(P, ref, size=d, cond=1.0 + d * (d - 1) / 2, c=2.0, what="shifted Legendre")
    assert P.dtype == np.float64


def test_readout_at_full_delay_is_all_ones_and_alternates_at_zero():
    assert np.array_equal(legendre_readout(7, 1.0), np.ones(7))
    assert np.array_equal(legendre_readout(7, 0.0), (-1.0) ** np.arange(7))


@given(d=st.integers(1, 16), theta=st.floats(0.1, 5.0), frac=dt_fractions)
def test_zoh_matches_cont2discrete(d, theta, frac):
    A, B = lmu_matrices(d, theta)
    dt = frac * theta
    Abar, Bbar = zoh_discretise(A, B, dt)
    Ar, Br, *_ = scipy.signal.cont2discrete((A, B[:, None], np.ones((1, d)), np.zeros((1, 1))), dt, method="zoh")
    assert Abar.dtype == np.float64 and Bbar.dtype == np.float64
    cond = max(1.0, np.linalg.norm(np.hstack([A, B[:, None]]) * dt, 1))
    assert_close(Abar, Ar, size=d, cond=cond, c=4.0, what="Abar")
    assert_close(Bbar, Br[:, 0], size=d, cond=cond, c=4.0, what="Bbar")


@pytest.mark.parametrize("dt", [1e-10, 1e-8, 1e-6, 1e-3])
@pytest.mark.parametrize("d", [1, 4, 8])
def test_zoh_is_accurate_for_small_steps(d, dt):
    """Issue 11, section 4: A^{-1}(e^{A dt} - I) B lost eps/||A dt|| (1e-9 relative at dt = 1e-8,
    8e-8 at 1e-10); the augmented exponential is within a few eps of a 40-digit reference and of
    scipy.signal.cont2discrete at every step."""
    from theorems.sequence.voelker2019 import zoh_reference

    A, B = lmu_matrices(d, 1.0)
    Abar, Bbar = zoh_discretise(A, B, dt)
    Ar, Br = zoh_reference(A, B, dt)
    _, Bc, *_ = scipy.signal.cont2discrete((A, B[:, None], np.ones((1, d)), np.zeros((1, 1))), dt, method="zoh")
    assert_close(Abar, Ar, size=d, c=4.0, what="Abar")
    assert_close(Bbar, Br, size=d, c=4.0, what="Bbar vs 40 digits")
    assert_close(Bbar, Bc[:, 0], size=d, c=4.0, what="Bbar vs cont2discrete")


def test_zoh_of_a_singular_system_is_the_integral_of_exp():
    """The augmented exponential needs no invertible A: A = 0 gives Abar = I, Bbar = dt B exactly;
    a nilpotent A = [[0, 1], [0, 0]] gives Bbar = (dt b1 + dt^2/2 b2, dt b2)."""
    B = np.array([1.0, -2.0, 0.5])
    Abar, Bbar = zoh_discretise(np.zeros((3, 3)), B, 0.1)
    np.testing.assert_array_equal(Abar, np.eye(3))
    np.testing.assert_allclose(Bbar, 0.1 * B, rtol=4 * EPS)
    Abar, Bbar = zoh_discretise(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([1.0, 2.0]), 0.5)
    np.testing.assert_allclose(Abar, [[1.0, 0.5], [0.0, 1.0]], rtol=4 * EPS)
    np.testing.assert_allclose(Bbar, [0.5 + 0.25, 1.0], rtol=4 * EPS)
    Abar, Bbar = zoh_discretise(np.zeros((2, 2)), np.ones((2, 3)), 0.25)
    assert Bbar.shape == (2, 3)


@given(d=st.integers(1, 12), T=st.integers(1, 300), frac=dt_fractions, seed=st.integers(0, 2**31 - 1))
def test_fft_convolution_equals_recurrence(d, T, frac, seed):
    A, B = lmu_matrices(d, 1.0)
    Abar, Bbar = zoh_discretise(A, B, frac)
    u = np.random.default_rng(seed).standard_normal(T)
    ref = lmu_recurrence(Abar, Bbar, u)
    got = lmu_convolution(Abar, Bbar, u)
    H = impulse_response(Abar, Bbar, T)
    cond = np.abs(H).max(axis=1).sum() * np.abs(u).max() / max(np.abs(ref).max(), 1e-300)
    assert got.dtype == np.float64 and got.shape == (T, d)
    assert_close(got, ref, size=d + np.log2(2 * T), cond=cond, c=2.0, what="FFT vs recurrence")


def test_circular_convolution_is_wrong():
    A, B = lmu_matrices(4, 1.0)
    Abar, Bbar = zoh_discretise(A, B, 0.05)
    u = np.random.default_rng(0).standard_normal(200)
    err = np.abs(lmu_convolution(Abar, Bbar, u, pad=False) - lmu_recurrence(Abar, Bbar, u)).max()
    assert err > 1e6 * EPS


def test_impulse_response_is_powers_of_abar():
    A, B = lmu_matrices(3, 1.0)
    Abar, Bbar = zoh_discretise(A, B, 0.1)
    H = impulse_response(Abar, Bbar, 5)
    for k in range(5):
        np.testing.assert_allclose(H[k], np.linalg.matrix_power(Abar, k) @ Bbar, rtol=1e-14, atol=1e-15)


def test_recurrence_of_unit_impulse_is_impulse_response():
    A, B = lmu_matrices(5, 2.0)
    Abar, Bbar = zoh_discretise(A, B, 0.1)
    u = np.zeros(30)
    u[0] = 1.0
    np.testing.assert_array_equal(lmu_recurrence(Abar, Bbar, u), impulse_response(Abar, Bbar, 30))


def test_decode_window_shapes_and_dtype():
    m = np.ones((4, 6))
    out = decode_window(m, np.linspace(0, 1, 3))
    assert out.shape == (4, 3) and out.dtype == np.float64
    assert decode_window(np.ones(6), 0.5).shape == (1,)


@pytest.mark.parametrize("d", [0, -3])
def test_order_must_be_positive(d):
    with pytest.raises(ValueError, match="order d"):
        lmu_matrices(d, 1.0)


@pytest.mark.parametrize("d", [2.0, True, "3"])
def test_order_must_be_int(d):
    with pytest.raises(TypeError, match="order d"):
        lmu_matrices(d, 1.0)


@pytest.mark.parametrize("theta", [0.0, -1.0, float("nan"), float("inf")])
def test_theta_must_be_finite_positive(theta):
    with pytest.raises(ValueError, match="theta"):
        lmu_matrices(3, theta)


def test_bad_inputs_are_rejected():
    A, B = lmu_matrices(3, 1.0)
    with pytest.raises(ValueError, match="dt"):
        zoh_discretise(A, B, -0.1)
    with pytest.raises(ValueError, match="square"):
        zoh_discretise(A[:2], B, 0.1)
    with pytest.raises(ValueError, match="rows"):
        zoh_discretise(A, B[:2], 0.1)
    with pytest.raises(ValueError, match="finite"):
        zoh_discretise(A * np.nan, B, 0.1)
    Abar, Bbar = zoh_discretise(A, B, 0.1)
    with pytest.raises(ValueError, match="finite"):
        lmu_recurrence(Abar, Bbar, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="finite"):
        lmu_convolution(Abar, Bbar, np.array([np.inf]))
    with pytest.raises(ValueError, match="length"):
        lmu_convolution(Abar, Bbar[:2], np.ones(4))
    with pytest.raises(TypeError, match="numeric"):
        lmu_recurrence(Abar, Bbar, np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        decode_window(np.ones(3), [1.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        legendre_readout(3, -0.1)
    with pytest.raises(ValueError, match="positive int"):
        impulse_response(Abar, Bbar, 0)


def test_system_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"^Bbar must be finite"):
        lmu_recurrence(np.eye(2), [np.nan, 0.0], [1.0])
    with pytest.raises(ValueError, match=r"^Bbar must have ndim"):
        lmu_recurrence(np.eye(2), np.ones((2, 1)), [1.0])

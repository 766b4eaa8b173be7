"""Tests for constructions.universal.boltzmann and theorems.universal.kajitsuka2024 (Kajitsuka & Sato 2024)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.universal.boltzmann import (
    attention_scalars,
    boltzmann,
    boltzmann_mp,
    hardmax_scalars,
    rank1_attention,
)
from numerics.tolerance import compare


def loop_attention(X, w, beta):
    """Independent reference: per query, explicit weights over keys from the standard formula."""
    a = [float(np.dot(w, X[:, l])) for l in range(X.shape[1])]
    out = []
    for k in range(len(a)):
        s = [beta * a[k] * al for al in a]
        m = max(s)
        e = [np.exp(si - m) for si in s]
        out.append(sum(ei * al for ei, al in zip(e, a)) / sum(e))
    return np.array(out)


@given(d=st.integers(1, 4), n=st.integers(1, 8), seed=st.integers(0, 10_000), logbeta=st.floats(-2, 1))
def test_rank1_attention_is_the_boltzmann_operator(d, n, seed, logbeta):
    g = np.random.default_rng(seed)
    X, w, beta = g.standard_normal((d, n)), g.standard_normal(d), 10**logbeta
    y = rank1_attention(X, w, beta)
    assert y.dtype == np.float64
    ref = loop_attention(X, w, beta)
    a = w @ X
    smax = float(np.max(np.abs(beta * np.outer(a, a))))
    cond = max(1.0, float((np.ptp(a) + np.abs(a).max()) / max(np.abs(ref).max(), 1e-300)))
    cmp = compare(y, ref, size=n + smax + 1, cond=cond, c=8.0)  # both sides carry rounding: c = 8
    assert cmp.ok, cmp.describe()
    cmp2 = compare(attention_scalars(a, beta), ref, size=n + smax + 1, cond=cond, c=8.0)
    assert cmp2.ok, cmp2.describe()


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=6))
def test_boltzmann_limits(a):
    a = np.array(a)
    assert abs(boltzmann(a, 0.0) - a.mean()) <= 1e-12 * max(1, np.abs(a).max()) * len(a)
    assert a.min() - 1e-12 <= boltzmann(a, 2.0) <= a.max() + 1e-12
    assert abs(float(boltzmann_mp(list(a), 1e4, 40)) - a.max()) <= 1e-3 + 1e-12


def test_hardmax_is_exact_and_forgets_the_context():
    X1 = [Fraction(1, 4), Fraction(1), Fraction(1, 2)]
    X2 = [Fraction(1, 4), Fraction(1), Fraction(3, 4)]
    assert hardmax_scalars(X1)[0] == hardmax_scalars(X2)[0] == Fraction(1)
    assert float(abs(boltzmann_mp(X1, Fraction(1, 4)) - boltzmann_mp(X2, Fraction(1, 4)))) > 1e-3


def test_transposed_scores_are_a_different_layer():
    """Extra negative control: normalising over queries is not the Boltzmann operator."""
    g = np.random.default_rng(3)
    X, w = g.standard_normal((2, 4)), g.standard_normal(2)
    assert np.abs(rank1_attention(X, w, 1.0, transpose_scores=True) - loop_attention(X, w, 1.0)).max() > 1e-3


@pytest.mark.parametrize("X, w, exc", [
    (np.ones((2, 3)), np.ones(3), ValueError),
    (np.full((1, 3), np.nan), np.ones(1), ValueError),
    (np.array([["a"]]), np.ones(1), TypeError),
])
def test_validation(X, w, exc):
    with pytest.raises(exc):
        rank1_attention(X, w, 1.0)


def test_attention_scalars_mp_exact_case():
    """y_k = boltz_{beta a_k}(a) in mpmath: on a = (0, 1/2, 1), beta = 2 the queries see the
    temperatures t = 0, 1, 2, so y = (1/2, (e^{1/2}/2 + e)/(1 + e^{1/2} + e),
    (e/2 + e^2)/(1 + e + e^2)); checked to 1e-45 at 50 digits, and against the float64 path."""
    import mpmath

    from constructions.universal.boltzmann import attention_scalars_mp

    a = [Fraction(0), Fraction(1, 2), Fraction(1)]
    y = attention_scalars_mp(a, Fraction(2), dps=50)
    with mpmath.workdps(50):
        e, r = mpmath.e, mpmath.sqrt(mpmath.e)
        want = [mpmath.mpf(1) / 2, (r / 2 + e) / (1 + r + e), (e / 2 + e**2) / (1 + e + e**2)]
        assert len(y) == 3 and all(abs(yi - wi) <= mpmath.mpf(10) ** -45 for yi, wi in zip(y, want))
    np.testing.assert_allclose([float(v) for v in y], attention_scalars(np.array([0.0, 0.5, 1.0]), 2.0),
                               rtol=0, atol=8 * np.finfo(np.float64).eps)


def test_boltzmann_rejects_non_vectors():
    """boltzmann takes a non-empty vector: a (1, 1) matrix and an empty vector are rejected by its
    own check (mutation seed 3: the shape test with `and` let both through)."""
    with pytest.raises(ValueError, match="non-empty vector"):
        boltzmann(np.ones((1, 1)), 1.0)
    with pytest.raises(ValueError, match="non-empty vector"):
        boltzmann(np.ones(0), 1.0)


def test_transposed_scores_normalise_over_queries():
    """The control's definition: P[l, k] = exp(S[l, k]) / sum_k' exp(S[l, k']) with S = beta a a^T
    (keys l, queries k), y_k = sum_l a_l P[l, k]; checked against that explicit loop to 16 eps."""
    g = np.random.default_rng(5)
    X, w, beta = g.standard_normal((2, 5)), g.standard_normal(2), 0.7
    a = w @ X
    ref = []
    for k in range(a.size):
        col = [np.exp(beta * a[l] * a[k]) / sum(np.exp(beta * a[l] * a[m]) for m in range(a.size))
               for l in range(a.size)]
        ref.append(sum(a[l] * col[l] for l in range(a.size)))
    y = rank1_attention(X, w, beta, transpose_scores=True)
    np.testing.assert_allclose(y, ref, rtol=0, atol=16 * np.finfo(np.float64).eps * np.abs(a).max() * a.size)


def test_hardmax_stays_exact_when_the_first_entry_is_a_fraction():
    """A list led by a Fraction is averaged in Fractions: an int entry beyond 2^53 keeps its value
    (a float division would round 2^60 + 1 to 2^60)."""
    big = 2**60 + 1
    out = hardmax_scalars([Fraction(1), big])
    assert out == [Fraction(big), Fraction(big)] and all(isinstance(v, Fraction) for v in out)


# --- mutation campaign seed 5 (branch mutC): defaults, exact values, ties, messages -------------------


def test_boltzmann_exact_values_default_temperature_and_mp_path():
    """boltz_t((0, 1)) = e^t / (1 + e^t); the default t is 1; boltzmann_mp agrees at its default 60
    digits (float entries and a float t, or Fractions), and at dps = 30 to 1e-28."""
    import mpmath

    e = np.e
    assert boltzmann(np.array([0.0, 1.0])) == boltzmann(np.array([0.0, 1.0]), 1.0)
    assert boltzmann(np.array([0.0, 1.0])) == pytest.approx(e / (1 + e), rel=4 * np.finfo(float).eps)
    assert boltzmann(np.array([0.0, 1.0]), -2.0) == pytest.approx(np.exp(-2) / (1 + np.exp(-2)), rel=1e-15)
    assert boltzmann(np.array([2.0, 2.0, 2.0]), 5.0) == 2.0
    assert boltzmann(np.array([3]), 1e300) == 3.0 and isinstance(boltzmann([1, 2], 0.5), float)
    with mpmath.workdps(80):
        want = mpmath.e / (1 + mpmath.e)
        for a, t in (([0.0, 1.0], 1.0), ([Fraction(0), Fraction(1)], Fraction(1)), ([0, 1], 1)):
            v = boltzmann_mp(a, t)
            assert abs(v - want) <= mpmath.mpf(10) ** -58
        want2 = (mpmath.mpf(1) / 2 * mpmath.exp(mpmath.mpf(1) / 4) + 2 * mpmath.exp(1)) / \
            (mpmath.exp(0) + mpmath.exp(mpmath.mpf(1) / 4) + mpmath.exp(1))
        v2 = boltzmann_mp([Fraction(0), Fraction(1, 2), Fraction(2)], Fraction(1, 2))
        assert abs(v2 - want2) <= mpmath.mpf(10) ** -58
        assert abs(boltzmann_mp([0.0, 1.0], 1.0, dps=30) - want) <= mpmath.mpf(10) ** -28
    # large temperatures: the max-shift keeps the mp path finite
    assert abs(float(boltzmann_mp([0, 1, 2], 1e6)) - 2.0) == 0.0


def test_attention_scalars_and_hardmax_ties():
    """attention_scalars is boltzmann at t = beta a_k per query; hardmax averages tied winners (in
    floats for a float/int list, in Fractions when the list starts with one)."""
    a = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(attention_scalars(a, 0.3), [boltzmann(a, 0.3 * x) for x in a])
    assert attention_scalars(a, 0.3).dtype == np.float64
    assert hardmax_scalars([0, 1, 2]) == [1.0, 2.0, 2.0]          # query 0: every score 0, the mean
    assert hardmax_scalars([1.0, -1.0]) == [1.0, -1.0]
    assert hardmax_scalars([-2, 1, 2]) == [-2.0, 2.0, 2.0]
    assert hardmax_scalars([2, -2]) == [2.0, -2.0]
    assert hardmax_scalars([0, 3]) == [1.5, 3.0]
    out = hardmax_scalars([Fraction(0), Fraction(1, 3), Fraction(2, 3)])
    assert out == [Fraction(1, 3), Fraction(2, 3), Fraction(2, 3)] and isinstance(out[0], Fraction)
    assert hardmax_scalars([Fraction(1), Fraction(-1)]) == [Fraction(1), Fraction(-1)]


def test_boltzmann_and_attention_messages():
    with pytest.raises(ValueError, match=r"^a must be a non-empty vector, got shape \(1, 1\)"):
        boltzmann(np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"^a must be finite"):
        boltzmann(np.array([1.0, np.inf]))
    with pytest.raises(TypeError, match=r"^a must be a real numeric array, got dtype complex"):
        attention_scalars(np.array([1j]), 1.0)
    with pytest.raises(TypeError, match=r"^a must be a real numeric array, got dtype bool"):
        boltzmann(np.array([True]))
    with pytest.raises(TypeError, match=r"^X must be a real numeric array, got dtype object"):
        rank1_attention(np.array([[Fraction(1)]], dtype=object), np.ones(1), 1.0)
    with pytest.raises(TypeError, match=r"^w must be a real numeric array"):
        rank1_attention(np.ones((1, 2)), np.array(["a"]), 1.0)
    with pytest.raises(ValueError, match=r"^w must be finite"):
        rank1_attention(np.ones((1, 2)), np.array([np.nan]), 1.0)
    with pytest.raises(ValueError, match=r"^X must be d x n and w of length d, got \(2, 3\) and \(3,\)"):
        rank1_attention(np.ones((2, 3)), np.ones(3), 1.0)
    with pytest.raises(ValueError, match=r"^X must be d x n"):
        rank1_attention(np.ones(3), np.ones(3), 1.0)
    for beta in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"^beta must be finite"):
            rank1_attention(np.ones((1, 2)), np.ones(1), beta)
    y = rank1_attention(np.array([[1, 2]]), np.array([1]), 0)     # ints accepted; beta = 0: the mean
    np.testing.assert_array_equal(y, [1.5, 1.5])
    assert y.shape == (2,) and y.dtype == np.float64

"""numerics.tolerance: derived tolerances and the ratios they report."""

import numpy as np
import pytest

from numerics import EPS
from numerics.tolerance import assert_close, compare, derived_tolerance, relative_error


def test_derived_tolerance_is_the_stated_product():
    assert derived_tolerance(size=10, cond=100, c=2) == pytest.approx(2 * EPS * 10 * 100)


@pytest.mark.parametrize("kw", [dict(size=0), dict(size=1, cond=0.5 - 1), dict(size=1, c=np.nan)])
def test_bad_tolerance_factors(kw):
    with pytest.raises(ValueError):
        derived_tolerance(**kw)


def test_compare_reports_ratio_and_ok():
    ref = np.array([1.0, 2.0, 3.0])
    cmp = compare(ref * (1 + 4 * EPS), ref, size=3, c=2)
    assert cmp.ok and 0 < cmp.ratio <= 1
    bad = compare(ref * (1 + 1e-10), ref, size=3, c=2)
    assert not bad.ok and bad.ratio > 1
    assert "ratio" in bad.describe()


def test_assert_close_message_names_ratio():
    with pytest.raises(AssertionError, match="ratio"):
        assert_close(np.ones(2) * 1.1, np.ones(2), size=2, what="vec")


def test_relative_error_zero_reference_is_absolute():
    assert relative_error(np.array([1e-20]), np.array([0.0])) == pytest.approx(1e-20)


def test_relative_error_validates():
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        relative_error(np.array([np.nan]), np.ones(1))
    with pytest.raises(ValueError, match="norm"):
        relative_error(np.ones(1), np.ones(1), norm="l7")
    with pytest.raises(TypeError):
        relative_error(np.array(["a"]), np.ones(1))


def test_a_matrix_product_meets_its_derived_bound():
    # Higham Thm 3.5: |fl(AB) - AB| <= gamma_n |A||B|; with cond = || |A||B| || / ||AB|| the
    # relative max-norm error is below n * eps * cond (c = 1, u = eps/2 gives a factor 2 slack).
    rng = np.random.default_rng(0)
    for n in (2, 17, 128):
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        exact = (a.astype(np.longdouble) @ b.astype(np.longdouble)).astype(np.float64)
        cond = np.max(np.abs(a) @ np.abs(b)) / np.max(np.abs(exact))
        assert compare(a @ b, exact, size=n, cond=cond, c=1.0).ok


def test_constant_tolerance_is_derived_from_the_next_term():
    from numerics.tolerance import constant_tolerance

    assert constant_tolerance(1e-6) == 2e-6
    assert constant_tolerance(1e-6, roundoff=1e-7, c=3.0) == pytest.approx(3.3e-6)
    for bad in ({"next_term": -1.0}, {"next_term": float("nan")}, {"next_term": 0.0}):
        with pytest.raises(ValueError):
            constant_tolerance(**bad)
    with pytest.raises(ValueError):
        constant_tolerance(1e-6, c=0.0)


def test_default_constants_are_pinned():
    """The public defaults (c = 1 of compare/derived_tolerance) are part of the contract."""
    import inspect

    from numerics.tolerance import assert_close, compare, derived_tolerance

    for f in (compare, derived_tolerance, assert_close):
        assert inspect.signature(f).parameters["c"].default == 1.0
        assert inspect.signature(f).parameters.get("cond").default == 1.0
    assert derived_tolerance(size=3.0) == 3.0 * 2.0**-52
    assert compare(np.array([1.0 + 2.0**-52]), np.array([1.0]), size=1.0).ratio == pytest.approx(1.0)

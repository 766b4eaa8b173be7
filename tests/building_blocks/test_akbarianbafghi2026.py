"""akbarianbafghi2026: the anisotropic kernel against its formula written out, interpolation for
D = 1..3, the per-centre-metric instance, input errors, and the claims' figures."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.building_blocks.rbf import (
    anisotropic_kernel,
    collocation_matrix,
    rbf_interpolate,
)
from numerics.random import orthogonal, rng
from theorems.building_blocks import akbarianbafghi2026 as a
from theorems.registry import get


@settings(max_examples=20)
@given(d=st.integers(1, 3), n=st.integers(1, 6), m=st.integers(0, 5), seed=st.integers(0, 2**31 - 1))
def test_kernel_matches_the_formula_entry_by_entry(d, n, m, seed):
    g = rng(seed)
    x, c = g.standard_normal((m, d)), g.standard_normal((n, d))
    R = np.array([orthogonal(d, g) for _ in range(n)])
    s = g.uniform(0.2, 2.0, (n, d))
    K = anisotropic_kernel(x, c, R, s)
    assert K.shape == (m, n)
    for i in range(m):
        for j in range(n):
            z = np.diag(1.0 / s[j]) @ R[j].T @ (x[i] - c[j])
            assert abs(K[i, j] - np.exp(-0.5 * z @ z)) <= 1e-14


def test_frame_columns_are_the_axes():
    # one centre at 0, frame rotated by 90 degrees: the long axis (scale 2) is the y axis
    R = np.array([[[0.0, -1.0], [1.0, 0.0]]])
    K = anisotropic_kernel(np.array([[0.0, 2.0], [2.0, 0.0]]), np.zeros((1, 2)), R, np.array([[2.0, 1.0]]))
    np.testing.assert_allclose(K[:, 0], [np.exp(-0.5), np.exp(-2.0)], rtol=1e-15)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_interpolation_exact_with_per_centre_frames(d):
    g = rng(d)
    n = 12
    c = g.uniform(-1, 1, (n, d))
    R = np.array([orthogonal(d, g) for _ in range(n)])
    s = g.uniform(0.1, 0.3, (n, d))
    v = g.standard_normal(n)
    interp = rbf_interpolate(c, v, R, s)
    assert interp.solver == ("cholesky" if d == 1 and np.allclose(s, s[0]) else "lu")
    np.testing.assert_allclose(interp(c), v, atol=1e-12 * interp.condition)


def test_shared_metric_uses_cholesky_and_is_symmetric():
    g = rng(0)
    c = g.uniform(-1, 1, (15, 2))
    R = np.repeat(orthogonal(2, g)[None], 15, axis=0)
    s = np.tile([0.3, 0.15], (15, 1))
    interp = rbf_interpolate(c, np.sin(c[:, 0]), R, s)
    assert interp.shared_metric and interp.solver == "cholesky"
    A = collocation_matrix(c, R, s)
    assert np.abs(A - A.T).max() <= 1e-15


def test_explicit_indefinite_and_singular_instance():
    inst = a.singular_instance()
    assert inst["det"] < 0 < inst["det_shared"]
    assert inst["eigenvalues"][0] < 0
    assert inst["cond_singular"] > 1e14


@pytest.mark.parametrize("kwargs,err", [
    (dict(frames=np.ones((3, 1, 1)) * 2), ValueError),          # not orthogonal
    (dict(scales=-np.ones((3, 1))), ValueError),
    (dict(scales=np.ones((3, 2))), ValueError),
    (dict(centres=np.zeros((3, 1))), ValueError),               # repeated centres
    (dict(values=np.ones(2)), ValueError),
    (dict(values=np.array(["a", "b", "c"])), TypeError),
])
def test_bad_input(kwargs, err):
    args = dict(centres=np.array([[0.0], [0.5], [1.0]]), values=np.ones(3), frames=np.ones((3, 1, 1)),
                scales=np.ones((3, 1)))
    args.update(kwargs)
    with pytest.raises(err):
        rbf_interpolate(**args)


def test_query_dimension_checked():
    interp = rbf_interpolate(np.array([[0.0], [1.0]]), np.ones(2), np.ones((2, 1, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError):
        interp(np.zeros((3, 2)))
    assert interp(np.zeros((0, 1))).shape == (0,)


def test_claim_figures():
    for cid in ("akbarianbafghi2026.shared_metric_spd", "akbarianbafghi2026.gaussian_rbf_convergence"):
        claim = get(cid)
        v = claim.check("fast", 2)
        assert v.holds, v.measured
        assert claim.plot(v).axes


# --- issue 11 section 6: values, branches and errors of every public function of rbf ----------------------

def _phi(x, c, R, s):
    z = np.diag(1.0 / s) @ R.T @ (x - c)
    return float(np.exp(-0.5 * z @ z))


def _geometry(n=4, d=2, seed=3):
    g = rng(seed)
    return (g.uniform(-1, 1, (n, d)), np.array([orthogonal(d, g) for _ in range(n)]),
            g.uniform(0.3, 1.0, (n, d)))


def test_collocation_matrix_uses_centre_js_metric_and_the_interpolant_evaluates_off_centres():
    c, R, s = _geometry()
    A = collocation_matrix(c, R, s)
    ref = np.array([[_phi(c[i], c[j], R[j], s[j]) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(A, ref, rtol=0, atol=1e-15)
    assert np.abs(A - A.T).max() > 1e-3  # differing metrics: not symmetric
    v = np.array([1.0, -2.0, 0.5, 3.0])
    f = rbf_interpolate(c, v, R, s)
    assert not f.shared_metric and f.solver == "lu"
    assert f.condition == pytest.approx(np.linalg.cond(ref), rel=1e-10)
    np.testing.assert_allclose(ref @ f.weights, v, rtol=0, atol=1e-13 * f.condition)
    for arr, ref_arr in ((f.centres, c), (f.frames, R), (f.scales, s)):
        np.testing.assert_array_equal(arr, ref_arr)
    x = rng(4).uniform(-1, 1, (5, 2))
    want = [sum(f.weights[j] * _phi(xi, c[j], R[j], s[j]) for j in range(4)) for xi in x]
    np.testing.assert_allclose(f(x), want, rtol=0, atol=1e-14 * np.abs(f.weights).sum())
    np.testing.assert_allclose(anisotropic_kernel(x, c, R, s) @ f.weights, f(x), rtol=0, atol=1e-15 * np.abs(f.weights).sum())


def test_shared_metric_is_read_from_the_metric_not_the_frame():
    g = rng(8)
    c = g.uniform(-1, 1, (6, 2))
    Q = orthogonal(2, g)
    R = np.repeat(Q[None], 6, axis=0)
    R[::2, :, 0] *= -1.0  # a column's sign does not change the metric
    s = np.tile([0.4, 0.7], (6, 1))
    f = rbf_interpolate(c, np.cos(c[:, 1]), R, s)
    assert f.shared_metric and f.solver == "cholesky"
    s2 = s.copy()
    s2[3, 0] *= 1 + 1e-12  # metrics that differ by 2e-12 relative are not shared (rtol 1e-14)
    f2 = rbf_interpolate(c, np.cos(c[:, 1]), R, s2)
    assert not f2.shared_metric and f2.solver == "lu"
    np.testing.assert_allclose(f2(c), np.cos(c[:, 1]), rtol=0, atol=1e-12 * f2.condition)


def test_cholesky_failure_falls_back_to_lu_and_an_exactly_singular_matrix_raises():
    # five centres 1e-3 apart, one shared metric: cond ~ 6e16, Cholesky fails numerically, LU solves
    c = (1e-3 * np.arange(5.0))[:, None]
    f = rbf_interpolate(c, np.arange(5.0), np.ones((5, 1, 1)), np.ones((5, 1)))
    assert f.shared_metric and f.solver == "lu" and np.all(np.isfinite(f.weights))
    # three centres 1e-5 apart: the off-diagonal entries round to 1, A is exactly singular
    c = (1e-5 * np.arange(3.0))[:, None]
    with pytest.raises(np.linalg.LinAlgError, match=r"^collocation matrix is exactly singular"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's LinAlgWarning on the zero pivot
            rbf_interpolate(c, np.ones(3), np.ones((3, 1, 1)), np.ones((3, 1)))


def test_geometry_errors_name_the_argument():
    c, R, s = _geometry(3, 2)
    cases = [
        (dict(centres=c[:, 0]), r"^centres must have ndim in \(2,\)"),
        (dict(centres=c[None]), r"^centres must have ndim in \(2,\)"),
        (dict(centres=np.zeros((0, 2))), r"^centres must be \(N, D\) with N >= 1, D >= 1"),
        (dict(centres=np.zeros((3, 0)), frames=np.zeros((3, 0, 0)), scales=np.zeros((3, 0))),
         r"^centres must be \(N, D\) with N >= 1, D >= 1"),
        (dict(centres=np.where(c > 0, np.nan, c)), r"^centres must be finite"),
        (dict(frames=R[:2]), r"^frames must have shape \(3, 2, 2\)"),
        (dict(scales=s[:, :1]), r"^scales must have shape \(3, 2\)"),
        (dict(scales=np.where(s > 0.5, 0.0, s)), r"^scales must be positive"),
        (dict(frames=2 * R), r"^frames must be orthogonal matrices"),
    ]
    for kw, match in cases:
        args = dict(centres=c, frames=R, scales=s) | kw
        for f in (collocation_matrix, lambda **a: anisotropic_kernel(np.zeros((1, 2)), **a),
                  lambda **a: rbf_interpolate(values=np.ones(3), **a)):
            with pytest.raises(ValueError, match=match):
                f(**args)
    # a tiny positive scale is admissible; the orthogonality tolerance is 1e-8 on |R^T R - I|
    assert collocation_matrix(c, R, np.full((3, 2), 1e-100)).shape == (3, 3)
    one = np.zeros((1, 1))
    assert collocation_matrix(one, np.sqrt(1 + 0.9e-8) * np.ones((1, 1, 1)), np.ones((1, 1)))[0, 0] == 1.0
    with pytest.raises(ValueError, match=r"^frames must be orthogonal"):
        collocation_matrix(one, np.sqrt(1 + 1.2e-8) * np.ones((1, 1, 1)), np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"^x must have ndim in \(2,\)"):
        anisotropic_kernel(np.zeros(2), c, R, s)
    with pytest.raises(ValueError, match=r"^x must have D = 2 columns"):
        anisotropic_kernel(np.zeros((1, 3)), c, R, s)
    with pytest.raises(ValueError, match=r"^values must have shape \(3,\)"):
        rbf_interpolate(c, np.ones(4), R, s)
    with pytest.raises(ValueError, match=r"^centres must be distinct"):
        rbf_interpolate(np.array([c[0], c[1], c[0]]), np.ones(3), R, s)
    f = rbf_interpolate(c, np.ones(3), R, s)
    with pytest.raises(ValueError, match=r"^x must have ndim in \(2,\)"):
        f(np.zeros(2))
    with pytest.raises(ValueError, match=r"^x must have D = 2 columns"):
        f(np.zeros((1, 3)))

"""akbarianbafghi2026: the anisotropic kernel against its formula written out, interpolation for
D = 1..3, the per-centre-metric instance, input errors, and the claims' figures."""

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

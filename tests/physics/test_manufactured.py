"""constructions.physics.manufactured (bischof2025): the manufactured data, the five-point solver
(fast sine-transform solve == sparse direct solve of the assembled matrix), defect correction."""

import numpy as np
import pytest
import scipy.sparse.linalg
import sympy as sp

from constructions.physics import manufactured as mf
from numerics import EPS

x, y = mf.X, mf.Y


def test_manufactured_data_are_exact():
    u = sp.sin(2 * x) * sp.cos(y) + x * y**3
    prob = mf.manufacture(u, (-1.0, -2.0, 0.5, 0.0, 3.0))
    assert prob.residual() == 0
    pts = np.random.default_rng(0).uniform(0, 1, (20, 2))
    ref = (-1.0 * (-4 * np.sin(2 * pts[:, 0]) * np.cos(pts[:, 1]))
           - 2.0 * (-np.sin(2 * pts[:, 0]) * np.cos(pts[:, 1]) + 6 * pts[:, 0] * pts[:, 1])
           + 0.5 * (2 * np.cos(2 * pts[:, 0]) * np.cos(pts[:, 1]) + pts[:, 1] ** 3)
           + 3.0 * (np.sin(2 * pts[:, 0]) * np.cos(pts[:, 1]) + pts[:, 0] * pts[:, 1] ** 3))
    np.testing.assert_allclose(prob.f_fn(pts[:, 0], pts[:, 1]), ref, rtol=1e-13, atol=1e-13)
    assert prob.u_fn(0.5, 0.5).shape == ()
    assert mf.manufacture("x**2 + y").f == -2


@pytest.mark.parametrize("neumann", ["centred", "one_sided"])
@pytest.mark.parametrize("n", [2, 3, 7, 16])
def test_fast_solver_equals_sparse_direct_solve(n, neumann):
    prob = mf.manufacture(sp.exp(x) * sp.sin(3 * y) + y**2)
    L, rhs = mf.poisson_matrix(n, prob.f_fn, prob.u_fn, prob.ux_fn, neumann=neumann)
    direct = scipy.sparse.linalg.spsolve(L.tocsc(), rhs)
    xs, ys, U = mf.poisson_fd(n, prob.f_fn, prob.u_fn, prob.ux_fn, neumann=neumann)
    assert U.shape == (n, n - 1) and xs[-1] == 1.0
    cond = np.linalg.cond(L.toarray())
    assert np.max(np.abs(U.ravel() - direct)) <= 8 * EPS * n * n * cond * np.max(np.abs(direct))


def test_quadratic_in_y_is_reproduced_exactly():
    # u* = 1 + x + x^2 + y^2: the five-point stencil and the centred Neumann row are exact on
    # polynomials of degree <= 3 in x and <= 3 in y (no fourth derivatives): no truncation error
    prob = mf.manufacture(1 + x + x**2 + y**2)
    xs, ys, U = mf.poisson_fd(10, prob.f_fn, prob.u_fn, prob.ux_fn)
    assert np.max(np.abs(U - prob.u_fn(xs[:, None], ys[None, :]))) <= 1e-12


def test_defect_correction_exact_and_jacobi():
    prob = mf.manufacture(x * y)
    L, f = mf.poisson_matrix(6, prob.f_fn, prob.u_fn, prob.ux_fn)
    u_h = scipy.sparse.linalg.spsolve(L.tocsc(), f)
    lu = scipy.sparse.linalg.splu(L.tocsc())
    its = mf.defect_correction(lambda v: L @ v, f, np.zeros_like(f), lu.solve, 2)
    assert its.shape == (3, f.size)
    np.testing.assert_allclose(its[1], u_h, rtol=1e-12, atol=1e-12)
    S = mf.jacobi_smoother(L, 2)
    its = mf.defect_correction(lambda v: L @ v, f, np.zeros_like(f), S, 200)
    err = np.linalg.norm(its - u_h, axis=1)
    assert err[-1] < 1e-3 * err[0]


def test_input_validation():
    with pytest.raises(ValueError, match="x and y"):
        mf.manufacture(sp.Symbol("z") * x)
    with pytest.raises(ValueError, match="second order"):
        mf.manufacture(x, (0, 0, 1, 0, 0))
    with pytest.raises(ValueError, match="n must be"):
        mf.poisson_fd(1, lambda a, b: 0 * a, lambda a, b: 0 * a, lambda a, b: 0 * a)
    with pytest.raises(ValueError, match="neumann"):
        mf.poisson_matrix(4, lambda a, b: 0 * a, lambda a, b: 0 * a, lambda a, b: 0 * a, neumann="robin")
    with pytest.raises(ValueError, match="equal length"):
        mf.defect_correction(lambda v: v, np.ones(3), np.ones(4), lambda r: r, 2)

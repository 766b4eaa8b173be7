"""numerics.integral_equations: damped fixed point (rate = spectral prediction, divergence raised),
Nystrom against closed forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.integral_equations import (
    FixedPointDivergenceError,
    FixedPointNotConvergedError,
    damped_fixed_point,
    nystrom_interpolate,
    nystrom_matrix,
    nystrom_solve,
    observed_contraction,
    predicted_contraction,
)
from numerics.quadrature import gauss_legendre_nodes_weights, trapezoid_nodes_weights


def _affine_map(eigs, seed):
    g = np.random.default_rng(seed)
    n = len(eigs)
    S = g.standard_normal((n, n)) + 3 * np.eye(n)
    M = S @ np.diag(eigs) @ np.linalg.inv(S)
    f = g.standard_normal(n)
    return M, f, np.linalg.solve(np.eye(n) - M, f)


@given(mu=st.lists(st.floats(-1.8, 0.7), min_size=2, max_size=5, unique=True),
       alpha=st.floats(0.0, 0.9), seed=st.integers(0, 1000))
def test_rate_matches_prediction_or_divergence_is_raised(mu, alpha, seed):
    mu = np.array(mu)
    rho = predicted_contraction(mu, alpha)
    # a unique dominant mode well separated from the rest keeps the window short and sharp
    mods = np.sort(np.abs(alpha + (1 - alpha) * mu))[::-1]
    if abs(rho - 1.0) < 0.02 or rho < 0.05 or mods[1] > 0.9 * mods[0]:
        return
    M, f, y_star = _affine_map(mu, seed)
    if rho > 1:
        with pytest.raises(FixedPointDivergenceError):
            damped_fixed_point(lambda y: f + M @ y, np.zeros_like(f), alpha=alpha, max_iter=20000)
        return
    res = damped_fixed_point(lambda y: f + M @ y, np.zeros_like(f), alpha=alpha, tol=1e-13, max_iter=20000,
                             keep_iterates=True)
    errs = np.max(np.abs(res.iterates - y_star), axis=1)
    inside = np.flatnonzero((errs <= 1e-3 * errs[0]) & (errs >= 1e-10 * errs[0]))
    if inside.size < 5:
        return
    # The window's ratio is the dominant mode's only once the others have died out: their relative
    # weight at the window's start is at most cond(eigenvectors) * (|second| / |first|)^start, and a
    # weight w perturbs the measured rate by about w; require it below 1e-3 (a tenth of the 1% asked).
    cond_v = np.linalg.cond(np.linalg.eig(M)[1])
    if cond_v * (mods[1] / mods[0]) ** inside[0] > 1e-3:
        return
    rate = observed_contraction(errs, int(inside[0]), int(inside[-1]))
    assert abs(rate / rho - 1) <= 0.01, (rate, rho)


def test_undamped_divergence_is_an_error_not_a_hang():
    M, f, _ = _affine_map([-1.5, 0.3], 0)
    with pytest.raises(FixedPointDivergenceError) as info:
        damped_fixed_point(lambda y: f + M @ y, np.zeros(2), alpha=0.0)
    assert isinstance(info.value, ValueError) and info.value.history.size < 100
    # damping alpha = 0.5 rescues it: rho = max(|0.5 - 0.75|, |0.5 + 0.15|) = 0.65
    res = damped_fixed_point(lambda y: f + M @ y, np.zeros(2), alpha=0.5, tol=1e-13, keep_iterates=True)
    assert res.solution.dtype == np.float64
    y_star = np.linalg.solve(np.eye(2) - M, f)
    errs = np.max(np.abs(res.iterates - y_star), axis=1)
    rate = observed_contraction(errs, 10, 40)
    assert abs(rate / 0.65 - 1) <= 0.01, rate


def test_not_converged_raises():
    M, f, _ = _affine_map([0.99, 0.1], 0)
    with pytest.raises(FixedPointNotConvergedError):
        damped_fixed_point(lambda y: f + M @ y, np.zeros(2), alpha=0.0, max_iter=5)


@pytest.mark.parametrize("alpha", [-0.1, 1.0, np.nan])
def test_alpha_validation(alpha):
    with pytest.raises(ValueError, match="alpha"):
        damped_fixed_point(lambda y: y, np.zeros(2), alpha=alpha)


def test_solver_input_validation():
    with pytest.raises(ValueError, match="finite"):
        damped_fixed_point(lambda y: y, np.array([np.nan]))
    with pytest.raises(ValueError, match="shape"):
        damped_fixed_point(lambda y: np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="max_iter"):
        damped_fixed_point(lambda y: y, np.zeros(2), max_iter=0)
    with pytest.raises(ValueError):
        predicted_contraction(np.array([]), 0.5)


def test_nystrom_degenerate_kernel_closed_form():
    """y = f + lam int_0^1 x s y(s) ds with f = 1: y = 1 + c x, c = lam (1/2) / (1 - lam/3)."""
    lam = 0.9

    def kernel(x, s):
        return lam * x * s

    def f(x):
        return np.ones_like(x)

    c = lam * 0.5 / (1.0 - lam / 3.0)
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, 3)  # exact for the degree-2 integrand
    y = nystrom_solve(kernel, f, x, w)
    np.testing.assert_allclose(y, 1.0 + c * x, rtol=0, atol=1e-14)
    xq = np.linspace(0, 1, 7)
    np.testing.assert_allclose(nystrom_interpolate(kernel, f, x, w, y, xq), 1 + c * xq, atol=1e-14)
    # trapezoid: second order, error constant from the closed form of the discrete problem
    errs = []
    for n in (16, 32, 64):
        x, w = trapezoid_nodes_weights(0.0, 1.0, n)
        errs.append(np.max(np.abs(nystrom_solve(kernel, f, x, w) - (1 + c * x))))
    assert 3.9 < errs[0] / errs[1] < 4.1 and 3.9 < errs[1] / errs[2] < 4.1


def test_nystrom_matrix_shapes():
    x, w = trapezoid_nodes_weights(0.0, 1.0, 4)
    assert nystrom_matrix(lambda a, b: a * b, x, w).shape == (5, 5)
    blocks = nystrom_matrix(lambda a, b: (a * b)[..., None, None] * np.eye(2), x, w)
    assert blocks.shape == (10, 10)
    with pytest.raises(ValueError):
        nystrom_matrix(lambda a, b: np.zeros(3), x, w)
    with pytest.raises(ValueError):
        nystrom_matrix(lambda a, b: a * b, x, w[:-1])

"""hairer2006: the splitting claims at other seeds, the conjugacy identity over hypothesis-drawn
systems, exactness for commuting fields, and extra negative controls."""

import numpy as np
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from numerics import EPS
from numerics.flows import linear_exact_flow
from numerics.splitting import integrate, lie_trotter, strang
from numerics.strategies import seeds
from theorems.registry import get
from theorems.splitting import _common

expm = scipy.linalg.expm


def test_claims_hold_at_other_seeds():
    for cid in ("hairer2006.lie_order1", "hairer2006.strang_order2", "hairer2006.processed_lie_order2"):
        for seed in (1, 7):
            v = get(cid).check("fast", seed)
            assert v.holds, f"{cid} seed {seed}: {v.measured}"


@given(d=st.integers(2, 5), seed=seeds(), n=st.integers(1, 20), h=st.floats(0.01, 0.3))
def test_conjugacy_identity(d, seed, n, h):
    A, B = _common.noncommuting_pair(d, seed)
    x = np.random.default_rng(seed).standard_normal(d)
    fa, fb = linear_exact_flow(A), linear_exact_flow(B)
    lie_n = integrate(lie_trotter(fa, fb), x, n * h, n)
    conj = fa(integrate(strang(fa, fb), fa(x, 0.5 * h), n * h, n), -0.5 * h)
    # (2n + 2) chained products of d-term inner products, norms <= e^{2nh}: c = 8
    tol = 8 * EPS * (2 * n + 2) * d * np.exp(2 * n * h + h) * np.max(np.abs(x))
    assert np.max(np.abs(lie_n - conj)) <= tol


@given(d=st.integers(2, 5), seed=seeds(), h=st.floats(0.01, 0.5))
def test_commuting_fields_make_lie_exact(d, seed, h):
    A, _ = _common.noncommuting_pair(d, seed)
    B = 0.3 * A @ A - 0.5 * A + 0.2 * np.eye(d)
    x = np.ones(d)
    got = lie_trotter(linear_exact_flow(A), linear_exact_flow(B))(x, h)
    ref = expm(h * (A + B)) @ x
    assert np.max(np.abs(got - ref)) <= 16 * EPS * d * np.exp(2 * h) * np.max(np.abs(ref))


def test_strang_with_swapped_roles_is_also_second_order_but_different():
    """Negative control of the convention: Strang(b, a) is another second-order method whose
    leading term is not the Strang(a, b) formula."""
    A, B = _common.noncommuting_pair(4, 0)
    x = np.ones(4)
    h = 2.0**-8
    S_ba = strang(linear_exact_flow(B), linear_exact_flow(A))(x, h) - expm(h * (A + B)) @ x
    pred_ab = _common.strang_leading_term(A, B, x, h)
    pred_ba = _common.strang_leading_term(B, A, x, h)
    assert np.max(np.abs(S_ba - pred_ba)) <= 0.01 * np.max(np.abs(pred_ba))
    assert np.max(np.abs(S_ba - pred_ab)) > 0.1 * np.max(np.abs(pred_ab))


def test_plots_draw():
    for cid in ("hairer2006.strang_order2", "hairer2006.lie_commuting_exact"):
        claim = get(cid)
        fig = claim.plot(claim.check("fast", 0))
        assert fig.axes


def test_processed_lie_is_second_order_on_the_particle_system():
    """Nonlinear check of the processing consequence: phi^F_{h/2} o Lie^n o phi^F_{-h/2} with RK4
    sub-flows (order 4 >= 2) converges at order 2; plain Lie at order 1 (DOP853 reference)."""
    from numerics.flows import rk4_flow
    from numerics.rates import observed_order
    from theorems.splitting import lu2019

    s, X = lu2019.particle_problem("fast", 2)
    F, G = lu2019.fields(s)
    fF, fG = rk4_flow(F), rk4_flow(G)
    lie = lie_trotter(fF, fG)
    ref = lu2019.reference_solution(s, X, 1.0)
    ns = 2 ** np.arange(1, 10)
    processed = [np.max(np.abs(fF(integrate(lie, fF(X, -0.5 / n), 1.0, int(n)), 0.5 / n) - ref)) for n in ns]
    plain = [np.max(np.abs(integrate(lie, X, 1.0, int(n)) - ref)) for n in ns]
    fit_p = observed_order(1.0 / ns, processed, expected=2.0)
    fit_l = observed_order(1.0 / ns, plain, expected=1.0)
    assert fit_p.regime == "algebraic" and fit_p.contains(2.0) and not fit_p.contains(1.0), fit_p.describe()
    assert fit_l.contains(1.0) and not fit_l.contains(2.0), fit_l.describe()

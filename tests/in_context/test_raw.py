"""constructions/in_context/raw.py: the RAW primitives (Akyürek et al. 2022, Appendix C) against independent
references (numpy products, closed-form softmax weights, Taylor remainders), their programs
against direct GD / numpy.linalg.solve, input validation and dtypes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.in_context import raw
from numerics import EPS
from numerics.random import rng

sizes = st.integers(1, 4)
data_seeds = st.integers(0, 2**31 - 1)  # structure only: these draw data, not probabilistic bounds


@given(p=sizes, q=sizes, n=sizes, T=sizes, seed=data_seeds)
def test_aff_is_exact(p, q, n, T, seed):
    g = rng(seed)
    L = raw.Layout(T)
    r1, r2, rd = L.add("a", p), L.add("b", q), L.add("d", n)
    H = L.empty_state()
    H[list(r1)] = g.standard_normal((p, T))
    H[list(r2)] = g.standard_normal((q, T))
    W1, W2, b = g.standard_normal((n, p)), g.standard_normal((n, q)), g.standard_normal(n)
    out = raw.forward(H, [raw.aff_layer(L, rd, [(r1, W1), (r2, W2)], b)])
    ref = W1 @ H[list(r1)] + W2 @ H[list(r2)] + b[:, None]
    mag = np.abs(W1) @ np.abs(H[list(r1)]) + np.abs(W2) @ np.abs(H[list(r2)]) + np.abs(b)[:, None]
    # 8 eps (p + q + 2) times the magnitude of the summands (Higham-type bound, see akyurek2022)
    assert np.all(np.abs(out[list(rd)] - ref) <= 8 * EPS * (p + q + 2) * mag)
    assert out.dtype == np.float64


@given(T=st.integers(2, 7), m=sizes, offset=st.integers(1, 3), beta=st.floats(0.5, 20.0), seed=data_seeds)
def test_mov_equals_closed_form_softmax(T, m, offset, beta, seed):
    """Column t attends to keys j <= t with weight e^beta / (e^beta + t) on s = max(t - offset, 0)
    and 1 / (e^beta + t) on every other key (when s != t... handled by the formula below)."""
    g = rng(seed)
    L = raw.Layout(T)
    src, dst = L.add("s", m), L.add("d", m)
    H = L.empty_state()
    H[list(src)] = g.standard_normal((m, T))
    out = raw.forward(H, [raw.mov_layer(L, src, dst, beta=beta, offset=offset)])
    ref = np.zeros((m, T))
    for t in range(T):
        s = max(t - offset, 0)
        logits = np.where(np.arange(t + 1) == s, beta, 0.0)
        w = np.exp(logits - logits.max())
        w /= w.sum()
        ref[:, t] = H[list(src)][:, : t + 1] @ w
    np.testing.assert_allclose(out[list(dst)], ref, rtol=0, atol=16 * EPS * T * np.abs(H).max())


@given(a=sizes, b=sizes, c=sizes, seed=data_seeds)
def test_mul_matches_taylor_expansion(a, b, c, seed):
    """|mul_c(A, B) - AB - c^2 lead| <= b c^4 (next Taylor term <= 0.8 b c^4 for |entries| <= 1)
    plus round-off ~ eps b / c."""
    g = rng(seed)
    L = raw.Layout(1)
    ra, rb, rd = L.add("A", a * b), L.add("B", b * c), L.add("C", a * c)
    A, B = g.uniform(-1, 1, (a, b)), g.uniform(-1, 1, (b, c))
    H = L.empty_state()
    H[list(ra), 0], H[list(rb), 0] = A.ravel(), B.ravel()
    scale = 1e-2
    got = raw.forward(H, [raw.mul_layer(L, (a, b, c), ra, rb, rd, scale=scale)])[list(rd), 0].reshape(a, c)
    predicted = A @ B + scale**2 * raw.mul_leading_error(A, B)
    assert np.max(np.abs(got - predicted)) <= b * (scale**4 + 100 * EPS / scale)


@given(m=sizes, seed=data_seeds, scale=st.sampled_from([1e-1, 3e-2, 1e-2]))
def test_div_matches_expansion(m, seed, scale):
    """a / sqrt(b^2 + eps^2 |a|^2) = a/b (1 - t/2 + 3t^2/8 - ...), t = eps^2 |a|^2 / b^2."""
    g = rng(seed)
    L = raw.Layout(1)
    rn, rden, rd = L.add("n", m), L.add("den", 1), L.add("o", m)
    a, b = g.uniform(-1, 1, m), float(g.uniform(0.5, 2.0))
    H = L.empty_state()
    H[list(rn), 0], H[rden[0], 0] = a, b
    got = raw.forward(H, [raw.div_layer(L, rn, rden[0], rd, scale=scale)])[list(rd), 0]
    exact_formula = a / np.sqrt(b**2 + scale**2 * np.dot(a, a))
    np.testing.assert_allclose(got, exact_formula, rtol=0, atol=32 * EPS * m * np.abs(a / b).max())
    t = scale**2 * np.dot(a, a) / b**2
    assert np.max(np.abs(got - a / b - scale**2 * raw.div_leading_error(a, b))) <= 0.5 * t**2 * np.abs(a / b).max() + 1e-14


@given(d=sizes, n=sizes, seed=data_seeds)
def test_gd_program_second_order(d, n, seed):
    """Halving h divides the error by 4 (to within 20%): the program is second order in h."""
    g = rng(seed)
    X, y, w0 = g.uniform(-1, 1, (n, d)), g.uniform(-1, 1, n), g.uniform(-1, 1, d)
    ref = raw.gd_step_reference(X, y, w0, 0.1, 0.5)
    e1, e2 = (np.max(np.abs(raw.run_gd_step(X, y, w0, h=h, alpha=0.1, lam=0.5) - ref)) for h in (4e-3, 2e-3))
    assert 0.2 <= e2 / e1 <= 0.3
    assert e1 <= 1e-3


@given(d=st.integers(1, 3), n=st.integers(1, 3), lam=st.floats(0.3, 3.0), seed=data_seeds)
def test_ridge_program_second_order(d, n, lam, seed):
    g = rng(seed)
    X, y, xq = g.uniform(-1, 1, (n, d)), g.uniform(-1, 1, n), g.uniform(-1, 1, d)
    w_ref, _ = raw.ridge_reference(X, y, lam, xq)
    e = [np.max(np.abs(raw.run_ridge(X, y, xq, h=h, lam=lam)[0] - w_ref)) for h in (4e-3, 2e-3)]
    assert 0.2 <= e[1] / e[0] <= 0.3
    assert e[0] <= 1e-3 * max(1.0, np.abs(w_ref).max())


@given(u=st.floats(-1.0, 1.0), N=st.floats(1.0, 12.0))
def test_offset_bypass_error_is_the_gaussian_tail(u, N):
    """Lemma 5: GeLU(u + N) - N - u = -(u + N) Phi(-(u + N)) (scipy.stats.norm as the reference)."""
    from scipy.stats import norm

    L = raw.Layout(1)
    r, d = L.add("a", 1), L.add("d", 1)
    H = L.empty_state()
    H[r[0], 0] = u
    got = raw.forward(H, [raw.aff_layer(L, d, [(r, np.eye(1))], bypass="offset", offset=N)])[d[0], 0]
    ref = u - (u + N) * norm.cdf(-(u + N))
    assert abs(got - ref) <= 8 * EPS * (N + 2)


def test_ridge_reference_is_the_regularised_normal_equations():
    g = rng(3)
    X, y, xq = g.standard_normal((5, 3)), g.standard_normal(5), g.standard_normal(3)
    w, yq = raw.ridge_reference(X, y, 0.7, xq)
    np.testing.assert_allclose(X.T @ (X @ w - y) + 0.7 * w, 0, atol=1e-13)
    assert yq == pytest.approx(w @ xq)


def test_flipped_decay_sign_only_matters_with_lam_and_w0():
    g = rng(4)
    X, y, w0 = g.standard_normal((3, 2)), g.standard_normal(3), g.standard_normal(2)
    ok = raw.run_gd_step(X, y, np.zeros(2), h=1e-3, alpha=0.1, lam=0.5, decay_sign=-1.0)
    np.testing.assert_allclose(ok, raw.gd_step_reference(X, y, np.zeros(2), 0.1, 0.5), atol=1e-5)
    bad = raw.run_gd_step(X, y, w0, h=1e-3, alpha=0.1, lam=0.5, decay_sign=-1.0)
    assert np.max(np.abs(bad - raw.gd_step_reference(X, y, w0, 0.1, 0.5))) > 1e-2


def test_outputs_are_float64():
    g = rng(5)
    X, y, xq = g.standard_normal((2, 2)), g.standard_normal(2), g.standard_normal(2)
    w, yq = raw.run_ridge(X, y, xq, h=0.01, lam=1.0)
    assert w.dtype == np.float64 and isinstance(yq, float)
    assert raw.run_gd_step(X, y, xq, h=0.01, alpha=0.1, lam=0.0).dtype == np.float64
    assert raw.gelu(np.arange(3)).dtype == np.float64


def test_validation_errors():
    L = raw.Layout(3)
    src, dst = L.add("s", 2), L.add("d", 2)
    H = L.empty_state()
    with pytest.raises(TypeError):
        raw.forward(H.astype(np.float32), [])
    bad = H.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        raw.forward(bad, [])
    with pytest.raises(ValueError):
        raw.forward(H[0], [])
    with pytest.raises(TypeError):
        raw.forward(H, ["not a layer"])
    with pytest.raises(ValueError):
        raw.mov_layer(L, src, dst, beta=1.0)  # neither offset nor source
    with pytest.raises(ValueError):
        raw.mov_layer(L, src, dst, beta=1.0, offset=1, source=0)
    with pytest.raises(ValueError):
        raw.mov_layer(L, src, dst, beta=-1.0, offset=1)
    with pytest.raises(ValueError):
        raw.mov_layer(L, src, [0], beta=1.0, offset=1)  # size mismatch
    with pytest.raises(ValueError):
        raw.mov_layer(L, src, dst, beta=1.0, source=7)
    with pytest.raises(ValueError):
        raw.mul_layer(L, (1, 2, 1), src, dst, [99], scale=0.1)
    with pytest.raises(ValueError):
        raw.mul_layer(L, (1, 2, 1), src, dst, [0], scale=0.0)
    with pytest.raises(ValueError):
        raw.div_layer(L, src, dst[0], [0, 1], scale=0.1, ln_eps=-1.0)
    with pytest.raises(ValueError):
        raw.aff_layer(L, dst, [])
    with pytest.raises(ValueError):
        raw.aff_layer(L, dst, [(src, np.eye(2))], bypass="relu")
    with pytest.raises(ValueError):
        raw.aff_layer(L, dst, [(src, np.eye(2))], bypass="offset", offset=0.0)
    with pytest.raises(ValueError):
        raw.aff_layer(L, dst, [(src, np.ones((3, 2)))])
    with pytest.raises(ValueError):
        raw.aff_layer(L, dst, [(src, np.full((2, 2), np.inf))])
    with pytest.raises(ValueError):
        L.add("s", 1)
    with pytest.raises(ValueError):
        raw.Layout(0)
    X, y, xq = np.ones((2, 2)), np.ones(2), np.ones(2)
    with pytest.raises(ValueError):
        raw.run_ridge(X, y, xq, h=0.01, lam=0.0)
    with pytest.raises(ValueError):
        raw.run_ridge(X, np.ones(3), xq, h=0.01, lam=1.0)
    with pytest.raises(ValueError):
        raw.run_ridge(X, y, xq, h=1.5, lam=1.0)
    with pytest.raises(ValueError):
        raw.run_ridge(X, y, xq, h=0.01, lam=1.0, init_inverse="I")
    with pytest.raises(ValueError):
        raw.run_gd_step(X, y, np.ones(3), h=0.01, alpha=0.1, lam=0.0)
    with pytest.raises(ValueError):
        raw.run_gd_step(X, y, xq, h=0.01, alpha=0.1, lam=-1.0)
    with pytest.raises(TypeError):
        raw.run_gd_step(X.astype(complex), y, xq, h=0.01, alpha=0.1, lam=0.0)


def test_program_arguments_are_validated_and_named():
    """lam (ridge), alpha (GD) and the div rows are checked where the programs are built, with the
    argument named; run_ridge with lam = 0 raises instead of embedding A_0 = I / 0."""
    with pytest.raises(ValueError, match="^lam must be finite and positive"):
        raw.ridge_program(2, 3, h=0.01, lam=-1.0)
    with pytest.raises(ValueError, match="^lam must be finite and positive"):
        raw.run_ridge(np.array([[1.0, 2.0]]), np.array([1.0]), np.array([1.0, 0.0]), h=0.01, lam=0.0)
    with pytest.raises(ValueError, match="^alpha must be finite and positive"):
        raw.gd_step_program(2, 3, h=0.01, alpha=-1.0, lam=0.1)
    with pytest.raises(ValueError, match="^div dst: expected 1 rows"):
        raw.div_layer(raw.Layout(2), [0], 1, [2, 0], scale=0.1)

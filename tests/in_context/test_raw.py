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


# --- mutation campaign seed 5 (branch mutC): every public function against a reference written here ---


def test_attention_mlp_norm_and_decoder_layer_against_loops():
    """Attention (k = 2 < T: the 1/sqrt(k) scaling and the causal mask), MLP with both biases,
    NormBlock with ln_eps > 0 and DecoderLayer's order attention -> norm -> mlp, each against a
    plain loop / scipy's normal cdf; gelu is u Phi(u)."""
    from scipy.stats import norm

    g = rng(21)
    D, T, k = 4, 3, 2
    H = g.standard_normal((D, T))
    att = raw.Attention(g.standard_normal((k, D)), g.standard_normal((k, D)), g.standard_normal((D, D)))
    ref = np.zeros((D, T))
    for t in range(T):
        s = np.array([(att.W_Q @ H[:, t]) @ (att.W_K @ H[:, j]) / np.sqrt(k) for j in range(t + 1)])
        p = np.exp(s - s.max())
        p /= p.sum()
        ref[:, t] = sum(p[j] * (att.W_V @ H[:, j]) for j in range(t + 1))
    np.testing.assert_allclose(att(H), ref, rtol=0, atol=64 * EPS * np.abs(ref).max())
    u = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(raw.gelu(u), u * norm.cdf(u), rtol=0, atol=4 * EPS * 3)
    mlp = raw.MLP(g.standard_normal((5, D)), g.standard_normal(5), g.standard_normal((D, 5)), g.standard_normal(D))
    ref_mlp = np.stack([mlp.W2 @ (v * norm.cdf(v)) + mlp.b2 for v in (mlp.W1 @ H.T[i] + mlp.b1 for i in range(T))], 1)
    np.testing.assert_allclose(mlp(H), ref_mlp, rtol=0, atol=1e-13 * np.abs(ref_mlp).max())
    mlp0 = raw.MLP(mlp.W1, mlp.b1, mlp.W2)
    np.testing.assert_allclose(mlp0(H), ref_mlp - mlp.b2[:, None], rtol=0, atol=1e-13 * np.abs(ref_mlp).max())
    nb = raw.NormBlock(g.standard_normal((3, D)), g.standard_normal((D, 3)), 0.25)
    V = nb.W_in @ H
    ln = (V - V.mean(0)) / np.sqrt(V.var(0) + 0.25)
    np.testing.assert_allclose(nb(H), nb.W_out @ ln, rtol=0, atol=1e-14 * np.abs(nb.W_out @ ln).max() * 10)
    np.testing.assert_allclose(raw.layer_norm(V, 0.25), ln, rtol=0, atol=1e-14)
    np.testing.assert_allclose(raw.layer_norm(V), (V - V.mean(0)) / V.std(0), rtol=0, atol=1e-13)
    np.testing.assert_array_equal(raw.layer_norm(np.zeros((3, 2))), np.zeros((3, 2)))
    np.testing.assert_array_equal(raw.layer_norm(np.ones((3, 2))), np.zeros((3, 2)))
    layer = raw.DecoderLayer(attention=att, norm=nb, mlp=mlp, name="all")
    H1 = H + att(H)
    H2 = H1 + nb(H1)
    np.testing.assert_array_equal(layer(H), H2 + mlp(H2))
    assert layer.name == "all" and raw.DecoderLayer().name == ""
    np.testing.assert_array_equal(raw.DecoderLayer()(H), H)
    np.testing.assert_array_equal(raw.forward(H, [raw.DecoderLayer(norm=nb)]), H + nb(H))


def test_layout_rows_and_empty_state():
    L = raw.Layout(1)
    assert L.D == 2 and L["pos"] == range(0, 1) and L["one"] == range(1, 2)
    assert L.add("a", 3) == range(2, 5) and L.D == 5 and L["a"] == range(2, 5)
    np.testing.assert_array_equal(L.empty_state(), [[1.0], [1.0], [0.0], [0.0], [0.0]])
    L3 = raw.Layout(3)
    L3.add("x", 1)
    np.testing.assert_array_equal(L3.empty_state(), [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0]])
    assert L3.empty_state().dtype == np.float64
    with pytest.raises(ValueError, match=r"^size of 'b' must be"):
        L.add("b", 0)
    with pytest.raises(ValueError, match=r"^Layout: slot 'a' already exists"):
        L.add("a", 1)
    with pytest.raises(ValueError, match=r"^T must be"):
        raw.Layout(0)
    with pytest.raises(KeyError):
        L["missing"]


def test_mov_absolute_source_and_offset_zero_closed_forms():
    """source s: column t attends with logit beta on key s (when s <= t), 0 on the other causal keys;
    offset 0: every column weights itself e^beta / (e^beta + t). Boundaries: offset 0, source 0
    and T - 1 accepted; -1 and T rejected by name."""
    g = rng(8)
    T, beta = 4, 3.0
    L = raw.Layout(T)
    src, dst = L.add("s", 2), L.add("d", 2)
    H = L.empty_state()
    H[list(src)] = g.standard_normal((2, T))
    for kw in ({"source": 0}, {"source": 2}, {"source": T - 1}, {"offset": 0}, {"offset": 2}):
        out = raw.forward(H, [raw.mov_layer(L, src, dst, beta=beta, **kw)])
        ref = np.zeros((2, T))
        for t in range(T):
            s = kw["source"] if "source" in kw else max(t - kw["offset"], 0)
            lg = np.where(np.arange(t + 1) == s, beta, 0.0)
            w = np.exp(lg) / np.exp(lg).sum()
            ref[:, t] = H[list(src)][:, : t + 1] @ w
        np.testing.assert_allclose(out[list(dst)], ref, rtol=0, atol=32 * EPS * np.abs(H).max())
        np.testing.assert_array_equal(out[list(src)], H[list(src)])
    with pytest.raises(ValueError, match=r"^mov: source 4 outside the 4 positions"):
        raw.mov_layer(L, src, dst, beta=1.0, source=T)
    with pytest.raises(ValueError, match=r"^mov source must be"):
        raw.mov_layer(L, src, dst, beta=1.0, source=-1)
    with pytest.raises(ValueError, match=r"^mov offset must be"):
        raw.mov_layer(L, src, dst, beta=1.0, offset=-1)
    with pytest.raises(ValueError, match=r"^mov beta must be finite and positive"):
        raw.mov_layer(L, src, dst, beta=0.0, offset=1)
    with pytest.raises(ValueError, match=r"^mov: give exactly one of offset"):
        raw.mov_layer(L, src, dst, beta=1.0)
    D = L.D
    raw.mov_layer(L, [D - 1], [0], beta=1.0, offset=1)       # the last row is a row
    for rows, msg in (([D], r"^mov src: rows must be non-empty and within \[0, "), ([-1], r"^mov src: rows"),
                      ([], r"^mov src: rows must be non-empty"), ([1, 1], r"^mov src: rows must be distinct")):
        with pytest.raises(ValueError, match=msg):
            raw.mov_layer(L, rows, [0] * len(rows) if rows else [0], beta=1.0, offset=1)
    with pytest.raises(ValueError, match=r"^mov dst: expected 2 rows, got 1"):
        raw.mov_layer(L, src, [0], beta=1.0, offset=1)


def test_mul_and_div_arguments_and_exact_forms():
    """mul's weights: three neurons per product with input scale c and output sqrt(pi/2)/c^2;
    div with ln_eps > 0 and a negative denominator is a / sqrt(b^2 + eps^2 |a|^2 + (m+1) ln_eps)."""
    L = raw.Layout(1)
    ra, rb, rd = L.add("A", 2), L.add("B", 2), L.add("C", 1)
    layer = raw.mul_layer(L, (1, 2, 1), ra, rb, rd, scale=0.5)
    assert layer.name == "mul" and layer.attention is None and layer.norm is None
    W1, W2 = layer.mlp.W1, layer.mlp.W2
    assert W1.shape == (6, L.D) and W2.shape == (L.D, 6) and not layer.mlp.b1.any()
    kappa = np.sqrt(np.pi / 2) / 0.25
    np.testing.assert_array_equal(W2[rd[0]], [kappa, -kappa, -kappa] * 2)
    np.testing.assert_array_equal(W1[0, [ra[0], rb[0]]], [0.5, 0.5])
    np.testing.assert_array_equal(W1[1, [ra[0], rb[0]]], [0.5, 0.0])
    np.testing.assert_array_equal(W1[2, [ra[0], rb[0]]], [0.0, 0.5])
    np.testing.assert_array_equal(W1[3, [ra[1], rb[1]]], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"^mul: shape must be \(a, b, c\)"):
        raw.mul_layer(L, (1, 2), ra, rb, rd, scale=0.1)
    with pytest.raises(ValueError, match=r"^mul shape must be"):
        raw.mul_layer(L, (1, 0, 1), ra, rb, rd, scale=0.1)
    with pytest.raises(ValueError, match=r"^mul rows_a: expected 2 rows"):
        raw.mul_layer(L, (1, 2, 1), [ra[0]], rb, rd, scale=0.1)
    with pytest.raises(ValueError, match=r"^mul rows_b: expected 2 rows"):
        raw.mul_layer(L, (1, 2, 1), ra, [rb[0]], rd, scale=0.1)
    with pytest.raises(ValueError, match=r"^mul dst: expected 1 rows"):
        raw.mul_layer(L, (1, 2, 1), ra, rb, [rd[0], 0], scale=0.1)
    with pytest.raises(ValueError, match=r"^mul scale must be finite and positive"):
        raw.mul_layer(L, (1, 2, 1), ra, rb, rd, scale=-0.1)
    L2 = raw.Layout(1)
    rn, rden, ro = L2.add("n", 2), L2.add("den", 1), L2.add("o", 2)
    H = L2.empty_state()
    a, b = np.array([0.3, -0.7]), -1.5
    H[list(rn), 0], H[rden[0], 0] = a, b
    for eps, ln_eps in ((0.1, 0.0), (0.2, 0.05), (0.3, 1.0)):
        lay = raw.div_layer(L2, rn, rden[0], ro, scale=eps, ln_eps=ln_eps)
        assert lay.name == "div" and lay.norm.ln_eps == ln_eps
        got = raw.forward(H, [lay])[list(ro), 0]
        want = a / np.sqrt(b**2 + eps**2 * (a @ a) + 3 * ln_eps)
        np.testing.assert_allclose(got, want, rtol=0, atol=32 * EPS)
    for bad in (-0.1, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match=r"^div: ln_eps must be finite and >= 0"):
            raw.div_layer(L2, rn, rden[0], ro, scale=0.1, ln_eps=bad)
    with pytest.raises(ValueError, match=r"^div scale must be finite and positive"):
        raw.div_layer(L2, rn, rden[0], ro, scale=0.0)
    with pytest.raises(ValueError, match=r"^div num: rows"):
        raw.div_layer(L2, [], rden[0], [], scale=0.1)
    with pytest.raises(ValueError, match=r"^div den: rows"):
        raw.div_layer(L2, rn, L2.D, ro, scale=0.1)


def test_aff_sign_offset_bias_default_and_clear():
    """aff with sign +1 is u erf(u / sqrt 2) (the control); the offset bypass with a bias is
    GeLU(u + b + N) - N, N = 10 by default; clear_layer zeroes its rows (to round-off)."""
    from scipy.special import erf
    from scipy.stats import norm

    L = raw.Layout(2)
    r, d = L.add("a", 2), L.add("d", 2)
    g = rng(4)
    H = L.empty_state()
    H[list(r)] = g.uniform(-2, 2, (2, 2))
    W = g.standard_normal((2, 2))
    b = np.array([0.5, -0.25])
    u = W @ H[list(r)] + b[:, None]
    lay = raw.aff_layer(L, d, [(r, W)], b, sign=1.0)
    assert lay.name == "aff"
    np.testing.assert_allclose(raw.forward(H, [lay])[list(d)], u * erf(u / np.sqrt(2)), rtol=0, atol=1e-14 * 8)
    np.testing.assert_allclose(raw.forward(H, [raw.aff_layer(L, d, [(r, W)], b)])[list(d)], u, rtol=0, atol=1e-14 * 8)
    for N in (None, 3.0):
        kw = {} if N is None else {"offset": N}
        Nv = 10.0 if N is None else N
        got = raw.forward(H, [raw.aff_layer(L, d, [(r, W)], b, bypass="offset", **kw)])[list(d)]
        v = u + Nv
        np.testing.assert_allclose(got, v * norm.cdf(v) - Nv, rtol=0, atol=16 * EPS * (Nv + 4))
    H[list(d)] = g.standard_normal((2, 2))
    cleared = raw.forward(H, [raw.clear_layer(L, d)])
    assert np.max(np.abs(cleared[list(d)])) <= 4 * EPS * np.abs(H[list(d)]).max()
    np.testing.assert_array_equal(cleared[list(r)], H[list(r)])
    with pytest.raises(ValueError, match=r"^aff: need at least one"):
        raw.aff_layer(L, d, [])
    with pytest.raises(ValueError, match=r"^aff: bypass must be 'difference' or 'offset'"):
        raw.aff_layer(L, d, [(r, W)], bypass="x")
    with pytest.raises(ValueError, match=r"^aff offset must be finite and positive"):
        raw.aff_layer(L, d, [(r, W)], bypass="offset", offset=-1.0)
    with pytest.raises(ValueError, match=r"^aff W must have shape"):
        raw.aff_layer(L, d, [(r, np.ones((2, 3)))])
    with pytest.raises(ValueError, match=r"^aff bias must have shape"):
        raw.aff_layer(L, d, [(r, W)], np.ones(3))
    with pytest.raises(ValueError, match=r"^aff rows: rows"):
        raw.aff_layer(L, d, [([], np.ones((2, 0)))])
    with pytest.raises(ValueError, match=r"^aff dst: rows"):
        raw.aff_layer(L, [], [(r, W)])


def test_leading_errors_scales_and_gd_reference_exact_values():
    np.testing.assert_array_equal(raw.mul_leading_error([[1.0]], [[2.0]]), [[-64.0 / 12.0]])
    # A (1 x 2), B (2 x 1): p(1, 1) + p(2, -1) = 14 + (-32 + 24 - 8) = -2, p = (x+y)^4 - x^4 - y^4
    np.testing.assert_array_equal(raw.mul_leading_error([[1.0, 2.0]], [[1.0], [-1.0]]), [[2.0 / 12.0]])
    np.testing.assert_array_equal(raw.mul_leading_error([[1.0, 1.0]], [[1.0], [1.0]]), [[-28.0 / 12.0]])
    np.testing.assert_array_equal(raw.div_leading_error(np.array([1.0, 2.0]), -2.0), -5.0 * np.array([1.0, 2.0]) / 16.0)
    X, y, w0 = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1.0, -2.0]), np.array([0.25, -0.5])
    want = np.stack([w0 - 2 * 0.1 * (X[i] * (X[i] @ w0 - y[i]) + 0.3 * w0) for i in range(2)])
    np.testing.assert_allclose(raw.gd_step_reference(X, y, w0, 0.1, 0.3), want, rtol=0, atol=4 * EPS)
    h = 0.01
    L, layers = raw.gd_step_program(2, 3, h=h, alpha=0.1, lam=0.0)
    assert L.T == 6 and [lay.name for lay in layers] == ["mov", "mul", "aff", "mul", "aff"]
    assert {k: len(v) for k, v in L.slots.items()} == {"pos": 6, "one": 1, "x": 2, "y": 1, "w": 2, "xm": 2,
                                                      "wx": 1, "r": 1, "xr": 2, "w_new": 2}
    assert np.max(layers[0].attention.W_Q) == 2 * np.log(1 / h) * np.sqrt(6)   # beta = 2 log(1/h)
    assert np.max(layers[1].mlp.W1) == h                                       # c = h
    raw.gd_step_program(1, 1, h=0.999, alpha=0.1, lam=0.0)
    with pytest.raises(ValueError, match=r"^scale h must lie in \(0, 1\)"):
        raw.gd_step_program(1, 1, h=1.0, alpha=0.1, lam=0.0)
    with pytest.raises(ValueError, match=r"^scale h must be finite and positive"):
        raw.gd_step_program(1, 1, h=0.0, alpha=0.1, lam=0.0)
    for lam in (-0.1, float("nan"), True):
        with pytest.raises(ValueError, match=r"^lam must be finite and >= 0"):
            raw.gd_step_program(1, 1, h=0.1, alpha=0.1, lam=lam)
    for kw, name in (({"d": 0}, "d"), ({"n": 0}, "n")):
        args = {"d": 1, "n": 1} | kw
        with pytest.raises(ValueError, match=f"^{name} must be"):
            raw.gd_step_program(args["d"], args["n"], h=0.1, alpha=0.1, lam=0.0)
        with pytest.raises(ValueError, match=f"^{name} must be"):
            raw.ridge_program(args["d"], args["n"], h=0.1, lam=1.0)


def test_decay_sign_and_inverse_initialisation_controls_against_their_own_references():
    """decay_sign = -1 is the GD step with lam -> -lam; init_inverse = "lam" is Sherman-Morrison
    from A_0 = lam I, i.e. ridge with the regulariser 1/lam: w = (X^T X + I/lam)^{-1} X^T y."""
    g = rng(12)
    X, y, w0, xq = g.uniform(-1, 1, (3, 2)), g.uniform(-1, 1, 3), g.uniform(-1, 1, 2), g.uniform(-1, 1, 2)
    got = raw.run_gd_step(X, y, w0, h=1e-3, alpha=0.1, lam=0.5, decay_sign=-1.0)
    np.testing.assert_allclose(got, raw.gd_step_reference(X, y, w0, 0.1, -0.5), rtol=0, atol=1e-4)
    lam = 2.0
    w_bad = np.linalg.solve(X.T @ X + np.eye(2) / lam, X.T @ y)
    w, yhat = raw.run_ridge(X, y, xq, h=1e-3, lam=lam, init_inverse="lam")
    np.testing.assert_allclose(w, w_bad, rtol=0, atol=1e-3 * max(1, np.abs(w_bad).max()))
    assert abs(yhat - w_bad @ xq) <= 1e-3 * max(1, abs(w_bad @ xq))
    w_ok, yq_ok = raw.ridge_reference(X, y, lam, xq)
    w2, yhat2 = raw.run_ridge(X, y, xq, h=1e-3, lam=lam)
    np.testing.assert_allclose(w2, w_ok, rtol=0, atol=1e-3)
    assert abs(yhat2 - yq_ok) <= 1e-3 and isinstance(yq_ok, float)
    assert np.max(np.abs(w_bad - w_ok)) > 1e-2
    L, layers = raw.ridge_program(2, 3, h=0.01, lam=1.0)
    assert L.T == 4 and len(layers) == 3 * 9 + 2 + 2
    assert [lay.name for lay in layers[:10]] == ["mov", "mul", "mul", "aff", "div", "mul", "aff", "mul", "aff", "aff"]
    with pytest.raises(ValueError, match=r"^init_inverse must be '1/lam' or 'lam'"):
        raw.ridge_program(2, 3, h=0.01, lam=1.0, init_inverse="I")
    with pytest.raises(ValueError, match=r"^lam must be finite and positive"):
        raw.ridge_reference(X, y, 0.0, xq)
    with pytest.raises(ValueError, match=r"^X must be 2-D \(n x d\)"):
        raw.run_gd_step(np.ones(2), y, w0, h=0.1, alpha=0.1, lam=0.0)
    with pytest.raises(ValueError, match=r"^X must be 2-D \(n x d\)"):
        raw.run_gd_step(np.ones((0, 2)), np.ones(0), w0, h=0.1, alpha=0.1, lam=0.0)
    with pytest.raises(ValueError, match=r"^y must have shape"):
        raw.run_gd_step(X, np.ones(2), w0, h=0.1, alpha=0.1, lam=0.0)
    with pytest.raises(ValueError, match=r"^w0 must have shape"):
        raw.run_gd_step(X, y, np.ones(3), h=0.1, alpha=0.1, lam=0.0)
    with pytest.raises(ValueError, match=r"^x_query must have shape"):
        raw.run_ridge(X, y, np.ones(3), h=0.1, lam=1.0)
    with pytest.raises(TypeError, match=r"^hidden state must be float64"):
        raw.forward(np.ones((2, 2), dtype=np.float32), [])
    with pytest.raises(ValueError, match=r"^hidden state must be 2-D"):
        raw.forward(np.ones(2), [])
    with pytest.raises(ValueError, match=r"^hidden state must be finite"):
        raw.forward(np.full((2, 2), np.inf), [])
    with pytest.raises(TypeError, match=r"^forward: layers must be DecoderLayer, got str"):
        raw.forward(np.ones((2, 2)), ["x"])

"""Tests of constructions.universal.universal: the explicit single-layer approximator and its weight export.

The exported weights are run through an independent forward pass written here (plain loops over
heads, queries and keys), compared with the library's dense reference forward and with the
cell-sparse structured forward; the error bound is checked on hypothesis-drawn Lipschitz targets.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.universal.universal import (
    LEAK_MARGIN,
    build_single_layer,
    embedding_width,
    export_weights,
    parameter_count,
    reference_forward,
    structured_forward,
)
from numerics.tolerance import compare
from theorems.universal.gumaan2025 import sine_target

SHAPES = st.sampled_from([(1, 1), (1, 2), (2, 1), (1, 3), (2, 2)])


def independent_forward(w: dict, x: np.ndarray) -> np.ndarray:
    """Loop implementation of the documented layout (no einsum, no shared code)."""
    n = w["embed_pos"].shape[1]
    cols = [w["embed_x"] @ x[:, k] + w["embed_pos"][:, k] + w["embed_bias"] for k in range(n)]
    cols.append(w["sink"])
    Z = np.stack(cols, axis=1)
    A = np.zeros_like(Z)
    for h in range(w["W_Q"].shape[0]):
        for k in range(Z.shape[1]):
            q = w["W_Q"][h] @ Z[:, k]
            scores = np.array([float(w["W_K"][h] @ Z[:, l] @ q) for l in range(Z.shape[1])])
            p = np.exp(scores - scores.max())
            p = p / p.sum()
            v = sum(p[l] * (w["W_V"][h] @ Z[:, l]) for l in range(Z.shape[1]))
            A[:, k] += w["W_O"][h] @ v
    Z1 = Z + A
    hidden = np.maximum(w["W_1"] @ Z1 + w["b_1"][:, None], 0.0)
    Z2 = Z1 + w["W_2"] @ hidden + w["b_2"][:, None]
    return (w["readout"] @ Z2)[:, :n]


@given(shape=SHAPES, N=st.integers(2, 4), seed=st.integers(0, 1000))
def test_exported_weights_match_independent_forward(shape, N, seed):
    d, n = shape
    f, _, fmax = sine_target(d, n, seed)
    c = build_single_layer(f, d, n, 1.0 / N)
    w = export_weights(c)
    for arr in w.values():
        assert arr.dtype == np.float64
    X = np.random.default_rng(seed).uniform(size=(3, d, n))
    ref = reference_forward(w, X)
    sparse = structured_forward(c, X)
    assert ref.dtype == np.float64 and sparse.dtype == np.float64
    for b in range(3):
        ind = independent_forward(w, X[b])
        # The scores reach beta ~ 1e6 N: a relative error eps |s| in the softmax exponents and
        # sums over N^D cells and D (N-1) heads; size counts those terms, c = 8 for norm slack.
        size = (1.0 / c.tau + LEAK_MARGIN) * 4 + (N ** (d * n)) * n + d * n * N
        cmp = compare(ref[b], ind, size=size, cond=max(1.0, fmax / max(np.abs(ind).max(), 1e-3)), c=8.0)
        assert cmp.ok, cmp.describe()
        cmp2 = compare(sparse[b], ind, size=size, cond=max(1.0, fmax / max(np.abs(ind).max(), 1e-3)), c=8.0)
        assert cmp2.ok, cmp2.describe()


@given(shape=SHAPES, N=st.integers(2, 5))
def test_parameter_count_is_exact(shape, N):
    d, n = shape
    c = build_single_layer(lambda X: np.cos(X.sum(axis=(1, 2)))[:, None, None] + X, d, n, 1.0 / N)
    w = export_weights(c)
    pc = parameter_count(d, n, N)
    assert sum(int(np.count_nonzero(v)) for v in w.values()) == pc["nonzero"]
    assert sum(int(v.size) for v in w.values()) == pc["dense"]
    assert w["W_1"].shape[0] == pc["hidden"] and w["W_Q"].shape[0] == pc["heads"]


def attention_like(X: np.ndarray) -> np.ndarray:
    """d = 1: y_k = sum_l softmax_l(x_k x_l) x_l; |dy_k/dx_l| sums to <= 2 + 1/4, so L = 9/4."""
    x = X[:, 0, :]
    S = x[:, :, None] * x[:, None, :]
    P = np.exp(S - S.max(axis=2, keepdims=True))
    P /= P.sum(axis=2, keepdims=True)
    return np.einsum("bkl,bl->bk", P, x)[:, None, :]


@given(kind=st.sampled_from(["sines", "attention"]), n=st.integers(1, 3), N=st.integers(2, 12),
       seed=st.integers(0, 10_000))
def test_modulus_bound_on_drawn_lipschitz_targets(kind, n, N, seed):
    """Claim 5: |T(X) - f(X)|_max <= L (delta/2 + eta) + tail on inputs in K (here: random inputs
    and inputs with one coordinate exactly on a face, which are in K)."""
    d = 1 if kind == "attention" else 1 + seed % 2
    if d * n > 4 or N ** (d * n) > 5000:
        N = 3
    if kind == "sines":
        f, L, fmax = sine_target(d, n, seed)
    else:
        f, L, fmax = attention_like, 2.25, 1.0
    c = build_single_layer(f, d, n, 1.0 / N)
    g = np.random.default_rng(seed)
    X = g.uniform(size=(20, d, n))
    X[::2].reshape(10, -1)[:, 0] = g.integers(1, N, size=10) / N
    err = np.abs(structured_forward(c, X) - f(X)).max()
    eta = LEAK_MARGIN * c.tau
    bound = L * (0.5 / N + eta) + 4 * d * n * (n + 1) * np.exp(-LEAK_MARGIN) * fmax
    assert err <= bound, f"error {err:.3e} > bound {bound:.3e} (ratio {err / bound:.3f})"


def test_corner_inputs_lose_mass():
    """Documented limit: two coordinates on faces at once -> all cell gates vanish -> output 0."""
    c = build_single_layer(lambda X: np.ones_like(X), 1, 2, 0.25)
    out = structured_forward(c, np.array([[[0.5, 0.25]]]))
    assert np.allclose(out, 0.0)


def test_soft_temperature_breaks_the_bound():
    """Extra negative control: tau comparable to delta spreads the gates and violates the bound."""
    f, L, _ = sine_target(1, 2, 3)
    c = build_single_layer(f, 1, 2, 1.0 / 32, tau=0.02)
    X = np.random.default_rng(0).uniform(size=(50, 1, 2))
    assert np.abs(structured_forward(c, X) - f(X)).max() > L * 0.5 / 32


@pytest.mark.parametrize("bad, exc", [
    (np.zeros((3, 2)), ValueError),            # wrong shape
    (np.full((1, 2), np.nan), ValueError),     # NaN
    (np.full((1, 2), 1.5), ValueError),        # outside [0, 1]
    (np.array([["a", "b"]]), TypeError),       # not numeric
])
def test_forward_validates_inputs(bad, exc):
    c = build_single_layer(lambda X: X, 1, 2, 0.5)
    with pytest.raises(exc):
        structured_forward(c, bad)
    with pytest.raises(exc):
        reference_forward(export_weights(c), bad)


def test_builder_validates_arguments():
    f = lambda X: X  # noqa: E731
    with pytest.raises(ValueError):
        build_single_layer(f, 1, 2, 0.3)  # 1/delta not an integer
    with pytest.raises(ValueError):
        build_single_layer(f, 0, 2, 0.5)
    with pytest.raises(ValueError):
        build_single_layer(f, 1, 2, 0.5, tau=-1.0)
    with pytest.raises(ValueError):
        build_single_layer(lambda X: X[:, :, :1], 1, 2, 0.5)  # wrong output shape
    with pytest.raises(ValueError):
        build_single_layer(f, 2, 3, 0.01)  # grid too large


def test_builder_rejects_delta_outside_zero_one_and_names_bad_sizes():
    """delta must lie in (0, 1]: 0 (which would divide by zero), negative values and values above 1
    raise the documented ValueError; the size checks name the size they reject."""
    f = lambda X: X  # noqa: E731
    for delta in (0.0, -0.5, 2.0, 1.5):
        with pytest.raises(ValueError, match=r"delta must be a number in \(0, 1\]"):
            build_single_layer(f, 1, 2, delta)
    for bad, name in (((0, 1, 2), "d"), ((1, 0, 2), "n"), ((1, 1, 0), "N")):
        with pytest.raises(ValueError, match=f"^{name} must be a positive int"):
            embedding_width(*bad)


def test_one_cell_grid_delta_one():
    """delta = 1 (N = 1): one cell, no attention heads, and the layer outputs f(centre) for every
    input; the exported W_1 has the documented shape (hidden, E), dense and sparse, although no
    unit reads the bias or sink channels."""
    f = lambda X: np.sin(X) + 1.0  # noqa: E731
    c = build_single_layer(f, 1, 2, 1.0)
    E = embedding_width(1, 2, 1)
    X = np.random.default_rng(0).uniform(size=(5, 1, 2))
    for sparse in (False, True):
        w = export_weights(c, sparse=sparse)
        assert w["W_1"].shape == (2 * 1 + 2, E) and w["W_2"].shape == (E, 2 * 1 + 2) and w["W_Q"].shape == (0, 1, E)
        np.testing.assert_array_equal(reference_forward(w, X), np.broadcast_to(f(np.full((1, 1, 2), 0.5)), X.shape))


def test_nan_delta_and_misshapen_weights_are_named():
    """delta = NaN is rejected by the builder's own check (mutation seed 3: with `and` in place of
    the first `or` it passed it); a mis-shaped sparse W_V is reported under its own name."""
    import scipy.sparse

    f = lambda X: X  # noqa: E731
    with pytest.raises(ValueError, match=r"delta must be a number in \(0, 1\]"):
        build_single_layer(f, 1, 2, float("nan"))
    w = export_weights(build_single_layer(f, 1, 2, 0.5), sparse=True)
    H, m = w["W_Q"].shape[0], w["W_Q"].shape[1]
    E = w["embed_x"].shape[0]
    assert H * m > 0
    w["W_V"] = scipy.sparse.csr_array((H * m, E + 1))
    with pytest.raises(ValueError, match=r"weights\['W_V'\] has shape"):
        reference_forward(w, np.full((1, 2), 0.25))


# --- mutation campaign seed 5 (branch mutC): every public function, defaults, layout, boundaries ----


def test_approximator_fields_centres_and_value_layout():
    """values[G] = f(X_G) with coordinate (i, p) of X at flat index p d + i; cell_centres is
    row-major; the default tau is 1e-6 delta; beta = 1/tau + LEAK_MARGIN (40)."""
    from constructions.universal.universal import cell_centres

    assert LEAK_MARGIN == 40.0
    np.testing.assert_array_equal(cell_centres(2, 2), [[0.25, 0.25], [0.25, 0.75], [0.75, 0.25], [0.75, 0.75]])
    np.testing.assert_array_equal(cell_centres(3, 1), [[1 / 6], [0.5], [5 / 6]])
    assert cell_centres(2, 3).dtype == np.float64 and cell_centres(2, 3).shape == (8, 3)
    c = build_single_layer(lambda X: X, 2, 2, 0.5)
    assert (c.d, c.n, c.N, c.D, c.delta) == (2, 2, 2, 4, 0.5)
    assert c.tau == 1e-6 / 2 and c.beta == 1 / c.tau + 40.0 and isinstance(c.tau, float)
    assert c.values.shape == (2, 2, 2, 2, 2, 2)
    cen = np.array([0.25, 0.75])
    for G in itertools.product(range(2), repeat=4):
        X = np.array([[cen[G[0]], cen[G[2]]], [cen[G[1]], cen[G[3]]]])   # X[i, p] = c_{G[p d + i]}
        np.testing.assert_array_equal(c.values[G], X)
    c2 = build_single_layer(lambda X: X, 1, 1, 1 / 3, tau=0.01)
    assert c2.tau == 0.01 and c2.N == 3
    assert build_single_layer(lambda X: X, 1, 1, 1).N == 1                  # an int delta = 1
    assert build_single_layer(lambda X: X, 1, 1, 0.25 + 1e-12).N == 4       # 1/N within 1e-9


def test_builder_messages_and_boundaries():
    f = lambda X: X  # noqa: E731
    for tau in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"^tau must be finite and positive"):
            build_single_layer(f, 1, 1, 0.5, tau=tau)
    for delta in (0.25 + 1e-8, 0.3, 0.4):
        with pytest.raises(ValueError, match=r"^delta must be 1/N for an integer N"):
            build_single_layer(f, 1, 1, delta)
    for delta in ("0.5", None, 1j):
        with pytest.raises(ValueError, match=r"^delta must be a number in \(0, 1\]"):
            build_single_layer(f, 1, 1, delta)
    with pytest.raises(ValueError, match=r"^grid too large: N\^D = 10\^7 cells"):
        build_single_layer(f, 1, 7, 0.1)
    with pytest.raises(ValueError, match=r"^d must be a positive int"):
        build_single_layer(f, 0, 1, 0.5)
    with pytest.raises(ValueError, match=r"^n must be a positive int"):
        build_single_layer(f, 1, 0, 0.5)
    with pytest.raises(ValueError, match=r"^target must map \(B, 1, 2\) to \(B, 1, 2\), got \(4, 1, 1\)"):
        build_single_layer(lambda X: X[:, :, :1], 1, 2, 0.5)
    with pytest.raises(ValueError, match=r"^target values at the cell centres are not finite"):
        build_single_layer(lambda X: X * np.inf, 1, 1, 0.5)
    for bad, name in (((0, 1, 2), "d"), ((1, 0, 2), "n"), ((1, 1, 0), "N"), ((1.5, 1, 2), "d")):
        with pytest.raises(ValueError, match=f"^{name} must be"):
            parameter_count(*bad)
    assert embedding_width(2, 3, 4) == 2 + 3 + 2 + 6 * 3 and embedding_width(1, 1, 1) == 4


def test_input_checks_are_named_and_inclusive():
    c = build_single_layer(lambda X: X, 1, 2, 0.5)
    w = export_weights(c)
    for fwd in (lambda X: structured_forward(c, X), lambda X: reference_forward(w, X)):
        assert fwd(np.array([[0.0, 1.0]])).shape == (1, 1, 2)            # the closed domain
        assert fwd(np.array([[[0, 1]], [[1, 0]]])).shape == (2, 1, 2)     # ints accepted
        for bad, exc, msg in ((np.array([[True, False]]), TypeError, r"^inputs must be a real numeric array"),
                              (np.array([[1j, 0]]), TypeError, r"^inputs must be a real numeric array"),
                              (np.array([[0.5, 0.5]], dtype=object), TypeError, r"^inputs must be a real numeric array"),
                              (np.zeros(2), ValueError, r"^inputs must have shape \(batch, 1, 2\) or \(1, 2\)"),
                              (np.zeros((1, 2, 1)), ValueError, r"^inputs must have shape"),
                              (np.array([[np.inf, 0]]), ValueError, r"^inputs must be finite"),
                              (np.array([[-1e-300, 0]]), ValueError, r"^inputs must lie in the compact domain"),
                              (np.array([[1 + 1e-15, 0]]), ValueError, r"^inputs must lie in the compact domain")):
            with pytest.raises(exc, match=msg):
                fwd(bad)


def test_exported_layout_entries():
    """The exported arrays hold the documented entries: embeddings, sink, read-out, the head
    (p, i, j) = (0, 0, 1)'s query/key/value/output, b_1's cell offsets, b_2 = 0; sparse=True
    stores the same W_1, W_2 as csr_array."""
    import scipy.sparse

    d, n, N = 1, 2, 3
    c = build_single_layer(lambda X: X + 1.0, d, n, 1 / N, tau=1e-3)
    w = export_weights(c)
    E = embedding_width(d, n, N)
    assert E == 1 + 2 + 2 + 2 * 2
    np.testing.assert_array_equal(w["embed_x"], np.eye(E, 1))
    np.testing.assert_array_equal(w["embed_pos"], np.eye(E, 2, -1))
    np.testing.assert_array_equal(w["embed_bias"], np.eye(E)[3])
    np.testing.assert_array_equal(w["sink"], np.eye(E)[3] + np.eye(E)[4])
    np.testing.assert_array_equal(w["readout"], np.eye(1, E))
    np.testing.assert_array_equal(w["b_2"], np.zeros(E))
    H = 2 * (N - 1)
    assert w["W_Q"].shape == (H, 1, E) and w["W_O"].shape == (H, E, 1)
    beta, tau = c.beta, c.tau
    # head 1 = (q = 0, j = 2): position 0's key gets beta - (2/3)/tau, x_0 gets 1/tau, the sink beta
    want_k = np.zeros(E)
    want_k[1], want_k[0], want_k[4] = beta - (2 / 3) / tau, 1 / tau, beta
    np.testing.assert_array_equal(w["W_K"][1, 0], want_k)
    np.testing.assert_array_equal(w["W_Q"][1, 0], np.eye(E)[3])
    np.testing.assert_array_equal(w["W_V"][1, 0], np.eye(E)[1])
    np.testing.assert_array_equal(w["W_O"][1, :, 0], np.eye(E)[5 + 1])
    # head 2 = (q = 1, i.e. position 1, j = 1): register 5 + 2
    want_k = np.zeros(E)
    want_k[2], want_k[0], want_k[4] = beta - (1 / 3) / tau, 1 / tau, beta
    np.testing.assert_array_equal(w["W_K"][2, 0], want_k)
    np.testing.assert_array_equal(w["W_O"][2, :, 0], np.eye(E)[5 + 2])
    cells = N**2
    G = np.array(list(itertools.product(range(N), repeat=2)))
    np.testing.assert_array_equal(w["b_1"][:2 * cells], np.tile((G == 0).sum(1) - 2, 2))
    np.testing.assert_array_equal(w["b_1"][2 * cells:], np.zeros(2))
    # unit of position 1, cell (2, 0): + S_2 of coordinate 0 (register 6), - S_1 of coordinate 1
    # (register 7), the position flag 2
    u = cells + 2 * N + 0
    row = np.zeros(E)
    row[6], row[7], row[2] = 1.0, -1.0, 1.0
    np.testing.assert_array_equal(w["W_1"][u], row)
    np.testing.assert_array_equal(w["W_1"][2 * cells], np.eye(E)[0])
    np.testing.assert_array_equal(w["W_1"][2 * cells + 1], -np.eye(E)[0])
    np.testing.assert_array_equal(w["W_2"][0, u], c.values[2, 0][0, 1])
    np.testing.assert_array_equal(w["W_2"][0, 2 * cells:], [-1.0, 1.0])
    ws = export_weights(c, sparse=True)
    for name in ("W_1", "W_2"):
        assert isinstance(ws[name], scipy.sparse.csr_array) and ws[name].dtype == np.float64
        np.testing.assert_array_equal(ws[name].toarray(), w[name])
    for name in set(w) - {"W_1", "W_2"}:
        np.testing.assert_array_equal(ws[name], w[name])


def test_reference_forward_blocks_sparse_and_b1_of_any_real_dtype():
    """Blocks of any size give bitwise the same output; sparse and dense weights agree; weights
    are converted to float64 as documented, so b_1 (and any weight) may be an int or an object
    array of exact numbers (Fractions): same output bitwise (the choice for mutant
    universal.x_reference_forward__mutmut_118 of seed 3). Non-finite / mis-shaped weights are named."""
    from fractions import Fraction

    c = build_single_layer(lambda X: np.sin(3 * X) + X.sum(axis=(1, 2))[:, None, None], 1, 2, 1 / 3)
    w = export_weights(c)
    X = np.random.default_rng(4).uniform(size=(7, 1, 2))
    ref = reference_forward(w, X)
    for block in (1, 19, 40, 10**9):
        np.testing.assert_array_equal(reference_forward(w, X, block=block), ref)
    np.testing.assert_array_equal(reference_forward(w, X[0]), ref[:1])
    ws = export_weights(c, sparse=True)
    np.testing.assert_allclose(reference_forward(ws, X), ref, rtol=0, atol=1e-12)
    b1 = w["b_1"]
    assert np.array_equal(b1, np.rint(b1))
    for alt in (b1.astype(np.int64), np.array([Fraction(int(v)) for v in b1], dtype=object)):
        np.testing.assert_array_equal(reference_forward(dict(w, b_1=alt), X), ref)
        np.testing.assert_array_equal(reference_forward(dict(ws, b_1=alt), X), reference_forward(ws, X))
    wo = dict(w, W_O=np.array(w["W_O"], dtype=object), b_2=w["b_2"].astype(np.int64))
    np.testing.assert_array_equal(reference_forward(wo, X), ref)
    bad = dict(w, W_1=w["W_1"].copy())
    bad["W_1"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^weights\['W_1'\] must be finite"):
        reference_forward(bad, X)
    badk = dict(w, W_K=np.full_like(w["W_K"], np.inf))
    with pytest.raises(ValueError, match=r"^weights\['W_K'\] must be finite"):
        reference_forward(badk, X)
    import scipy.sparse

    with pytest.raises(ValueError, match=r"^weights\['W_2'\] has shape"):
        reference_forward(dict(ws, W_2=scipy.sparse.csr_array(ws["W_2"].toarray()[:, :-1])), X)


def test_soft_thresholds_and_structured_forward_near_faces():
    """soft_thresholds is the head's softmax ratio (S_0 = 1, S_N = 0, leakage included), checked
    against a direct evaluation; near a face several cells share the mass and the cell-sparse
    forward still equals the dense one."""
    from constructions.universal.universal import soft_thresholds

    N, tau = 4, 0.01
    c = build_single_layer(lambda X: np.cos(X) + X[:, :, ::-1] ** 2, 1, 2, 1 / N, tau=tau)
    X = np.array([[[0.25 + 0.3 * tau, 0.6]], [[0.5, 0.75 - 0.5 * tau]], [[0.1, 0.9]], [[0.0, 1.0]]])
    S = soft_thresholds(c, X)
    assert S.shape == (4, 2, N + 1)
    np.testing.assert_array_equal(S[:, :, 0], 1.0)
    np.testing.assert_array_equal(S[:, :, N], 0.0)
    beta = c.beta
    for b in range(4):
        for p in range(2):
            for j in range(1, N):
                sel = np.exp(beta + (X[b, 0, p] - j / N) / tau - beta)
                others = np.exp(X[b, 0, 1 - p] / tau - beta)
                want = sel / (sel + 1.0 + others)
                assert abs(S[b, p, j] - want) <= 1e-13 * max(want, 1e-300) + 1e-300
    np.testing.assert_allclose(structured_forward(c, X), reference_forward(export_weights(c), X), rtol=0, atol=1e-11)
    pc = parameter_count(1, 2, 1)
    w1 = export_weights(build_single_layer(lambda X: X + 2.0, 1, 2, 1.0))
    assert sum(int(np.count_nonzero(v)) for v in w1.values()) == pc["nonzero"]
    assert sum(int(v.size) for v in w1.values()) == pc["dense"] and pc["heads"] == 0 and pc["width"] == 5


def test_non_int_sizes_are_value_errors_everywhere():
    """The module reports a non-int size as a ValueError (as its docstrings say), for every size of
    the builder and of the count helpers (mutation seed 5: universal x_build_single_layer__mutmut_21
    and x__check_sizes__mutmut_30 let n / N fall back to check_int's TypeError)."""
    f = lambda X: X  # noqa: E731
    for d, n, name in ((1.5, 1, "d"), (1, 1.5, "n"), (True, 1, "d"), (1, "2", "n")):
        with pytest.raises(ValueError, match=f"^{name} must be an int"):
            build_single_layer(f, d, n, 0.5)
    for args, name in (((1.5, 1, 2), "d"), ((1, 1.5, 2), "n"), ((1, 1, 2.0), "N"), ((1, 1, True), "N")):
        for fn in (embedding_width, parameter_count):
            with pytest.raises(ValueError, match=f"^{name} must be an int"):
                fn(*args)


def test_reference_forward_takes_nested_lists_and_names_bad_weights():
    """Every dense weight may be a nested list (converted as documented): bitwise the same output.
    Not a mapping -> TypeError; a missing key, a non-finite or mis-shaped dense weight -> ValueError
    naming it (a NaN in embed_x gave a silent NaN output, a list an AttributeError)."""
    c = build_single_layer(lambda X: np.sin(3 * X) + X.sum(axis=(1, 2))[:, None, None], 1, 2, 1 / 3)
    w = export_weights(c)
    X = np.random.default_rng(5).uniform(size=(3, 1, 2))
    ref = reference_forward(w, X)
    as_lists = {k: v.tolist() for k, v in w.items()}
    np.testing.assert_array_equal(reference_forward(as_lists, X), ref)
    with pytest.raises(TypeError, match=r"^weights must be a dict of arrays"):
        reference_forward(list(w.values()), X)
    with pytest.raises(ValueError, match=r"^weights is missing \['sink'\]"):
        reference_forward({k: v for k, v in w.items() if k != "sink"}, X)
    bad = dict(w, embed_x=np.full_like(w["embed_x"], np.nan))
    with pytest.raises(ValueError, match=r"^weights\['embed_x'\] must be finite"):
        reference_forward(bad, X)
    with pytest.raises(ValueError, match=r"^weights\['readout'\] has shape \(1, 2\), expected \(1, "):
        reference_forward(dict(w, readout=np.zeros((1, 2))), X)
    with pytest.raises(ValueError, match=r"^weights\['b_2'\] has shape"):
        reference_forward(dict(w, b_2=np.zeros(3)), X)
    with pytest.raises(TypeError, match=r"^weights\['sink'\] must be a real numeric array"):
        reference_forward(dict(w, sink=["a"] * len(w["sink"])), X)
    with pytest.raises(ValueError, match=r"^weights\['W_Q'\] has shape"):
        reference_forward(dict(w, W_Q=np.zeros((2, 2))), X)

"""Tests of constructions.universal.universal: the explicit single-layer approximator and its weight export.

The exported weights are run through an independent forward pass written here (plain loops over
heads, queries and keys), compared with the library's dense reference forward and with the
cell-sparse structured forward; the error bound is checked on hypothesis-drawn Lipschitz targets.
"""

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

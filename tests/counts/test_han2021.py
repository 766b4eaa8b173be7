"""constructions.counts.tnt and han2021.block_cost."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.counts import tnt as tn
from constructions.counts import tnt_macs, tnt_params
from theorems.counts._common import matrix_size, traced_macs
from theorems.registry import get


def test_paper_figures():
    assert tnt_macs(196, 384, 24, 16) == 429_305_856
    assert tnt_params(384, 24, 16) == 1_923_840
    assert tn.vit_block_macs_paper(196, 384) == 376_320_000


@settings(max_examples=10)  # each example traces a block
@given(n=st.integers(1, 12), d=st.integers(1, 16), c=st.integers(1, 8), m=st.integers(1, 6))
def test_formula_against_jaxpr(n, d, c, m):
    p = jax.eval_shape(lambda k: tn.init_tnt_block(d, c, m, k), jax.random.PRNGKey(0))
    macs, _ = traced_macs(lambda p, w, s: tn.tnt_block(p, w, s, 1, 1), p,
                          jax.ShapeDtypeStruct((n, m, c), jnp.float64), jax.ShapeDtypeStruct((n, d), jnp.float64))
    assert macs == tnt_macs(n, d, c, m)
    assert matrix_size(p) == tnt_params(d, c, m)


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (1.5, TypeError), (None, TypeError)])
def test_bad_sizes(bad, err):
    with pytest.raises(err):
        tnt_macs(bad, 1, 1, 1)
    with pytest.raises(err):
        tnt_macs(1, 1, 1, bad)
    with pytest.raises(err):
        tnt_params(1, bad, 1)


def test_claim_seed_5():
    claim = get("han2021.block_cost")
    assert claim.check("fast", 5).holds
    assert not any(v.holds for v in claim.run_controls("fast", 5).values())


def test_zero_sizes_count_nothing_and_errors_name_the_argument():
    # the formulas at a zero size (admissible: minimum 0), against the closed forms term by term
    assert tnt_macs(0, 384, 24, 16) == 0
    assert tnt_macs(196, 0, 24, 16) == 2 * 196 * 16 * 24 * (6 * 24 + 16)  # the inner transformer only
    assert tnt_macs(196, 384, 0, 16) == tnt_macs(196, 384, 24, 0) == 2 * 196 * 384 * (6 * 384 + 196)
    assert tnt_params(0, 24, 16) == 12 * 24 * 24 and tnt_params(384, 0, 16) == 12 * 384 * 384
    assert tn.vit_block_macs_paper(0, 384) == tn.vit_block_macs_paper(196, 0) == 0
    for fn, names in ((tnt_macs, "ndcm"), (tnt_params, "dcm"), (tn.vit_block_macs_paper, "nd")):
        for i, name in enumerate(names):
            args = [1] * len(names)
            args[i] = -1
            with pytest.raises(ValueError, match=rf"^{name} must be a non-negative int"):
                fn(*args)
    for i, name in enumerate("dcm"):
        args = [1, 1, 1]
        args[i] = 0
        with pytest.raises(ValueError, match=rf"^{name} must be a positive int"):
            tn.init_tnt_block(*args, jax.random.PRNGKey(0))


def test_tnt_block_rejects_mismatched_shapes():
    p = tn.init_tnt_block(6, 4, 2, jax.random.PRNGKey(0))
    words, sentences = jnp.ones((3, 2, 4)), jnp.ones((3, 6))
    # one wrong rank with a matching leading axis each, and a leading-axis mismatch
    for w, s in ((jnp.ones((3, 8)), sentences), (words, jnp.ones((3, 6, 1))), (words, sentences[:2])):
        with pytest.raises(ValueError, match="words must be"):
            tn.tnt_block(p, w, s, 1, 1)


def _np_ln(x, p, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * p["g"] + p["b"]


def _np_vit_block(p, x, heads):
    """One pre-LN block on x (tokens, dim), head by head (tanh GELU, as jax.nn.gelu's default)."""
    t, dim = x.shape
    e = dim // heads
    qkv = _np_ln(x, p["ln1"]) @ p["qkv"]["w"] + p["qkv"]["b"]
    q, k, v = qkv[:, :dim], qkv[:, dim:2 * dim], qkv[:, 2 * dim:]
    o = np.zeros_like(x)
    for h in range(heads):
        sl = slice(h * e, (h + 1) * e)
        s = q[:, sl] @ k[:, sl].T / np.sqrt(e)
        a = np.exp(s - s.max(1, keepdims=True))
        o[:, sl] = (a / a.sum(1, keepdims=True)) @ v[:, sl]
    x = x + o @ p["out"]["w"] + p["out"]["b"]
    u = _np_ln(x, p["ln2"]) @ p["fc1"]["w"] + p["fc1"]["b"]
    g = 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u ** 3)))
    return x + g @ p["fc2"]["w"] + p["fc2"]["b"]


def test_tnt_block_values_against_a_numpy_reference():
    # eqs. 3-6 written sentence by sentence and head by head in numpy; every parameter (LayerNorm
    # gains and biases included) random, so that each one reaches the output
    n, m, c, d, hi, ho = 3, 4, 4, 6, 2, 3
    # (the parameter tree's structure from init_tnt_block, traced only; jit: one compilation
    # instead of one per eager operation)
    p = jax.eval_shape(lambda k: tn.init_tnt_block(d, c, m, k), jax.random.PRNGKey(1))
    rng = np.random.default_rng(1)
    p = jax.tree_util.tree_map(lambda a: rng.normal(scale=0.5, size=a.shape), p)
    words, sentences = rng.normal(size=(n, m, c)), rng.normal(size=(n, d))
    w_out, s_out = jax.jit(lambda q, w, s: tn.tnt_block(q, w, s, hi, ho))(p, words, sentences)
    w_ref = np.stack([_np_vit_block(p["inner"], words[i], hi) for i in range(n)])
    z = sentences + _np_ln(w_ref, p["proj_ln"]).reshape(n, m * c) @ p["proj"]["w"] + p["proj"]["b"]
    s_ref = _np_vit_block(p["outer"], z, ho)
    # tolerance 1e3 eps: two blocks of O(10)-term sums on O(10) values, stated loosely, far below
    # any change of the maths (a mutated LayerNorm moves the outputs by O(1e-1))
    np.testing.assert_allclose(np.asarray(w_out), w_ref, rtol=0, atol=1e3 * np.finfo(float).eps * np.abs(w_ref).max())
    np.testing.assert_allclose(np.asarray(s_out), s_ref, rtol=0, atol=1e3 * np.finfo(float).eps * np.abs(s_ref).max())


def _check_dense_laws(p, shapes, name):
    # 0.02 N(0, 1) weights: sample sd within 5 standard errors (0.02 / sqrt(2 n)) of 0.02 and mean
    # within 5 x 0.02 / sqrt(n) of 0 (false failure < 1e-5 per matrix for a fresh key); zero biases
    for layer, shape in shapes.items():
        w, b = np.asarray(p[layer]["w"]), np.asarray(p[layer]["b"])
        assert w.shape == shape and w.dtype == np.float64, (name, layer)
        assert abs(w.std() - 0.02) < 5 * 0.02 / np.sqrt(2 * w.size), (name, layer)
        assert abs(w.mean()) < 5 * 0.02 / np.sqrt(w.size), (name, layer)
        np.testing.assert_array_equal(b, np.zeros(shape[1]), err_msg=f"{name} {layer}")


def test_init_vit_and_tnt_block_shapes_laws_and_defaults():
    import inspect

    assert inspect.signature(tn.init_vit_block).parameters["mlp_ratio"].default == 4
    d = 8
    p = jax.jit(lambda k: tn.init_vit_block(d, k))(jax.random.PRNGKey(2))  # one compilation, not one per draw
    _check_dense_laws(p, {"qkv": (d, 3 * d), "out": (d, d), "fc1": (d, 4 * d), "fc2": (4 * d, d)}, "vit")
    for ln in ("ln1", "ln2"):
        np.testing.assert_array_equal(np.asarray(p[ln]["g"]), np.ones(d))
        np.testing.assert_array_equal(np.asarray(p[ln]["b"]), np.zeros(d))
    mats = [np.asarray(p[k]["w"]).ravel() for k in ("qkv", "out", "fc1", "fc2")]
    assert np.max(np.abs(mats[2][: mats[3].size] - mats[3])) > 0.01  # fc1 and fc2 from their own keys
    q = jax.eval_shape(lambda k: tn.init_vit_block(2, k, mlp_ratio=3), jax.random.PRNGKey(0))
    assert q["fc1"]["w"].shape == (2, 6) and q["fc2"]["w"].shape == (6, 2)
    n_c, m, d = 4, 3, 8
    # init_tnt_block: its blocks are init_vit_block's and its proj is the same 0.02 N dense layer
    # (laws checked above); here its shapes (traced only: compiling its ten draws costs ~3 s CPU)
    t = jax.eval_shape(lambda k: tn.init_tnt_block(d, n_c, m, k), jax.random.PRNGKey(3))
    assert t["proj"]["w"].shape == (m * n_c, d) and t["proj"]["b"].shape == (d,)
    assert t["proj_ln"]["g"].shape == t["proj_ln"]["b"].shape == (n_c,)
    assert t["inner"]["qkv"]["w"].shape == (n_c, 3 * n_c) and t["outer"]["qkv"]["w"].shape == (d, 3 * d)
    assert jax.eval_shape(lambda k: tn.init_tnt_block(1, 1, 1, k), jax.random.PRNGKey(0))["proj"]["w"].shape == (1, 1)
    with pytest.raises(ValueError, match=r"^d must be a positive int"):
        tn.init_vit_block(0, jax.random.PRNGKey(0))


def test_vit_block_batched_values_and_heads():
    # batched over leading axes (attention over the tokens axis only), every parameter random
    d, heads = 6, 3
    rng = np.random.default_rng(4)
    p = jax.tree_util.tree_map(lambda a: rng.normal(scale=0.5, size=a.shape),
                               jax.eval_shape(lambda k: tn.init_vit_block(d, k), jax.random.PRNGKey(0)))
    x = rng.normal(size=(2, 3, 4, d))
    got = np.asarray(jax.jit(lambda q, y: tn.vit_block(q, y, heads))(p, x))
    ref = np.stack([np.stack([_np_vit_block(p, x[a, b], heads) for b in range(3)]) for a in range(2)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e3 * np.finfo(float).eps * np.abs(ref).max())
    with pytest.raises(ValueError, match=r"^dimension 6 is not divisible by heads = 4"):
        tn.vit_block(p, x, 4)


def test_tnt_block_default_heads_and_error_message():
    # heads_inner = 4, heads_outer = 6 by default: c = 4 and d = 6 allow one head per channel, and
    # the numpy reference with (4, 6) heads reproduces the default call
    n, m, c, d = 2, 3, 4, 6
    rng = np.random.default_rng(5)
    p = jax.tree_util.tree_map(lambda a: rng.normal(scale=0.5, size=a.shape),
                               jax.eval_shape(lambda k: tn.init_tnt_block(d, c, m, k), jax.random.PRNGKey(0)))
    words, sentences = rng.normal(size=(n, m, c)), rng.normal(size=(n, d))
    w_out, s_out = jax.jit(lambda q, w, s: tn.tnt_block(q, w, s))(p, words, sentences)
    w_ref = np.stack([_np_vit_block(p["inner"], words[i], 4) for i in range(n)])
    z = sentences + _np_ln(w_ref, p["proj_ln"]).reshape(n, m * c) @ p["proj"]["w"] + p["proj"]["b"]
    s_ref = _np_vit_block(p["outer"], z, 6)
    np.testing.assert_allclose(np.asarray(w_out), w_ref, rtol=0, atol=1e3 * np.finfo(float).eps * np.abs(w_ref).max())
    np.testing.assert_allclose(np.asarray(s_out), s_ref, rtol=0, atol=1e3 * np.finfo(float).eps * np.abs(s_ref).max())
    with pytest.raises(ValueError, match=r"^words must be \(n, m, c\) and sentences \(n, d\)"):
        tn.tnt_block(p, words[0], sentences)

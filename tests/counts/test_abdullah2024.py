"""constructions.counts.glu and the abdullah2024 claims."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from constructions.counts import glu
from theorems.registry import get


@pytest.mark.parametrize("variant", sorted(glu.GLU_VARIANTS))
def test_rows_are_independent(variant):
    p = glu.init_glu_block(5, 6, jax.random.PRNGKey(0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 5)))
    y = glu.glu_block(p, x, variant)
    for i in range(4):
        np.testing.assert_allclose(glu.glu_block(p, x[i:i + 1], variant)[0], y[i], rtol=1e-14, atol=1e-14)


def test_counts_and_errors():
    assert glu.glu_block_params(384, 1536) == 3 * 384 * 1536
    assert glu.mhsa_mlp_macs(197, 384, 1536) == 197 * (4 * 384**2 + 2 * 384 * 1536) + 2 * 197**2 * 384
    with pytest.raises(ValueError):
        glu.glu_block_macs(-1, 2, 2)
    with pytest.raises(TypeError):
        glu.glu_block_params(2.0, 2)
    with pytest.raises(ValueError):
        glu.glu_block(glu.init_glu_block(2, 2, jax.random.PRNGKey(0)), jnp.ones((2, 2)), "tanhglu")


@pytest.mark.slow  # a second seed of two claims: `python -m theorems sweep` covers seeds 0-19 of every claim
@pytest.mark.parametrize("cid", ["abdullah2024.no_token_mixing", "abdullah2024.block_counts"])
def test_claims_seed_4(cid):
    claim = get(cid)
    assert claim.check("fast", 4).holds
    assert not any(v.holds for v in claim.run_controls("fast", 4).values())


def test_zero_sizes_count_nothing_and_errors_name_the_argument():
    assert glu.glu_block_params(0, 1536) == glu.glu_block_params(384, 0) == 0
    assert glu.glu_block_macs(0, 384, 1536) == glu.glu_block_macs(197, 384, 0) == 0
    assert glu.mhsa_mlp_params(0, 1536) == 0 and glu.mhsa_mlp_params(384, 0) == 4 * 384**2
    assert glu.mhsa_mlp_macs(0, 384, 1536) == 0 and glu.mhsa_mlp_macs(197, 0, 1536) == 0
    assert glu.mhsa_mlp_macs(197, 384, 0) == 197 * 4 * 384**2 + 2 * 197**2 * 384
    for fn, names in ((glu.glu_block_params, "dh"), (glu.glu_block_macs, "ndh"), (glu.mhsa_mlp_params, "df"),
                      (glu.mhsa_mlp_macs, "ndf")):
        for i, name in enumerate(names):
            args = [1] * len(names)
            args[i] = -1
            with pytest.raises(ValueError, match=rf"^{name} must be a non-negative int"):
                fn(*args)


def test_init_glu_block_draws_every_weight_from_its_own_key():
    # gate, up (d, h) and down (h, d) hold d h numbers each; drawn from one key, two of them would be
    # the same standard normals up to scale (and a reshape for down)
    d, h = 4, 6
    p = glu.init_glu_block(d, h, jax.random.PRNGKey(0))
    z = {"gate": np.asarray(p["gate"]["w"]) * np.sqrt(d), "up": np.asarray(p["up"]["w"]) * np.sqrt(d),
         "down": np.asarray(p["down"]["w"]) * np.sqrt(h)}
    for a, b in (("gate", "up"), ("gate", "down"), ("up", "down")):
        assert np.max(np.abs(z[a].ravel() - z[b].ravel())) > 0.1, (a, b)
    np.testing.assert_array_equal(np.asarray(p["gate"]["b"]), 0.1)
    np.testing.assert_array_equal(np.asarray(p["up"]["b"]), 0.0)


def _np_glu_block(p, x, variant):
    """The GLU-MLP block of glu.py's docstring in numpy: LayerNorm (eps 1e-6), act(y W_g + b_g) *
    (y W_u + b_u), then W_o + b_o and the residual; GELU exact (erf), SiLU z sigmoid(z)."""
    from scipy.special import erf, expit

    act = {"glu": expit, "geglu": lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2))), "swiglu": lambda z: z * expit(z),
           "reglu": lambda z: np.maximum(z, 0.0)}[variant]
    p = jax.tree_util.tree_map(np.asarray, p)
    mu = x.mean(-1, keepdims=True)
    y = (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-6) * p["ln"]["g"] + p["ln"]["b"]
    h = act(y @ p["gate"]["w"] + p["gate"]["b"]) * (y @ p["up"]["w"] + p["up"]["b"])
    return x + h @ p["down"]["w"] + p["down"]["b"]


def test_glu_block_values_every_variant_and_the_default():
    # every parameter random (LayerNorm gains and biases too) so that each one reaches the output;
    # one float64 function, two summation orders: 100 eps of the output scale
    d, h = 5, 6
    g = np.random.default_rng(4)
    shapes = {"ln": {"g": d, "b": d}, "gate": {"w": (d, h), "b": h}, "up": {"w": (d, h), "b": h},
              "down": {"w": (h, d), "b": d}}
    p = {k: {n: jnp.asarray(g.normal(size=sh)) for n, sh in v.items()} for k, v in shapes.items()}
    x = g.normal(size=(3, d)) * 2.0
    assert sorted(glu.GLU_VARIANTS) == ["geglu", "glu", "reglu", "swiglu"]
    for variant in glu.GLU_VARIANTS:
        ref = _np_glu_block(p, x, variant)
        got = np.asarray(glu.glu_block(p, jnp.asarray(x), variant))
        np.testing.assert_allclose(got, ref, rtol=0, atol=100 * np.finfo(float).eps * (1 + np.abs(ref).max()), err_msg=variant)
    np.testing.assert_array_equal(glu.glu_block(p, jnp.asarray(x)), glu.glu_block(p, jnp.asarray(x), "swiglu"))
    with pytest.raises(ValueError, match=r"^variant must be one of \['geglu', 'glu', 'reglu', 'swiglu'\]"):
        glu.glu_block(p, jnp.asarray(x), "SwiGLU")
    with pytest.raises(ValueError, match=r"^x must be \(tokens, dim\)"):
        glu.glu_block(p, jnp.asarray(x[0]))


def test_init_glu_block_laws_shapes_and_sizes():
    # gate and up N(0, 1/d), down N(0, 1/h): each sample standard deviation within 5 standard errors
    # (sd / sqrt(2 n)) of its law, mean within 5 sd / sqrt(n) (false failure < 1e-5 each for a fresh
    # key; the key is fixed); biases 0.1 (gate), 0 (up, down); LayerNorm 1 and 0
    d, h = 16, 24
    p = glu.init_glu_block(d, h, jax.random.PRNGKey(5))
    for name, shape, sd in (("gate", (d, h), 1 / np.sqrt(d)), ("up", (d, h), 1 / np.sqrt(d)), ("down", (h, d), 1 / np.sqrt(h))):
        w = np.asarray(p[name]["w"])
        assert w.shape == shape and w.dtype == np.float64, name
        assert abs(w.std() - sd) < 5 * sd / np.sqrt(2 * w.size), name
        assert abs(w.mean()) < 5 * sd / np.sqrt(w.size), name
    for name, value, size in (("gate", 0.1, h), ("up", 0.0, h), ("down", 0.0, d)):
        b = np.asarray(p[name]["b"])
        assert b.shape == (size,) and b.dtype == np.float64
        np.testing.assert_array_equal(b, value)
    np.testing.assert_array_equal(np.asarray(p["ln"]["g"]), np.ones(d))
    np.testing.assert_array_equal(np.asarray(p["ln"]["b"]), np.zeros(d))
    q = glu.init_glu_block(1, 1, jax.random.PRNGKey(0))  # the minimum sizes 1
    assert q["down"]["w"].shape == (1, 1)
    for name, args in (("d", (0, 2)), ("h", (2, 0))):
        with pytest.raises(ValueError, match=rf"^{name} must be a positive int"):
            glu.init_glu_block(*args, jax.random.PRNGKey(0))

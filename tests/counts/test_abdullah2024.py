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

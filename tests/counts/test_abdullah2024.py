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

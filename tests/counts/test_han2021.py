"""constructions.counts.tnt and han2021.block_cost."""

import jax
import jax.numpy as jnp
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

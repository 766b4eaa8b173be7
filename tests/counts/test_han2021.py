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

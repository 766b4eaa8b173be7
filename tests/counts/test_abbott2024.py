"""abbott2024.vjp_contraction_cost: the counting helper and the claim."""

import jax
import jax.numpy as jnp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorems.counts._common import traced_macs
from theorems.registry import get


@given(i=st.integers(1, 5), j=st.integers(1, 5), k=st.integers(1, 5), b=st.integers(1, 3))
def test_binary_vjp_costs_the_forward(i, j, k, b):
    A = jax.ShapeDtypeStruct((b, i, j), jnp.float64)
    B = jax.ShapeDtypeStruct((b, j, k), jnp.float64)
    ct = jax.ShapeDtypeStruct((b, i, k), jnp.float64)
    fwd, _ = traced_macs(lambda a, c: jnp.einsum("bij,bjk->bik", a, c), A, B)
    assert fwd == b * i * j * k
    both, _ = traced_macs(lambda a, c, t: jax.vjp(lambda x, y: jnp.einsum("bij,bjk->bik", x, y), a, c)[1](t), A, B, ct)
    assert both - fwd == 2 * fwd


def test_counter_refuses_while_loops():
    with pytest.raises(ValueError, match="while"):
        traced_macs(lambda x: jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] @ c[1]), (0, x))[1],
                    jax.ShapeDtypeStruct((2, 2), jnp.float64))


def test_claim_seed_6():
    claim = get("abbott2024.vjp_contraction_cost")
    assert claim.check("fast", 6).holds
    assert not any(v.holds for v in claim.run_controls("fast", 6).values())

"""constructions.sequence.delta_rule against a plain loop written here (never the module against itself).

Hypothesis draws L (1..40), chunk (1..16, and chunk > L), d_k, d_v (1..6), the range of beta
(including beta outside [0, 1] and raw, unnormalised keys) and whether an initial state is given.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import constructions.sequence.delta_rule as dr
from numerics.tolerance import compare
from theorems.sequence.yang2024 import growth_factor, reference_delta_rule


def loop_reference(q, k, v, beta, S0=None, *, with_scale=False):
    """The plain-loop recurrence of theorems.sequence.yang2024 (the claims' independent reference); with_scale
    also returns the scales round-off is relative to."""
    o, S, scale, state_scale = reference_delta_rule(q, k, v, beta, S0)
    return (o, S, scale, state_scale) if with_scale else (o, S)


@st.composite
def problems(draw):
    L = draw(st.integers(1, 40))
    d_k = draw(st.integers(1, 6))
    d_v = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    lo, hi = draw(st.sampled_from([(0.0, 1.0), (0.0, 2.0), (0.5, 1.5), (-0.3, 0.3)]))
    unit = draw(st.booleans())
    with_state = draw(st.booleans())
    g = np.random.default_rng(seed)
    q = g.standard_normal((L, d_k))
    k = g.standard_normal((L, d_k))
    if unit:
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    else:
        k *= 0.6  # raw keys: beta ||k||^2 may exceed 2, but keep the growth moderate for L <= 40
    v = g.standard_normal((L, d_v))
    beta = g.uniform(lo, hi, size=L)
    S0 = g.standard_normal((d_v, d_k)) if with_state else None
    return q, k, v, beta, S0


def _tol(q, k, v, beta, S0, chunk):
    """As in theorems.sequence.yang2024: c = 4, size L (d_k + C), cond = growth * kappa (outputs) or
    growth * kappa_s (state), kappa = summand scale / max |result|."""
    L, d_k = k.shape
    o_ref, S_ref, scale, state_scale = loop_reference(q, k, v, beta, S0, with_scale=True)
    growth = growth_factor(k, beta)
    kappa = max(1.0, scale / max(np.max(np.abs(o_ref)), 1e-300))
    kappa_s = max(1.0, state_scale / max(np.max(np.abs(S_ref)), 1e-300))
    size = L * (d_k + min(chunk, L))
    return dict(size=size, cond=growth * kappa, c=4.0), dict(size=size, cond=growth * kappa_s, c=4.0)


@given(problems(), st.integers(1, 16))
def test_chunkwise_and_recurrent_match_loop(problem, chunk):
    q, k, v, beta, S0 = problem
    o_ref, S_ref = loop_reference(q, k, v, beta, S0)
    tol, tol_s = _tol(q, k, v, beta, S0, chunk)
    for o, S in (dr.recurrent(q, k, v, beta, S0), dr.chunkwise(q, k, v, beta, chunk, S0)):
        assert o.dtype == np.float64 and S.dtype == np.float64
        assert o.shape == o_ref.shape and S.shape == S_ref.shape
        c_o = compare(o, o_ref, **tol)
        c_s = compare(S, S_ref, **tol_s)
        assert c_o.ok, c_o.describe()
        assert c_s.ok, c_s.describe()


@given(problems(), st.integers(1, 16), st.data())
def test_split_with_state_passed_on(problem, chunk, data):
    q, k, v, beta, S0 = problem
    L = q.shape[0]
    if L < 2:
        return
    m = data.draw(st.integers(1, L - 1))
    o_ref, S_ref = loop_reference(q, k, v, beta, S0)
    tol, tol_s = _tol(q, k, v, beta, S0, chunk)
    o1, S1 = dr.chunkwise(q[:m], k[:m], v[:m], beta[:m], chunk, S0)
    o2, S2 = dr.chunkwise(q[m:], k[m:], v[m:], beta[m:], chunk, S1)
    assert compare(np.vstack([o1, o2]), o_ref, **tol).ok
    assert compare(S2, S_ref, **tol_s).ok


def test_chunk_longer_than_sequence_and_chunk_one():
    g = np.random.default_rng(3)
    q, k, v = g.standard_normal((5, 3)), g.standard_normal((5, 3)), g.standard_normal((5, 2))
    beta = g.uniform(0, 1, 5)
    o_ref, S_ref = loop_reference(q, k, v, beta)
    for chunk in (1, 5, 6, 100):
        o, S = dr.chunkwise(q, k, v, beta, chunk)
        np.testing.assert_allclose(o, o_ref, rtol=0, atol=1e-13 * np.max(np.abs(o_ref)))
        np.testing.assert_allclose(S, S_ref, rtol=0, atol=1e-13 * np.max(np.abs(S_ref)))


def test_householder_product_transpose_convention():
    """prod (I - b k k^T) (left to right) = I - K^T T^T K; the reversed product is I - K^T T K."""
    g = np.random.default_rng(5)
    K = g.standard_normal((6, 4))
    b = g.uniform(0, 1, 6)
    P = np.eye(4)
    for t in range(6):
        P = P @ (np.eye(4) - b[t] * np.outer(K[t], K[t]))
    T = dr.ut_transform(K, b)
    assert np.allclose(T, np.tril(T))
    np.testing.assert_allclose(np.eye(4) - K.T @ T.T @ K, P, atol=1e-13)
    np.testing.assert_allclose(np.eye(4) - K.T @ T @ K, P.T, atol=1e-13)
    assert np.max(np.abs((np.eye(4) - K.T @ T @ K) - P)) > 1e-3
    W, U = dr.wy_representation(K, g.standard_normal((6, 2)), b)
    np.testing.assert_allclose(W, T @ K, atol=1e-13)


def test_first_order_T_is_exact_only_up_to_two_tokens():
    """A is strictly lower triangular: (I + A)^{-1} = I - A exactly when C <= 2 (negative-control sanity)."""
    g = np.random.default_rng(7)
    for C, exact in ((2, True), (4, False)):
        K = g.standard_normal((C, 3))
        b = g.uniform(0.5, 1, C)
        A = np.tril(b[:, None] * (K @ K.T), -1)
        T1 = (np.eye(C) - A) * b[None, :]
        assert np.allclose(T1, dr.ut_transform(K, b), atol=1e-13) == exact


def test_flop_formulas_match_instrumented_count():
    g = np.random.default_rng(1)
    for L, C, d_k, d_v in [(1, 1, 1, 1), (13, 4, 3, 2), (16, 4, 2, 5), (7, 20, 4, 4)]:
        q, k, v = g.standard_normal((L, d_k)), g.standard_normal((L, d_k)), g.standard_normal((L, d_v))
        beta = g.uniform(0, 1, L)
        assert dr.counted_flops(q, k, v, beta, C) == dr.chunkwise_flops(L, C, d_k, d_v)
        assert dr.counted_flops(q, k, v, beta) == dr.recurrent_flops(L, d_k, d_v)
    # C | L closed form: L [C (5 d_k + 3 d_v + 1) + 6 d_k d_v + 2 d_v] + (L / C) d_k d_v
    L, C, d_k, d_v = 64, 8, 5, 3
    assert dr.chunkwise_flops(L, C, d_k, d_v) == L * (C * (5 * d_k + 3 * d_v + 1) + 6 * d_k * d_v + 2 * d_v) + (L // C) * d_k * d_v


def test_jax_inputs_and_gradients_agree():
    g = np.random.default_rng(11)
    L, d_k, d_v, C = 10, 3, 2, 4
    k = g.standard_normal((L, d_k))
    k /= np.linalg.norm(k, axis=1, keepdims=True)
    args = tuple(jnp.asarray(a) for a in (g.standard_normal((L, d_k)), k, g.standard_normal((L, d_v)),
                                            g.uniform(0, 1, L), g.standard_normal((d_v, d_k))))
    o, S = dr.chunkwise(*args[:4], C, args[4])
    assert isinstance(o, jax.Array) and o.dtype == jnp.float64
    o_ref, S_ref = loop_reference(*(np.asarray(a) for a in args[:4]), np.asarray(args[4]))
    np.testing.assert_allclose(np.asarray(o), o_ref, atol=1e-13)

    def loss(fn):
        def f(q, k, v, beta, S0):
            o, S = fn(q, k, v, beta, S0)
            return jnp.sum(jnp.tanh(o)) + jnp.sum(S ** 2)
        return jax.jit(jax.grad(f, argnums=(0, 1, 2, 3, 4)))

    g_rec = loss(dr.recurrent)(*args)
    g_chk = loss(lambda q, k, v, b, s: dr.chunkwise(q, k, v, b, C, s))(*args)
    for a, b in zip(g_chk, g_rec):
        assert a.dtype == jnp.float64
        c = compare(np.asarray(a), np.asarray(b), size=2 * L * (d_k + C), c=4.0)
        assert c.ok, c.describe()


def test_integer_and_float32_inputs_give_float64():
    q = np.ones((3, 2), dtype=np.float32)
    k = np.ones((3, 2), dtype=np.int64)
    o, S = dr.chunkwise(q, k, np.ones((3, 1)), np.full(3, 0.5, dtype=np.float32), 2)
    assert o.dtype == np.float64 and S.dtype == np.float64


@pytest.mark.parametrize("bad, exc", [
    (dict(q=np.ones((4, 3))), ValueError),                    # q / k shape mismatch
    (dict(v=np.ones((5, 2))), ValueError),                    # v has the wrong length
    (dict(beta=np.ones(5)), ValueError),                      # beta has the wrong length
    (dict(beta=np.ones((4, 1))), ValueError),                 # beta not 1-D
    (dict(k=np.ones(4)), ValueError),                         # k not 2-D
    (dict(S0=np.ones((2, 2))), ValueError),                   # S0 in the wrong layout (d_k x d_v)
    (dict(q=np.full((4, 2), np.nan)), ValueError),            # NaN
    (dict(beta=np.array([1.0, np.inf, 0.0, 0.0])), ValueError),
    (dict(S0=np.full((3, 2), np.nan)), ValueError),
    (dict(v=np.ones((4, 3), dtype=complex)), TypeError),
    (dict(q=np.ones((4, 2), dtype=bool)), TypeError),
    (dict(k=np.zeros((0, 2)), q=np.zeros((0, 2)), v=np.zeros((0, 3)), beta=np.zeros(0)), ValueError),
])
def test_validation(bad, exc):
    args = dict(q=np.ones((4, 2)), k=np.ones((4, 2)), v=np.ones((4, 3)), beta=np.ones(4), S0=np.ones((3, 2)))
    args.update(bad)
    with pytest.raises(exc):
        dr.recurrent(**args)
    with pytest.raises(exc):
        dr.chunkwise(chunk=2, **args)


@pytest.mark.parametrize("chunk, exc", [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)])
def test_chunk_validation(chunk, exc):
    with pytest.raises(exc):
        dr.chunkwise(np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 3)), np.ones(4), chunk)


def test_beta_outside_unit_interval_is_accepted():
    """beta in (0, 2) or negative is still a valid recurrence: computed, not rejected."""
    g = np.random.default_rng(2)
    q, k, v = g.standard_normal((6, 2)), g.standard_normal((6, 2)), g.standard_normal((6, 2))
    beta = np.array([1.9, -0.5, 3.0, 0.0, 1.0, 2.5])
    o_ref, S_ref = loop_reference(q, k, v, beta)
    o, S = dr.chunkwise(q, k, v, beta, 4)
    np.testing.assert_allclose(o, o_ref, rtol=1e-11, atol=1e-11 * np.max(np.abs(o_ref)))


@given(st.integers(1, 12), st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_wy_rows_follow_the_papers_recursions(C, d_k, d_v, seed):
    """w_r = beta_r (k_r - sum_{i<r} (k_r . k_i) w_i),  u_r = beta_r (v_r - sum_{i<r} (k_r . k_i) u_i)."""
    g = np.random.default_rng(seed)
    K = g.standard_normal((C, d_k))
    K /= np.linalg.norm(K, axis=1, keepdims=True)
    V = g.standard_normal((C, d_v))
    b = g.uniform(0, 1, C)
    W_ref, U_ref = np.zeros((C, d_k)), np.zeros((C, d_v))
    for r in range(C):
        W_ref[r] = b[r] * (K[r] - sum((K[r] @ K[i]) * W_ref[i] for i in range(r)))
        U_ref[r] = b[r] * (V[r] - sum((K[r] @ K[i]) * U_ref[i] for i in range(r)))
    W, U = dr.wy_representation(K, V, b)
    assert compare(W, W_ref, size=C * (d_k + C), c=4.0).ok
    assert compare(U, U_ref, size=C * (d_k + C), cond=max(1.0, np.max(np.abs(V)) / np.max(np.abs(U_ref))), c=4.0).ok


def test_piece_validation():
    with pytest.raises(ValueError):
        dr.ut_transform(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError):
        dr.ut_transform(np.ones(3), np.ones(3))
    with pytest.raises(ValueError):
        dr.chunk_update(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError):
        dr.chunkwise_flops(0, 4, 2, 2)


def test_a_jax_beta_alone_selects_the_jax_path_and_is_differentiable():
    """'JAX arrays when an input is a JAX array' holds for beta too: with numpy q, k, v the
    gradient in beta is traced, and equals the central difference of the numpy recurrence."""
    g = np.random.default_rng(6)
    q, k, v = g.normal(size=(5, 3)), g.normal(size=(5, 3)) / 2, g.normal(size=(5, 2))
    beta = g.uniform(0.2, 0.8, size=5)
    o, _ = dr.recurrent(q, k, v, jnp.asarray(beta))
    assert isinstance(o, jax.Array)
    grad = jax.grad(lambda b: jnp.sum(dr.recurrent(q, k, v, b)[0]))(jnp.asarray(beta))
    h = 1e-6
    fd = [(np.sum(dr.recurrent(q, k, v, beta + h * e)[0]) - np.sum(dr.recurrent(q, k, v, beta - h * e)[0])) / (2 * h)
          for e in np.eye(5)]
    # central difference: truncation h^2 |f'''| / 6 and rounding eps |f| / h, both below 1e-8 here
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=0, atol=1e-7)


def test_flop_counter_tallies_each_elementwise_op_under_its_name():
    c = dr.FlopCounter()
    a = np.ones((2, 3))
    c.add(a, a)
    c.sub(a, a)
    c.mul(a, a)
    assert c.by_op == {"add": 6, "sub": 6, "mul": 6} and c.flops == 18

"""constructions.splitting.particles: the attention and FFN fields against plain-loop references, the
Transformer/Macaron blocks against the fields composed by hand, equivariance, the jax path,
float64 outputs and input validation."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.splitting.particles import (
    ParticleSystem,
    attention_field,
    attention_sublayer,
    ffn_field,
    ffn_sublayer,
    macaron,
    macaron_layer,
    particle_field,
    random_particle_system,
    transformer,
    transformer_layer,
)
from numerics import EPS
from numerics.random import rng
from numerics.strategies import seeds


def _loop_attention(X, s):
    n = X.shape[0]
    out = np.zeros_like(X)
    for i in range(n):
        sc = np.array([float(np.dot(s.W_Q @ X[i], s.W_K @ X[j])) / math.sqrt(s.d_k) for j in range(n)])
        w = np.exp(sc - sc.max())
        w /= w.sum()
        for j in range(n):
            out[i] += w[j] * (s.W_V @ X[j])
    return out


def _loop_ffn(X, s):
    out = np.zeros_like(X)
    for i in range(X.shape[0]):
        u = s.W_1 @ X[i] + s.b_1
        a = np.tanh(u) if s.activation == "tanh" else 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u**3)))
        out[i] = s.W_2 @ a + s.b_2
    return out


@st.composite
def problems(draw):
    n, d = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    d_k, d_ff = draw(st.integers(1, 4)), draw(st.integers(1, 8))
    act = draw(st.sampled_from(("tanh", "gelu")))
    seed = draw(seeds())
    s = random_particle_system(d, d_k, d_ff, seed, activation=act)
    X = rng(seed + 1).standard_normal((n, d))
    return s, X


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# Tolerances: sums of at most n + d + d_k + d_ff terms per entry, c = 8 for exp/tanh round-off
# and the norm inequalities; cond = sum |terms| / |result| is bounded by 1 + max||x||^2 here
# (weights with variance 1/fan_in, tokens O(1)), taken as 100 with head-room.
def _tol(s, X):
    return 8 * EPS * (X.shape[0] + s.d + s.d_k + s.W_1.shape[0]) * 100


@given(problems())
def test_fields_match_loop_references(p):
    s, X = p
    assert _rel(attention_field(X, s), _loop_attention(X, s)) <= _tol(s, X)
    assert _rel(ffn_field(X, s), _loop_ffn(X, s)) <= _tol(s, X)
    assert _rel(attention_sublayer(X, s), attention_field(X, s)) <= _tol(s, X)
    assert _rel(ffn_sublayer(X, s), ffn_field(X, s)) <= _tol(s, X)


@given(problems())
def test_blocks_match_hand_composition(p):
    s, X = p
    h = 0.37
    Y = X + h * _loop_attention(X, s)
    Y = Y + h * _loop_ffn(Y, s)
    assert _rel(transformer_layer(X, s, h), Y) <= 10 * _tol(s, X)
    Z = X + 0.5 * h * _loop_ffn(X, s)
    Z = Z + h * _loop_attention(Z, s)
    Z = Z + 0.5 * h * _loop_ffn(Z, s)
    assert _rel(macaron_layer(X, s, h), Z) <= 10 * _tol(s, X)


@given(problems(), seeds())
def test_attention_is_permutation_equivariant(p, seed):
    s, X = p
    perm = rng(seed).permutation(X.shape[0])
    assert _rel(attention_field(X[perm], s), attention_field(X, s)[perm]) <= _tol(s, X)


def test_single_token_attends_to_itself():
    s = random_particle_system(3, 2, 4, 0)
    x = rng(1).standard_normal((1, 3))
    assert _rel(attention_field(x, s), x @ s.W_V.T) <= 4 * EPS


def test_zero_step_and_stacks():
    s = random_particle_system(3, 2, 5, 2)
    X = rng(3).standard_normal((4, 3))
    np.testing.assert_array_equal(transformer_layer(X, s, 0.0), X)
    np.testing.assert_array_equal(macaron_layer(X, s, 0.0), X)
    np.testing.assert_array_equal(transformer(X, s, 0.5, 1), transformer_layer(X, s, 0.5))
    np.testing.assert_array_equal(macaron(X, s, 0.5, 2), macaron_layer(macaron_layer(X, s, 0.25), s, 0.25))
    assert _rel(particle_field(X, s), attention_field(X, s) + ffn_field(X, s)) == 0.0


def test_jax_path_agrees_with_numpy():
    for act in ("tanh", "gelu"):
        s = random_particle_system(4, 3, 6, 7, activation=act)
        X = rng(8).standard_normal((5, 4))
        for field in (attention_field, ffn_field):
            got = np.asarray(field(jnp.asarray(X), s, xp=jnp))
            assert got.dtype == np.float64
            assert _rel(got, field(X, s)) <= 1e3 * EPS


def test_outputs_are_float64():
    s = random_particle_system(2, 2, 3, 0)
    for X in (np.ones((3, 2), dtype=np.float32), np.ones((3, 2), dtype=np.int64)):
        for fn in (attention_field, ffn_field, particle_field, attention_sublayer, ffn_sublayer):
            assert fn(X, s).dtype == np.float64
        assert transformer_layer(X, s, 1).dtype == np.float64
        assert macaron(X, s, 1.0, 3).dtype == np.float64


def test_validation():
    s = random_particle_system(3, 2, 4, 0)
    X = np.ones((2, 3))
    with pytest.raises(ValueError):
        attention_field(np.ones((2, 4)), s)  # wrong token dimension
    with pytest.raises(ValueError):
        ffn_field(np.ones(3), s)  # not 2-D
    with pytest.raises(ValueError):
        transformer_layer(np.array([[1.0, np.nan, 0.0]]), s, 0.1)
    with pytest.raises(TypeError):
        macaron_layer(np.ones((2, 3), dtype=complex), s, 0.1)
    with pytest.raises(TypeError):
        attention_field(X, "weights")
    with pytest.raises(TypeError):
        transformer_layer(X, s, "0.1")
    with pytest.raises(ValueError):
        transformer_layer(X, s, float("inf"))
    with pytest.raises(ValueError):
        transformer(X, s, 1.0, 0)
    with pytest.raises(ValueError):
        random_particle_system(0, 2, 3, 0)
    with pytest.raises(ValueError):
        random_particle_system(3, 2, 3, 0, scale=-1.0)
    with pytest.raises(ValueError):
        random_particle_system(3, 2, 3, 0, activation="relu")
    with pytest.raises(ValueError):
        ParticleSystem(W_Q=np.ones((2, 3)), W_K=np.ones((2, 4)), W_V=np.eye(3), W_1=np.ones((4, 3)),
                       b_1=np.zeros(4), W_2=np.ones((3, 4)), b_2=np.zeros(3))
    with pytest.raises(ValueError):
        ParticleSystem(W_Q=np.ones((2, 3)), W_K=np.ones((2, 3)), W_V=np.eye(3), W_1=np.ones((4, 3)),
                       b_1=np.full(4, np.inf), W_2=np.ones((3, 4)), b_2=np.zeros(3))


def test_random_particle_system_defaults_are_pinned():
    """The documented distribution, including the bias scale scale/2 and the default scale 1, is
    part of the public contract: reproduce the draws from the same generator."""
    import inspect

    from constructions.splitting.particles import random_particle_system

    assert inspect.signature(random_particle_system).parameters["scale"].default == 1.0
    assert inspect.signature(random_particle_system).parameters["activation"].default == "tanh"
    d, d_k, d_ff, seed = 3, 2, 5, 11
    for scale in (1.0, 0.3):
        kw = {} if scale == 1.0 else {"scale": scale}
        p = random_particle_system(d, d_k, d_ff, seed, **kw)
        g = np.random.default_rng(seed)

        def w(rows, cols, g=g, scale=scale):
            return scale * g.standard_normal((rows, cols)) / np.sqrt(cols)

        expected = {"W_Q": w(d_k, d), "W_K": w(d_k, d), "W_V": w(d, d), "W_1": w(d_ff, d),
                    "b_1": scale * 0.5 * g.standard_normal(d_ff), "W_2": w(d, d_ff),
                    "b_2": scale * 0.5 * g.standard_normal(d)}
        for name, value in expected.items():
            np.testing.assert_array_equal(getattr(p, name), value, err_msg=name)


def test_validation_of_sizes_and_empty_token_sets():
    """Sizes must be ints (a bool or a float is not a size, even when it equals one), and a token set
    needs n >= 1 rows: an empty (0, d) array is rejected by every field, not returned empty."""
    for bad in (True, 2.0):
        for pos in range(3):
            sizes = [3, 2, 4]
            sizes[pos] = bad
            with pytest.raises(ValueError, match="positive int"):
                random_particle_system(*sizes, 0)
    s = random_particle_system(3, 2, 4, 0)
    for fn in (attention_field, ffn_field, particle_field, attention_sublayer, ffn_sublayer):
        with pytest.raises(ValueError, match="n >= 1"):
            fn(np.ones((0, 3)), s)
    with pytest.raises(ValueError, match="n >= 1"):
        ffn_field(jnp.ones((0, 3)), s, xp=jnp)


def test_scale_zero_and_non_finite_tokens_are_rejected_by_every_field():
    """scale must be > 0 (scale = 0 would give an all-zero system), and each field validates its
    tokens itself (a NaN token raises in attention_field / ffn_field / particle_field, and a nested
    list is read as a float64 array), not only the layers that call them."""
    with pytest.raises(ValueError, match="scale must be positive"):
        random_particle_system(3, 2, 3, 0, scale=0.0)
    s = random_particle_system(3, 2, 4, 0)
    bad = np.ones((2, 3))
    bad[1, 2] = np.nan
    for fn in (attention_field, ffn_field, particle_field):
        with pytest.raises(ValueError, match="finite"):
            fn(bad, s)
        X = [[0.1, -0.2, 0.3], [0.5, 0.0, -1.0]]
        np.testing.assert_array_equal(fn(X, s), fn(np.array(X), s))


def test_particle_field_traces_under_jax_jit_and_names_d():
    """particle_field(xp=jnp) passes xp to both sub-fields, so it traces under jax.jit (mutation
    seed 3: the feed-forward part fell back to numpy and failed on a tracer); same value as the
    numpy path to 64 eps; the size check names d."""
    import jax

    from constructions.splitting.particles import particle_field, random_particle_system

    s = random_particle_system(3, 2, 4, 0)
    X = np.random.default_rng(1).standard_normal((5, 3))
    got = np.asarray(jax.jit(lambda Z: particle_field(Z, s, xp=jnp))(jnp.asarray(X)))
    want = particle_field(X, s)
    np.testing.assert_allclose(got, want, rtol=0, atol=64 * np.finfo(np.float64).eps * (1 + np.abs(want).max()))
    with pytest.raises(ValueError, match=r"^d must be"):
        random_particle_system(0, 2, 4, 0)

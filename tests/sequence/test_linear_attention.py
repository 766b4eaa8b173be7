"""constructions.sequence.linear_attention against the definition written here as a double loop."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import constructions.sequence.linear_attention as la
from numerics.tolerance import compare


def definition(q, k, v, phi, normalize):
    fq, fk = phi(q), phi(k)
    o = np.zeros((q.shape[0], v.shape[1]))
    mag = 0.0
    for i in range(q.shape[0]):
        a = np.array([fq[i] @ fk[j] for j in range(i + 1)])
        o[i] = a @ v[: i + 1] / (a.sum() if normalize else 1.0)
        mag = max(mag, np.abs(a) @ np.max(np.abs(v[: i + 1]), axis=1) / (abs(a.sum()) if normalize else 1.0))
    return o, mag


@st.composite
def problems(draw):
    L, d_k, d_v = draw(st.integers(1, 40)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    g = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    return g.standard_normal((L, d_k)), g.standard_normal((L, d_k)), g.standard_normal((L, d_v))


@given(problems(), st.sampled_from([("elu", True), ("elu", False), ("id", False)]))
def test_parallel_and_recurrent_match_definition(problem, mode):
    q, k, v = problem
    phi = la.elu_plus_one if mode[0] == "elu" else la.identity_map
    normalize = mode[1]
    ref, mag = definition(q, k, v, phi, normalize)
    cond = max(1.0, mag / max(np.max(np.abs(ref)), 1e-300))
    tol = dict(size=q.shape[1] + q.shape[0] + 1, cond=cond, c=4.0)
    o_par = la.causal_parallel(q, k, v, feature_map=phi, normalize=normalize)
    o_rec, S, z = la.causal_recurrent(q, k, v, feature_map=phi, normalize=normalize)
    assert o_par.dtype == np.float64 and o_rec.dtype == np.float64
    assert S.shape == (v.shape[1], q.shape[1]) and z.shape == (q.shape[1],)
    for o in (o_par, o_rec):
        c = compare(o, ref, **tol)
        assert c.ok, c.describe()


@given(problems(), st.data())
def test_recurrent_state_passes_across_a_split(problem, data):
    q, k, v = problem
    L = q.shape[0]
    if L < 2:
        return
    m = data.draw(st.integers(1, L - 1))
    whole, _, _ = la.causal_recurrent(q, k, v)
    o1, S, z = la.causal_recurrent(q[:m], k[:m], v[:m])
    o2, _, _ = la.causal_recurrent(q[m:], k[m:], v[m:], S0=S, z0=z)
    np.testing.assert_allclose(np.vstack([o1, o2]), whole, rtol=0, atol=1e-13 * np.max(np.abs(whole)))


def test_acausal_and_off_by_one_masks_differ():
    g = np.random.default_rng(0)
    q, k, v = g.standard_normal((6, 3)), g.standard_normal((6, 3)), g.standard_normal((6, 2))
    o = la.causal_parallel(q, k, v)
    for M in (np.ones((6, 6)), la.causal_mask(6, 1)):
        assert np.max(np.abs(la.causal_parallel(q, k, v, mask=M) - o)) > 1e-3


def test_elu_plus_one_is_positive_and_continuous():
    x = np.array([-50.0, -1.0, -1e-12, 0.0, 1e-12, 2.0])
    f = la.elu_plus_one(x)
    assert np.all(f > 0) and f.dtype == np.float64
    np.testing.assert_allclose(f, np.where(x > 0, x + 1, np.exp(x)))


@pytest.mark.parametrize("bad, exc", [
    (dict(q=np.ones((4, 3))), ValueError),
    (dict(v=np.ones((5, 2))), ValueError),
    (dict(k=np.ones(4)), ValueError),
    (dict(q=np.full((4, 2), np.nan)), ValueError),
    (dict(v=np.ones((4, 2), dtype=complex)), TypeError),
    (dict(k=np.array([["a", "b"]] * 4)), TypeError),
])
def test_validation(bad, exc):
    args = dict(q=np.ones((4, 2)), k=np.ones((4, 2)), v=np.ones((4, 2)))
    args.update(bad)
    with pytest.raises(exc):
        la.causal_parallel(**args)
    with pytest.raises(exc):
        la.causal_recurrent(**args)


def test_state_and_mask_validation():
    q = np.ones((3, 2))
    with pytest.raises(ValueError):
        la.causal_recurrent(q, q, q, S0=np.ones((3, 3)))
    with pytest.raises(ValueError):
        la.causal_parallel(q, q, q, mask=np.ones((2, 2)))
    with pytest.raises(ValueError):  # an all-zero mask row leaves the normaliser zero
        la.causal_parallel(q, q, q, mask=np.zeros((3, 3)))


def test_defaults_are_elu_plus_one_and_normalised():
    """The documented defaults (feature_map = elu + 1, normalize = True) of both forms, against the
    double-loop definition with phi written here."""
    g = np.random.default_rng(4)
    q, k, v = g.normal(size=(6, 3)), g.normal(size=(6, 3)), g.normal(size=(6, 2))
    ref, mag = definition(q, k, v, lambda x: np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0))), True)
    for o in (la.causal_parallel(q, k, v), la.causal_recurrent(q, k, v)[0]):
        # sums of <= 6 terms of phi products: c = 8, size 6 * 3
        np.testing.assert_allclose(o, ref, rtol=0, atol=8 * np.finfo(float).eps * 18 * max(mag, 1.0))

"""numerics.streaming: chunked softmax attention with a running log-sum-exp equals the dense
formula to a derived tolerance, for any chunking, with logits far beyond exp's range."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.streaming import (
    array_chunks,
    dense_attention,
    streaming_attention,
    streaming_softmax_average,
    streaming_tolerance,
)


def _problem(seed, m, n, dk, dv, logit_scale=1.0, weighted=True):
    g = np.random.default_rng(seed)
    q = logit_scale * g.standard_normal((m, dk))
    k = g.standard_normal((n, dk))
    v = g.standard_normal((n, dv))
    w = g.uniform(0.0, 2.0, n) if weighted else None
    return q, k, v, w


def _loop_reference(q, k, v, w, scale):
    """Plain loops with math.fsum-level care: max-shift, then sums in float64 over python floats."""
    out = np.empty((q.shape[0], v.shape[1]))
    w = np.ones(k.shape[0]) if w is None else w
    for i in range(q.shape[0]):
        s = [scale * float(np.dot(q[i], k[j])) for j in range(k.shape[0])]
        m = max(s[j] for j in range(k.shape[0]) if w[j] > 0)
        p = [w[j] * np.exp(s[j] - m) for j in range(k.shape[0])]
        den = sum(p)
        out[i] = sum(p[j] * v[j] for j in range(k.shape[0])) / den
    return out


@given(n=st.integers(1, 300), chunk=st.integers(1, 400), m=st.integers(1, 5), dk=st.integers(1, 6),
       dv=st.integers(1, 4), seed=st.integers(0, 2**16), weighted=st.booleans(),
       logit=st.sampled_from([0.1, 1.0, 30.0, 1e3]))
def test_streaming_matches_dense_and_loops(n, chunk, m, dk, dv, seed, weighted, logit):
    q, k, v, w = _problem(seed, m, n, dk, dv, logit, weighted)
    if weighted and not np.all(w > 0):
        w[0] = 1.0
    scale = 1.0 / np.sqrt(dk)
    got = streaming_attention(q, k, v, weights=w, chunk=chunk, scale=scale)
    dense = dense_attention(q, k, v, weights=w, scale=scale)
    tol = streaming_tolerance(q, k, v, weights=w, chunk=chunk, scale=scale)
    assert got.dtype == np.float64
    denom = np.maximum(np.max(np.abs(dense), axis=1), 1e-300)
    rel = np.max(np.abs(got - dense), axis=1) / denom
    assert np.all(rel <= tol), f"streaming vs dense: worst ratio {np.max(rel / tol):.3g}"
    if n * m <= 400:
        ref = _loop_reference(q, k, v, w, scale)
        rel2 = np.max(np.abs(got - ref), axis=1) / np.maximum(np.max(np.abs(ref), axis=1), 1e-300)
        assert np.all(rel2 <= tol), f"streaming vs loops: worst ratio {np.max(rel2 / tol):.3g}"


def test_extreme_logits_where_naive_exp_overflows():
    q, k, v, _ = _problem(0, 3, 257, 4, 2, logit_scale=500.0)
    with np.errstate(over="ignore", invalid="ignore"):
        s = q @ k.T
        naive = (np.exp(s) @ v) / np.exp(s).sum(axis=1, keepdims=True)
    assert not np.all(np.isfinite(naive))  # the naive formula overflows here
    got = streaming_attention(q, k, v, chunk=16)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, dense_attention(q, k, v), rtol=0, atol=1e-12 * np.max(np.abs(v)))


def test_chunk_larger_than_n_and_lazy_generator():
    q, k, v, w = _problem(1, 2, 10, 3, 2)
    a = streaming_attention(q, k, v, weights=w, chunk=1000)
    b = streaming_softmax_average(q, (c for c in array_chunks(k, v, w, chunk=3)))
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_zero_weights_are_ignored():
    q, k, v, w = _problem(2, 2, 20, 3, 2)
    w[5:] = 0.0
    np.testing.assert_allclose(streaming_attention(q, k, v, weights=w, chunk=4),
                               dense_attention(q[:, :], k[:5], v[:5], weights=w[:5]), rtol=1e-13)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_chunk_must_be_positive_int(bad):
    q, k, v, _ = _problem(0, 2, 5, 3, 2)
    with pytest.raises(ValueError, match="chunk"):
        streaming_attention(q, k, v, chunk=bad)


def test_input_validation():
    q, k, v, w = _problem(0, 2, 5, 3, 2)
    with pytest.raises(ValueError, match="columns"):
        streaming_attention(q, k[:, :2], v, chunk=2)
    with pytest.raises(ValueError, match="same number of rows"):
        streaming_attention(q, k, v[:4], chunk=2)
    kn = k.copy()
    kn[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        streaming_attention(q, kn, v, chunk=2)
    with pytest.raises(ValueError, match="non-negative"):
        streaming_attention(q, k, v, weights=-w, chunk=2)
    with pytest.raises(ValueError, match="positive weight"):
        streaming_attention(q, k, v, weights=np.zeros(5), chunk=2)
    with pytest.raises(ValueError, match="at least one key"):
        streaming_attention(q, k[:0], v[:0], chunk=2)
    with pytest.raises(TypeError):
        streaming_attention(q.astype(object), k, v, chunk=2)
    with pytest.raises(ValueError, match="2-D"):
        dense_attention(q[0], k, v)


@pytest.mark.parametrize("attend", ["dense", "streaming"])
def test_overflowing_logits_raise_a_truthful_error(attend):
    """Issue 11, section 4: finite q, k whose product overflows used to be reported as 'every query
    needs at least one key of positive weight'. Large but representable logits are exact (the
    running maximum), overflowing ones raise an error that says so."""
    q = np.array([[1e200, 0.0]])
    k = np.array([[1e200, 0.0], [0.0, 1.0]])
    v = np.array([[1.0], [2.0]])
    fn = dense_attention if attend == "dense" else (lambda *a, **kw: streaming_attention(*a, chunk=1, **kw))
    with pytest.raises(ValueError, match="logits overflow float64") as err:
        fn(q, k, v)
    assert "positive weight" not in str(err.value)
    with pytest.raises(ValueError, match="logits overflow float64"):  # inf - inf inside the dot: NaN
        fn(np.array([[1e200, 1e200]]), np.array([[1e200, -1e200], [0.0, 1.0]]), v)
    # logits of 1e300 are representable: the softmax is one-hot on the larger key, exactly
    np.testing.assert_array_equal(fn(np.array([[1e150, 0.0]]), k * [[1e-50], [1.0]], v), [[1.0]])
    np.testing.assert_array_equal(fn(np.array([[-1e150, 0.0]]), k * [[1e-50], [1.0]], v), [[2.0]])

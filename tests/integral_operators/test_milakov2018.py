"""milakov2018: the online normaliser (numerics.streaming) against scipy's dense softmax over drawn
sizes, chunkings and logit scales; the no-rescale control differs whenever the maximum grows."""

import numpy as np
import scipy.special
from hypothesis import given
from hypothesis import strategies as st

from numerics.streaming import streaming_attention, streaming_tolerance
from theorems.integral_operators.milakov2018 import _chunks, _no_rescale_average


@given(st.integers(1, 300), st.integers(1, 64), st.integers(1, 6), st.sampled_from([0.1, 1.0, 50.0, 1e5]),
       st.integers(0, 2**31 - 1))
def test_streaming_equals_scipy_softmax(n, chunk, d, scale, seed):
    g = np.random.default_rng(seed)
    q, k, v = g.standard_normal((3, d)), g.standard_normal((n, d)), g.standard_normal((n, 2))
    got = streaming_attention(q, k, v, chunk=chunk, scale=scale)
    assert got.dtype == np.float64
    ref = scipy.special.softmax(scale * q @ k.T, axis=1) @ v
    rel = np.max(np.abs(got - ref), axis=1) / np.max(np.abs(ref), axis=1)
    tol = streaming_tolerance(q, k, v, chunk=chunk, scale=scale)
    assert np.all(rel <= tol), float(np.max(rel / tol))


def test_no_rescale_control_is_wrong_when_the_maximum_grows():
    q = np.array([[1.0]])
    k = np.array([[0.0], [5.0]])  # the second chunk raises the maximum
    v = np.array([[1.0], [2.0]])
    lw = np.zeros(2)
    ref = scipy.special.softmax(q @ k.T, axis=1) @ v
    bad = _no_rescale_average(q, _chunks(k, v, lw, 1))
    assert abs(bad[0, 0] - ref[0, 0]) > 0.4

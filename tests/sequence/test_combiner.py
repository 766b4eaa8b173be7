"""constructions.sequence.combiner against the entry-by-entry reference of theorems.sequence.ren2021 and softmax."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import constructions.sequence.combiner as cb
from numerics.tolerance import compare
from theorems.sequence.ren2021 import causal_softmax, reference_matrix


@st.composite
def problems(draw):
    L, span, d, d_v = draw(st.integers(1, 40)), draw(st.integers(1, 8)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    g = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    pool = draw(st.sampled_from(["max", "mean"]))
    return g.standard_normal((L, d)), g.standard_normal((L, d)), g.standard_normal((L, d_v)), span, pool


def _cond(q, k, v, o_ref):
    lg = 1.0 + np.max(np.abs(q @ k.T)) / math.sqrt(q.shape[1])
    return lg, max(1.0, lg * np.max(np.abs(v)) / max(np.max(np.abs(o_ref)), 1e-300))


@given(problems())
def test_factorised_equals_reference_matrix_times_v(problem):
    q, k, v, span, pool = problem
    L, d = q.shape
    A_ref = reference_matrix(q, k, span, pool)
    o_ref = A_ref @ v
    lg, cond_o = _cond(q, k, v, o_ref)
    o, counts = cb.combiner_fixed(q, k, v, span, pool=pool, return_counts=True)
    assert o.dtype == np.float64 and o.shape == o_ref.shape
    c = compare(o, o_ref, size=d + L + 4, cond=cond_o, c=4.0)
    assert c.ok, c.describe()
    A = cb.combiner_fixed_matrix(q, k, span, pool=pool)
    c = compare(A, A_ref, size=d + L + 4, cond=lg, c=4.0)
    assert c.ok, c.describe()
    assert counts == cb.logit_counts(L, span)


@given(problems())
def test_rows_stochastic_causal_full_support(problem):
    q, k, _, span, pool = problem
    L = q.shape[0]
    A = cb.combiner_fixed_matrix(q, k, span, pool=pool)
    assert compare(A.sum(axis=1), np.ones(L), size=L + 4, c=2.0).ok
    lower = np.tril(np.ones((L, L), dtype=bool))
    assert np.all(A[lower] > 0) and np.all(A[~lower] == 0)


@given(problems())
def test_off_diagonal_blocks_have_rank_one(problem):
    q, k, _, span, pool = problem
    L = q.shape[0]
    A = cb.combiner_fixed_matrix(q, k, span, pool=pool)
    for a in range(1, -(-L // span)):
        rows = slice(a * span, min((a + 1) * span, L))
        for r in range(a):
            block = A[rows, r * span:(r + 1) * span]
            s = np.linalg.svd(block, compute_uv=False)
            if s.size > 1:
                assert s[1] <= 2 * np.finfo(float).eps * max(block.shape) * s[0]


@given(problems())
def test_span_one_and_span_at_least_L_are_exact_softmax(problem):
    q, k, v, _, pool = problem
    L, d = q.shape
    P = causal_softmax(q, k)
    lg, cond_o = _cond(q, k, v, P @ v)
    for span in (1, L, L + 3):
        assert compare(cb.combiner_fixed_matrix(q, k, span, pool=pool), P, size=d + L + 4, cond=lg, c=4.0).ok
        assert compare(cb.combiner_fixed(q, k, v, span, pool=pool), P @ v, size=d + L + 4, cond=cond_o, c=4.0).ok


@pytest.mark.parametrize("s", [1, 2, 3, 5, 8, 13, 32])
def test_query_logits_at_sqrt_L_are_L_to_the_1_5(s):
    L = s * s
    c = cb.logit_counts(L, s)
    assert c["direct"] + c["indirect"] == s ** 3
    assert c["total"] == s ** 3 + L - s


def test_explicit_scale_and_counts_with_ragged_last_segment():
    g = np.random.default_rng(4)
    q, k, v = g.standard_normal((11, 2)), g.standard_normal((11, 2)), g.standard_normal((11, 2))
    o = cb.combiner_fixed(q, k, v, 4, scale=0.3)
    np.testing.assert_allclose(o, reference_matrix(q, k, 4, "max", scale=0.3) @ v, atol=1e-14)
    assert cb.logit_counts(11, 4) == {"direct": 10 + 10 + 6, "indirect": 4 + 6, "local": 8, "total": 44}


@pytest.mark.parametrize("kwargs, exc", [
    (dict(span=0), ValueError), (dict(span=2.0), TypeError), (dict(span=True), TypeError),
    (dict(q=np.ones((4, 3))), ValueError), (dict(v=np.ones((5, 2))), ValueError),
    (dict(k=np.full((4, 2), np.inf)), ValueError), (dict(v=np.ones((4, 2), dtype=complex)), TypeError),
    (dict(pool="median"), ValueError),
])
def test_validation(kwargs, exc):
    args = dict(q=np.ones((4, 2)), k=np.ones((4, 2)), v=np.ones((4, 2)), span=2)
    args.update(kwargs)
    with pytest.raises(exc):
        cb.combiner_fixed(**args)
    with pytest.raises(ValueError):
        cb.logit_counts(0, 2)

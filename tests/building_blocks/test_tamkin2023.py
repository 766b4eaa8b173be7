"""tamkin2023: codebook layer shapes and edge cases, straight-through gradient, quantiser, Lloyd
monotonicity (hypothesis), input errors, and the claims' figures."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.building_blocks.codebook import (
    codebook_indices,
    codebook_layer,
    codebook_layer_straight_through,
    lloyd,
    uniform_quantizer,
)
from numerics import EPS
from numerics.random import rng
from theorems.building_blocks import tamkin2023 as t
from theorems.registry import get


def test_cosine_not_dot_product():
    codes = np.array([[10.0, 0.0], [0.0, 1.0]])  # the long code wins by dot product, not by cosine
    a = np.array([0.5, 1.0])
    np.testing.assert_array_equal(codebook_layer(a, codes, 1), [0.0, 1.0])
    np.testing.assert_array_equal(codebook_layer(a, codes, 2), [10.0, 1.0])
    assert codebook_layer(a[None], codes, 1).shape == (1, 2)


def test_ties_go_to_the_lower_index_in_both_implementations():
    codes = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])  # codes 0 and 1 have the same direction
    a = np.array([1.0, 0.1])
    assert codebook_indices(a, codes, 1).tolist() == [0]
    np.testing.assert_array_equal(np.asarray(codebook_layer_straight_through(a, codes, 1)), codebook_layer(a, codes, 1))


@settings(max_examples=20)
@given(B=st.integers(1, 4), d=st.integers(1, 5), C=st.integers(1, 8), seed=st.integers(0, 2**31 - 1), data=st.data())
def test_matches_brute_force(B, d, C, seed, data):
    g = rng(seed)
    a = g.standard_normal((B, d))
    codes = g.standard_normal((C, d)) * g.uniform(0.2, 3.0, (C, 1))
    k = data.draw(st.integers(1, C))
    np.testing.assert_allclose(codebook_layer(a, codes, k), t.brute_force_codebook(a, codes, k), rtol=0, atol=1e-13)
    np.testing.assert_allclose(codebook_layer(a, codes, C), np.broadcast_to(codes.sum(axis=0), (B, d)), atol=1e-13)


def test_straight_through_gradient_is_identity():
    g = rng(1)
    codes = jnp.asarray(g.standard_normal((6, 3)))
    a = jnp.asarray(g.standard_normal((2, 3)))
    w = jnp.asarray(g.standard_normal((2, 3)))
    grad = jax.grad(lambda v: jnp.sum(w * codebook_layer_straight_through(v, codes, 2)))(a)
    np.testing.assert_array_equal(np.asarray(grad), np.asarray(w))


@pytest.mark.parametrize("a,codes,k,err", [
    (np.zeros(2), np.eye(2), 1, ValueError),           # zero activation: cosine undefined
    (np.ones(2), np.zeros((2, 2)), 1, ValueError),     # zero code
    (np.ones(2), np.eye(2), 3, ValueError),            # k > C
    (np.ones(2), np.eye(2), 0, ValueError),
    (np.ones(2), np.eye(2), 1.0, TypeError),
    (np.ones(3), np.eye(2), 1, ValueError),            # dimension mismatch
])
def test_codebook_bad_input(a, codes, k, err):
    with pytest.raises(err):
        codebook_layer(a, codes, k)


def test_uniform_quantizer_levels_and_errors():
    q = uniform_quantizer(4)
    np.testing.assert_array_equal(q(np.array([0.0, 0.24, 0.25, 0.99, 1.0])), [0.125, 0.125, 0.375, 0.875, 0.875])
    np.testing.assert_array_equal(q.levels, [0.125, 0.375, 0.625, 0.875])
    assert uniform_quantizer(1)(0.3) == 0.5
    mse, constant = t.exact_mse_of(uniform_quantizer(7), 7)
    assert constant and abs(mse - 1 / (12 * 49)) <= 8 * EPS * 7 / (12 * 49)
    with pytest.raises(ValueError):
        q(1.5)
    with pytest.raises(ValueError):
        uniform_quantizer(0)


@settings(max_examples=30)
@given(n=st.integers(2, 80), d=st.integers(1, 3), K=st.integers(1, 8), seed=st.integers(0, 2**31 - 1),
       clustered=st.booleans())
def test_lloyd_never_increases_distortion(n, d, K, seed, clustered):
    g = rng(seed)
    x = t._lloyd_data(g, n, d, "clustered" if clustered else "uniform")
    K = min(K, n)
    r = lloyd(x, K, seed)
    D = r.distortions
    assert np.all(np.diff(D) <= 8 * EPS * (d + 2) * D[:-1])
    assert np.all(np.diff(D) <= t._lloyd_tolerance(x, D[:-1]))
    assert r.centres.shape == (K, d) and r.labels.shape == (n,)


def test_lloyd_edge_cases():
    x = np.array([0.0, 0.0, 1.0, 1.0, 5.0])
    r = lloyd(x, 3, 0)
    assert r.converged and np.allclose(np.sort(r.centres[:, 0]), [0.0, 1.0, 5.0]) and r.distortions[-1] == 0.0
    with pytest.raises(ValueError):
        lloyd(np.zeros(4), 2, 0)  # only one distinct point
    with pytest.raises(ValueError):
        lloyd(np.arange(3.0), 4, 0)
    with pytest.raises(ValueError):
        lloyd(np.arange(3.0), 2, 0, relaxation=0.0)
    with pytest.raises(ValueError):
        lloyd(np.arange(3.0), 2, 0, init=np.zeros((3, 1)))
    r = lloyd(np.array([0.0, 0.1, 1.0, 1.1]), 2, 0, init=np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(np.sort(r.centres[:, 0]), [0.05, 1.05])


# --- issue 11 section 7: Lloyd's monotonicity is attacked, not only sampled --------------------------

def _two_cluster_point(**extra):
    coords = {f"x{i}": v for i, v in enumerate([0.0, 0.0, 0.1, 0.0, 0.2, 0.0, 0.8, 0.0, 0.9, 0.0, 1.0, 0.0])}
    coords |= {"c0": 0.3, "c1": 0.0, "c2": 0.6, "c3": 0.0, "c4": 0.0, "c5": 0.0}
    return t.lloyd_change_ratio(d=1, K=2, scale=1.0, offset=0.0, **coords, **extra)


def test_lloyd_change_ratio_signed():
    # Lloyd decreases: the ratio is negative (the smallest decrease over the tolerance)
    assert _two_cluster_point() < -1e10
    # past the reflection point the centroid step increases D by a (a - 2) W: far beyond rounding
    assert _two_cluster_point(relaxation=2.001) > 1e6


def test_lloyd_centroid_rounding_far_from_the_origin():
    # the adversarial search's find (full profile, seed 4): 6 points at -1e8 spread over 1e-3, K = 1,
    # the initial centre closer to the mean than the computed centroid can be (ulp(1e8) = 1.5e-8)
    x = -1e8 + 1e-3 * np.array([0.6994, 0.2934, 0.1013, 0.8567, 0.6939, 0.4897])
    r = lloyd(x, 1, 0, init=np.array([[-1e8 + 1e-3 * 0.5224]]))
    inc = float(np.max(np.diff(r.distortions)))
    D = r.distortions[0]
    assert inc > 1e5 * 8 * EPS * 3 * D  # the relative term alone is exceeded
    assert inc <= float(t._lloyd_tolerance(x, D))  # the centroid's representability is the allowance


@pytest.mark.parametrize("seed", [0, 13])
def test_lloyd_search_breaks_relaxation_past_two(seed):
    ok = t.study_lloyd_monotone("fast", seed)
    assert ok.holds and ok.evidence["search_worst_ratio"] <= 1.0, ok.measured
    assert "adversarial worst measured/bound" in ok.measured
    v = t.study_lloyd_monotone("fast", seed, relaxation=2.001)
    assert not v.holds and v.evidence["search_worst_ratio"] > 1.0, v.measured


def test_claim_figures():
    for cid in ("tamkin2023.topk_codebook", "tamkin2023.uniform_quantizer_mse", "tamkin2023.lloyd_monotone",
                "tamkin2023.kmeans_high_rate"):
        claim = get(cid)
        v = claim.check("fast", 0)
        assert v.holds, v.measured
        assert claim.plot(v).axes


def test_lloyd_iterations_and_history_on_a_hand_worked_case():
    # x = 0, 1, 10, 11 from centres 0 and 1: step 1 moves c1 to 22/3 and point 1 changes cluster;
    # step 2 gives the centroids 0.5 and 10.5 and no label changes: 2 iterations, converged
    x = np.array([0.0, 1.0, 10.0, 11.0])
    r = lloyd(x, 2, 0, init=np.array([[0.0], [1.0]]))
    assert r.iterations == 2 and r.converged
    np.testing.assert_allclose(r.centres[:, 0], [0.5, 10.5], rtol=0, atol=1e-15)
    assert r.labels.tolist() == [0, 0, 1, 1]
    c1 = 22 / 3
    hist = [(0 + 0 + 81 + 100) / 4, (0 + (1 - c1) ** 2 + (10 - c1) ** 2 + (11 - c1) ** 2) / 4,
            (0 + 1 + (10 - c1) ** 2 + (11 - c1) ** 2) / 4, 0.25, 0.25]
    np.testing.assert_allclose(r.distortions, hist, rtol=1e-15)
    r1 = lloyd(x, 2, 0, init=np.array([[0.0], [1.0]]), max_iter=1)
    assert r1.iterations == 1 and not r1.converged and r1.distortions.size == 3


def test_codebook_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"^k must be a positive int"):
        codebook_layer(np.ones(2), np.eye(2), 0)
    with pytest.raises(ValueError, match=r"^codes must be"):
        codebook_layer(np.ones(2), np.ones((2, 3)), 1)


# --- issue 11 section 6: values, defaults, draws and errors of every public function of codebook -----------

def test_cosine_similarity_and_indices_against_the_formula():
    from constructions.building_blocks.codebook import cosine_similarity

    g = rng(11)
    a, codes = g.standard_normal((3, 4)), g.standard_normal((5, 4)) * g.uniform(0.5, 4.0, (5, 1))
    S = cosine_similarity(a, codes)
    ref = np.array([[ai @ c / (np.linalg.norm(ai) * np.linalg.norm(c)) for c in codes] for ai in a])
    np.testing.assert_allclose(S, ref, rtol=0, atol=8 * EPS)
    assert cosine_similarity(a[0], codes).shape == (1, 5)  # a (d,) row gives (1, C)
    np.testing.assert_allclose(cosine_similarity(a[0], codes)[0], ref[0], rtol=0, atol=8 * EPS)
    idx = codebook_indices(a, codes, 3)
    assert idx.shape == (3, 3)
    for b in range(3):  # best first
        assert idx[b].tolist() == np.argsort(-ref[b])[:3].tolist()
    assert codebook_indices(a[1], codes, 5).tolist() == np.argsort(-ref[1]).tolist()  # k = C is admissible
    assert codebook_indices(a[1], codes, 2).shape == (2,)
    # k = C and k = 1 on a hand case: codes at angles 0, 90, 45 degrees from a = e_1
    hand = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 2.0]])
    assert codebook_indices([1.0, 0.0], hand, 3).tolist() == [0, 2, 1]
    np.testing.assert_array_equal(codebook_layer([1.0, 0.0], hand, 2), [3.0, 2.0])


def test_straight_through_values_1d_and_2d_and_gradient_in_codes():
    g = rng(12)
    a, codes = g.standard_normal((4, 3)), g.standard_normal((6, 3))
    for k in (1, 3):
        np.testing.assert_allclose(np.asarray(codebook_layer_straight_through(a, codes, k)),
                                   codebook_layer(a, codes, k), rtol=0, atol=16 * EPS)
        out1 = np.asarray(codebook_layer_straight_through(a[2], codes, k))
        assert out1.shape == (3,)
        np.testing.assert_allclose(out1, codebook_layer(a[2], codes, k), rtol=0, atol=16 * EPS)
    # a + stop_gradient(q - a) stops the selected codes' gradient too: d/dcodes = 0
    gc = jax.grad(lambda c: jnp.sum(codebook_layer_straight_through(jnp.asarray(a), c, 2)))(jnp.asarray(codes))
    np.testing.assert_array_equal(np.asarray(gc), 0.0)
    with pytest.raises(ValueError, match=r"^k must be a positive int"):
        codebook_layer_straight_through(a, codes, 0)
    with pytest.raises(TypeError, match=r"^k must be an int"):
        codebook_layer_straight_through(a, codes, 1.0)


def test_codebook_argument_errors_are_anchored():
    cases = [
        (np.ones((1, 1, 2)), np.eye(2), 1, ValueError, r"^a must have ndim in \(1, 2\)"),
        (np.ones(2), np.ones(2), 1, ValueError, r"^codes must have ndim in \(2,\)"),
        (np.ones(2), np.ones((0, 2)), 1, ValueError, r"^codes must be \(C >= 1, d = 2\)"),
        (np.ones(2), np.ones((2, 3)), 1, ValueError, r"^codes must be \(C >= 1, d = 2\)"),
        (np.ones(2), np.eye(2), 3, ValueError, r"^k must be <= the number of codes 2"),
        (np.ones(2), np.eye(2), 0, ValueError, r"^k must be a positive int"),
        (np.ones(2), np.eye(2), True, TypeError, r"^k must be an int"),
        (np.ones(2), np.array([[1.0, 0.0], [0.0, 0.0]]), 1, ValueError, r"^codes must be non-zero"),
        (np.array([[1.0, 0.0], [0.0, 0.0]]), np.eye(2), 1, ValueError, r"^activation rows must be non-zero"),
        (np.array([np.nan, 1.0]), np.eye(2), 1, ValueError, r"^a must be finite"),
        (np.ones(2), np.array([[np.inf, 0.0]]), 1, ValueError, r"^codes must be finite"),
    ]
    for a, codes, k, err, match in cases:
        for f in (codebook_layer, codebook_indices):
            with pytest.raises(err, match=match):
                f(a, codes, k)
    from constructions.building_blocks.codebook import cosine_similarity

    with pytest.raises(ValueError, match=r"^activation rows must be non-zero"):
        cosine_similarity(np.zeros(2), np.eye(2))


def test_uniform_quantizer_boundaries_and_errors():
    q = uniform_quantizer(3)
    np.testing.assert_array_equal(q.levels, (np.arange(3) + 0.5) / 3)
    x = np.array([0.0, 1 / 3 - 1e-12, 1 / 3, 0.5, 2 / 3, 1.0])
    np.testing.assert_array_equal(q(x), np.array([0.5, 0.5, 1.5, 1.5, 2.5, 2.5]) / 3)
    assert np.asarray(q(0.9)).shape == () and float(q(0.9)) == 2.5 / 3
    np.testing.assert_array_equal(uniform_quantizer(1).levels, [0.5])
    np.testing.assert_array_equal(q([[0, 1]]), [[0.5 / 3, 2.5 / 3]])
    for bad in (-1e-300, 1 + 2.3e-16, [0.5, -0.5]):
        with pytest.raises(ValueError, match=r"^uniform_quantizer: x must lie in \[0, 1\]"):
            q(bad)
    with pytest.raises(ValueError, match=r"^x must be finite"):
        q(np.nan)
    with pytest.raises(ValueError, match=r"^K must be a positive int"):
        uniform_quantizer(0)
    with pytest.raises(TypeError, match=r"^K must be an int"):
        uniform_quantizer(2.0)


def test_lloyd_draw_relaxation_ties_empty_clusters_and_errors():
    g = rng(21)
    x = g.standard_normal((30, 2))
    # the documented draw: K distinct rows, without replacement, from numerics.random.rng(seed)
    uniq = np.unique(x, axis=0)
    init = uniq[rng(5).choice(uniq.shape[0], 4, replace=False)]
    r, ref = lloyd(x, 4, 5), lloyd(x, 4, 0, init=init)
    np.testing.assert_array_equal(r.centres, ref.centres)
    np.testing.assert_array_equal(r.distortions, ref.distortions)
    assert r.labels.dtype == np.int64 and r.iterations == ref.iterations and r.converged == ref.converged
    # the default max_iter = 200: with relaxation 0.01 on 2000 dense points the labels keep changing
    # for 335 iterations; the default stops at 200, unconverged
    x2 = np.linspace(0.0, 1.0, 2000)
    slow = lloyd(x2, 2, 0, init=[[0.0], [0.01]], relaxation=0.01)
    assert slow.iterations == 200 and not slow.converged and slow.distortions.size == 401
    assert lloyd(x2, 2, 0, init=[[0.0], [0.01]], relaxation=0.01, max_iter=400).iterations == 335
    # relaxation 1/2 moves the centre half-way to the centroid: x = 0, 1, 10, 11 from 0, 1
    h = lloyd([0.0, 1.0, 10.0, 11.0], 2, 0, init=[[0.0], [1.0]], relaxation=0.5, max_iter=1)
    np.testing.assert_allclose(h.centres[:, 0], [0.0, 1 + 0.5 * (22 / 3 - 1)], rtol=0, atol=1e-15)
    assert h.labels.tolist() == [0, 0, 1, 1] and h.iterations == 1 and not h.converged
    # a tie (0.5 between 0 and 1) goes to the lower index: centres 0.25 and 1, not 0 and 0.75
    t2 = lloyd([0.0, 0.5, 1.0], 2, 0, init=[[0.0], [1.0]])
    np.testing.assert_array_equal(t2.centres[:, 0], [0.25, 1.0])
    assert t2.labels.tolist() == [0, 0, 1] and t2.converged and t2.iterations == 1
    # an empty cluster keeps its centre
    e = lloyd([0.0, 1.0], 2, 0, init=[[0.5], [100.0]])
    np.testing.assert_array_equal(e.centres[:, 0], [0.5, 100.0])
    assert e.labels.tolist() == [0, 0] and e.converged
    # more points than one assignment chunk (4096): labels and distances over every chunk
    big = np.linspace(-1.0, 1.0, 5001)
    b = lloyd(big, 2, 0, init=[[-0.5], [0.5]], max_iter=1)
    d2 = (big[:, None] - b.centres[:, 0][None, :]) ** 2
    assert b.labels.tolist() == np.argmin(d2, axis=1).tolist() and 0 < b.labels.sum() < 5001
    assert b.distortions[-1] == pytest.approx(d2.min(axis=1).mean(), rel=1e-13)
    for bad, kw, err, match in [
        (np.zeros((2, 2, 2)), {}, ValueError, r"^x must have ndim in \(1, 2\)"),
        (np.arange(3.0), dict(K=4), ValueError, r"^K must be <= the number of points 3"),
        (np.arange(3.0), dict(K=0), ValueError, r"^K must be a positive int"),
        (np.arange(3.0), dict(max_iter=0), ValueError, r"^max_iter must be a positive int"),
        (np.arange(3.0), dict(relaxation=0.0), ValueError, r"^relaxation must be finite and positive"),
        (np.arange(3.0), dict(relaxation=np.inf), ValueError, r"^relaxation must be finite and positive"),
        (np.zeros(4), {}, ValueError, r"^x has only 1 distinct points, fewer than K = 2"),
        (np.arange(3.0), dict(init=np.zeros((2, 2))), ValueError, r"^init must have shape \(2, 1\)"),
        (np.array([0.0, np.nan]), {}, ValueError, r"^x must be finite"),
    ]:
        args = dict(K=2, seed=0) | kw
        with pytest.raises(err, match=match):
            lloyd(bad, **args)
    assert lloyd(np.arange(3.0), 3, 0).distortions[-1] == 0.0  # K = n is admissible


def test_straight_through_ranks_each_row_of_a_batch_on_its_own():
    # seed-5 survivor codebook_layer_straight_through_21 (rows normalised by the batch's norm): rows of
    # norms 1.5e-154 and 1e154 (squares representable) in one batch; each row is ranked by its own
    # cosines, so the tiny row still selects codes 1 and 2 (cosines 1 and 0.8), not 0 and 1
    codes = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    a = np.array([[0.0, 1.5e-154], [1e154, 0.0]])
    out = np.asarray(codebook_layer_straight_through(a, codes, 2))
    np.testing.assert_array_equal(codebook_indices(a, codes, 2), [[1, 2], [0, 2]])
    np.testing.assert_allclose(out[0], codebook_layer(a, codes, 2)[0], rtol=0, atol=4 * EPS)
    np.testing.assert_allclose(out[0], [0.6, 1.8], rtol=0, atol=4 * EPS)


def test_straight_through_forward_is_the_code_sum_bitwise_and_codes_get_no_gradient():
    """|a| = 1e8 |q|: a + (q - a) would lose about eps |a| = 2e-8 |q| of q; the layer returns the
    selected codes' sum bitwise (stop_gradient(q) + (a - stop_gradient(a))), its Jacobian in a is
    the identity and the codes' gradient is 0."""
    codes = jnp.asarray([[1.0, 0.1], [0.3, 1.0], [-1.0, 0.2]])
    a = jnp.asarray([[1e8, 3e7], [-2e8, 1e7]])
    q = np.asarray(codes)[np.asarray(codebook_indices(np.asarray(a), np.asarray(codes), 2))].sum(axis=1)
    out = np.asarray(codebook_layer_straight_through(a, codes, 2))
    np.testing.assert_array_equal(out, q)
    assert not np.array_equal(np.asarray(a + (jnp.asarray(q) - a)), q)  # the old form did round
    J = jax.jacfwd(lambda v: codebook_layer_straight_through(v, codes, 2))(a[0])
    np.testing.assert_array_equal(np.asarray(J), np.eye(2))
    gc = jax.grad(lambda c: jnp.sum(codebook_layer_straight_through(a, c, 2)))(codes)
    np.testing.assert_array_equal(np.asarray(gc), 0.0)

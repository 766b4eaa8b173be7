"""Every public function of constructions/sequence against an independent reference written here
(loops, explicit inverses, scipy), its documented defaults pinned, every branch reached (the JAX
path from each argument, jit tracers, pad=False, per-neuron coefficients) and every validation
boundary checked from both sides with errors anchored at the argument's name (mutation campaign
seed 5, mutation/triage.md)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
from numpy.polynomial import Polynomial
from scipy.interpolate import BSpline

import constructions.sequence.combiner as cb
import constructions.sequence.delta_rule as dr
import constructions.sequence.linear_attention as la
import constructions.sequence.lmu as lmu
import constructions.sequence.polycom as pc
from theorems.sequence.ren2021 import reference_matrix

# --- polycom ---------------------------------------------------------------------------------


def test_relu_power_and_polyrelu_values_and_boundaries():
    x = np.array([[-2.0, -0.5], [0.0, 1.5]])
    np.testing.assert_array_equal(pc.relu_power(x, 0), np.ones((2, 2)))  # r = 0 accepted: ReLU^0 = 1
    np.testing.assert_array_equal(pc.relu_power(x, 3), [[0.0, 0.0], [0.0, 1.5**3]])
    assert pc.relu_power(np.array([2]), 2).dtype == np.float64
    with pytest.raises(ValueError, match=r"^power r must be a non-negative int"):
        pc.relu_power(x, -1)
    with pytest.raises(ValueError, match=r"^x must be finite"):
        pc.relu_power([np.inf], 1)
    # one coefficient: the constant a_0; shape of x kept
    np.testing.assert_array_equal(pc.polyrelu(x, [2.5]), np.full((2, 2), 2.5))
    np.testing.assert_allclose(pc.polyrelu(x, [1.0, -2.0, 0.5]),
                               [[1.0, 1.0], [1.0, 1 - 3 + 0.5 * 2.25]], rtol=1e-15)
    with pytest.raises(ValueError, match=r"^coeffs must hold at least a_0"):
        pc.polyrelu(x, [])
    with pytest.raises(ValueError, match=r"^x must be finite"):
        pc.polyrelu([np.nan], [1.0])
    with pytest.raises(ValueError, match=r"^coeffs must be finite"):
        pc.polyrelu([1.0], [np.nan])


def test_polynomial_layer_weights_are_the_documented_ones():
    layer = pc.polynomial_layer([3.0, 2.0, -1.0, 4.0])
    np.testing.assert_array_equal(layer.w, [1.0, -1.0])
    np.testing.assert_array_equal(layer.b, [0.0, 0.0])
    np.testing.assert_array_equal(layer.v, [1.0, 1.0])
    assert layer.c == 3.0 and not layer.shared and layer.width == 2
    np.testing.assert_array_equal(layer.coeffs, [[0.0, 2.0, -1.0, 4.0], [0.0, -2.0, -1.0, -4.0]])
    assert layer.n_params == 3 * 2 + 1 + 8
    x = np.array([[-1.5, 0.0], [0.5, 2.0]])
    np.testing.assert_allclose(layer(x), Polynomial([3.0, 2.0, -1.0, 4.0])(x), rtol=1e-14)
    np.testing.assert_array_equal(layer(x), pc.polyrelu_layer(x, layer))
    const = pc.polynomial_layer([7.0])  # degree 0 accepted
    np.testing.assert_array_equal(const(np.array([-3.0, 4.0])), [7.0, 7.0])
    with pytest.raises(ValueError, match=r"^poly_coeffs must hold at least c_0"):
        pc.polynomial_layer([])
    with pytest.raises(ValueError, match=r"^poly_coeffs must be finite"):
        pc.polynomial_layer([np.nan])


def test_polyrelu_layer_shared_and_per_neuron_against_loops():
    g = np.random.default_rng(0)
    w, b, v = g.standard_normal(3), g.standard_normal(3), g.standard_normal(3)
    x = g.standard_normal((2, 4))
    for coeffs in (g.standard_normal(3), g.standard_normal((3, 3))):
        layer = pc.PolyReLULayer(w, b, v, 0.7, coeffs)
        ref = np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            s = 0.7
            for kk in range(3):
                z = max(w[kk] * x[idx] + b[kk], 0.0)
                a = coeffs if coeffs.ndim == 1 else coeffs[kk]
                s += v[kk] * sum(a[i] * z**i for i in range(3))
            ref[idx] = s
        got = pc.polyrelu_layer(x, layer)
        assert got.shape == x.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)
        assert layer.shared == (coeffs.ndim == 1)
        assert layer.n_params == 9 + 1 + coeffs.size
    with pytest.raises(TypeError, match=r"^layer must be a PolyReLULayer, got str"):
        pc.polyrelu_layer(x, "layer")
    with pytest.raises(ValueError, match=r"^x must be finite"):
        pc.polyrelu_layer([np.nan], layer)


def test_shifted_polynomial_layer_is_the_taylor_shift():
    c, lo = [1.0, -2.0, 0.5, 3.0], 1.5
    layer = pc.shifted_polynomial_layer(c, lo)
    shifted = Polynomial(c)(Polynomial([lo, 1.0])).coef  # p(z + lo)
    np.testing.assert_allclose(layer.coeffs, shifted, rtol=1e-14)
    np.testing.assert_array_equal(layer.w, [1.0])
    np.testing.assert_array_equal(layer.b, [-lo])
    np.testing.assert_array_equal(layer.v, [1.0])
    assert layer.c == 0.0 and layer.shared
    np.testing.assert_array_equal(pc.shifted_polynomial_layer([0.0, 0.0], 1e300).coeffs, [0.0, 0.0])
    np.testing.assert_array_equal(pc.shifted_polynomial_layer([1.0, 0.0, 0.0], 1e200).coeffs, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(pc.shifted_polynomial_layer([2.0], -1e300).coeffs, [2.0])
    with pytest.raises(ValueError, match=r"^poly_coeffs must hold at least c_0"):
        pc.shifted_polynomial_layer([], 0.0)
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match=r"^lo must be finite"):
            pc.shifted_polynomial_layer([1.0], bad)


def test_shifted_polynomial_layer_rejects_an_overflowing_shift_with_a_value_error():
    """Was Python's OverflowError from lo ** 2 (a float power); now a ValueError naming lo."""
    for c, lo in (([1.0, 1.0, 1.0], 1e200), ([1.0, 1e300], 1e200), ([0.0, 0.0, 1.0], -1e160)):
        with pytest.raises(ValueError, match=r"^lo = .* is too large for these poly_coeffs"):
            pc.shifted_polynomial_layer(c, lo)
    # the largest shift that fits: lo^2 = 1e300 is finite
    np.testing.assert_allclose(pc.shifted_polynomial_layer([0.0, 0.0, 1.0], 1e150).coeffs, [1e300, 2e150, 1.0])


def test_compose_layers_order_and_validation():
    sq = pc.polynomial_layer([0.0, 0.0, 1.0])
    inc = pc.polynomial_layer([1.0, 1.0])
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(pc.compose_layers([sq, inc])(x), x**2 + 1, rtol=1e-15)  # layer 1 first
    np.testing.assert_allclose(pc.compose_layers(iter([inc, sq]))(x), (x + 1) ** 2, rtol=1e-15)
    np.testing.assert_allclose(pc.compose_layers([inc])(x), x + 1, rtol=1e-15)
    for bad in ([], [sq, "layer"], ["layer"]):
        with pytest.raises(TypeError, match=r"^compose_layers needs a non-empty sequence of PolyReLULayer"):
            pc.compose_layers(bad)


def test_bspline_layer_on_a_custom_interval_by_its_formulas():
    lo, hi, M = 0.5, 2.0, 3
    h = (hi - lo) / M
    layer, t, lam = pc.bspline_relu3_layer(np.exp, M, lo, hi)
    np.testing.assert_allclose(t, lo + h * (np.arange(M + 7) - 3), rtol=1e-15, atol=1e-15)
    s = t[2:2 + M + 3]
    np.testing.assert_allclose(lam, (-np.exp(s - h) + 8 * np.exp(s) - np.exp(s + h)) / 6, rtol=1e-14)
    np.testing.assert_array_equal(layer.w, np.ones(M + 7))
    np.testing.assert_array_equal(layer.b, -t)
    np.testing.assert_array_equal(layer.coeffs, [0.0, 0.0, 0.0, 1.0])
    assert layer.c == 0.0 and layer.width == M + 7
    x = np.linspace(lo, hi, 41)
    np.testing.assert_allclose(layer(x), BSpline(t, lam, 3)(x), rtol=0, atol=1e-11)
    one, t1, lam1 = pc.bspline_relu3_layer(np.cos, 1)  # M = 1 accepted, default [-1, 1]
    np.testing.assert_allclose(t1, -1.0 + 2.0 * (np.arange(8) - 3), atol=1e-15)
    assert lam1.size == 4
    with pytest.raises(ValueError, match=r"^number of intervals M must be an int"):
        pc.bspline_relu3_layer(np.exp, 2.0)
    for a, b in ((1.0, 1.0), (0.0, np.inf), (np.nan, 1.0), (1.0, 0.0)):
        with pytest.raises(ValueError, match=r"^need a finite interval lo < hi"):
            pc.bspline_relu3_layer(np.exp, 2, a, b)
    with pytest.raises(ValueError, match=r"^f values must be finite"):
        pc.bspline_relu3_layer(lambda z: np.full_like(z, np.nan), 2)


def test_relu_interpolant_layer_weights_and_custom_interval():
    lo, hi, M = -0.5, 1.5, 4
    layer = pc.relu_interpolant_layer(np.sin, M, lo, hi)
    knots = np.linspace(lo, hi, M + 1)
    assert layer.width == M and layer.c == np.sin(lo)
    np.testing.assert_array_equal(layer.coeffs, [0.0, 1.0])
    np.testing.assert_allclose(layer.b, -knots[:-1], rtol=1e-15, atol=1e-16)
    np.testing.assert_array_equal(layer.w, np.ones(M))
    slopes = np.diff(np.sin(knots)) / (knots[1] - knots[0])
    np.testing.assert_allclose(layer.v, np.diff(np.concatenate([[0.0], slopes])), rtol=1e-13, atol=1e-15)
    x = np.linspace(lo, hi, 57)
    np.testing.assert_allclose(layer(x), np.interp(x, knots, np.sin(knots)), rtol=0, atol=1e-14)
    one = pc.relu_interpolant_layer(lambda z: 2 * z + 1, 1)  # M = 1, default [-1, 1]: the line itself
    np.testing.assert_allclose(one(np.array([-1.0, 0.0, 1.0])), [-1.0, 1.0, 3.0], rtol=1e-15)
    with pytest.raises(ValueError, match=r"^number of intervals M must be a positive int"):
        pc.relu_interpolant_layer(np.sin, 0)
    with pytest.raises(ValueError, match=r"^f values must be finite"):
        pc.relu_interpolant_layer(lambda z: np.full_like(z, np.inf), 2)


def _polynorm_ref(x, a, bias, norm, eps):
    out = np.full(x.shape, float(bias))
    d = x.shape[-1]
    for idx in np.ndindex(*x.shape[:-1]):
        row = x[idx]
        for i, ai in enumerate(a, start=1):
            p = row**i
            sq = sum(pj * pj for pj in p) / (d if norm == "rms" else 1)
            out[idx] = out[idx] + ai * p / np.sqrt(sq + eps)
    return out


def test_polynorm_defaults_eps_bias_and_boundaries():
    g = np.random.default_rng(3)
    x = g.standard_normal((2, 3, 4))
    a = [0.5, -1.0, 2.0]
    np.testing.assert_allclose(pc.polynorm(x, a), _polynorm_ref(x, a, 0.0, "l2", 0.0), rtol=1e-13, atol=1e-14)
    for norm in ("l2", "rms"):
        np.testing.assert_allclose(pc.polynorm(x, a, -0.3, norm=norm, eps=0.7), _polynorm_ref(x, a, -0.3, norm, 0.7),
                                   rtol=1e-13, atol=1e-14)
    x1 = np.array([3.0])  # d = 1, a 1-D input accepted
    np.testing.assert_allclose(pc.polynorm(x1, [1.0, 1.0]), [2.0], rtol=1e-15)
    np.testing.assert_array_equal(pc.polynorm(np.zeros((1, 3)), [1.0], 2.0, eps=1e-300), np.full((1, 3), 2.0))
    with pytest.raises(ValueError, match=r"^PolyNorm of an all-zero vector is undefined"):
        pc.polynorm(np.zeros((1, 3)), [1.0], eps=0.0)
    with pytest.raises(ValueError, match=r"^x must have a non-empty last axis"):
        pc.polynorm(np.float64(1.0), [1.0])
    with pytest.raises(ValueError, match=r"^x must have a non-empty last axis"):
        pc.polynorm(np.zeros((2, 0)), [1.0])
    with pytest.raises(ValueError, match=r"^x must be finite"):
        pc.polynorm([np.nan], [1.0])
    with pytest.raises(ValueError, match=r"^weights must hold at least a_1"):
        pc.polynorm(x, [])
    with pytest.raises(ValueError, match=r"^weights must have ndim"):
        pc.polynorm(x, [[1.0]])
    with pytest.raises(ValueError, match=r"^norm must be 'l2' or 'rms'"):
        pc.polynorm(x, a, norm="L2")
    for bad in (-1e-300, np.nan, np.inf):
        with pytest.raises(ValueError, match=r"^eps must be finite and >= 0"):
            pc.polynorm(x, a, eps=bad)
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match=r"^bias must be finite"):
            pc.polynorm(x, a, bad)


# --- linear attention --------------------------------------------------------------------------


def _la_loop(q, k, v, phi, normalize, M=None, S0=None, z0=None):
    fq, fk = phi(q), phi(k)
    L, r = fq.shape
    S = np.zeros((v.shape[1], r)) if S0 is None else S0.copy()
    z = np.zeros(r) if z0 is None else z0.copy()
    o = np.zeros((L, v.shape[1]))
    for i in range(L):
        num = S @ fq[i] + sum((M[i, j] if M is not None else 1.0) * (fq[i] @ fk[j]) * v[j] for j in range(i + 1))
        if M is not None:
            num = sum(M[i, j] * (fq[i] @ fk[j]) * v[j] for j in range(L))
        den = z @ fq[i] + sum((M[i, j] if M is not None else 1.0) * (fq[i] @ fk[j]) for j in range(i + 1))
        if M is not None:
            den = sum(M[i, j] * (fq[i] @ fk[j]) for j in range(L))
        o[i] = num / den if normalize else num
    return o


def test_causal_mask_values():
    for L, off in ((4, 0), (4, 1), (4, -1), (1, 0)):
        ref = np.array([[1.0 if j <= i + off else 0.0 for j in range(L)] for i in range(L)])
        M = la.causal_mask(L, off)
        np.testing.assert_array_equal(M, ref)
        assert M.dtype == np.float64
    np.testing.assert_array_equal(la.causal_mask(3), np.tril(np.ones((3, 3))))
    f = la.identity_map(np.array([1, -2]))
    assert f.dtype == np.float64 and np.array_equal(f, [1.0, -2.0])


def test_linear_attention_custom_mask_feature_map_and_state():
    g = np.random.default_rng(5)
    q, k, v = g.standard_normal((5, 2)), g.standard_normal((5, 2)), g.standard_normal((5, 3))
    phi = lambda x: np.concatenate([np.exp(x), np.exp(-x)], axis=1)  # noqa: E731  r = 2 d_k, positive
    M = g.uniform(0.5, 1.5, (5, 5))
    np.testing.assert_allclose(la.causal_parallel(q, k, v, feature_map=phi, mask=M), _la_loop(q, k, v, phi, True, M),
                               rtol=1e-12)
    S0, z0 = g.standard_normal((3, 4)), g.uniform(1, 2, 4)
    o, S, z = la.causal_recurrent(q, k, v, feature_map=phi, S0=S0, z0=z0)
    np.testing.assert_allclose(o, _la_loop(q, k, v, phi, True, S0=S0, z0=z0), rtol=1e-12)
    fk = phi(k)
    np.testing.assert_allclose(S, S0 + sum(np.outer(v[j], fk[j]) for j in range(5)), rtol=1e-13)
    np.testing.assert_allclose(z, z0 + fk.sum(axis=0), rtol=1e-13)
    o2, S2, _ = la.causal_recurrent(q, k, v, feature_map=phi, normalize=False, z0=z0)  # S0 None: zeros
    np.testing.assert_allclose(o2, _la_loop(q, k, v, phi, False), rtol=1e-12)
    o3, _, z3 = la.causal_recurrent(q, k, v, feature_map=phi, S0=S0)  # z0 None: zeros
    np.testing.assert_allclose(o3, _la_loop(q, k, v, phi, True, S0=S0), rtol=1e-12)
    np.testing.assert_allclose(z3, fk.sum(axis=0), rtol=1e-13)


def test_linear_attention_validation_names():
    q = np.ones((3, 2))
    for fn in (la.causal_parallel, lambda *a, **kw: la.causal_recurrent(*a, **kw)):
        with pytest.raises(ValueError, match=r"^q and k must have the same shape"):
            fn(q, np.ones((3, 3)), q)
        with pytest.raises(ValueError, match=r"^v must have L = 3 rows"):
            fn(q, q, np.ones((2, 2)))
        with pytest.raises(ValueError, match=r"^q must be 2-D"):
            fn(np.ones(3), q, q)
        with pytest.raises(ValueError, match=r"^k must be finite"):
            fn(q, np.full((3, 2), np.nan), q)
        with pytest.raises(TypeError, match=r"^v must be a real numeric"):
            fn(q, q, np.ones((3, 2), complex))
        with pytest.raises(ValueError, match=r"^feature map must return shape \(L, r\) for q"):
            fn(q, q, q, feature_map=lambda x: x.ravel())
        with pytest.raises(ValueError, match=r"^feature map returned non-finite values for q"):
            fn(q, q, q, feature_map=lambda x: np.full_like(x, np.nan))
        calls = []

        def second_bad(x, calls=calls):
            calls.append(1)
            return x if len(calls) == 1 else x[:-1]

        with pytest.raises(ValueError, match=r"^feature map must return shape \(L, r\) for k"):
            fn(q, q, q, feature_map=second_bad)
    with pytest.raises(ValueError, match=r"^mask must have shape \(3, 3\)"):
        la.causal_parallel(q, q, q, mask=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"^normaliser sum_j A_ij vanished"):
        la.causal_parallel(q, q, q, mask=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"^normaliser z_i\^T phi\(q_i\) vanished at i = 0"):
        la.causal_recurrent(np.zeros((3, 2)), q, q, feature_map=la.identity_map)
    with pytest.raises(ValueError, match=r"^S0 must have shape \(2, 2\) and z0 shape \(2,\)"):
        la.causal_recurrent(q, q, q, S0=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^S0 must have shape"):
        la.causal_recurrent(q, q, q, z0=np.ones(3))
    with pytest.raises(ValueError, match=r"^S0 and z0 must be finite"):
        la.causal_recurrent(q, q, q, S0=np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match=r"^S0 and z0 must be finite"):
        la.causal_recurrent(q, q, q, z0=np.array([1.0, np.inf]))


# --- combiner -----------------------------------------------------------------------------------


def test_segments_and_logit_counts_boundaries():
    assert cb.segments(7, 3) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert cb.segments(2, 5) == [slice(0, 2)]
    assert cb.segments(4, 1) == [slice(i, i + 1) for i in range(4)]
    with pytest.raises(ValueError, match=r"^span must be a positive int"):
        cb.segments(4, 0)
    # L = 1 accepted; lengths 3, 3, 1: direct 6 + 6 + 1, indirect 0 + 3 + 2, local 3 + 3
    assert cb.logit_counts(1, 4) == {"direct": 1, "indirect": 0, "local": 0, "total": 1}
    assert cb.logit_counts(7, 3) == {"direct": 13, "indirect": 5, "local": 6, "total": 24}
    assert cb.logit_counts(6, 3) == {"direct": 12, "indirect": 3, "local": 3, "total": 18}
    with pytest.raises(ValueError, match=r"^L must be a positive int"):
        cb.logit_counts(0, 3)
    with pytest.raises(ValueError, match=r"^L must be an int"):
        cb.logit_counts(4.0, 3)
    with pytest.raises(ValueError, match=r"^span must be a positive int"):
        cb.logit_counts(4, 0)


def test_combiner_defaults_scale_pool_and_counts():
    g = np.random.default_rng(6)
    q, k, v = g.standard_normal((7, 4)), g.standard_normal((7, 4)), g.standard_normal((7, 2))
    default = cb.combiner_fixed(q, k, v, 3)
    assert isinstance(default, np.ndarray)
    np.testing.assert_array_equal(default, cb.combiner_fixed(q, k, v, 3, pool="max", scale=0.5))  # 1/sqrt(4)
    np.testing.assert_allclose(default, reference_matrix(q, k, 3, "max", scale=0.5) @ v, rtol=0, atol=1e-14)
    for pool, scale in (("mean", None), ("mean", 1.7), ("max", 0.2)):
        A = cb.combiner_fixed_matrix(q, k, 3, pool=pool, scale=scale)
        np.testing.assert_allclose(A, reference_matrix(q, k, 3, pool, scale=scale), rtol=0, atol=1e-14)
        o, counts = cb.combiner_fixed(q, k, v, 3, pool=pool, scale=scale, return_counts=True)
        np.testing.assert_allclose(o, A @ v, rtol=0, atol=1e-13)
        assert counts == cb.logit_counts(7, 3) == {"direct": 13, "indirect": 5, "local": 6, "total": 24}
    np.testing.assert_array_equal(cb.combiner_fixed_matrix(q, k, 3), cb.combiner_fixed_matrix(q, k, 3, scale=0.5))


def test_combiner_validation_names():
    q = np.ones((4, 2))
    for call in (lambda **kw: cb.combiner_fixed(**({"q": q, "k": q, "v": q, "span": 2} | kw)),
                 lambda **kw: cb.combiner_fixed_matrix(**({"q": q, "k": q, "span": 2} | {a: b for a, b in kw.items()
                                                                                         if a != "v"}))):
        with pytest.raises(ValueError, match=r"^q and k must have the same shape"):
            call(k=np.ones((4, 3)))
        with pytest.raises(ValueError, match=r"^q must be 2-D"):
            call(q=np.ones(4))
        with pytest.raises(ValueError, match=r"^k must be finite"):
            call(k=np.full((4, 2), np.inf))
        with pytest.raises(ValueError, match=r"^span must be a positive int"):
            call(span=0)
        with pytest.raises(ValueError, match=r"^pool must be 'max' or 'mean'"):
            call(pool="sum")
    with pytest.raises(ValueError, match=r"^v must have L = 4 rows"):
        cb.combiner_fixed(q, q, np.ones((3, 2)), 2)
    with pytest.raises(ValueError, match=r"^v must be finite"):
        cb.combiner_fixed(q, q, np.full((4, 2), np.nan), 2)


# --- lmu --------------------------------------------------------------------------------------


def test_lmu_small_orders_and_readout_boundaries():
    A, B = lmu.lmu_matrices(1, 2.0)  # d = 1 accepted: A = -1/theta, B = 1/theta
    np.testing.assert_array_equal(A, [[-0.5]])
    np.testing.assert_array_equal(B, [0.5])
    A2, B2 = lmu.lmu_matrices(2, 1.0)
    np.testing.assert_array_equal(A2, [[-1.0, -1.0], [3.0, -3.0]])
    np.testing.assert_array_equal(B2, [1.0, -3.0])
    with pytest.raises(ValueError, match=r"^order d must be a positive int"):
        lmu.lmu_matrices(0, 1.0)
    with pytest.raises(ValueError, match=r"^theta must be finite and positive"):
        lmu.lmu_matrices(2, 0.0)
    np.testing.assert_array_equal(lmu.shifted_legendre(1, [0.2, 0.9]), [[1.0], [1.0]])
    np.testing.assert_allclose(lmu.shifted_legendre(3, 0.25), [[1.0, -0.5, 3 * 0.25 / 2 - 0.5]], rtol=1e-15)
    with pytest.raises(ValueError, match=r"^r must have ndim"):
        lmu.shifted_legendre(2, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^r must be finite"):
        lmu.shifted_legendre(2, [np.nan])
    with pytest.raises(ValueError, match=r"^order d must be a positive int"):
        lmu.shifted_legendre(0, [0.5])
    np.testing.assert_array_equal(lmu.legendre_readout(5), np.ones(5))  # default delay_fraction = 1
    np.testing.assert_allclose(lmu.legendre_readout(6, 0.3), [scipy.special.eval_sh_legendre(i, 0.3) for i in range(6)],
                               rtol=1e-13, atol=1e-15)
    for bad in (-1e-12, 1.0 + 1e-12, np.nan):
        with pytest.raises(ValueError, match=r"^delay_fraction theta'/theta must lie in \[0, 1\]"):
            lmu.legendre_readout(3, bad)


def test_zoh_and_system_validation_names():
    A, B = lmu.lmu_matrices(3, 1.0)
    with pytest.raises(ValueError, match=r"^A must have ndim"):
        lmu.zoh_discretise(B, B, 0.1)
    with pytest.raises(ValueError, match=r"^A must be square"):
        lmu.zoh_discretise(A[:2], B, 0.1)
    with pytest.raises(ValueError, match=r"^B must have ndim"):
        lmu.zoh_discretise(A, np.ones((3, 1, 1)), 0.1)
    with pytest.raises(ValueError, match=r"^B must have 3 rows to match A"):
        lmu.zoh_discretise(A, B[:2], 0.1)
    with pytest.raises(ValueError, match=r"^B must be finite"):
        lmu.zoh_discretise(A, B * np.inf, 0.1)
    for bad in (0.0, np.inf):
        with pytest.raises(ValueError, match=r"^dt must be finite and positive"):
            lmu.zoh_discretise(A, B, bad)
    Ab, Bb = lmu.zoh_discretise(A, B, 0.1)
    with pytest.raises(ValueError, match=r"^Abar must have ndim"):
        lmu.lmu_recurrence(Bb, Bb, [1.0])
    with pytest.raises(ValueError, match=r"^Abar must be square"):
        lmu.lmu_recurrence(Ab[:2], Bb, [1.0])
    with pytest.raises(ValueError, match=r"^Abar must be finite"):
        lmu.lmu_convolution(Ab * np.nan, Bb, [1.0])
    with pytest.raises(ValueError, match=r"^Bbar must have length 3"):
        lmu.impulse_response(Ab, Bb[:2], 3)
    with pytest.raises(ValueError, match=r"^u must hold at least one sample"):
        lmu.lmu_recurrence(Ab, Bb, np.zeros(0))
    with pytest.raises(ValueError, match=r"^u must have ndim"):
        lmu.lmu_convolution(Ab, Bb, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^u must be finite"):
        lmu.lmu_recurrence(Ab, Bb, [np.nan])
    with pytest.raises(ValueError, match=r"^length must be a positive int"):
        lmu.impulse_response(Ab, Bb, 0)
    with pytest.raises(ValueError, match=r"^length must be an int"):
        lmu.impulse_response(Ab, Bb, 2.0)


def test_recurrence_impulse_and_both_convolutions_against_loops():
    g = np.random.default_rng(8)
    Ab, Bb = 0.4 * g.standard_normal((3, 3)), g.standard_normal(3)
    u = g.standard_normal(5)
    H = [np.linalg.matrix_power(Ab, j) @ Bb for j in range(5)]
    H1 = lmu.impulse_response(Ab, Bb, 1)  # length 1 accepted: H_0 = Bbar
    np.testing.assert_array_equal(H1, [Bb])
    np.testing.assert_allclose(lmu.impulse_response(Ab, Bb, np.int64(5)), H, rtol=1e-13, atol=1e-15)
    lin = np.array([sum(H[j] * u[t - j] for j in range(t + 1)) for t in range(5)])
    circ = np.array([sum(H[j] * u[(t - j) % 5] for j in range(5)) for t in range(5)])
    m = np.zeros(3)
    rec = []
    for t in range(5):
        m = Ab @ m + Bb * u[t]
        rec.append(m)
    np.testing.assert_allclose(lmu.lmu_recurrence(Ab, Bb, u), rec, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(lmu.lmu_recurrence(Ab, Bb, u), lin, rtol=1e-12, atol=1e-14)
    for T in (1, 2, 3, 5):
        got = lmu.lmu_convolution(Ab, Bb, u[:T])
        assert got.shape == (T, 3) and got.dtype == np.float64
        np.testing.assert_allclose(got, lin[:T], rtol=0, atol=1e-13)
    np.testing.assert_allclose(lmu.lmu_convolution(Ab, Bb, u, pad=True), lin, rtol=0, atol=1e-13)
    np.testing.assert_allclose(lmu.lmu_convolution(Ab, Bb, u, pad=False), circ, rtol=0, atol=1e-13)
    np.testing.assert_allclose(lmu.lmu_convolution(Ab, Bb, u[:1], pad=False), lin[:1], rtol=0, atol=1e-14)


def test_decode_window_values_and_boundaries():
    g = np.random.default_rng(9)
    m = g.standard_normal((4, 5))
    r = np.array([0.0, 0.4, 1.0])  # both ends accepted
    P = np.array([[scipy.special.eval_sh_legendre(i, ri) for i in range(5)] for ri in r])
    np.testing.assert_allclose(lmu.decode_window(m, r), m @ P.T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(lmu.decode_window(m[0], 0.4), m[0] @ P[1], rtol=1e-12)
    for bad in ([-1e-12], [1.0 + 1e-12]):
        with pytest.raises(ValueError, match=r"^delay_fractions theta'/theta must lie in \[0, 1\]"):
            lmu.decode_window(m, bad)
    with pytest.raises(ValueError, match=r"^m must have ndim"):
        lmu.decode_window(np.ones((2, 2, 2)), [0.5])
    with pytest.raises(ValueError, match=r"^delay_fractions must have ndim"):
        lmu.decode_window(m, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^m must be finite"):
        lmu.decode_window([np.nan], [0.5])


# --- delta rule ---------------------------------------------------------------------------------


def _loop(q, k, v, beta, S0=None):
    S = np.zeros((v.shape[1], k.shape[1])) if S0 is None else np.array(S0, float)
    o = []
    for t in range(q.shape[0]):
        S = S @ (np.eye(k.shape[1]) - beta[t] * np.outer(k[t], k[t])) + beta[t] * np.outer(v[t], k[t])
        o.append(S @ q[t])
    return np.array(o), S


def _problem(seed, L=5, d_k=3, d_v=2):
    g = np.random.default_rng(seed)
    return (g.standard_normal((L, d_k)), g.standard_normal((L, d_k)) / 2, g.standard_normal((L, d_v)),
            g.uniform(0.2, 0.9, L), g.standard_normal((d_v, d_k)))


def test_every_jax_argument_selects_the_jax_path():
    q, k, v, beta, S0 = _problem(1)
    o_ref, S_ref = _loop(q, k, v, beta, S0)
    for i in range(5):
        args = [q, k, v, beta, S0]
        args[i] = jnp.asarray(args[i])
        out = dr.validate_inputs(*args)
        assert isinstance(out[5], dr._JaxOps) and all(isinstance(a, jax.Array) for a in out[:5])
    assert dr.validate_inputs(q, k, v, beta, S0)[5] is dr._NUMPY
    o, S = dr.recurrent(q, k, v, jnp.asarray(beta), S0)
    assert isinstance(o, jax.Array) and isinstance(S, jax.Array)
    np.testing.assert_allclose(np.asarray(o), o_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(np.asarray(S), S_ref, rtol=0, atol=1e-13)
    o2, S2 = dr.chunkwise(q, k, v, beta, 2, jnp.asarray(S0))
    assert isinstance(o2, jax.Array)
    np.testing.assert_allclose(np.asarray(o2), o_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(np.asarray(S2), S_ref, rtol=0, atol=1e-13)
    o, S = dr.recurrent(q, k, v, beta, S0)
    assert isinstance(o, np.ndarray) and not isinstance(o, jax.Array)
    # S0 = None is zeros (numpy and JAX)
    np.testing.assert_array_equal(dr.recurrent(q, k, v, beta)[0], dr.recurrent(q, k, v, beta, np.zeros((2, 3)))[0])
    np.testing.assert_allclose(np.asarray(dr.chunkwise(jnp.asarray(q), k, v, beta, 3)[1]), _loop(q, k, v, beta)[1],
                               rtol=0, atol=1e-13)


def test_jit_tracers_skip_the_finiteness_check_and_match_the_loop():
    q, k, v, beta, S0 = _problem(2)
    o_ref, S_ref = _loop(q, k, v, beta, S0)
    o, S = jax.jit(lambda *a: dr.chunkwise(*a[:4], 2, a[4]))(q, k, v, beta, S0)
    np.testing.assert_allclose(np.asarray(o), o_ref, rtol=0, atol=1e-13)
    T = jax.jit(dr.ut_transform)(k, beta)
    np.testing.assert_allclose(np.asarray(T), dr.ut_transform(k, beta), rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match=r"^beta must be finite"):
        dr.recurrent(q, k, v, jnp.full(5, jnp.nan))
    with pytest.raises(TypeError, match=r"^q must be a real floating \(or integer\) array"):
        dr.recurrent(jnp.asarray(q, dtype=jnp.complex128), k, v, beta)


def test_validate_inputs_names_and_returns():
    q, k, v, beta, S0 = _problem(3, L=4, d_k=2, d_v=3)
    out = dr.validate_inputs(q, k.astype(np.float32), v, beta)
    assert out[1].dtype == np.float64 and out[4].shape == (3, 2) and np.all(out[4] == 0)
    assert out[5] is dr._NUMPY
    assert isinstance(dr.validate_inputs(q, k, v, jnp.asarray(beta))[5], dr._JaxOps)
    base = dict(q=q, k=k, v=v, beta=beta, S0=np.ones((3, 2)))
    cases = [
        (dict(q=np.ones(4)), ValueError, r"^q must be 2-D \(L, d\)"),
        (dict(k=np.ones(4)), ValueError, r"^k must be 2-D \(L, d\)"),
        (dict(v=np.ones(4)), ValueError, r"^v must be 2-D \(L, d\)"),
        (dict(q=np.ones((4, 0)), k=np.ones((4, 0))), ValueError, r"^k must have L >= 1 rows and d_k >= 1"),
        (dict(q=np.ones((0, 2)), k=np.ones((0, 2)), v=np.ones((0, 3)), beta=np.ones(0)), ValueError,
         r"^k must have L >= 1 rows"),
        (dict(q=np.ones((4, 3))), ValueError, r"^q and k must have the same shape"),
        (dict(v=np.ones((5, 3))), ValueError, r"^v must have shape \(L=4, d_v >= 1\)"),
        (dict(v=np.ones((4, 0))), ValueError, r"^v must have shape \(L=4, d_v >= 1\)"),
        (dict(beta=np.ones(3)), ValueError, r"^beta must have shape \(L,\) = \(4,\)"),
        (dict(S0=np.ones((2, 3))), ValueError, r"^S0 must have the state layout \(d_v, d_k\) = \(3, 2\)"),
        (dict(S0=np.full((3, 2), np.inf)), ValueError, r"^S0 must be finite"),
        (dict(k=np.full((4, 2), np.nan)), ValueError, r"^k must be finite"),
        (dict(v=np.ones((4, 3), complex)), TypeError, r"^v must be a real floating"),
        (dict(beta=np.ones(4, bool)), TypeError, r"^beta must be a real floating"),
        (dict(S0=np.ones((3, 2), complex)), TypeError, r"^S0 must be a real floating"),
    ]
    for bad, exc, pat in cases:
        with pytest.raises(exc, match=pat):
            dr.validate_inputs(**(base | bad))
        with pytest.raises(exc, match=pat):
            dr.chunkwise(chunk=2, **(base | bad))


def test_chunk_validation_names():
    q, k, v, beta, _ = _problem(4)
    for bad, exc, pat in ((True, TypeError, r"^chunk must be a positive int, got bool"),
                          (np.bool_(True), TypeError, r"^chunk must be a positive int, got bool"),
                          (2.0, TypeError, r"^chunk must be a positive int, got float"),
                          ("2", TypeError, r"^chunk must be a positive int, got str"),
                          (0, ValueError, r"^chunk must be a positive int, got 0")):
        with pytest.raises(exc, match=pat):
            dr.chunkwise(q, k, v, beta, bad)
        with pytest.raises(exc, match=pat):
            dr.counted_flops(q, k, v, beta, bad)
    ref = dr.chunkwise(q, k, v, beta, 2)[0]
    np.testing.assert_array_equal(dr.chunkwise(q, k, v, beta, np.int64(2))[0], ref)
    np.testing.assert_array_equal(dr.chunkwise(q, k, v, beta, jnp.asarray(2))[0], ref)


def test_ut_transform_wy_and_chunk_update_against_explicit_formulas():
    q, k, v, beta, S0 = _problem(5, L=4, d_k=3, d_v=2)
    A = np.tril(beta[:, None] * (k @ k.T), -1)
    T_ref = np.linalg.inv(np.eye(4) + A) @ np.diag(beta)
    T = dr.ut_transform(k, beta)
    np.testing.assert_allclose(T, T_ref, rtol=0, atol=1e-13)
    assert isinstance(dr.ut_transform(jnp.asarray(k), beta), jax.Array)
    assert isinstance(dr.ut_transform(k, jnp.asarray(beta)), jax.Array)
    W, U = dr.wy_representation(k, v, beta)
    np.testing.assert_allclose(W, T_ref @ k, rtol=0, atol=1e-13)
    np.testing.assert_allclose(U, T_ref @ v, rtol=0, atol=1e-13)
    Ut = U - W @ S0.T
    O_ref = q @ S0.T + np.tril(q @ k.T) @ Ut
    S_ref = S0 + Ut.T @ k
    O, S_new = dr.chunk_update(S0, q, k, W, U)
    np.testing.assert_allclose(O, O_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(S_new, S_ref, rtol=0, atol=1e-13)
    o_loop, s_loop = _loop(q, k, v, beta, S0)
    np.testing.assert_allclose(O, o_loop, rtol=0, atol=1e-12)
    np.testing.assert_allclose(S_new, s_loop, rtol=0, atol=1e-12)
    for i in range(5):
        args = [S0, q, k, W, U]
        args[i] = jnp.asarray(args[i])
        Oj, Sj = dr.chunk_update(*args)
        assert isinstance(Oj, jax.Array)
        np.testing.assert_allclose(np.asarray(Sj), S_ref, rtol=0, atol=1e-13)
    for i, bad in enumerate((np.ones((2, 2)), np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 2)), np.ones((3, 2)))):
        args = [S0, q, k, W, U]
        if i == 2:
            args[1] = bad  # q and k disagree only through k; checked via q
            args[2] = k
        args[i] = bad
        with pytest.raises(ValueError, match=r"^chunk_update: inconsistent shapes"):
            dr.chunk_update(*args)
    for i, name in enumerate("SqkWU"):
        args = [S0, q, k, W, U]
        args[i] = np.full(args[i].shape, np.nan)
        with pytest.raises(ValueError, match=rf"^{name} must be finite"):
            dr.chunk_update(*args)
    with pytest.raises(ValueError, match=r"^k must be 2-D \(C >= 1, d_k >= 1\)"):
        dr.ut_transform(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"^k must be 2-D \(C >= 1, d_k >= 1\)"):
        dr.ut_transform(np.ones((3, 0)), np.ones(3))
    with pytest.raises(ValueError, match=r"^k must be 2-D \(C >= 1, d_k >= 1\)"):
        dr.ut_transform(np.ones((0, 2)), np.ones(0))
    with pytest.raises(ValueError, match=r"^beta must have shape \(3,\)"):
        dr.ut_transform(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"^beta must be finite"):
        dr.ut_transform(np.ones((3, 2)), np.full(3, np.nan))
    with pytest.raises(TypeError, match=r"^k must be a real floating"):
        dr.ut_transform(np.ones((3, 2), complex), np.ones(3))


def test_flop_counter_every_op_and_the_closed_forms_by_hand():
    c = dr.FlopCounter()
    assert c.flops == 0 and c.by_op == {}
    assert dr.FlopCounter().by_op is not c.by_op
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(c.matmul(a, b), a @ b)
    np.testing.assert_array_equal(c.outer(np.ones(2), np.arange(5.0)), np.outer(np.ones(2), np.arange(5.0)))
    Lm = np.array([[9.0, 0.0, 0.0], [2.0, 9.0, 0.0], [1.0, 3.0, 9.0]])
    x = c.solve_unit_lower(Lm, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x, [1.0, 0.0, 2.0], atol=1e-15)  # unit diagonal: 9s ignored
    c.solve_unit_lower(Lm, np.ones((3, 2)))
    np.testing.assert_array_equal(c.mul(a, a), a * a)
    np.testing.assert_array_equal(c.add(a, a), a + a)
    np.testing.assert_array_equal(c.sub(a, 2 * a), -a)
    assert c.by_op == {"matmul": 2 * 3 * 8, "outer": 10, "solve": 6 + 12, "mul": 6, "add": 6, "sub": 6}
    assert c.flops == 48 + 10 + 18 + 18
    # recurrent: L (6 d_k d_v + 2 d_v); one chunk c = 2, d_k = 3, d_v = 1 stage by stage:
    # K K^T 24, beta 4, beta [K V] 8, substitution 8, W S^T 12, U - W S^T 2, Q S^T 12, Q K^T 24,
    # tril(Q K^T) U~ 8, sum 2, U~^T K 12, S + 3
    assert dr.recurrent_flops(3, 2, 5) == 210
    assert dr.chunk_flops(2, 3, 1) == 24 + 4 + 8 + 8 + 12 + 2 + 12 + 24 + 8 + 2 + 12 + 3 == 119
    assert dr.chunkwise_flops(5, 2, 3, 1) == 2 * 119 + dr.chunk_flops(1, 3, 1)
    assert dr.chunk_flops(1, 3, 1) == 1 * (15 + 3 + 1) + 18 + 2 + 3
    assert dr.chunkwise_flops(4, 2, 3, 1) == 2 * 119
    assert dr.chunkwise_flops(np.int64(4), 2, 3, 1) == 238
    q, k, v, beta, S0 = _problem(6, L=5, d_k=3, d_v=1)
    assert dr.counted_flops(q, k, v, beta, 2, S0) == dr.chunkwise_flops(5, 2, 3, 1) == 2 * 119 + 42
    assert dr.counted_flops(q, k, v, beta, None, S0) == dr.counted_flops(q, k, v, beta) == 5 * (18 + 2)
    for fn, args, names in ((dr.recurrent_flops, (2, 2, 2), ("L", "d_k", "d_v")),
                            (dr.chunk_flops, (2, 2, 2), ("c", "d_k", "d_v")),
                            (dr.chunkwise_flops, (4, 2, 2, 2), ("L", "chunk", "d_k", "d_v"))):
        assert fn(*args) > 0
        for i, name in enumerate(names):
            for bad in (0, True, 2.0):
                a = list(args)
                a[i] = bad
                with pytest.raises(ValueError, match=rf"^{name} must be a positive int"):
                    fn(*a)

"""The integral_operators constructions one public function at a time (issue 11 section 6): values
against plain-loop or closed-form references, the documented defaults and random draws reproduced
from the same generator, every branch, and each bad input rejected with a message anchored at the
argument's name, at both sides of each validation boundary. Tiny sizes: well under a second."""

import inspect

import numpy as np
import pytest

from constructions.integral_operators import continuum_attention as ca
from constructions.integral_operators import neural_operator as no
from constructions.integral_operators import nie
from constructions.integral_operators import patching as pa
from numerics import EPS
from numerics.quadrature import gauss_legendre_nodes_weights, midpoint_nodes_weights

# --- continuum_attention -------------------------------------------------------------------------


def _field_loop(f: ca.SmoothField, x, order=0, axis=0):
    """d^order/dx_axis^order of u_c(x) = sum_m A[c, m] cos(<omega_m, x> + phi_m), one entry at a time
    (derivatives of cos written out: -sin, -cos, sin, cos)."""
    ders = (np.cos, lambda t: -np.sin(t), lambda t: -np.cos(t), np.sin)
    out = np.zeros((x.shape[0], f.d_u))
    for i in range(x.shape[0]):
        for c in range(f.d_u):
            for m in range(f.amplitudes.shape[1]):
                t = float(np.dot(f.frequencies[m], x[i])) + f.phases[m]
                out[i, c] += f.amplitudes[c, m] * f.frequencies[m, axis] ** order * ders[order % 4](t)
    return out


def test_default_scale_is_one_over_sqrt_dk():
    assert ca.default_scale(4) == 0.5 and ca.default_scale(1) == 1.0
    assert ca.default_scale(2) == 1.0 / np.sqrt(2.0) and type(ca.default_scale(3)) is float


def test_attention_params_store_float64_and_name_each_bad_input():
    Q = np.ones((2, 3), dtype=np.float32)
    p = ca.AttentionParams(Q, Q, np.ones((4, 3)), 0.5)
    assert p.Q.dtype == p.K.dtype == p.V.dtype == np.float64 and (p.d_u, p.d_v) == (3, 4)
    good = np.zeros((2, 3))
    nan = good.copy()
    nan[0, 1] = np.nan
    for name, bad in (("Q", np.zeros((2, 3), dtype=np.int64)), ("K", nan), ("V", np.zeros(3)),
                      ("Q", np.zeros((1, 2, 3)))):
        args = {"Q": good, "K": good, "V": good, name: bad}
        with pytest.raises(ValueError, match=rf"^AttentionParams: {name} must be a finite 2-D float array"):
            ca.AttentionParams(args["Q"], args["K"], args["V"], 1.0)
    with pytest.raises(ValueError, match=r"^AttentionParams: Q and K must have equal shapes"):
        ca.AttentionParams(good, np.zeros((3, 3)), good, 1.0)
    with pytest.raises(ValueError, match=r"^AttentionParams: V must act on d_u = 3"):
        ca.AttentionParams(good, good, np.zeros((2, 2)), 1.0)
    for s in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match=r"^AttentionParams: scale must be finite"):
            ca.AttentionParams(good, good, good, s)
    # V may have another output width d_v and K its own values: a (d_v, d_u) V with d_v != d_k is fine
    assert ca.AttentionParams(good, good, np.zeros((5, 3)), 0.0).d_v == 5


def test_random_attention_boundaries_scale_and_generator():
    p = ca.random_attention(1, 1, 1, 0)  # the minimum size 1 is accepted
    assert p.Q.shape == p.K.shape == (1, 1) and p.V.shape == (1, 1) and p.scale == 1.0
    p = ca.random_attention(np.int64(3), 2, np.int32(2), 1, scale=3)
    assert type(p.scale) is float and p.scale == 3.0
    for pos, name in enumerate(("d_u", "d_k", "d_v")):
        for bad in (0, -1):
            sizes = [3, 2, 2]
            sizes[pos] = bad
            with pytest.raises(ValueError, match=rf"^random_attention: {name} must be a positive int"):
                ca.random_attention(*sizes, 0)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    a, b = ca.random_attention(2, 2, 2, g1), ca.random_attention(2, 2, 2, g2)
    np.testing.assert_array_equal(a.Q, b.Q)
    c = ca.random_attention(2, 2, 2, g1)  # the generator advanced: the next draw differs
    assert not np.array_equal(a.Q, c.Q)


def test_smooth_field_values_derivatives_and_jax_path():
    import jax.numpy as jnp

    g = np.random.default_rng(1)
    f = ca.random_field(2, 2, 3, n_modes=4)
    assert (f.dim, f.d_u) == (2, 2)
    x = g.uniform(0.0, 1.0, (5, 2))
    tol = 16 * EPS * (1 + np.abs(f.frequencies).max()) ** 3 * np.abs(f.amplitudes).sum()
    np.testing.assert_allclose(f(x), _field_loop(f, x), rtol=0, atol=tol)
    np.testing.assert_allclose(np.asarray(f(jnp.asarray(x), xp=jnp)), f(x), rtol=0, atol=tol)
    np.testing.assert_allclose(f(x.tolist()), f(x), rtol=0, atol=0)
    for axis in (0, 1):
        for order in (0, 1, 2, 3):
            np.testing.assert_allclose(f.derivative(x, order, axis=axis), _field_loop(f, x, order, axis),
                                       rtol=0, atol=tol * 8)
    np.testing.assert_allclose(f.derivative(x, 1), f.derivative(x, 1, axis=0), rtol=0, atol=0)
    np.testing.assert_allclose(f.derivative(x, np.int64(0)), f(x), rtol=0, atol=tol)
    for bad in (-1, True, 1.0):
        with pytest.raises(ValueError, match=r"^SmoothField.derivative: order must be a non-negative int"):
            f.derivative(x, bad)


def test_random_field_periodic_draws_are_pinned():
    """periodic=True: integer modes k in [-max_mode, max_mode] (one integers draw of (n_modes, dim)),
    then amplitudes N(0, 1) and phases U(0, 2 pi), from the one generator in that order."""
    for n_modes, max_mode in ((3, 2), (5, 1), (2, 0)):
        f = ca.random_field(2, 2, 6, n_modes=n_modes, periodic=True, max_mode=max_mode)
        g = np.random.default_rng(6)
        k = g.integers(-max_mode, max_mode + 1, size=(n_modes, 2)).astype(np.float64)
        np.testing.assert_array_equal(f.frequencies, 2.0 * np.pi * k)
        np.testing.assert_array_equal(f.amplitudes, g.standard_normal((2, n_modes)))
        np.testing.assert_array_equal(f.phases, g.uniform(0.0, 2.0 * np.pi, size=n_modes))
    f = ca.random_field(1, 3, 2, n_modes=7)
    assert f.frequencies.shape == (7, 3) and np.all(np.abs(f.frequencies) >= 0.5) and np.all(np.abs(f.frequencies) < 3.0)


def test_discrete_attention_equal_weights_streaming_and_errors():
    p = ca.random_attention(3, 2, 2, 4, gain=2.0)
    g = np.random.default_rng(5)
    uq, us = g.standard_normal((2, 3)), g.standard_normal((6, 3))
    logits = p.scale * (uq @ p.Q.T) @ (us @ p.K.T).T
    a = np.exp(logits - logits.max(axis=1, keepdims=True))
    ref = (a / a.sum(axis=1, keepdims=True)) @ (us @ p.V.T)  # weights None: plain (equal-weight) attention
    tol = 64 * EPS * 6 * (1 + np.abs(ref).max())
    np.testing.assert_allclose(ca.discrete_attention(uq, us, p), ref, rtol=0, atol=tol)
    np.testing.assert_allclose(ca.discrete_attention(uq, us, p, np.full(6, 3.0)), ref, rtol=0, atol=tol)
    for chunk in (1, 4, 6, 10):
        np.testing.assert_allclose(ca.discrete_attention(uq, us, p, chunk=chunk), ref, rtol=0, atol=tol)
    np.testing.assert_allclose(ca.discrete_attention(uq, us[:1], p), np.tile(us[:1] @ p.V.T, (2, 1)),
                               rtol=0, atol=tol)  # one sample (the minimum) is accepted
    for name, args in (("u_query", (uq[:, :2], us)), ("u_samples", (uq, us[:, :2])),
                       ("u_query", (uq[0], us)), ("u_samples", (uq, us[None]))):
        with pytest.raises(ValueError, match=rf"^{name} must have shape \(n, 3\)"):
            ca.discrete_attention(*args, p)
    for name, args in (("u_query", (np.full((1, 3), np.inf), us)), ("u_samples", (uq, np.full((2, 3), np.nan)))):
        with pytest.raises(ValueError, match=rf"^{name} must be finite"):
            ca.discrete_attention(*args, p)
    with pytest.raises(ValueError, match=r"^u_samples must hold at least one sample"):
        ca.discrete_attention(uq, us[:0], p)
    for name, args in (("u_query", (np.array([["a", "b", "c"]]), us)), ("u_samples", (uq, us.astype(complex)))):
        with pytest.raises(TypeError, match=rf"^{name} must be a real array"):
            ca.discrete_attention(*args, p)


def test_points_rules_scalars_and_errors():
    field, p = ca.random_field(3, 1, 7), ca.random_attention(3, 2, 2, 8)
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, 8)
    one = ca.continuum_attention(field, 0.3, p, x, w)  # a scalar is one point of a 1-D domain
    np.testing.assert_array_equal(one, ca.continuum_attention(field, [[0.3]], p, x[:, None], w))
    assert one.shape == (1, 2)
    with pytest.raises(ValueError, match=r"^x_query must hold at least one point"):
        ca.continuum_attention(field, np.zeros((0, 1)), p, x, w)
    with pytest.raises(ValueError, match=r"^nodes must hold at least one point"):
        ca.continuum_attention(field, [0.3], p, np.zeros(0), np.zeros(0))
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match=r"^x_query must be finite"):
            ca.continuum_attention(field, [[bad]], p, x, w)
        with pytest.raises(ValueError, match=r"^nodes must be finite"):
            ca.continuum_attention(field, [[0.3]], p, np.full(8, bad), w)
    with pytest.raises(ValueError, match=r"^x_query must have shape \(M, 1\)"):
        ca.continuum_attention(field, np.zeros((2, 1, 1)), p, x, w)
    with pytest.raises(ValueError, match=r"^y must have shape \(M, 1\)"):
        ca.attention_integrands(field, [0.3], p, np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"^nodes must be a real array"):
        ca.continuum_attention(field, [0.3], p, np.array(["a"]), w[:1])

    # a field whose dim is a numpy integer is read as that dim; a non-integer dim as unknown
    field2 = ca.random_field(3, 2, 1)

    class NpDim:
        dim = np.int64(2)

        def __call__(self, pts):
            return field2(pts)

    class StrDim(NpDim):
        dim = "2"

    nodes = np.array([[0.2, 0.4], [0.6, 0.8]])
    with pytest.raises(ValueError, match=r"^x_query must have shape \(M, 2\)"):
        ca.continuum_attention(NpDim(), [0.1, 0.5], p, nodes, np.ones(2))
    with pytest.raises(ValueError, match=r"^x_query must have shape \(M, 2\)"):
        ca.continuum_attention(NpDim(), [[0.1, 0.5, 0.2]], p, nodes, np.ones(2))
    ref = ca.continuum_attention(field2, [[0.1, 0.5]], p, nodes, np.ones(2))
    np.testing.assert_array_equal(ca.continuum_attention(StrDim(), [[0.1, 0.5]], p, nodes, np.ones(2)), ref)
    np.testing.assert_array_equal(ca.continuum_attention(NpDim(), [[0.1, 0.5]], p, nodes, np.ones(2)), ref)


def test_attention_integrands_values():
    field, p = ca.random_field(3, 2, 2), ca.random_attention(3, 2, 4, 3, gain=1.5)
    xq = np.array([[0.1, 0.2], [0.7, 0.4]])
    y = np.array([[0.3, 0.3], [0.9, 0.1], [0.5, 0.6]])
    w, v = ca.attention_integrands(field, xq, p, y)
    uq, uy = field(xq), field(y)
    wr = np.array([[np.exp(p.scale * float((p.Q @ uq[i]) @ (p.K @ uy[j]))) for j in range(3)] for i in range(2)])
    np.testing.assert_allclose(w, wr, rtol=64 * EPS, atol=0)
    np.testing.assert_allclose(v, np.array([p.V @ uy[j] for j in range(3)]), rtol=0, atol=16 * EPS * (1 + np.abs(v).max()))
    assert w.shape == (2, 3) and v.shape == (3, 4)


# --- neural_operator -----------------------------------------------------------------------------


def test_random_tno_draws_defaults_and_sizes_are_pinned():
    """Per layer: random_attention(width, width, width) from the same generator (entries
    N(0, gain^2/width), scale 1/sqrt(width)), then w1 N(0, 1/width), b1 N(0, 0.01), w2 N(0, 1/hidden);
    then lift N(0, 1/(d_u + dim)) and proj N(0, 1/width). Defaults hidden = 2 width, d_out = 1, gain 1."""
    sig = inspect.signature(no.random_tno).parameters
    assert sig["hidden"].default is None and sig["d_out"].default == 1 and sig["gain"].default == 1.0
    for kw, hidden, d_out, gain in (({}, 6, 1, 1.0), ({"hidden": 4, "d_out": 2, "gain": 2.0}, 4, 2, 2.0)):
        t = no.random_tno(2, 1, 3, 2, 5, **kw)
        g = np.random.default_rng(5)
        assert len(t.attention) == len(t.w1) == len(t.b1) == len(t.w2) == 2
        for layer in range(2):
            sd = gain / np.sqrt(3)
            a = t.attention[layer]
            for name in ("Q", "K", "V"):
                np.testing.assert_array_equal(getattr(a, name), sd * g.standard_normal((3, 3)))
            assert a.scale == 1.0 / np.sqrt(3)
            np.testing.assert_array_equal(t.w1[layer], g.standard_normal((hidden, 3)) / np.sqrt(3))
            np.testing.assert_array_equal(t.b1[layer], 0.1 * g.standard_normal(hidden))
            np.testing.assert_array_equal(t.w2[layer], g.standard_normal((3, hidden)) / np.sqrt(hidden))
        np.testing.assert_array_equal(t.lift, g.standard_normal((3, 3)) / np.sqrt(3))
        np.testing.assert_array_equal(t.proj, g.standard_normal((d_out, 3)) / np.sqrt(3))
    t = no.random_tno(1, 1, 1, 1, 0)  # every size at its minimum 1
    assert t.lift.shape == (1, 2) and t.proj.shape == (1, 1) and t.w1[0].shape == (2, 1)
    names = ("d_u", "dim", "width", "n_layers", "d_out")
    for name in names:
        for bad in (0, True, 2.0):
            sizes = dict(zip(names, (2, 1, 3, 1, 1)))
            sizes[name] = bad
            with pytest.raises(ValueError, match=rf"^random_tno: {name} must be a positive int"):
                no.random_tno(sizes["d_u"], sizes["dim"], sizes["width"], sizes["n_layers"], 0, d_out=sizes["d_out"])


def _loop_tno(t, field, xq, y, q):
    """The TNO written out: lift [u; x], per layer residual attention of queries and nodes over the
    nodes (weights q) and the residual tanh map, then the projection; softmax one row at a time."""
    def att(a, hq, hy):
        out = np.zeros_like(hq)
        for i in range(hq.shape[0]):
            lg = np.array([a.scale * float((a.Q @ hq[i]) @ (a.K @ hy[j])) for j in range(hy.shape[0])])
            e = q * np.exp(lg - lg.max())
            out[i] = sum(e[j] * (a.V @ hy[j]) for j in range(hy.shape[0])) / e.sum()
        return out

    hq = np.array([t.lift @ np.concatenate([field(xq[i:i + 1])[0], xq[i]]) for i in range(xq.shape[0])])
    hy = np.array([t.lift @ np.concatenate([field(y[j:j + 1])[0], y[j]]) for j in range(y.shape[0])])
    for a, w1, b1, w2 in zip(t.attention, t.w1, t.b1, t.w2):
        hq, hy = hq + att(a, hq, hy), hy + att(a, hy, hy)
        hq = hq + np.array([w2 @ np.tanh(w1 @ h + b1) for h in hq])
        hy = hy + np.array([w2 @ np.tanh(w1 @ h + b1) for h in hy])
    return np.array([t.proj @ h for h in hq])


def test_tno_apply_against_a_loop_reference_and_errors():
    field = ca.random_field(2, 2, 4)
    t = no.random_tno(2, 2, 3, 2, 6, d_out=2, gain=1.5)
    g = np.random.default_rng(7)
    xq, y, q = g.uniform(0, 1, (3, 2)), g.uniform(0, 1, (5, 2)), g.uniform(0.1, 1.0, 5)
    got = no.tno_apply(t, field, xq, y, q)
    ref = _loop_tno(t, field, xq, y, q)
    assert got.shape == (3, 2) and got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e3 * EPS * (1 + np.abs(ref).max()))
    np.testing.assert_allclose(no.tno_apply(t, field, xq[0], y, q), ref[:1], rtol=0, atol=1e3 * EPS * (1 + np.abs(ref).max()))
    with pytest.raises(ValueError, match=r"^nodes \(N, 1\) and queries \(M, 2\) must share the dimension"):
        no.tno_apply(t, field, xq, y[:, :1], q)
    for bad in (q[:4], np.r_[q[:4], np.nan], np.r_[q[:4], -0.1], np.r_[q[:4], np.inf], q[None]):
        with pytest.raises(ValueError, match=r"^weights must be finite, non-negative, one per node"):
            no.tno_apply(t, field, xq, y, bad)
    np.testing.assert_allclose(no.tno_apply(t, field, xq, y, np.r_[q[:4], 0.0]), _loop_tno(t, field, xq, y, np.r_[q[:4], 0.0]),
                               rtol=0, atol=1e3 * EPS * (1 + np.abs(ref).max()))  # a zero weight is admissible
    with pytest.raises(ValueError, match=r"^lift expects d_u \+ dim = 4 inputs"):
        no.tno_apply(t, ca.random_field(3, 2, 4), xq, y, q)
    x, w = midpoint_nodes_weights(0.0, 1.0, 4)
    t1 = no.random_tno(2, 1, 2, 1, 0)
    assert no.tno_apply(t1, ca.random_field(2, 1, 1), [[0.5]], x[:, None], w).shape == (1, 1)


# --- patching ------------------------------------------------------------------------------------


def test_patch_points_values_and_errors():
    z = np.array([[0.25, 0.5], [0.0, 1.0]])
    for P in (1, 2, 3):
        got = pa.patch_points(P, z)
        assert got.shape == (P * P, 2, 2) and got.dtype == np.float64
        for a in range(P * P):
            i, j = divmod(a, P)  # row-major patches: patch a is row i, column j
            for k in range(2):
                np.testing.assert_array_equal(got[a, k], [(i + z[k, 0]) / P, (j + z[k, 1]) / P])
    np.testing.assert_array_equal(pa.patch_points(np.int64(2), z.tolist()), pa.patch_points(2, z))
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match=r"^P \(patches per side\) must be a positive int"):
            pa.patch_points(bad, z)
    for bad in (np.zeros(2), np.zeros((2, 3)), np.zeros((1, 2, 2))):
        with pytest.raises(ValueError, match=r"^local points must have shape \(n, 2\)"):
            pa.patch_points(2, bad)


def test_patch_scores_rules_cell_area_and_errors():
    field, p = ca.random_field(3, 2, 3), ca.random_attention(3, 2, 2, 4, gain=1.5)
    # m = 1 (the minimum) is the one pixel centre (1/2, 1/2) with weight 1
    s1 = pa.patch_scores(field, 2, p, m=1)
    u = field(pa.patch_points(2, np.array([[0.5, 0.5]]))[:, 0, :])
    np.testing.assert_allclose(s1, p.scale * (u @ p.Q.T) @ (u @ p.K.T).T, rtol=0, atol=64 * EPS * (1 + np.abs(s1).max()))
    # m pixels is the rule (pixel centres, 1/m^2 each); a rule given explicitly is used as given
    c = (np.arange(3) + 0.5) / 3
    z = np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1).reshape(-1, 2)
    s3 = pa.patch_scores(field, 2, p, m=3)
    np.testing.assert_allclose(pa.patch_scores(field, 2, p, nodes=z, weights=np.full(9, 1 / 9)), s3, rtol=0,
                               atol=16 * EPS * (1 + np.abs(s3).max()))
    np.testing.assert_allclose(pa.patch_scores(field, 2, p, m=3, cell_area=False), 9 * s3, rtol=0,
                               atol=16 * EPS * 9 * (1 + np.abs(s3).max()))
    np.testing.assert_array_equal(pa.patch_scores(field, 2, p, nodes=z, weights=np.full(9, 5.0), cell_area=False),
                                  pa.patch_scores(field, 2, p, nodes=z, weights=np.ones(9)))
    with pytest.raises(ValueError, match=r"^give m \(pixels per side\) or a rule"):
        pa.patch_scores(field, 2, p)
    for bad in (0, True):
        with pytest.raises(ValueError, match=r"^m \(pixels per patch side\) must be a positive int"):
            pa.patch_scores(field, 2, p, m=bad)
    for bad in (np.ones(8), np.r_[np.ones(8), -1.0], np.r_[np.ones(8), np.nan], np.r_[np.ones(8), np.inf]):
        with pytest.raises(ValueError, match=r"^weights must be finite, non-negative, one per node"):
            pa.patch_scores(field, 2, p, nodes=z, weights=bad)
    with pytest.raises(ValueError, match=r"^P \(patches per side\) must be a positive int"):
        pa.patch_scores(field, 0, p, m=2)


def test_patch_attention_errors_and_a_dominant_score():
    field, p = ca.random_field(3, 2, 3), ca.random_attention(3, 2, 2, 4)
    z = np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match=r"^scores must be a finite \(4, 4\) array"):
        pa.patch_attention(field, 2, p, z, scores=np.zeros((4, 3)))
    for bad in (np.nan, np.inf):
        s = np.zeros((4, 4))
        s[1, 2] = bad
        with pytest.raises(ValueError, match=r"^scores must be a finite \(4, 4\) array"):
            pa.patch_attention(field, 2, p, z, scores=s)
    # scores with one entry 800 above the rest in each row select that patch's value (e^-800 = 0)
    s = np.zeros((4, 4))
    s[np.arange(4), [3, 0, 1, 1]] = 800.0
    vu = field(pa.patch_points(2, z)[:, 0, :]) @ p.V.T
    out = pa.patch_attention(field, 2, p, z, scores=s)
    np.testing.assert_allclose(out[:, 0, :], vu[[3, 0, 1, 1]], rtol=0, atol=4 * EPS * (1 + np.abs(vu).max()))
    # equal scores: the plain mean over patches
    np.testing.assert_allclose(pa.patch_attention(field, 2, p, z, scores=np.full((4, 4), 7.0))[:, 0, :],
                               np.tile(vu.mean(axis=0), (4, 1)), rtol=0, atol=16 * EPS * (1 + np.abs(vu).max()))


# --- nie -----------------------------------------------------------------------------------------


def test_positional_features_values():
    x = np.array([[0.5], [-2.0], [3.0]])
    np.testing.assert_array_equal(nie.positional_features(x), [[1.0, 0.5, 0.25], [1.0, -2.0, 4.0], [1.0, 3.0, 9.0]])
    assert nie.positional_features(np.array([1, 2])).dtype == np.float64
    assert nie.positional_features(0.5).shape == (1, 3)


def test_anie_kernel_linear_flag_copy_and_errors():
    sig = inspect.signature(nie.ANIEKernel).parameters
    assert sig["linear"].default is True
    g = np.random.default_rng(0)
    Q, K, V = g.standard_normal((2, 5)), g.standard_normal((2, 5)), g.standard_normal((2, 2))
    Q0 = Q.copy()
    lin = nie.ANIEKernel(Q, K, V, 0.5)
    assert lin.linear is True and lin.d_y == 2
    np.testing.assert_array_equal(lin.Q[:, :2], 0.0)
    np.testing.assert_array_equal(lin.Q[:, 2:], Q[:, 2:])
    np.testing.assert_array_equal(lin.K[:, 2:], K[:, 2:])
    np.testing.assert_array_equal(lin.V, V)
    np.testing.assert_array_equal(Q, Q0)  # the caller's Q is not zeroed in place
    full = nie.ANIEKernel(Q, K, V, 0.5, linear=False)
    np.testing.assert_array_equal(full.Q, Q)
    np.testing.assert_array_equal(full.K, K)
    for name in ("Q", "K", "V"):
        args = {"Q": Q, "K": K, "V": V}
        bad = args[name].copy()
        bad[0, 0] = np.inf
        args[name] = bad
        with pytest.raises(ValueError, match=rf"^ANIEKernel: {name} must be a finite 2-D array"):
            nie.ANIEKernel(args["Q"], args["K"], args["V"], 1.0)
    for q, k, v in ((Q, K, np.zeros((2, 3))), (Q, K[:1], V), (Q[:, :4], K[:, :4], V)):
        with pytest.raises(ValueError, match=r"^ANIEKernel: need V \(d_y, d_y\), Q = K \(d_k, d_y \+ 3\)"):
            nie.ANIEKernel(q, k, v, 1.0)
    for lam in (np.nan, np.inf):
        with pytest.raises(ValueError, match=r"^ANIEKernel: lam must be finite"):
            nie.ANIEKernel(Q, K, V, lam)


def test_random_anie_kernel_draws_and_defaults_are_pinned():
    """Q, K N(0, 1/(d_y + 3)) (d_k, d_y + 3), V N(0, 1/d_y), in that order; lam 1 and linear by default."""
    sig = inspect.signature(nie.random_anie_kernel).parameters
    assert sig["lam"].default == 1.0 and sig["linear"].default is True
    for linear in (False, True):
        k = nie.random_anie_kernel(2, 3, 4, linear=linear) if linear else nie.random_anie_kernel(2, 3, 4, linear=False)
        g = np.random.default_rng(4)
        Q, K = g.standard_normal((3, 5)) / np.sqrt(5), g.standard_normal((3, 5)) / np.sqrt(5)
        V = g.standard_normal((2, 2)) / np.sqrt(2)
        cols = slice(2, None) if linear else slice(None)
        np.testing.assert_array_equal(k.Q[:, cols], Q[:, cols])
        np.testing.assert_array_equal(k.K[:, cols], K[:, cols])
        np.testing.assert_array_equal(k.V, V)
        assert k.lam == 1.0 and k.linear is linear
    assert nie.random_anie_kernel(1, 1, 0, lam=-0.5).lam == -0.5


def test_anie_operator_jax_path_and_linear_kernel_values():
    import jax.numpy as jnp

    g = np.random.default_rng(3)
    kern = nie.random_anie_kernel(2, 3, 5, lam=0.6, linear=False)
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, 5)
    f, y = g.standard_normal((5, 2)), g.standard_normal((5, 2))
    ref = nie.anie_operator(kern, x, w, f, y)
    got = nie.anie_operator(kern, x, jnp.asarray(w), jnp.asarray(f), jnp.asarray(y), xp=jnp)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=0, atol=64 * EPS * 5 * (1 + np.abs(ref).max()))

    lin = nie.random_anie_kernel(2, 3, 6, lam=0.7)
    s = np.array([0.1, 0.6, 0.9])
    xs = np.array([0.0, 0.5])
    K = nie.linear_kernel(lin)(xs[:, None], s[None, :])
    assert K.shape == (2, 3, 2, 2)
    for i in range(2):
        for j in range(3):
            a = 0.7 * float((lin.Q[:, 2:] @ [1.0, xs[i], xs[i] ** 2]) @ (lin.K[:, 2:] @ [1.0, s[j], s[j] ** 2]))
            np.testing.assert_allclose(K[i, j], a * lin.V, rtol=0, atol=16 * EPS * (1 + abs(a)) * np.abs(lin.V).max())
    with pytest.raises(ValueError, match=r"^linear_kernel: the kernel depends on y"):
        nie.linear_kernel(kern)
    with pytest.raises(ValueError, match=r"^degenerate_solution: needs a linear"):
        nie.degenerate_solution(kern, lambda t: np.zeros((np.size(t), 2)))


def test_degenerate_solution_coefficients_are_the_key_moments_of_y():
    """C_i = int_0^1 b_i(s) y(s) ds (b = K phi): with y = f + sum_i a_i V c_i this is the definition
    of the coefficients; checked with an independent 64-point Gauss rule, and n_gl = 40 by default."""
    assert inspect.signature(nie.degenerate_solution).parameters["n_gl"].default == 40
    kern = nie.random_anie_kernel(2, 3, 11, lam=0.8)
    fld = ca.random_field(2, 1, 12)

    def f(t):
        return fld(np.asarray(t, dtype=np.float64).reshape(-1, 1))

    for n_gl in (40, 12):
        y, C = nie.degenerate_solution(kern, f, n_gl=n_gl)
        s, w = gauss_legendre_nodes_weights(0.0, 1.0, 64)
        b = nie.positional_features(s) @ kern.K[:, 2:].T
        ref = (b * w[:, None]).T @ y(s)
        assert C.shape == (3, 2)
        np.testing.assert_allclose(C, ref, rtol=0, atol=1e3 * EPS * (1 + np.abs(ref).max()))
        ax = 0.8 * nie.positional_features(s) @ kern.Q[:, 2:].T
        np.testing.assert_allclose(y(s), f(s) + ax @ C @ kern.V.T, rtol=0, atol=0)


# --- tests for the seed-5 survivors (mutation/triage.md, seed 5: integral_operators) --------------


def test_smooth_field_reads_object_valued_points_as_float64():
    """Points given as an object array of Python floats (values computed in mpmath or by hand) are
    read as the float64 points: the field and its derivatives equal the float64 path."""
    f = ca.random_field(2, 2, 5)
    x = np.array([[0.1, 0.7], [0.4, 0.2]])
    xo = np.array(x.tolist(), dtype=object)
    np.testing.assert_array_equal(f(xo), f(x))
    for order in (0, 1, 2):
        got = f.derivative(xo, order, axis=1)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, f.derivative(x, order, axis=1))


def test_patch_attention_softmax_is_shifted_row_by_row():
    """The softmax over patches is stabilised by each row's own maximum: a row whose scores sit
    1000 below another row's still gets its softmax (a shift by the global maximum would
    underflow it to 0/0)."""
    field, p = ca.random_field(3, 2, 3), ca.random_attention(3, 2, 2, 4)
    z = np.array([[0.5, 0.5]])
    s = np.array([[0.0, 1.0, 2.0, 3.0], [1000.0, 1001.0, 999.0, 1000.5], [-5.0, 0.0, 0.0, -5.0], [3.0, 2.0, 1.0, 0.0]])
    vu = field(pa.patch_points(2, z)[:, 0, :]) @ p.V.T
    out = pa.patch_attention(field, 2, p, z, scores=s)
    for r in range(4):
        w = np.exp(s[r] - s[r].max())
        np.testing.assert_allclose(out[r, 0], (w / w.sum()) @ vu, rtol=0, atol=16 * EPS * (1 + np.abs(vu).max()))


def test_patch_scores_read_object_valued_weights_as_float64():
    """A rule's weights may be any real array-like, an object array of Python floats too: the scores
    are the float64 scores (and float64)."""
    field, p = ca.random_field(3, 2, 3), ca.random_attention(3, 2, 2, 4)
    c = (np.arange(2) + 0.5) / 2
    z = np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1).reshape(-1, 2)
    w = np.full(4, 0.25)
    ref = pa.patch_scores(field, 2, p, nodes=z, weights=w)
    got = pa.patch_scores(field, 2, p, nodes=z, weights=np.array(w.tolist(), dtype=object))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, ref)


# --- tests for the seed-6 survivors (mutation/triage.md, seed 6: universal and integral_operators) --


def test_attention_integrands_reads_points_against_the_field_dim():
    """attention_integrands reads x_query as continuum_attention does, against the field's own dim:
    on a 2-D domain a 1-D x_query (M points or one point?) and an (M, 3) x_query are rejected, an
    (M, 2) one accepted, also for a field whose dim is a numpy integer."""
    field, p = ca.random_field(3, 2, 1), ca.random_attention(3, 2, 2, 8)

    class NpDim:
        dim = np.int64(2)

        def __call__(self, pts):
            return field(pts)

    y = np.array([[0.2, 0.4], [0.6, 0.8]])
    for fld in (field, NpDim()):
        for bad in ([0.1, 0.5], [[0.1, 0.5, 0.2]]):
            with pytest.raises(ValueError, match=r"^x_query must have shape \(M, 2\)"):
                ca.attention_integrands(fld, bad, p, y)
        w, v = ca.attention_integrands(fld, [[0.1, 0.5]], p, y)
        assert w.shape == (1, 2) and v.shape == (2, 2)


def test_degenerate_solution_and_derivative_return_float64_for_object_valued_f():
    """f and f' may return object arrays of Python floats (test_zappala2022 accepts such targets):
    y(x) and y'(x) are then float64 arrays equal to those of the float64 targets, not object arrays."""
    kern = nie.random_anie_kernel(2, 2, 3, lam=0.4)
    fld = ca.random_field(2, 1, 4)

    def f(t):
        return fld(np.asarray(t, dtype=np.float64).reshape(-1, 1))

    def fp(t):
        return fld.derivative(np.asarray(t, dtype=np.float64).reshape(-1, 1), 1, axis=0)

    x = np.linspace(0.0, 1.0, 5)
    y, C = nie.degenerate_solution(kern, f)
    y_obj, _ = nie.degenerate_solution(kern, lambda t: np.array(f(t).tolist(), dtype=object))
    got = y_obj(x)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, y(x))
    yp = nie.degenerate_solution_derivative(kern, fp, C)
    yp_obj = nie.degenerate_solution_derivative(kern, lambda t: np.array(fp(t).tolist(), dtype=object), C)
    got = yp_obj(x)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, yp(x))

"""constructions.in_context.icl_training: the LSA model, losses and GD baselines against loops, the
pool's draws and train_lsa's defaults pinned, every validation message anchored (mutation campaign
seed 5, branch mutC; the claims' tests are test_zhang2023.py and test_vonoswald2023.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from constructions.in_context import icl_training as tr
from numerics import EPS
from numerics.random import rng


def _loop_predict(W_KQ, W_PV, X, y, xq):
    B, N, d = X.shape
    out = np.zeros(B)
    for b in range(B):
        zq = np.concatenate([xq[b], [0.0]])
        for i in range(N):
            z = np.concatenate([X[b, i], [y[b, i]]])
            out[b] += (W_PV[d] @ z) * (z @ W_KQ @ zq) / N
    return out


def test_lsa_predict_loss_and_gd_baselines_against_loops():
    g = rng(3)
    B, N, d = 4, 3, 2
    W_KQ, W_PV = g.standard_normal((d + 1, d + 1)), g.standard_normal((d + 1, d + 1))
    X, y, xq, yq = g.standard_normal((B, N, d)), g.standard_normal((B, N)), g.standard_normal((B, d)), g.standard_normal(B)
    want = _loop_predict(W_KQ, W_PV, X, y, xq)
    got = tr.lsa_predict(W_KQ, W_PV, X, y, xq)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, want, rtol=0, atol=64 * EPS * max(1, np.abs(want).max()))
    gj = tr.lsa_predict(jnp.asarray(W_KQ), W_PV, X, y, xq)
    assert isinstance(gj, jax.Array)
    np.testing.assert_allclose(np.asarray(gj), want, rtol=0, atol=64 * EPS * max(1, np.abs(want).max()))
    loss = float(tr.lsa_loss((W_KQ, W_PV), X, y, xq, yq))
    assert loss == pytest.approx(0.5 * np.mean((want - yq) ** 2), rel=1e-13)
    l2, g_kq, g_pv = tr.lsa_loss_and_grad(W_KQ, W_PV, X, y, xq, yq)
    assert l2 == pytest.approx(loss, rel=1e-13) and isinstance(l2, float)
    assert not g_pv[:d].any()                           # only the last row of W_PV enters
    eta = 0.7
    gd = np.array([eta * xq[b] @ (X[b].T @ y[b]) / N for b in range(B)])
    np.testing.assert_allclose(tr.gd_predict(eta, X, y, xq), gd, rtol=0, atol=32 * EPS * np.abs(gd).max())
    assert isinstance(tr.gd_predict(eta, jnp.asarray(X), y, xq), jax.Array)
    sens = np.stack([eta * X[b].T @ y[b] / N for b in range(B)])
    np.testing.assert_allclose(tr.gd_sensitivity(eta, X, y), sens, rtol=0, atol=32 * EPS * np.abs(sens).max())
    ls = np.stack([sum((W_PV[d] @ np.append(X[b, i], y[b, i])) * (W_KQ[:, :d].T @ np.append(X[b, i], y[b, i]))
                       for i in range(N)) / N for b in range(B)])
    np.testing.assert_allclose(tr.lsa_sensitivity(W_KQ, W_PV, X, y), ls, rtol=0, atol=64 * EPS * np.abs(ls).max())


def test_sample_pool_replays_its_draws():
    """x (size, N + 1, d) first (Gaussian through the covariance's Cholesky factor, or U(-1/2, 1/2)),
    then w (size, d); the last of the N + 1 points is the query; y = x w."""
    cov = np.array([[1.0, 0.3], [0.3, 2.0]])
    for kw in ({}, {"covariance": cov}, {"distribution": "uniform"}):
        X, y, xq, yq = tr.sample_pool(3, 4, 2, 5, **kw)
        g = rng(5)
        if kw.get("distribution") == "uniform":
            x = g.uniform(-0.5, 0.5, (3, 5, 2))
        else:
            C = np.linalg.cholesky(kw.get("covariance", np.eye(2)))
            x = g.standard_normal((3, 5, 2)) @ C.T
        w = g.standard_normal((3, 2))
        np.testing.assert_array_equal(X, x[:, :4])
        np.testing.assert_array_equal(xq, x[:, 4])
        yy = np.einsum("bnd,bd->bn", x, w)
        np.testing.assert_array_equal(y, yy[:, :4])
        np.testing.assert_array_equal(yq, yy[:, 4])
    X, *_ = tr.sample_pool(1, 1, 1, 0, distribution="uniform")
    assert X.shape == (1, 1, 1) and np.all(np.abs(X) <= 0.5)
    for args, kw, msg in (((0, 2, 2, 0), {}, r"^size must be"), ((2, 0, 2, 0), {}, r"^N must be"),
                          ((2, 2, 0, 0), {}, r"^d must be"),
                          ((2, 2, 2, 0), {"distribution": "cauchy"}, r"^distribution must be one of \('gaussian', 'uniform'\)"),
                          ((2, 2, 2, 0), {"covariance": np.eye(3)}, r"^covariance must be \(2, 2\), got \(3, 3\)")):
        with pytest.raises(ValueError, match=msg):
            tr.sample_pool(*args, **kw)


def test_zhang_init_train_defaults_zero_rate_and_messages():
    """zhang_init's default scale 0.1; train_lsa's defaults (zhang_init, a pool of 65536 Gaussian
    prompts, numpy backend) pinned through a learning_rate = 0 run, whose weights stay at the
    initialisation and whose loss is the initial loss on the seeded minibatch
    rng(seed).integers(0, pool, (steps, batch)); a given init is used as given."""
    W_KQ, W_PV = tr.zhang_init(2)
    np.testing.assert_array_equal(W_KQ, np.diag([0.1, 0.1, 0.0]))
    np.testing.assert_array_equal(W_PV, np.diag([0.0, 0.0, 0.1]))
    np.testing.assert_array_equal(tr.zhang_init(1, 0.5)[1], np.diag([0.0, 0.5]))
    res = tr.train_lsa(2, 3, steps=2, batch=3, learning_rate=0, seed=4)
    assert (res.steps, res.batch, res.learning_rate) == (2, 3, 0.0) and isinstance(res.learning_rate, float)
    np.testing.assert_array_equal(res.W_KQ, W_KQ)
    np.testing.assert_array_equal(res.W_PV, W_PV)
    X, y, xq, yq = tr.sample_pool(65536, 3, 2, 4)
    idx = rng(4).integers(0, 65536, size=(2, 3))
    want = [tr.lsa_loss_and_grad(W_KQ, W_PV, X[i], y[i], xq[i], yq[i])[0] for i in idx]
    np.testing.assert_array_equal(res.losses, want)
    assert res.losses.dtype == np.float64 and res.W_KQ.dtype == np.float64
    g = rng(1)
    init = (g.standard_normal((3, 3)), g.standard_normal((3, 3)))
    r2 = tr.train_lsa(2, 3, steps=1, batch=2, learning_rate=0.0, seed=0, init=init, pool=8, distribution="uniform")
    np.testing.assert_array_equal(r2.W_KQ, init[0])
    Xu, yu, xqu, yqu = tr.sample_pool(8, 3, 2, 0, distribution="uniform")
    i0 = rng(0).integers(0, 8, size=(1, 2))[0]
    assert r2.losses[0] == tr.lsa_loss_and_grad(*init, Xu[i0], yu[i0], xqu[i0], yqu[i0])[0]
    cov = np.diag([1.0, 4.0])
    r3 = tr.train_lsa(2, 3, steps=1, batch=2, learning_rate=0.0, seed=0, pool=8, covariance=cov)
    Xc, yc, xqc, yqc = tr.sample_pool(8, 3, 2, 0, covariance=cov)
    assert r3.losses[0] == tr.lsa_loss_and_grad(W_KQ, W_PV, Xc[i0], yc[i0], xqc[i0], yqc[i0])[0]
    r4 = tr.train_lsa(2, 3, steps=3, batch=2, learning_rate=0.05, seed=0, pool=8)
    assert not np.array_equal(r4.W_KQ, W_KQ) and r4.losses.shape == (3,)
    base = {"d": 2, "N": 2, "steps": 1, "batch": 1, "pool": 4}
    for name in ("d", "N", "steps", "batch", "pool"):
        kw = dict(base, **{name: 0})
        with pytest.raises(ValueError, match=f"^{name} must be"):
            tr.train_lsa(kw.pop("d"), kw.pop("N"), learning_rate=0.1, seed=0, **kw)
    with pytest.raises(ValueError, match=r"^backend must be 'numpy' or 'jax', got 'torch'"):
        tr.train_lsa(2, 2, steps=1, batch=1, learning_rate=0.1, seed=0, pool=4, backend="torch")
    for lr in (-0.1, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match=r"^learning_rate must be finite and >= 0"):
            tr.train_lsa(2, 2, steps=1, batch=1, learning_rate=lr, seed=0, pool=4)
    with pytest.raises(ValueError, match=r"^d must be"):
        tr.zhang_init(0)
    for f in (tr.uniform_gd_optimal_step, tr.uniform_gd_optimal_loss):
        with pytest.raises(ValueError, match=r"^d must be"):
            f(0, 2)
        with pytest.raises(ValueError, match=r"^N must be"):
            f(2, 0)
    # d = N = 1: E (x_q h)^2 = (1/12)(1/80), cross = 1/144: eta* = 80/12, loss (1/2)(1/12 - (1/144)^2 / (1/960))
    assert tr.uniform_gd_optimal_step(1, 1) == pytest.approx((1 / 144) / (1 / 960), rel=4 * EPS)
    assert tr.uniform_gd_optimal_loss(1, 1) == pytest.approx(0.5 * (1 / 12 - (1 / 144) ** 2 * 960), rel=16 * EPS)


def test_jax_backend_converts_an_init_of_any_real_dtype_to_float64():
    """train_lsa(backend="jax") casts a given init to float64 like the numpy backend does: a float32
    (or int) init trains exactly as its float64 copy (mutation seed 5, icl_training
    x_train_lsa__mutmut_114: with W_KQ left in float32 its updates were rounded to float32)."""
    kw = dict(steps=2, batch=2, learning_rate=0.05, seed=1, pool=4, backend="jax")
    init32 = tuple(w.astype(np.float32) for w in tr.zhang_init(1, 0.5))   # 0.5 is exact in float32
    init_int = (np.array([[1, 0], [0, 0]]), np.array([[0, 0], [0, 1]]))
    for init in (init32, init_int):
        a = tr.train_lsa(1, 2, init=init, **kw)
        b = tr.train_lsa(1, 2, init=tuple(w.astype(np.float64) for w in init), **kw)
        assert a.W_KQ.dtype == np.float64
        np.testing.assert_array_equal(a.W_KQ, b.W_KQ)
        np.testing.assert_array_equal(a.W_PV, b.W_PV)
        np.testing.assert_array_equal(a.losses, b.losses)

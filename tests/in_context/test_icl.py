"""Property tests of constructions.in_context.icl: the LSA forward pass, the GD / preconditioned / GD++ layers
and the ReLU ridge layers against independent references (plain numpy loops and a forward pass
written here), the one-unmasked-layer property, the jax path, dtypes and input validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.in_context.icl import (
    LSALayer,
    ReLUAttentionLayer,
    embed,
    gd_layers,
    gdpp_layers,
    lsa_forward,
    preconditioned_gd_layers,
    read_prediction,
    relu_attention_forward,
    ridge_embed,
    ridge_gd_layers,
    ridge_read_prediction,
    ridge_read_weights,
)
from numerics import EPS
from numerics.random import matrix_with_condition, rng
from numerics.strategies import condition_numbers, seeds
from numerics.tolerance import assert_close
from theorems.in_context._common import residual_error_bound

# --- independent references written here ---------------------------------------------------------


def plain_gd(X, y, eta, steps, A=None):
    n, d = X.shape
    A = np.eye(d) if A is None else A
    w = np.zeros(d)
    ws = [w]
    for _ in range(steps):
        w = w - eta * A @ (X.T @ (X @ w - y) / n)
        ws.append(w)
    return np.array(ws)


def plain_lsa(Z, W_KQ, W_PV, n, mask_query=True):
    """Z + (1/n) W_PV Z M Z^T W_KQ Z with an explicit M, one layer, plain numpy."""
    T = Z.shape[1]
    M = np.diag([1.0] * n + [0.0 if mask_query else 1.0] * (T - n))
    return Z + (W_PV @ Z @ M @ Z.T @ W_KQ @ Z) / n


def problem(d, n, cond, seed, m=1):
    g = rng(seed)
    X = matrix_with_condition(n, d, cond, g) * np.sqrt(n)  # lambda_max(X^T X / n) = 1
    y = X @ g.standard_normal(d) + 0.1 * g.standard_normal(n)
    Xq = g.standard_normal((m, d))
    return X, y, (Xq[0] if m == 1 else Xq)


def gd_tolerance_check(X, y, xq, eta, ws, out, what, A=None):
    n, d = X.shape
    actual = np.concatenate([out[d, :n], [read_prediction(out)]])
    reference = np.concatenate([y - X @ ws[-1], [ws[-1] @ xq]])
    M = residual_error_bound(X, y, xq, eta, ws, None if A is None else [A] * (len(ws) - 1))
    size = n + d + 3 if A is None else n + 2 * d + 3
    return assert_close(actual, reference, size=size, cond=M / np.max(np.abs(reference)), c=1.0, what=what)


# --- GD layers vs a plain GD loop --------------------------------------------------------------------


@given(d=st.integers(1, 6), n=st.integers(1, 12), eta_scale=st.floats(-1.0, 3.0), steps=st.integers(1, 6),
       cond=condition_numbers(1e6), seed=seeds())
def test_gd_layers_match_plain_gd_loop(d, n, eta_scale, steps, cond, seed):
    """Any eta (negative, divergent > 2/lambda_max included), n < d, cond(X) up to 1e6."""
    X, y, xq = problem(d, n, cond, seed)
    eta = eta_scale  # lambda_max(S) = 1
    out = lsa_forward(embed(X, y, xq), gd_layers(d, eta, steps))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[:d], embed(X, y, xq)[:d])  # x-rows untouched
    gd_tolerance_check(X, y, xq, eta, plain_gd(X, y, eta, steps), out, "K-layer LSA vs GD loop")


@given(d=st.integers(1, 5), n=st.integers(1, 10), eta=st.floats(-2.0, 2.0), steps=st.integers(1, 4),
       mask=st.booleans(), m=st.integers(1, 3), seed=seeds())
def test_lsa_forward_matches_independent_forward(d, n, eta, steps, mask, m, seed):
    """gd_layers' matrices through a forward pass written here (explicit M), several queries."""
    X, y, Xq = problem(d, n, 10.0, seed, m=m)
    Z = embed(X, y, Xq)
    layers = gd_layers(d, eta, steps)
    ref = Z
    for layer in layers:
        ref = plain_lsa(ref, layer.W_KQ, layer.W_PV, n, mask_query=mask)
    out = lsa_forward(Z, layers, mask_query=mask, n_context=n)
    # same arithmetic in another association order: (n + d + 2) roundings per entry and layer,
    # amplified by at most (1 + |eta| B^2) per later layer (max-norm); scale = max|entries seen|
    b2 = float(np.max(np.sum(Z[:d] ** 2, axis=0)))
    grow = (1.0 + abs(eta) * b2) ** steps
    scale = max(float(np.max(np.abs(Z))), float(np.max(np.abs(ref))))
    assert_close(out, ref, size=n + d + 2, cond=grow * scale / np.max(np.abs(ref)), c=2.0,
                 what="lsa_forward vs explicit-M forward")


def test_paper_matrices_compose_to_merged_weights():
    layer = gd_layers(3, 0.37, 1)[0]
    np.testing.assert_array_equal(layer.W_K.T @ layer.W_Q, layer.W_KQ)
    np.testing.assert_array_equal(layer.P @ layer.W_V, layer.W_PV)
    assert layer.W_PV[3, 3] == -0.37 and np.count_nonzero(layer.W_PV) == 1


@given(d=st.integers(1, 6), n=st.integers(1, 12), eta=st.floats(0.05, 2.5), seed=seeds())
def test_one_unmasked_layer_still_agrees_two_do_not(d, n, eta, seed):
    """The query's value is W_PV (x_q, 0) = 0, so one unmasked layer is bit-identical; after it the
    query's y-slot is -pred != 0 and a second unmasked layer feeds it back."""
    X, y, xq = problem(d, n, 10.0, seed)
    Z = embed(X, y, xq)
    one_masked = lsa_forward(Z, gd_layers(d, eta, 1))
    one_unmasked = lsa_forward(Z, gd_layers(d, eta, 1), mask_query=False)
    np.testing.assert_array_equal(one_masked, one_unmasked)
    two_masked = lsa_forward(Z, gd_layers(d, eta, 2))
    two_unmasked = lsa_forward(Z, gd_layers(d, eta, 2), mask_query=False)
    # the extra term is (eta/n) * pred_1 * ||x_q||^2 in the query slot
    pred1 = read_prediction(one_masked)
    expected_gap = eta / n * pred1 * float(xq @ xq)
    gap = read_prediction(two_masked) - read_prediction(two_unmasked)
    if abs(expected_gap) > 1e-8 * max(1.0, abs(read_prediction(two_masked))):
        assert abs(gap - expected_gap) <= 1e-9 * max(1.0, abs(expected_gap)) + 1e-12
        assert gap != 0.0


def test_unmasked_two_layers_differ_on_a_fixed_case():
    X, y, xq = problem(3, 5, 3.0, 7)
    Z = embed(X, y, xq)
    a = read_prediction(lsa_forward(Z, gd_layers(3, 1.0, 2)))
    b = read_prediction(lsa_forward(Z, gd_layers(3, 1.0, 2), mask_query=False))
    assert abs(a - b) > 1e-3 * abs(a)


def test_read_prediction_sign_and_gd_with_n_less_than_d():
    """n = 1 < d: one GD step gives w_1 = eta y_1 x_1 (exactly representable data)."""
    X = np.array([[1.0, 2.0, 0.0]])
    y = np.array([3.0])
    xq = np.array([0.5, 0.25, 4.0])
    out = lsa_forward(embed(X, y, xq), gd_layers(3, 0.5, 1))
    w1 = 0.5 * 3.0 * X[0]
    assert read_prediction(out) == w1 @ xq
    assert out[3, 1] == -(w1 @ xq)  # the query's y-slot holds minus the prediction


# --- preconditioned GD and GD++ -------------------------------------------------------------------------


@given(d=st.integers(1, 6), n=st.integers(1, 12), eta=st.floats(0.05, 1.5), steps=st.integers(1, 5),
       cond=condition_numbers(1e4), seed=seeds())
def test_preconditioned_layers_match_loop_for_nonsymmetric_A(d, n, eta, steps, cond, seed):
    X, y, xq = problem(d, n, cond, seed)
    A = rng(seed + 1).standard_normal((d, d))
    A /= np.linalg.norm(A, 2)
    out = lsa_forward(embed(X, y, xq), preconditioned_gd_layers([A] * steps, eta))
    gd_tolerance_check(X, y, xq, eta, plain_gd(X, y, eta, steps, A), out, "preconditioned", A=A)


def test_preconditioned_with_identity_equals_gd_layers():
    X, y, xq = problem(4, 6, 10.0, 3)
    Z = embed(X, y, xq)
    a = lsa_forward(Z, preconditioned_gd_layers(np.stack([np.eye(4)] * 3), 0.8))
    b = lsa_forward(Z, gd_layers(4, 0.8, 3))
    np.testing.assert_array_equal(a, b)


@given(d=st.integers(1, 5), n=st.integers(1, 10), gamma=st.floats(-1.0, 1.5), seed=seeds())
def test_gdpp_spectral_map(d, n, gamma, seed):
    """One GD++ layer maps the eigenvalues of S = X^T X / n by lambda (1 - gamma lambda)^2."""
    X, y, xq = problem(d, n, 30.0, seed)
    out = lsa_forward(embed(X, y, xq), gdpp_layers(d, 0.3, gamma, 1))
    X1 = out[:d, :n].T
    lam = np.linalg.eigvalsh(X.T @ X / n)
    mapped = np.sort(lam * (1 - gamma * lam) ** 2)
    b2 = float(np.max(np.sum(X * X, axis=1)))
    cond = (1 + abs(gamma) * b2) ** 2 * lam.max() / max(mapped.max(), 1e-300)
    assert_close(np.sort(np.linalg.eigvalsh(X1.T @ X1 / n)), mapped, size=n + d + 3, cond=cond, c=4.0,
                 what="GD++ spectrum")
    # the query token is transformed by the same (I - gamma S)
    S = X.T @ X / n
    np.testing.assert_allclose(out[:d, n], (np.eye(d) - gamma * S) @ xq, rtol=0, atol=50 * EPS * (1 + abs(gamma) * b2) * np.abs(xq).max())


# --- ReLU ridge layers -------------------------------------------------------------------------------------


def plain_relu_attention(H, layer, n):
    """h_i + (1/n) sum_m sum_{j <= n} relu(<Q h_i, K h_j>) V h_j, column by column."""
    out = H.copy()
    D, T = H.shape
    for i in range(T):
        acc = np.zeros(D)
        for m in range(layer.heads):
            for j in range(n):
                s = (layer.Q[m] @ H[:, i]) @ (layer.K[m] @ H[:, j])
                acc += max(s, 0.0) * (layer.V[m] @ H[:, j])
        out[:, i] = H[:, i] + acc / n
    return out


@given(d=st.integers(1, 5), n=st.integers(1, 10), eta_scale=st.floats(0.05, 2.2), lam=st.floats(0.0, 2.0),
       steps=st.integers(1, 6), seed=seeds())
def test_ridge_layers_take_exact_ridge_gd_steps(d, n, eta_scale, lam, steps, seed):
    X, y, xq = problem(d, n, 100.0, seed)
    eta = eta_scale / (1.0 + lam)
    H = relu_attention_forward(ridge_embed(X, y, xq), ridge_gd_layers(d, eta, lam, steps))
    w = np.zeros(d)
    for _ in range(steps):
        w = w - eta * (X.T @ (X @ w - y) / n + lam * w)
    from theorems.in_context.bai2023 import ridge_error_bound, ridge_gd_iterates

    ws = ridge_gd_iterates(X, y, eta, lam, steps)
    np.testing.assert_allclose(ws[-1], w, rtol=0, atol=0)
    M = ridge_error_bound(X, y, eta, lam, ws)
    assert_close(H[d + 1:2 * d + 1], np.repeat(w[:, None], n + 1, axis=1), size=n + d + 4,
                 cond=M / max(np.abs(w).max(), 1e-300), c=1.0, what="ridge ReLU layers vs loop")
    assert_close(np.array([ridge_read_prediction(H)]), np.array([w @ xq]), size=n + 2 * d + 4,
                 cond=M * np.abs(xq).sum() / max(abs(w @ xq), 1e-300) + 1.0, c=1.0, what="ridge prediction")


def test_relu_forward_matches_explicit_loop():
    X, y, xq = problem(3, 4, 5.0, 11)
    H = ridge_embed(X, y, xq)
    layer = ridge_gd_layers(3, 0.4, 0.2, 1)[0]
    for _ in range(3):
        ref = plain_relu_attention(H, layer, 4)
        H_new = relu_attention_forward(H, [layer])
        np.testing.assert_allclose(H_new, ref, rtol=0, atol=100 * EPS * np.abs(ref).max())
        H = H_new


def test_ridge_read_weights_is_w_slot():
    H = ridge_embed(np.ones((2, 2)), np.ones(2), np.ones(2))
    assert H.shape == (6, 3)
    np.testing.assert_array_equal(ridge_read_weights(H), np.zeros(2))
    np.testing.assert_array_equal(H[-1], np.ones(3))


# --- jax path, dtypes ----------------------------------------------------------------------------------


def test_jax_path_matches_numpy_and_is_differentiable():
    X, y, xq = problem(3, 6, 10.0, 5)
    Z = embed(X, y, xq)
    layers = gd_layers(3, 0.9, 4)
    out_np = lsa_forward(Z, layers)
    out_jax = lsa_forward(jnp.asarray(Z), layers)
    assert isinstance(out_jax, jax.Array) and out_jax.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(out_jax), out_np, rtol=1e-13, atol=1e-13)
    grad = jax.grad(lambda Zj: read_prediction(lsa_forward(Zj, layers)))(jnp.asarray(Z))
    assert grad.dtype == jnp.float64 and np.all(np.isfinite(np.asarray(grad)))
    # derivative w.r.t. the query's label slot: the residual pass-through only
    assert float(grad[3, -1]) == -1.0
    # finite-difference check of one context label derivative
    h = 1e-6
    Zp, Zm = Z.copy(), Z.copy()
    Zp[3, 0] += h
    Zm[3, 0] -= h
    fd = (read_prediction(lsa_forward(Zp, layers)) - read_prediction(lsa_forward(Zm, layers))) / (2 * h)
    assert abs(fd - float(grad[3, 0])) <= 1e-7 * max(1.0, abs(fd))


def test_embed_jax_inputs_give_jax_and_grad_through_labels():
    X, y, xq = problem(2, 4, 3.0, 9)
    layers = gd_layers(2, 0.5, 2)

    def pred(yj):
        return read_prediction(lsa_forward(embed(jnp.asarray(X), yj, jnp.asarray(xq)), layers))

    g = jax.grad(pred)(jnp.asarray(y))
    # prediction is linear in y: pred(y) = g . y exactly up to rounding
    assert abs(float(g @ y) - float(pred(jnp.asarray(y)))) < 1e-12 * max(1.0, abs(float(g @ y)))


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64])
def test_outputs_are_float64(dtype):
    Z = np.arange(12).reshape(3, 4).astype(dtype)
    assert lsa_forward(Z, gd_layers(2, 0.1, 2)).dtype == np.float64
    assert embed(np.ones((2, 2), dtype=dtype), np.ones(2, dtype=dtype), np.ones(2, dtype=dtype)).dtype == np.float64
    H = ridge_embed(np.ones((2, 2), dtype=dtype), np.ones(2, dtype=dtype), np.ones(2, dtype=dtype))
    assert relu_attention_forward(H, ridge_gd_layers(2, 0.1, 0.1, 1)).dtype == np.float64
    assert gd_layers(2, 1, 1)[0].W_PV.dtype == np.float64


def test_layer_weights_are_read_only():
    layer = gd_layers(2, 0.1, 1)[0]
    with pytest.raises(ValueError):
        layer.W_PV[0, 0] = 1.0


def test_empty_layer_list_is_identity():
    Z = embed(np.ones((2, 2)), np.ones(2), np.ones(2))
    np.testing.assert_array_equal(lsa_forward(Z, []), Z)


# --- input validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("d,eta,steps,exc", [
    (0, 0.1, 1, ValueError), (-1, 0.1, 1, ValueError), (1.5, 0.1, 1, TypeError), (True, 0.1, 1, TypeError),
    ("2", 0.1, 1, TypeError), (2, float("nan"), 1, ValueError), (2, float("inf"), 1, ValueError),
    (2, "0.1", 1, TypeError), (2, 1j, 1, TypeError), (2, True, 1, TypeError), (2, 0.1, 0, ValueError),
    (2, 0.1, 2.0, TypeError), (2, None, 1, TypeError),
])
def test_gd_layers_validates(d, eta, steps, exc):
    with pytest.raises(exc):
        gd_layers(d, eta, steps)


def test_gd_layers_accepts_numpy_scalars_and_any_finite_eta():
    assert len(gd_layers(np.int64(2), np.float32(0.5), np.int32(3))) == 3
    for eta in (0.0, -3.0, 1e6, 7):
        assert gd_layers(1, eta, 1)[0].W_PV[1, 1] == -float(eta)


def test_lsa_forward_validates():
    layers = gd_layers(2, 0.1, 1)
    Z = embed(np.ones((3, 2)), np.ones(3), np.ones(2))
    with pytest.raises(ValueError):
        lsa_forward(np.ones(3), layers)                      # 1-D
    with pytest.raises(ValueError):
        lsa_forward(np.ones((4, 4)), layers)                 # rows != d + 1
    with pytest.raises(ValueError):
        lsa_forward(np.ones((3, 1)), layers)                 # no query column
    bad = Z.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        lsa_forward(bad, layers)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError):
        lsa_forward(bad, layers)
    with pytest.raises(TypeError):
        lsa_forward(Z.astype(complex), layers)
    with pytest.raises(TypeError):
        lsa_forward(Z > 0, layers)
    with pytest.raises(TypeError):
        lsa_forward(Z, layers[0])                            # a layer, not a sequence
    with pytest.raises(TypeError):
        lsa_forward(Z, [np.eye(3)])
    with pytest.raises(TypeError):
        lsa_forward(Z, layers, mask_query=1)
    with pytest.raises(ValueError):
        lsa_forward(Z, layers, n_context=5)
    with pytest.raises(ValueError):
        lsa_forward(Z, layers, n_context=0)
    with pytest.raises(ValueError):
        lsa_forward(jnp.asarray(bad), layers)                # concrete jax arrays are checked too


def test_embed_and_read_prediction_validate():
    with pytest.raises(ValueError):
        embed(np.ones((3, 2)), np.ones(2), np.ones(2))       # y length
    with pytest.raises(ValueError):
        embed(np.ones((3, 2)), np.ones(3), np.ones(3))       # query dimension
    with pytest.raises(ValueError):
        embed(np.ones(3), np.ones(3), np.ones(1))            # X not 2-D
    with pytest.raises(ValueError):
        embed(np.ones((3, 2)), np.array([1.0, np.nan, 2.0]), np.ones(2))
    with pytest.raises(TypeError):
        embed(np.ones((3, 2)), ["a", "b", "c"], np.ones(2))
    with pytest.raises(ValueError):
        embed(np.ones((0, 2)), np.ones(0), np.ones(2))
    Z = embed(np.ones((3, 2)), np.ones(3), np.ones((2, 2)))
    assert Z.shape == (3, 5) and np.all(Z[2, 3:] == 0)
    with pytest.raises(ValueError):
        read_prediction(Z, column=5)
    with pytest.raises(TypeError):
        read_prediction(Z, column=1.0)


def test_layer_classes_validate():
    with pytest.raises(ValueError):
        LSALayer(W_KQ=np.eye(3), W_PV=np.eye(2))
    with pytest.raises(ValueError):
        LSALayer(W_KQ=np.ones((2, 3)), W_PV=np.ones((2, 3)))
    with pytest.raises(ValueError):
        LSALayer(W_KQ=np.eye(1), W_PV=np.eye(1))
    with pytest.raises(ValueError):
        LSALayer(W_KQ=np.full((2, 2), np.nan), W_PV=np.eye(2))
    with pytest.raises(ValueError):
        LSALayer(W_KQ=np.eye(2), W_PV=np.eye(2), P=np.eye(3))
    with pytest.raises(ValueError):
        ReLUAttentionLayer(Q=np.zeros((1, 2, 2)), K=np.zeros((1, 3, 3)), V=np.zeros((1, 2, 2)))
    with pytest.raises(TypeError):
        preconditioned_gd_layers(np.eye(2), 0.1)             # a single matrix, not a sequence
    with pytest.raises(ValueError):
        preconditioned_gd_layers([np.eye(2), np.eye(3)], 0.1)
    with pytest.raises(ValueError):
        preconditioned_gd_layers([], 0.1)
    with pytest.raises(ValueError):
        ridge_gd_layers(2, 0.1, float("nan"), 1)
    with pytest.raises(ValueError):
        gdpp_layers(2, 0.1, float("inf"), 1)
    with pytest.raises(ValueError):
        relu_attention_forward(np.ones((5, 3)), ridge_gd_layers(2, 0.1, 0.1, 1))


# --- several queries with the default n_context (issue 11, section 4) -------------------------------


@given(d=st.integers(1, 4), n=st.integers(1, 8), m=st.integers(2, 4), steps=st.integers(1, 3), seed=seeds())
def test_several_queries_with_the_default_context_count_give_gd_predictions(d, n, m, steps, seed):
    """embed(X, y, Xq) with m queries and lsa_forward's default n_context: every query column is the
    K-step GD prediction (the default used to be T - 1, so m - 1 queries counted as context:
    LSA 0.0969 vs 0.1231 in the issue's example)."""
    X, y, Xq = problem(d, n, 10.0, seed, m=m)
    eta = 0.5
    ws = plain_gd(X, y, eta, steps)
    out = lsa_forward(embed(X, y, Xq), gd_layers(d, eta, steps))
    for j in range(m):
        one = lsa_forward(embed(X, y, Xq[j]), gd_layers(d, eta, steps))
        M = residual_error_bound(X, y, Xq[j], eta, ws, None)
        ref = ws[-1] @ Xq[j]
        assert_close(read_prediction(out, n + j), ref, size=n + d + 3, cond=M / max(abs(ref), 1e-300), c=1.0,
                     what=f"query {j} of {m}")
        np.testing.assert_array_equal(read_prediction(out, n + j), read_prediction(one))
    # ReLU attention (Bai et al.): every query column carries the same ridge-GD iterate
    H = relu_attention_forward(ridge_embed(X, y, Xq), ridge_gd_layers(d, eta, 0.1, steps))
    Hn = relu_attention_forward(ridge_embed(X, y, Xq), ridge_gd_layers(d, eta, 0.1, steps), n_context=n)
    np.testing.assert_array_equal(H, Hn)
    for j in range(m):
        H1 = relu_attention_forward(ridge_embed(X, y, Xq[j]), ridge_gd_layers(d, eta, 0.1, steps))
        np.testing.assert_array_equal(ridge_read_prediction(H, n + j), ridge_read_prediction(H1))


def test_context_count_travels_with_the_token_matrix_and_contradictions_raise():
    X, y, Xq = problem(2, 5, 10.0, 3, m=3)
    Z = embed(X, y, Xq)
    assert Z.n_context == 5 and Z.copy().n_context == 5
    out = lsa_forward(Z, gd_layers(2, 0.3, 1))
    assert out.n_context == 5  # chained layers keep masking all queries
    np.testing.assert_array_equal(lsa_forward(out, gd_layers(2, 0.3, 1)), lsa_forward(Z, gd_layers(2, 0.3, 2)))
    assert getattr(Z[:, :6], "n_context", None) is None  # a column slice drops the count
    with pytest.raises(ValueError, match="contradicts"):
        lsa_forward(Z, gd_layers(2, 0.3, 1), n_context=7)
    with pytest.raises(ValueError, match="contradicts"):
        relu_attention_forward(ridge_embed(X, y, Xq), ridge_gd_layers(2, 0.3, 0.1, 1), n_context=6)
    with pytest.raises(ValueError, match="queries with jax inputs"):
        embed(jnp.asarray(X), jnp.asarray(y), jnp.asarray(Xq))
    assert embed(jnp.asarray(X), jnp.asarray(y), jnp.asarray(Xq[0])).shape == (3, 6)


def test_run_ridge_transformer_takes_n_context():
    from theorems.in_context.bai2023 import ridge_gd_iterates, run_ridge_transformer

    X, y, Xq = problem(3, 6, 10.0, 4, m=2)
    H = run_ridge_transformer(X, y, Xq, 0.4, 0.1, 3, n_context=6)
    np.testing.assert_array_equal(H, run_ridge_transformer(X, y, Xq, 0.4, 0.1, 3))
    w = ridge_gd_iterates(X, y, 0.4, 0.1, 3)[-1]
    np.testing.assert_allclose(ridge_read_weights(H, 7), w, rtol=1e-12, atol=1e-14)


def test_read_prediction_columns_and_argument_messages():
    """read_prediction accepts every column index of the T tokens, -T (the first) included, and no
    other; bad arguments are named in their messages."""
    from constructions.in_context import icl

    g = rng(6)
    Z = g.standard_normal((3, 4))
    for c in range(-4, 4):
        assert icl.read_prediction(Z, column=c) == -Z[-1, c]
    for c in (-5, 4):
        with pytest.raises(ValueError, match="out of range for 4 tokens"):
            icl.read_prediction(Z, column=c)
    Zt = icl.embed(g.standard_normal((3, 2)), g.standard_normal(3), g.standard_normal(2))
    with pytest.raises(ValueError, match="^n_context must be a positive int"):
        icl.lsa_forward(Zt, icl.gd_layers(2, 0.1, 1), n_context=0)
    with pytest.raises(ValueError, match="^eta must be finite"):
        icl.ridge_gd_layers(2, float("nan"), 0.1, 1)
    with pytest.raises(ValueError, match="^H_out must have ndim"):
        icl.ridge_read_prediction(np.ones(4))


def test_preconditioned_gd_layers_store_the_papers_matrices_and_eta_is_named():
    """Each layer keeps the paper's own W_K = [[I, 0], [0, 0]] with W_K^T W_Q = W_KQ (mutation
    seed 3: W_K could be dropped unnoticed); gd_layers names a non-finite eta."""
    g = np.random.default_rng(2)
    d = 3
    layers = preconditioned_gd_layers([g.standard_normal((d, d)) for _ in range(2)])
    wk = np.zeros((d + 1, d + 1))
    wk[:d, :d] = np.eye(d)
    for layer in layers:
        np.testing.assert_array_equal(layer.W_K, wk)
        np.testing.assert_array_equal(layer.W_K.T @ layer.W_Q, layer.W_KQ)
    with pytest.raises(ValueError, match=r"^eta must be finite"):
        gd_layers(2, float("nan"), 1)


# --- mutation campaign seed 5 (branch mutC): matrices, branches, token-matrix rules and messages ---------


def _gd_block(d, corner):
    m = np.zeros((d + 1, d + 1))
    m[d, d] = corner
    return m


def test_constructions_store_the_documented_matrices():
    """gd_layers, preconditioned_gd_layers (default eta = 1, non-symmetric A: W_KQ holds A^T),
    gdpp_layers and ridge_gd_layers hold exactly the matrices of their docstrings."""
    d = 2
    kq = np.zeros((3, 3))
    kq[:2, :2] = np.eye(2)
    layers = gd_layers(d, 0.3, 2)
    assert len(layers) == 2 and layers[0] is layers[1] and layers[0].dim == 3
    L = layers[0]
    for name, want in (("W_KQ", kq), ("W_K", kq), ("W_Q", kq), ("W_V", _gd_block(d, -1.0)),
                       ("W_PV", _gd_block(d, -0.3)), ("P", 0.3 * np.eye(3))):
        np.testing.assert_array_equal(getattr(L, name), want)
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    pre = preconditioned_gd_layers([A, 2 * A])
    assert len(pre) == 2
    want_kq = np.zeros((3, 3))
    want_kq[:2, :2] = A.T
    for name, want in (("W_KQ", want_kq), ("W_Q", want_kq), ("W_K", kq), ("W_V", _gd_block(d, -1.0)),
                       ("W_PV", _gd_block(d, -1.0)), ("P", np.eye(3))):
        np.testing.assert_array_equal(getattr(pre[0], name), want)
    np.testing.assert_array_equal(pre[1].W_KQ, 2 * want_kq)
    np.testing.assert_array_equal(preconditioned_gd_layers([A], 0.5)[0].W_PV, _gd_block(d, -0.5))
    np.testing.assert_array_equal(preconditioned_gd_layers(np.stack([A]), 0.5)[0].W_KQ, want_kq)
    gp = gdpp_layers(d, 0.3, 0.7, 3)
    assert len(gp) == 3 and gp[0] is gp[2]
    for name, want in (("W_KQ", kq), ("W_K", kq), ("W_Q", kq), ("W_V", -np.eye(3)),
                       ("P", np.diag([0.7, 0.7, 0.3])), ("W_PV", np.diag([-0.7, -0.7, -0.3]))):
        np.testing.assert_array_equal(getattr(gp[0], name), want)
    rl = ridge_gd_layers(d, 0.4, 0.5, 2)
    assert len(rl) == 2 and rl[0] is rl[1] and rl[0].heads == 3 and rl[0].dim == 6
    Q, K, V = (np.zeros((3, 6, 6)) for _ in range(3))
    Q[0, 0, 3] = Q[0, 1, 4] = Q[0, 2, 5] = 1.0
    K[0, 0, 0] = K[0, 1, 1] = 1.0
    K[0, 2, 2] = -1.0
    V[0, 3, 0] = V[0, 4, 1] = -0.4
    Q[1], K[1], V[1] = -Q[0], K[0], -V[0]
    Q[2, 0, 5] = K[2, 0, 5] = 1.0
    V[2, 3, 3] = V[2, 4, 4] = -0.4 * 0.5
    for name, want in (("Q", Q), ("K", K), ("V", V)):
        np.testing.assert_array_equal(getattr(rl[0], name), want)


def test_builders_name_their_arguments():
    for call, exc, msg in (
        (lambda: gd_layers(0, 0.1, 1), ValueError, r"^d must be a positive int \(>= 1\), got 0"),
        (lambda: gd_layers(1.0, 0.1, 1), TypeError, r"^d must be a positive int, got float"),
        (lambda: gd_layers(2, 0.1, 0), ValueError, r"^steps must be a positive int"),
        (lambda: gd_layers(2, "x", 1), TypeError, r"^eta must be a finite real number, got str"),
        (lambda: gd_layers(2, True, 1), TypeError, r"^eta must be a finite real number"),
        (lambda: gdpp_layers(2, 0.1, float("inf"), 1), ValueError, r"^gamma must be finite"),
        (lambda: gdpp_layers(2, float("nan"), 0.1, 1), ValueError, r"^eta must be finite"),
        (lambda: gdpp_layers(0, 0.1, 0.1, 1), ValueError, r"^d must be a positive int"),
        (lambda: gdpp_layers(2, 0.1, 0.1, 0), ValueError, r"^steps must be a positive int"),
        (lambda: ridge_gd_layers(2, 0.1, float("nan"), 1), ValueError, r"^lam must be finite"),
        (lambda: ridge_gd_layers(0, 0.1, 0.1, 1), ValueError, r"^d must be a positive int"),
        (lambda: ridge_gd_layers(2, 0.1, 0.1, 0), ValueError, r"^steps must be a positive int"),
        (lambda: preconditioned_gd_layers([np.eye(2)], float("nan")), ValueError, r"^eta must be finite"),
        (lambda: preconditioned_gd_layers(jnp.eye(2)), TypeError, r"^preconditioners must be a sequence"),
        (lambda: preconditioned_gd_layers([]), ValueError, r"^preconditioners must contain at least one"),
        (lambda: preconditioned_gd_layers([np.zeros((0, 0))]), ValueError, r"^preconditioners must be \(d, d\) with d >= 1"),
        (lambda: preconditioned_gd_layers([np.eye(2), np.eye(3)]), ValueError,
         r"^preconditioners\[1\] must have shape \(2, 2\)"),
        (lambda: preconditioned_gd_layers([np.ones(2)]), ValueError, r"^preconditioners\[0\] must have ndim"),
        (lambda: preconditioned_gd_layers([np.ones((2, 3))]), ValueError, r"^preconditioners\[0\] must have shape"),
    ):
        with pytest.raises(exc, match=msg):
            call()
    assert len(gdpp_layers(1, 0, 0, 1)) == 1 and len(ridge_gd_layers(1, 0, 0, 1)) == 1


def test_array_validation_and_layer_classes():
    for bad, exc, msg in (("abc", TypeError, r"^X must be an array, got str"),
                          (None, TypeError, r"^X must be an array, got NoneType"),
                          (np.array([[1, "a"]], dtype=object), TypeError, r"^X must be a numeric array, got dtype object"),
                          (np.ones((2, 2), dtype=bool), TypeError, r"^X must be a real floating"),
                          (np.ones((2, 2), dtype=complex), TypeError, r"^X must be a real floating"),
                          (jnp.ones((2, 2), dtype=bool), TypeError, r"^X must be a real floating"),
                          (np.ones(2), ValueError, r"^X must have ndim in \(2,\)"),
                          (np.full((2, 2), np.nan), ValueError, r"^X must be finite"),
                          (jnp.full((2, 2), jnp.inf), ValueError, r"^X must be finite")):
        with pytest.raises(exc, match=msg):
            embed(bad, np.ones(2), np.ones(2))
    Zi = embed(jnp.ones((2, 2), dtype=jnp.int32), jnp.asarray([1, 2]), jnp.ones(2))
    assert isinstance(Zi, jax.Array) and Zi.dtype == jnp.float64
    with pytest.raises(ValueError, match=r"^W_KQ must be square"):
        LSALayer(W_KQ=np.ones((2, 3)), W_PV=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^W_KQ must be square \(d\+1\) x \(d\+1\) with d >= 1"):
        LSALayer(W_KQ=np.eye(1), W_PV=np.eye(1))
    with pytest.raises(ValueError, match=r"^W_PV must have shape \(2, 2\)"):
        LSALayer(W_KQ=np.eye(2), W_PV=np.eye(3))
    with pytest.raises(ValueError, match=r"^W_V must have shape \(2, 2\)"):
        LSALayer(W_KQ=np.eye(2), W_PV=np.eye(2), W_V=np.eye(3))
    lay = LSALayer(W_KQ=jnp.eye(2), W_PV=[[0.0, 0.0], [0.0, 1.0]], W_K=np.eye(2))
    assert isinstance(lay.W_KQ, np.ndarray) and lay.W_KQ.dtype == np.float64 and lay.dim == 2
    assert lay.W_Q is None and lay.W_V is None and lay.P is None
    assert not lay.W_K.flags.writeable and not lay.W_PV.flags.writeable
    src = np.eye(2)
    lay2 = LSALayer(W_KQ=src, W_PV=src)
    src[0, 0] = 5.0
    assert lay2.W_KQ[0, 0] == 1.0  # a copy
    with pytest.raises(TypeError, match=r"^W_KQ: layer weights must be concrete arrays, not traced"):
        jax.jit(lambda m: LSALayer(W_KQ=m, W_PV=np.eye(2)).dim)(jnp.eye(2))
    with pytest.raises(TypeError, match=r"^Q: layer weights must be concrete arrays"):
        jax.jit(lambda m: ReLUAttentionLayer(Q=m, K=np.zeros((1, 2, 2)), V=np.zeros((1, 2, 2))).dim)(jnp.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"^Q must be an \(M, D, D\) stack"):
        ReLUAttentionLayer(Q=np.zeros((1, 2, 3)), K=np.zeros((1, 2, 3)), V=np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"^K must be an \(M, D, D\) stack"):
        ReLUAttentionLayer(Q=np.zeros((1, 2, 2)), K=np.zeros((0, 2, 2)), V=np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"^Q, K, V shapes differ"):
        ReLUAttentionLayer(Q=np.zeros((1, 2, 2)), K=np.zeros((2, 2, 2)), V=np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"^V must have ndim in \(3,\)"):
        ReLUAttentionLayer(Q=np.zeros((1, 2, 2)), K=np.zeros((1, 2, 2)), V=np.zeros((2, 2)))
    r = ReLUAttentionLayer(Q=jnp.zeros((2, 3, 3)), K=np.zeros((2, 3, 3)), V=np.ones((2, 3, 3), dtype=int))
    assert r.heads == 2 and r.dim == 3 and r.V.dtype == np.float64 and not r.V.flags.writeable


def test_token_matrix_count_is_dropped_by_transposes_and_column_reorders():
    """A square token matrix (d + 1 = n + m): its transpose, a reversed or permuted column order and
    np.fliplr keep the shape but are not the embedding's layout, so they must not keep the count
    (lsa_forward would mask the wrong columns by default); row selections keep it."""
    X, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0])
    Z = embed(X, y, np.array([7.0, 8.0]))
    assert Z.shape == (3, 3) and Z.n_context == 2
    for other in (Z.T, np.transpose(Z), Z.swapaxes(0, 1), Z[:, ::-1], Z[:, [2, 1, 0]], np.fliplr(Z),
                  Z[..., ::-1]):
        assert other.shape == (3, 3) and other.n_context is None
    for same in (Z[...], Z[:, :], Z[..., :], Z[:, 0:3], Z[[0, 2]], Z[1:], Z.copy(), Z * 2.0):
        assert same.n_context == 2
    layers = gd_layers(2, 0.5, 1)
    np.testing.assert_array_equal(lsa_forward(Z.T, layers), lsa_forward(np.asarray(Z).T.copy(), layers))


def test_embed_layouts_token_matrix_rules_and_context_counts():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = np.array([7.0, 8.0, 9.0])
    Xq = np.array([[10.0, 11.0], [12.0, 13.0]])
    Z = embed(X, y, Xq)
    np.testing.assert_array_equal(Z, [[1, 3, 5, 10, 12], [2, 4, 6, 11, 13], [7, 8, 9, 0, 0]])
    assert isinstance(Z, np.ndarray) and Z.n_context == 3
    assert Z[:2].n_context == 3            # same columns: the count stays
    assert getattr(Z[0], "n_context", None) is None and getattr(Z.reshape(5, 3), "n_context", None) is None
    assert (Z * 2).n_context == 3
    H = ridge_embed(X, y, Xq)
    np.testing.assert_array_equal(H, np.vstack([Z, np.zeros((2, 5)), np.ones((1, 5))]))
    assert H.n_context == 3
    Hj = ridge_embed(jnp.asarray(X), y, Xq[0])
    assert isinstance(Hj, jax.Array)
    np.testing.assert_array_equal(np.asarray(Hj), np.vstack([embed(X, y, Xq[0]), np.zeros((2, 4)), np.ones((1, 4))]))
    Zm = embed(X, jnp.asarray(y), Xq[0])          # one jax input is enough for a jax result
    assert isinstance(Zm, jax.Array)
    with pytest.raises(ValueError, match=r"^X must be \(n, d\) with n >= 1 and d >= 1"):
        embed(np.ones((2, 0)), np.ones(2), np.ones(0))
    with pytest.raises(ValueError, match=r"^y must have shape \(3,\) to match X"):
        embed(X, np.ones(2), Xq)
    with pytest.raises(ValueError, match=r"^x_query must be \(2,\) or \(m, 2\) with m >= 1"):
        embed(X, y, np.ones((0, 2)))
    with pytest.raises(ValueError, match=r"^x_query must be \(2,\)"):
        embed(X, y, np.ones(3))
    layers = gd_layers(2, 0.5, 1)
    plain = np.asarray(Z).view(np.ndarray)
    out_plain = lsa_forward(plain, layers, n_context=3)
    assert type(out_plain) is np.ndarray and not hasattr(out_plain, "n_context")
    np.testing.assert_array_equal(out_plain, lsa_forward(Z, layers))
    # the default for an unmarked matrix is T - 1; n_context = T is accepted (no query at all)
    np.testing.assert_array_equal(lsa_forward(plain, layers), lsa_forward(plain, layers, n_context=4))
    lsa_forward(plain, layers, n_context=5)
    with pytest.raises(ValueError, match=r"^n_context = 6 exceeds the number of tokens T = 5"):
        lsa_forward(plain, layers, n_context=6)
    with pytest.raises(ValueError, match=r"^n_context = 4 contradicts the token matrix, which embed\(\) built with 3"):
        lsa_forward(Z, layers, n_context=4)
    with pytest.raises(TypeError, match=r"^n_context must be a positive int"):
        lsa_forward(Z, layers, n_context=3.0)
    with pytest.raises(ValueError, match=r"^Z must have at least 2 columns"):
        lsa_forward(np.ones((3, 1)), layers)
    with pytest.raises(ValueError, match=r"^H must have at least 2 columns"):
        relu_attention_forward(np.ones((6, 1)), ridge_gd_layers(2, 0.1, 0.1, 1))
    with pytest.raises(ValueError, match=r"^Z must have d \+ 1 >= 2 rows"):
        lsa_forward(np.ones((1, 3)), [])
    with pytest.raises(TypeError, match=r"^mask_query must be a bool, got int"):
        lsa_forward(Z, layers, mask_query=1)
    with pytest.raises(TypeError, match=r"^mask_query must be a bool, got int"):
        relu_attention_forward(H, ridge_gd_layers(2, 0.1, 0.1, 1), mask_query=0)
    with pytest.raises(TypeError, match=r"^layers must be a sequence of LSALayer \(wrap"):
        lsa_forward(Z, layers[0])
    with pytest.raises(TypeError, match=r"^layers\[1\] must be a LSALayer, got ndarray"):
        lsa_forward(Z, [layers[0], np.eye(3)])
    with pytest.raises(TypeError, match=r"^layers\[0\] must be a ReLUAttentionLayer, got LSALayer"):
        relu_attention_forward(H, layers)
    with pytest.raises(TypeError, match=r"^layers must be a sequence of ReLUAttentionLayer"):
        relu_attention_forward(H, ridge_gd_layers(2, 0.1, 0.1, 1)[0])
    with pytest.raises(ValueError, match=r"^layers\[0\] acts on tokens of dimension 4, but Z has 3 rows"):
        lsa_forward(Z, gd_layers(3, 0.1, 1))
    with pytest.raises(ValueError, match=r"^layers\[0\] acts on tokens of dimension 4, but H has 6 rows"):
        relu_attention_forward(H, ridge_gd_layers(1, 0.1, 0.1, 1))
    with pytest.raises(ValueError, match=r"^column 5 out of range for 5 tokens"):
        read_prediction(Z, 5)
    with pytest.raises(TypeError, match=r"^column must be an int, got bool"):
        read_prediction(Z, True)
    assert float(read_prediction(jnp.asarray(Z), 0)) == -7.0 and read_prediction(Z) == 0.0


def test_relu_forward_branches_and_ridge_read_out():
    """relu_attention_forward unmasked (every token a key) and with a jax input, against the loop
    of plain_relu_attention (n = T when unmasked); ridge_read_weights / _prediction per column and
    their row-count checks (2d + 2 rows, d >= 1)."""
    X, y, Xq = problem(2, 3, 5.0, 13, m=2)
    H = ridge_embed(X, y, Xq)
    layer = ReLUAttentionLayer(Q=rng(1).standard_normal((2, 6, 6)), K=rng(2).standard_normal((2, 6, 6)),
                               V=rng(3).standard_normal((2, 6, 6)))
    masked = plain_relu_attention(np.asarray(H), layer, 3)
    full = plain_relu_attention(np.asarray(H), layer, 5)
    full[:, :] = np.asarray(H) + (full - np.asarray(H)) * 5 / 3   # the loop divides by its n; the layer by 3
    out = relu_attention_forward(H, [layer], mask_query=False)
    np.testing.assert_allclose(out, full, rtol=0, atol=1e-12 * np.abs(full).max())
    np.testing.assert_allclose(relu_attention_forward(H, [layer]), masked, rtol=0, atol=1e-12 * np.abs(masked).max())
    Hj = relu_attention_forward(jnp.asarray(np.asarray(H)), [layer], n_context=3)
    assert isinstance(Hj, jax.Array)
    np.testing.assert_allclose(np.asarray(Hj), masked, rtol=0, atol=1e-12 * np.abs(masked).max())
    assert type(relu_attention_forward(np.asarray(H).view(np.ndarray), [layer], n_context=3)) is np.ndarray
    Hout = np.arange(24, dtype=float).reshape(6, 4)
    np.testing.assert_array_equal(ridge_read_weights(Hout, 1), Hout[3:5, 1])
    np.testing.assert_array_equal(ridge_read_weights(Hout), Hout[3:5, -1])
    assert ridge_read_prediction(Hout, 2) == Hout[3:5, 2] @ Hout[:2, 2]
    assert ridge_read_prediction(Hout) == Hout[3:5, 3] @ Hout[:2, 3]
    assert ridge_read_weights(np.ones((4, 2))).shape == (1,)
    for rows in (2, 5):
        with pytest.raises(ValueError, match=rf"^H_out must have 2d \+ 2 rows \(d >= 1\), got {rows}"):
            ridge_read_weights(np.ones((rows, 2)))
    with pytest.raises(ValueError, match=r"^H_out must have 2d \+ 2 rows"):
        ridge_read_prediction(np.ones((5, 2)))

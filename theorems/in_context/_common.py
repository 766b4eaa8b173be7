"""Shared study helpers of the in-context family: regression draws, plain-numpy GD references
and their error bound, the LSA-versus-GD comparison of one case, and the no-leak Jacobian test.

Used by the vonoswald2023, ahn2023 and bai2023 modules; nothing here registers a claim.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from constructions.in_context.icl import (
    embed,
    gd_layers,
    lsa_forward,
    preconditioned_gd_layers,
    read_prediction,
)
from numerics.random import matrix_with_condition
from numerics.tolerance import compare


def draw_regression(g: np.random.Generator, d: int, n: int, cond: float, m: int = 1):
    """X (n x d) with singular values geometric from sqrt(n) to sqrt(n)/cond, so that S = X^T X / n
    has eigenvalues in [1/cond^2, 1] (lambda_max(S) = 1); y = X w_true + 0.1 noise; m queries."""
    X = matrix_with_condition(n, d, cond, g) * np.sqrt(n)
    w_true = g.standard_normal(d)
    y = X @ w_true + 0.1 * g.standard_normal(n)
    Xq = g.standard_normal((m, d))
    return X, y, (Xq[0] if m == 1 else Xq)


def gd_iterates(X, y, eta: float, steps: int) -> np.ndarray:
    """w_0 = 0, w_{k+1} = w_k - eta (1/n) X^T (X w_k - y): a plain loop, (steps + 1, d)."""
    return preconditioned_gd_iterates(X, y, eta, [np.eye(X.shape[1])] * steps)


def preconditioned_gd_iterates(X, y, eta: float, preconditioners) -> np.ndarray:
    """w_0 = 0, w_{k+1} = w_k - eta A_k (1/n) X^T (X w_k - y): a plain loop, (K + 1, d)."""
    n, d = X.shape
    ws = [np.zeros(d)]
    for a in preconditioners:
        w = ws[-1]
        grad = X.T @ (X @ w - y) / n
        ws.append(w - eta * (np.asarray(a) @ grad))
    return np.array(ws)


def residual_error_bound(X, y, xq, eta: float, ws: np.ndarray, preconditioners=None) -> float:
    """M: first-order bound (unit local error) on the y-row error of K preconditioned-GD layers.

    Recursion (module docstring): E_ctx <- g E_ctx + sqrt(n) D_k, E_q <- E_q + ||v|| E_ctx + D_k,
    with D_k = s_k (1 + |eta| B^2 |||A|||), g = max_l ||I - (eta/n) X A_l X^T||_2,
    v = max_l ||(eta/n) X A_l^T x_q||_2 (A_l = I for plain GD). The final term D_K covers the
    reference's own residual r_K = y - X w_K.
    """
    n, d = X.shape
    As = [np.eye(d)] if preconditioners is None else [np.asarray(a) for a in preconditioners]
    xs = np.vstack([X, np.atleast_2d(xq)])
    b2 = float(np.max(np.sum(xs * xs, axis=1)))
    a_abs = max(float(np.linalg.norm(np.abs(a), 2)) for a in As)
    g = max([1.0] + [float(np.linalg.norm(np.eye(n) - (eta / n) * X @ a @ X.T, 2)) for a in As])
    v = max(float(np.linalg.norm((eta / n) * X @ a.T @ np.atleast_2d(xq).T, 2)) for a in As)
    e_ctx, e_q = 0.0, 0.0
    for k, w in enumerate(ws):
        s_k = float(np.max(np.abs(y)) + np.max(np.abs(xs) @ np.abs(w)))
        local = s_k * (1.0 + abs(eta) * b2 * a_abs)
        if k < len(ws) - 1:
            e_q = e_q + v * e_ctx + local
            e_ctx = g * e_ctx + np.sqrt(n) * local
        else:
            e_q, e_ctx = e_q + local, e_ctx + local
    return max(e_ctx, e_q)


def gd_case(X, y, xq, eta: float, steps: int, *, mask_query: bool = True, sign: float = 1.0,
            eta_factor: float = 1.0, preconditioners=None, layer_preconditioners=None):
    """(Comparison of the y-row, x-rows-unchanged Comparison) for one construction run.

    The construction runs with eta * eta_factor (negative control: a wrong step), mask_query
    (control: the query as key/value), and reads the query with sign * read_prediction (control:
    the flipped read-out); the reference is always the plain GD loop with eta (and
    ``preconditioners``). ``layer_preconditioners`` (control) builds the layers from other matrices.
    """
    n, d = X.shape
    if preconditioners is None:
        layers = gd_layers(d, eta * eta_factor, steps)
        ws = gd_iterates(X, y, eta, steps)
    else:
        built = preconditioners if layer_preconditioners is None else layer_preconditioners
        layers = preconditioned_gd_layers(built, eta * eta_factor)
        ws = preconditioned_gd_iterates(X, y, eta, preconditioners)
    Z = embed(X, y, xq)
    out = lsa_forward(Z, layers, mask_query=mask_query)
    actual = np.concatenate([out[d, :n], [sign * read_prediction(out)]])
    w_K = ws[-1]
    reference = np.concatenate([y - X @ w_K, [w_K @ xq]])
    M = residual_error_bound(X, y, xq, eta, ws, preconditioners)
    cond = M / max(float(np.max(np.abs(reference))), np.finfo(float).tiny)
    size = n + d + 3 if preconditioners is None else n + 2 * d + 3
    # x-rows: W_PV has zero x-rows, so they must come out bit-identical (tol = 1 eps, size 1).
    return compare(actual, reference, size=size, cond=cond, c=1.0), compare(out[:d], Z[:d], size=1, c=1.0)


def leak_jacobian(forward, read, Z, n: int, m: int) -> np.ndarray:
    """J[q] = d prediction_q / d Z for the m query columns n..n+m-1 (jax.jacrev, float64)."""

    def preds(Zj):
        out = forward(Zj)
        return jnp.stack([read(out, n + q) for q in range(m)])

    return np.asarray(jax.jacrev(preds)(jnp.asarray(Z, dtype=jnp.float64)))


def leak_cases(J: np.ndarray, n: int, m: int, label_row: int, own_label_derivative: float, what: str):
    """Comparisons that must be exactly zero: derivatives w.r.t. other query tokens, and the
    deviation of d pred / d own label from the pass-through value; plus the context-label
    dependence (returned separately: it must be non-zero)."""
    cases, dependence = [], []
    for q in range(m):
        col = n + q
        others = np.delete(J[q][:, n:], q, axis=1)
        # exact structural zeros: masked attention multiplies by exact 0.0, so tol = 1 eps, size 1
        cases.append((f"{what} q{q}: other queries", compare(others, np.zeros_like(others), size=1, c=1.0)))
        own = np.array([J[q][label_row, col] - own_label_derivative])
        cases.append((f"{what} q{q}: own label", compare(own, np.zeros(1), size=1, c=1.0)))
        dependence.append(float(np.max(np.abs(J[q][label_row, :n]))))
    return cases, dependence

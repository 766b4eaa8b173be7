"""A transformer neural operator (Calvello, Kovachki, Levine & Stuart 2024, arXiv 2406.06486,
the "vanilla TNO": lifting, layers of continuum attention and pointwise maps, projection).

For u : [0,1]^dim -> R^{d_u} and positions x, the lifted state is v_0(x) = L [u(x); x]; layer l maps

    v <- v + A_l(v)(x)                      (continuum attention over mu, residual),
    v <- v + W2_l tanh(W1_l v(x) + b1_l)    (pointwise map, residual),

and the output is G(u)(x) = P v_L(x). With mu replaced by a quadrature rule (y_j, q_j) every
layer can be evaluated at any query point x: the states at the rule's nodes carry the keys and
values of the next layer, and a query point is propagated beside them. The operator therefore
defines one function of x for every resolution, and refining the rule converges at the rule's
order (discretisation convergence); the weights never depend on the resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from constructions.integral_operators.continuum_attention import (
    AttentionParams,
    discrete_attention,
    random_attention,
)
from numerics.random import rng

__all__ = ["TNOParams", "random_tno", "tno_apply"]


@dataclass(frozen=True)
class TNOParams:
    lift: np.ndarray  # (width, d_u + dim)
    attention: tuple[AttentionParams, ...]
    w1: tuple[np.ndarray, ...]  # (hidden, width)
    b1: tuple[np.ndarray, ...]  # (hidden,)
    w2: tuple[np.ndarray, ...]  # (width, hidden)
    proj: np.ndarray  # (d_out, width)


def random_tno(d_u: int, dim: int, width: int, n_layers: int, seed, *, hidden: int | None = None,
               d_out: int = 1, gain: float = 1.0) -> TNOParams:
    """Gaussian weights scaled by 1/sqrt(fan-in)."""
    for name, n in (("d_u", d_u), ("dim", dim), ("width", width), ("n_layers", n_layers), ("d_out", d_out)):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"random_tno: {name} must be a positive int, got {n!r}")
    g = rng(seed)
    hidden = hidden or 2 * width
    att, w1, b1, w2 = [], [], [], []
    for _ in range(n_layers):
        att.append(random_attention(width, width, width, g, gain=gain))
        w1.append(g.standard_normal((hidden, width)) / np.sqrt(width))
        b1.append(0.1 * g.standard_normal(hidden))
        w2.append(g.standard_normal((width, hidden)) / np.sqrt(hidden))
    return TNOParams(
        lift=g.standard_normal((width, d_u + dim)) / np.sqrt(d_u + dim),
        attention=tuple(att), w1=tuple(w1), b1=tuple(b1), w2=tuple(w2),
        proj=g.standard_normal((d_out, width)) / np.sqrt(width),
    )


def tno_apply(params: TNOParams, field, x_query, nodes, weights) -> np.ndarray:
    """G(u)(x) at the query points (M, dim) with mu replaced by the rule (nodes (N, dim), weights (N,)).

    Returns (M, d_out) float64.
    """
    xq = np.atleast_2d(np.asarray(x_query, dtype=np.float64))
    y = np.atleast_2d(np.asarray(nodes, dtype=np.float64))
    q = np.asarray(weights, dtype=np.float64)
    if y.shape[1] != xq.shape[1]:
        raise ValueError(f"nodes (N, {y.shape[1]}) and queries (M, {xq.shape[1]}) must share the dimension")
    if q.shape != (y.shape[0],) or not np.all(np.isfinite(q)) or np.any(q < 0):
        raise ValueError("weights must be finite, non-negative, one per node")
    if params.lift.shape[1] != field.d_u + xq.shape[1]:
        raise ValueError(f"lift expects d_u + dim = {params.lift.shape[1]} inputs")
    hq = np.concatenate([field(xq), xq], axis=1) @ params.lift.T
    hy = np.concatenate([field(y), y], axis=1) @ params.lift.T
    for att, w1, b1, w2 in zip(params.attention, params.w1, params.b1, params.w2):
        # both the nodes and the queries attend to the nodes (the discretised measure)
        hq, hy = hq + discrete_attention(hq, hy, att, q), hy + discrete_attention(hy, hy, att, q)
        hq = hq + np.tanh(hq @ w1.T + b1) @ w2.T
        hy = hy + np.tanh(hy @ w1.T + b1) @ w2.T
    return hq @ params.proj.T

"""Ahn, Cheng, Daneshmand, Sra, "Transformers learn to implement preconditioned gradient descent for
in-context learning", NeurIPS 2023 (arXiv 2306.00297).

Claim checked:

* ``ahn2023.preconditioned_gd`` -- with the sparsity pattern P_l = [[0, 0], [0, 1]],
  Q_l = [[-A_l, 0], [0, 0]] the L-layer linear transformer
  Z_{l+1} = Z_l + (1/n) P_l Z_l M Z_l^T Q_l Z_l, read out as -[Z_L]_{d+1, n+1}, predicts
  <w_L, x_{n+1}> where w_L are L steps of preconditioned GD on R(w) = (1/2n) ||X w - y||^2 from
  w_0 = 0. In our merged form (constructions.in_context.icl.preconditioned_gd_layers) layer l performs
  w <- w - eta A_l grad R(w) for ANY real d x d matrix A_l, with key-query block A_l^T: for a
  non-symmetric A_l, the block A_l itself performs GD preconditioned by A_l^T (a negative control
  below). Ahn et al. state the construction for the matrices their analysis produces (symmetric);
  we check the general statement.

Independent reference: the plain numpy loop w_{l+1} = w_l - eta A_l X^T (X w_l - y)/n
(theorems.in_context.vonoswald2023.preconditioned_gd_iterates). Tolerance: the first-order bound of
theorems.in_context.vonoswald2023.residual_error_bound with the residual iteration I - (eta/n) X A_l X^T;
the key-query form x_i^T A^T x_j adds a length-d product, hence size n + 2d + 3, c = 1 (two
computations, u = eps/2 each).

The no-leak property of these layers is part of ``vonoswald2023.no_leak``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from numerics.random import rng
from theorems.in_context._common import draw_regression, gd_case
from theorems.judges import identity_verdict, plot_identity
from theorems.registry import Claim, Verdict, register


def _draw_preconditioner(g: np.random.Generator, d: int, kind: str) -> np.ndarray:
    """SPD (scaled to ||A|| = 1), general non-symmetric, or indefinite symmetric matrices."""
    B = g.standard_normal((d, d))
    if kind == "spd":
        A = B @ B.T + 0.1 * np.eye(d)
    elif kind == "indefinite":
        A = B + B.T
    else:
        A = B
    return A / np.linalg.norm(A, 2)


def study_preconditioned(profile: str, seed: int, *, sign: float = 1.0, eta_factor: float = 1.0,
                         transpose_in_layers: bool = False) -> Verdict:
    """Draws d in 1..6, n in 1..12 (n < d included), cond(X) up to 1e4, K in 1..6, one A_l per layer of
    a drawn kind (SPD, non-symmetric, indefinite) and eta in [0.05, 1.5]."""
    g = rng(seed)
    count = 24 if profile == "fast" else 200
    cases = []
    kinds = ("spd", "general", "indefinite")
    for i in range(count):
        d = int(g.integers(2 if transpose_in_layers else 1, 7))
        n = int(g.integers(1, 13)) if i else 2
        cond = float(10.0 ** g.uniform(0.0, 4.0))
        eta = float(g.uniform(0.05, 1.5))
        steps = int(g.integers(1, 7))
        kind = kinds[i % 3]
        As = [_draw_preconditioner(g, d, kind) for _ in range(steps)]
        X, y, xq = draw_regression(g, d, n, cond)
        built = [a.T for a in As] if transpose_in_layers else None
        yrow, xrows = gd_case(X, y, xq, eta, steps, sign=sign, eta_factor=eta_factor,
                              preconditioners=As, layer_preconditioners=built)
        label = f"{kind},d={d},n={n},K={steps},eta={eta:.2f}"
        cases += [(label, yrow), (label + " x-rows", xrows)]
    return identity_verdict(cases, expected="LSA output = preconditioned GD loop, rel. error <= eps (n+2d+3) cond")


register(Claim(
    id="ahn2023.preconditioned_gd",
    paper="ahn2023",
    where="Section 3 (linear transformer with P_l = [[0, 0], [0, 1]], Q_l = [[-A_l, 0], [0, 0]] = "
          "L steps of preconditioned GD)",
    statement="An L-layer linear transformer whose layers have P_l = [[0, 0], [0, 1]] and Q_l = [[-A_l, 0], [0, 0]] "
              "predicts -[Z_L]_{d+1,n+1} = <w_L, x_{n+1}>, where w_{l+1} = w_l - A_l grad R(w_l), "
              "R(w) = (1/2n)||Xw - y||^2, w_0 = 0 (checked for any real A_l with key-query block A_l^T).",
    kind="identity",
    expected="y-row = preconditioned-GD residuals and prediction, rel. error <= eps (n+2d+3) cond",
    study=study_preconditioned,
    plot=plot_identity,
    controls={
        "A_l instead of A_l^T in the key-query block (non-symmetric A)":
            partial(study_preconditioned, transpose_in_layers=True),
        "flipped read-out sign": partial(study_preconditioned, sign=-1.0),
        "step 1.01 eta": partial(study_preconditioned, eta_factor=1.01),
    },
))

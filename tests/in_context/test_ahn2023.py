"""Ahn et al. (2023): preconditioned GD layers for drawn d, n, K, A (SPD, non-symmetric,
indefinite), through the claim's comparison; transposed-preconditioner and step controls."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theorems.in_context.ahn2023 as ahn
from constructions.in_context.icl import LSALayer, embed, lsa_forward, read_prediction
from numerics.random import rng
from numerics.strategies import condition_numbers, seeds
from theorems.in_context._common import draw_regression, gd_case, preconditioned_gd_iterates
from theorems.registry import get


@given(d=st.integers(1, 6), n=st.integers(1, 12), eta=st.floats(0.05, 1.5), steps=st.integers(1, 6),
       kind=st.sampled_from(["spd", "general", "indefinite"]), cond=condition_numbers(1e4), seed=seeds())
def test_layers_are_preconditioned_gd_steps(d, n, eta, steps, kind, cond, seed):
    g = rng(seed)
    As = [ahn._draw_preconditioner(g, d, kind) for _ in range(steps)]
    X, y, xq = draw_regression(g, d, n, cond)
    yrow, xrows = gd_case(X, y, xq, eta, steps, preconditioners=As)
    assert yrow.ok, yrow.describe()
    assert xrows.rel_error == 0.0


@given(d=st.integers(2, 6), n=st.integers(2, 12), seed=seeds())
def test_key_query_block_A_is_gd_preconditioned_by_A_transpose(d, n, seed):
    """A layer written by hand with key-query block A (Ahn et al.'s Q = [[-A, 0], [0, 0]] up to the
    sign convention) performs w <- w - eta A^T grad: matches the A^T loop, not the A loop."""
    g = rng(seed)
    A = ahn._draw_preconditioner(g, d, "general")
    X, y, xq = draw_regression(g, d, n, 3.0)
    kq = np.zeros((d + 1, d + 1))
    kq[:d, :d] = A
    pv = np.zeros((d + 1, d + 1))
    pv[d, d] = -0.5
    out = lsa_forward(embed(X, y, xq), [LSALayer(W_KQ=kq, W_PV=pv)] * 2)
    pred_t = preconditioned_gd_iterates(X, y, 0.5, [A.T, A.T])[-1] @ xq
    pred_a = preconditioned_gd_iterates(X, y, 0.5, [A, A])[-1] @ xq
    scale = max(1.0, abs(pred_t), float(np.abs(y).max()))
    assert abs(read_prediction(out) - pred_t) <= 1e-12 * scale
    if abs(pred_a - pred_t) > 1e-6 * scale:
        assert abs(read_prediction(out) - pred_a) > 1e-7 * scale


@pytest.mark.parametrize("seed", [1, 2])
def test_claim_and_controls_for_other_seeds(seed):
    claim = get("ahn2023.preconditioned_gd")
    v = claim.check("fast", seed)
    assert v.holds, v.measured
    for name, cv in claim.run_controls("fast", seed).items():
        assert not cv.holds, f"control {name} accepted: {cv.measured}"
    assert claim.plot(v).axes

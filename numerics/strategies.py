"""Hypothesis strategies for what the claims need (requires the ``test`` extra).

Seeds for *probabilistic* bounds are never drawn by hypothesis (CONTRIBUTING.md section 5); these
strategies draw structure: dimensions, condition numbers, step-size and sample-size ladders,
and matrices built from a drawn integer seed through :mod:`numerics.random`, so that a shrunk
counterexample is reproducible from its printed arguments.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from numerics import random as nrandom

__all__ = [
    "dimensions",
    "condition_numbers",
    "seeds",
    "step_ladders",
    "sample_ladders",
    "spd_matrices",
    "matrices_with_condition",
    "well_conditioned_matrices",
]


def dimensions(min_value: int = 1, max_value: int = 8) -> st.SearchStrategy[int]:
    return st.integers(min_value=min_value, max_value=max_value)


def condition_numbers(max_cond: float = 1e6) -> st.SearchStrategy[float]:
    """Condition numbers log-uniform in [1, max_cond]."""
    return st.floats(min_value=0.0, max_value=float(np.log10(max_cond))).map(lambda t: float(10.0**t))


def seeds() -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=2**31 - 1)


@st.composite
def step_ladders(draw, *, min_levels: int = 6, max_levels: int = 12,
                 ratios=(2.0, 1.5, 3.0)) -> np.ndarray:
    """A geometric ladder h_0 > h_1 > ... with h_0 in [0.05, 1] and a drawn ratio."""
    n = draw(st.integers(min_levels, max_levels))
    r = draw(st.sampled_from(ratios))
    h0 = draw(st.floats(0.05, 1.0))
    return h0 / r ** np.arange(n)


@st.composite
def sample_ladders(draw, *, min_levels: int = 5, max_levels: int = 10, n0: int = 16) -> np.ndarray:
    """Sample sizes N_k = n0 * r^k (integers), r in {2, 4}."""
    n = draw(st.integers(min_levels, max_levels))
    r = draw(st.sampled_from((2, 4)))
    return (n0 * r ** np.arange(n)).astype(np.int64)


@st.composite
def spd_matrices(draw, *, min_dim: int = 1, max_dim: int = 8, max_cond: float = 1e6):
    n = draw(dimensions(min_dim, max_dim))
    cond = draw(condition_numbers(max_cond))
    return nrandom.spd_matrix(n, cond, draw(seeds()))


@st.composite
def matrices_with_condition(draw, *, max_rows: int = 12, max_cols: int = 8, max_cond: float = 1e6):
    m = draw(dimensions(1, max_rows))
    n = draw(dimensions(1, max_cols))
    cond = draw(condition_numbers(max_cond))
    return nrandom.matrix_with_condition(m, n, cond, draw(seeds()))


def well_conditioned_matrices(max_rows: int = 12, max_cols: int = 8):
    return matrices_with_condition(max_rows=max_rows, max_cols=max_cols, max_cond=10.0)

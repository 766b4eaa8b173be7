"""Shared study helpers of the splitting family: a seeded non-commuting matrix pair, commutators,
the leading local-error terms of Lie and Strang splitting for linear flows, their next terms, and
the step at which leading constants are compared.

Used by the hairer2006, strang1963, yoshida1990 and lu2019 modules; nothing here registers a claim.
"""

from __future__ import annotations

import numpy as np

from numerics.random import rng

H_CONSTANT = 2.0**-10

# Leading constants are compared within a tolerance derived from the next term at h_c (hairer2006:
# the exact next term, split_next_term; lu2019: Richardson from h_c and 2 h_c), never a hand-set %.


def split_next_term(factors, A: np.ndarray, B: np.ndarray, q: int) -> np.ndarray:
    """The exact h^q coefficient of prod_i e^{h c_i M_i} - e^{h(A + B)} for a splitting step.

    ``factors`` lists (c_i, "A" or "B") in the order the matrices multiply (leftmost first: the
    Lie step "a then b" is e^{hB} e^{hA} = [(1, "B"), (1, "A")]); the coefficient is
    sum over k_1 + ... + k_m = q of prod_i (c_i M_i)^{k_i} / k_i! minus (A + B)^q / q!
    (Taylor series of each exponential)."""
    from itertools import product
    from math import factorial

    mats = {"A": A, "B": B}
    d = A.shape[0]
    total = np.zeros((d, d))
    for ks in product(range(q + 1), repeat=len(factors)):
        if sum(ks) != q:
            continue
        term = np.eye(d)
        for (c, name), k in zip(factors, ks, strict=True):
            term = term @ np.linalg.matrix_power(c * mats[name], k) / factorial(k)
        total += term
    return total - np.linalg.matrix_power(A + B, q) / factorial(q)


def commutator(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """[X, Y] = X Y - Y X."""
    return X @ Y - Y @ X


def noncommuting_pair(d: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian A, B normalised to ||A||_2 = ||B||_2 = 1 (almost surely non-commuting for d >= 2)."""
    g = rng(seed)
    A = g.standard_normal((d, d))
    B = g.standard_normal((d, d))
    return A / np.linalg.norm(A, 2), B / np.linalg.norm(B, 2)


def lie_leading_term(A: np.ndarray, B: np.ndarray, x: np.ndarray, h: float) -> np.ndarray:
    """(h^2/2) [B, A] x: leading local error of e^{hB} e^{hA} against e^{h(A+B)}."""
    return 0.5 * h**2 * (commutator(B, A) @ x)


def strang_leading_term(A: np.ndarray, B: np.ndarray, x: np.ndarray, h: float) -> np.ndarray:
    """h^3 ((1/12)[B,[B,A]] - (1/24)[A,[A,B]]) x: leading local error of e^{hA/2} e^{hB} e^{hA/2}."""
    return h**3 * ((commutator(B, commutator(B, A)) / 12.0 - commutator(A, commutator(A, B)) / 24.0) @ x)

"""Seeded random draws for studies: no global state (CONTRIBUTING.md section 4, "Randomness").

Every function takes a ``seed`` (int) or a ``numpy.random.Generator``; JAX keys are derived from
the same seed with :func:`jax_key`. Matrices with a prescribed condition number are built from
Haar-random orthogonal factors and a geometric spectrum, so the condition number is exact by
construction (up to round-off), not hoped for.
"""

from __future__ import annotations

import numpy as np

from numerics.validation import check_int

__all__ = [
    "rng",
    "jax_key",
    "orthogonal",
    "matrix_with_condition",
    "spd_matrix",
    "well_conditioned_matrix",
]

SeedLike = int | np.random.Generator


def rng(seed: SeedLike) -> np.random.Generator:
    """A numpy Generator from an int seed (or the generator itself, passed through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int or numpy Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))


def jax_key(seed: int):
    """A JAX PRNG key derived from the same integer seed."""
    import jax

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"jax_key: seed must be a non-negative int, got {seed!r}")
    return jax.random.PRNGKey(int(seed))


def _check_dim(name: str, n: int) -> int:
    # a non-int dimension has always been a ValueError here (unlike rng's TypeError for a seed)
    return check_int(name, n, 1, type_error=ValueError)


def orthogonal(n: int, seed: SeedLike) -> np.ndarray:
    """A Haar-distributed n x n orthogonal matrix (QR of a Gaussian matrix with sign fix)."""
    n = _check_dim("n", n)
    g = rng(seed).standard_normal((n, n))
    q, r = np.linalg.qr(g)
    return q * np.sign(np.diag(r))


def _geometric_spectrum(k: int, cond: float) -> np.ndarray:
    if not np.isfinite(cond) or cond < 1:
        raise ValueError(f"condition number must be finite and >= 1, got {cond}")
    if k == 1:
        return np.ones(1)
    return np.geomspace(1.0, 1.0 / cond, k)


def matrix_with_condition(m: int, n: int, cond: float, seed: SeedLike) -> np.ndarray:
    """An m x n matrix with singular values geometric from 1 to 1/cond (2-norm condition = cond)."""
    m, n = _check_dim("m", m), _check_dim("n", n)
    g = rng(seed)
    k = min(m, n)
    u = orthogonal(m, g)[:, :k]
    v = orthogonal(n, g)[:, :k]
    return (u * _geometric_spectrum(k, cond)) @ v.T


def spd_matrix(n: int, cond: float, seed: SeedLike) -> np.ndarray:
    """A symmetric positive definite n x n matrix with eigenvalues geometric from 1 to 1/cond."""
    n = _check_dim("n", n)
    q = orthogonal(n, seed)
    a = (q * _geometric_spectrum(n, cond)) @ q.T
    return 0.5 * (a + a.T)


def well_conditioned_matrix(m: int, n: int, seed: SeedLike) -> np.ndarray:
    """An m x n matrix with condition number 10 (a safe default for identities)."""
    return matrix_with_condition(m, n, 10.0, seed)

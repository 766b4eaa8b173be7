"""Derived tolerances: comparisons whose tolerance is stated, not tuned.

A floating-point identity ``a == b`` is checked as

    rel_error(a, b) = ||a - b|| / max(||b||, tiny)   <=   tol = c * eps * size * cond

with ``eps = 2**-52`` (float64), ``size`` the number of floating-point operations that accumulate
into one entry (a dot product of length n contributes n; K stacked layers contribute K times
that), ``cond`` a condition number of the computation (1 for well-conditioned sums of positive
terms; kappa(A) for anything that solves with A), and ``c`` a small constant stated at the call
site with the reason for its value. Standard backward-error bounds (Higham, *Accuracy and Stability
of Numerical Algorithms*, 2nd ed., sections 3.1-3.5) give errors of size ``gamma_n = n u / (1 - n u)``
per inner product; ``c * eps * size`` with c of order 1-10 is that bound with head-room for the
norm inequalities.

Every comparison reports the achieved ratio ``rel_error / tol`` so that a failure message, a table
or a figure can say how far from the bound the computation sits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics import EPS

__all__ = ["EPS", "Comparison", "derived_tolerance", "relative_error", "compare", "assert_close",
           "constant_tolerance"]


def derived_tolerance(*, size: float, cond: float = 1.0, c: float = 1.0, eps: float = EPS) -> float:
    """tol = c * eps * size * cond, validated (all factors finite and positive)."""
    for name, value in (("size", size), ("cond", cond), ("c", c), ("eps", eps)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"derived_tolerance: {name} must be finite and positive, got {value!r}")
    return float(c * eps * size * cond)


def constant_tolerance(next_term: float, *, roundoff: float = 0.0, c: float = 2.0) -> float:
    """Relative tolerance of a measured leading constant (CONTRIBUTING.md section 3).

    A constant C measured at the finest level used, h_f, from error = C h^p + D h^q + ... (q > p)
    deviates from C by |D/C| h_f^(q-p) (``next_term``, the expansion's next term relative to the
    leading one at h_f, computed from the expansion, not measured) plus the round-off of the
    error at h_f relative to the leading term (``roundoff``). The tolerance is
    c (next_term + roundoff), c stated at the call site (default 2: the next term's own
    O(h_f^(2(q-p))) remainder and norm inequalities)."""
    for name, value in (("next_term", next_term), ("roundoff", roundoff)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"constant_tolerance: {name} must be finite and >= 0, got {value!r}")
    if not np.isfinite(c) or c <= 0:
        raise ValueError(f"constant_tolerance: c must be finite and positive, got {c!r}")
    if next_term + roundoff == 0:
        raise ValueError("constant_tolerance: next_term and roundoff are both 0 (no tolerance to derive)")
    return float(c * (next_term + roundoff))


def _as_float_array(name: str, x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.complexfloating)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    return arr


def relative_error(actual, reference, *, norm: str = "max") -> float:
    """||actual - reference|| / ||reference|| (``max`` = entrywise inf-norm, ``fro`` = 2-norm).

    When the reference is exactly zero the absolute error is returned (the relative error is
    undefined and any tolerance for it is an absolute one).
    """
    a = _as_float_array("actual", actual)
    b = _as_float_array("reference", reference)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, actual {a.shape} vs reference {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("relative_error: actual and reference must be finite (found NaN or inf)")
    diff = (a - b).ravel()
    ref = b.ravel()
    if norm == "max":
        num, den = np.max(np.abs(diff), initial=0.0), np.max(np.abs(ref), initial=0.0)
    elif norm == "fro":
        num, den = np.linalg.norm(diff), np.linalg.norm(ref)
    else:
        raise ValueError(f"relative_error: norm must be 'max' or 'fro', got {norm!r}")
    return float(num / den) if den > 0 else float(num)


@dataclass(frozen=True)
class Comparison:
    """rel_error against tol = c * eps * size * cond; ``ok`` when ratio <= 1."""

    rel_error: float
    tol: float
    size: float
    cond: float
    c: float

    @property
    def ratio(self) -> float:
        return self.rel_error / self.tol

    @property
    def ok(self) -> bool:
        return bool(self.rel_error <= self.tol)

    def describe(self) -> str:
        return (
            f"relative error {self.rel_error:.3e} vs tolerance {self.tol:.3e} "
            f"(= {self.c:g} * eps * size {self.size:g} * cond {self.cond:.3g}); "
            f"ratio {self.ratio:.3g}"
        )


def compare(actual, reference, *, size: float, cond: float = 1.0, c: float = 1.0,
            norm: str = "max") -> Comparison:
    """Compare ``actual`` with an independent ``reference`` under a derived tolerance."""
    tol = derived_tolerance(size=size, cond=cond, c=c)
    return Comparison(relative_error(actual, reference, norm=norm), tol, float(size), float(cond), float(c))


def assert_close(actual, reference, *, size: float, cond: float = 1.0, c: float = 1.0,
                 norm: str = "max", what: str = "value") -> Comparison:
    """Raise AssertionError (with the achieved ratio) unless ``actual`` matches ``reference``."""
    cmp = compare(actual, reference, size=size, cond=cond, c=c, norm=norm)
    if not cmp.ok:
        raise AssertionError(f"{what}: {cmp.describe()}")
    return cmp

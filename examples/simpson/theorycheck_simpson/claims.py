"""Simpson's rule (Simpson 1743; the error term as in Davis & Rabinowitz 1984, eq. 2.2.11), checked
by theorycheck as a plugin: this module registers its claims when imported, and the distribution
names it in the ``theorycheck.claims`` entry-point group.

Composite Simpson with n (even) panels of width h = (b - a)/n,
S_n(f) = (h/3) [f_0 + 4 f_1 + 2 f_2 + ... + 4 f_{n-1} + f_n], has the Euler-Maclaurin expansion
S_n(f) - I(f) = (h^4/180)(f'''(b) - f'''(a)) - (h^6/1512)(f^(5)(b) - f^(5)(a)) + O(h^8).

Claims: exact on cubics (identity), order 4 with the leading constant (rate). Near negative
control for both: the rule with its middle nodes moved by 1e-3 h (still exact on constants, no
longer symmetric: a first-order rule at fine h). The constant's tolerance is the relative size of
the next term at the finest level used, (180/1512) h^2 (f^(5)(b)-f^(5)(a))/(f'''(b)-f'''(a)),
times a safety factor 2, not a round number.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from numerics.random import rng
from numerics.rates import observed_order
from numerics.tolerance import compare
from theorems.judges import identity_verdict, order_verdict, plot_identity, plot_order
from theorems.registry import Claim, Verdict, register

THEORYCHECK_PAPERS = Path(__file__).resolve().parent / "papers"


def composite_simpson(f, a: float, b: float, n: int, *, shift: float = 0.0) -> float:
    """S_n(f) on [a, b] with n even panels; ``shift`` moves the odd (weight-4) nodes by shift*h."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2 or n % 2:
        raise ValueError(f"Simpson's rule needs an even number of panels n >= 2, got {n!r}")
    h = (b - a) / n
    x = a + h * np.arange(n + 1, dtype=np.float64)
    x[1::2] += shift * h
    w = np.ones(n + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return float(h / 3.0 * np.dot(w, f(x)))


def study_exact_cubics(profile: str, seed: int, *, shift: float = 0.0) -> Verdict:
    """Random cubics on random intervals: relative error <= 8 eps (n + 1) cond."""
    g = rng(seed)
    cases = []
    for _ in range(20 if profile == "fast" else 200):
        a = float(g.uniform(-2, 1))
        b = a + float(g.uniform(0.1, 3))
        c = g.standard_normal(4)
        n = 2 * int(g.integers(1, 25))
        exact = sum(c[k] * (b ** (k + 1) - a ** (k + 1)) / (k + 1) for k in range(4))
        f = partial(np.polynomial.polynomial.polyval, c=c)
        got = composite_simpson(lambda x, f=f: f(x), a, b, n, shift=shift)
        h = (b - a) / n
        terms = np.abs(np.polynomial.polynomial.polyval(a + h * np.arange(n + 1), c)) * h
        cond = float(np.sum(terms) / max(abs(exact), 1e-300))
        cases.append((f"n={n}", compare(got, exact, size=n + 1, cond=cond, c=8.0)))
    return identity_verdict(cases, expected="exact on cubics: rel. error <= 8 eps (n+1) cond")


def study_order4(profile: str, seed: int, *, shift: float = 0.0) -> Verdict:
    """exp on [0, 1]: order 4 with the constant (e - 1)/180 within the next term's size."""
    del seed  # deterministic
    ns = 2 ** np.arange(1, 9 if profile == "fast" else 10)
    exact = np.e - 1.0
    errors = np.array([abs(composite_simpson(np.exp, 0.0, 1.0, int(n), shift=shift) - exact) for n in ns])
    h = 1.0 / ns
    fit = observed_order(h, errors, expected=4.0, scale=exact)
    predicted = (np.e - 1.0) / 180.0
    # Tolerance of the constant at level k: twice the next term's relative size (f^(5) = f^(3) for
    # exp) plus the round-off of the sum relative to the error, 4 eps (n + 1) |I| / e_k. The
    # constant is read at the level where that total is smallest.
    used = [k for k in fit.used if errors[k] > 0]
    tolerances = [2.0 * (180.0 / 1512.0) * h[k] ** 2
                  + 4.0 * np.finfo(float).eps * (ns[k] + 1) * exact / errors[k] for k in used]
    k_c = used[int(np.argmin(tolerances))] if used else 0
    tolerance = float(min(tolerances)) if used else float("nan")
    measured_c = float(errors[k_c] / h[k_c] ** 4)
    c_ok = bool(abs(measured_c / predicted - 1.0) <= tolerance)
    verdict = order_verdict(fit, 4.0, exclude=3.0, xlabel="h = 1/n", ylabel="|S_n(exp) - (e - 1)|",
                            extra={"predicted_constant": predicted, "measured_constant": measured_c})
    return Verdict(
        holds=verdict.holds and c_ok,
        measured=verdict.measured + f"; constant {measured_c:.6g} vs (e-1)/180 = {predicted:.6g} "
                 f"at n = {ns[k_c]} (rel. dev. {abs(measured_c / predicted - 1):.2e}, allowed {tolerance:.2e})",
        expected="order 4 (95% CI) excluding 3, constant (e-1)/180 within the next term",
        evidence=verdict.evidence, notes=verdict.notes)


register(Claim(
    id="simpson1743.exact_cubics",
    paper="simpson1743",
    where="Simpson's rule; Davis & Rabinowitz (1984), section 2.2",
    statement="Composite Simpson's rule integrates cubic polynomials exactly.",
    kind="identity",
    expected="rel. error <= 8 eps (n + 1) cond",
    study=study_exact_cubics,
    plot=plot_identity,
    controls={"odd nodes moved by 1e-3 h": partial(study_exact_cubics, shift=1e-3)},
))

register(Claim(
    id="simpson1743.order4",
    paper="simpson1743",
    where="Davis & Rabinowitz (1984), eq. (2.2.11) and the Euler-Maclaurin expansion",
    statement="On a smooth integrand composite Simpson converges at order 4 with leading error "
              "(h^4/180)(f'''(b) - f'''(a)).",
    kind="rate",
    expected="order 4 (95% CI) excluding 3, constant (e-1)/180 within the next term",
    study=study_order4,
    plot=plot_order,
    controls={"odd nodes moved by 1e-3 h": partial(study_order4, shift=1e-3)},
))

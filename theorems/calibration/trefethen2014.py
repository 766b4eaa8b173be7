"""Trefethen & Weideman, "The exponentially convergent trapezoidal rule", SIAM Review 56 (2014),
Theorem 3.2: on a smooth periodic integrand over a period the trapezoid rule converges faster than
any power of h.

Calibration claim; negative control: a smooth but non-periodic integrand on the same ladder.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import scipy.special

from numerics.rates import observed_order
from theorems.calibration._common import trapezoid_rule
from theorems.judges import plot_order, regime_verdict
from theorems.registry import Claim, Verdict, register


def _periodic_integrand(x):
    return np.exp(np.cos(2.0 * np.pi * x))


def study_trapezoid_periodic(profile: str, seed: int, integrand: str = "periodic") -> Verdict:
    """exp(cos 2 pi x) over [0, 1]: exact I_0(1); the estimator must report super-algebraic."""
    del seed
    ns = np.arange(2, 14 if profile == "fast" else 18)
    if integrand == "periodic":
        f, exact = _periodic_integrand, float(scipy.special.i0(1.0))
    else:  # negative control: a smooth but non-periodic integrand on the same ladder
        f, exact = np.exp, np.e - 1.0
    errors = np.array([abs(trapezoid_rule(f, 0.0, 1.0, int(n)) - exact) for n in ns])
    fit = observed_order(1.0 / ns, errors, expected=1.0, scale=exact)
    return regime_verdict(fit, "super-algebraic",
                          expected="super-algebraic (faster than any power), no slope fitted",
                          xlabel="h = 1/n", ylabel="|T_n(f) - I(f)|")


# --- ODEs -----------------------------------------------------------------------------------

register(Claim(
    id="trefethen2014.trapezoid_periodic",
    paper="trefethen2014",
    where="Theorem 3.2, p. 392",
    statement="For a smooth (analytic) periodic integrand over a period the trapezoid rule "
              "converges faster than any power of h (geometrically).",
    kind="rate",
    expected="super-algebraic regime reported, no slope fitted",
    study=study_trapezoid_periodic,
    plot=plot_order,
    controls={"non-periodic integrand": partial(study_trapezoid_periodic, integrand="non-periodic")},
))

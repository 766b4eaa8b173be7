"""Davis & Rabinowitz, *Methods of Numerical Integration* (2nd ed., 1984), section 2.1: the
composite trapezoid rule is exact on affine functions and has error
T_n(f) - I(f) = (h^2/12) (f'(b) - f'(a)) + O(h^4) (Euler-Maclaurin, eq. 2.9.13).

Calibration: a textbook result that exercises the whole path before any paper does. Negative
control for both claims: a left-endpoint rule sold as the trapezoid rule.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from numerics import EPS
from numerics.quadrature import trapezoid_nodes_weights
from numerics.random import rng
from numerics.rates import observed_order
from numerics.tolerance import compare, constant_tolerance
from theorems.calibration._common import left_endpoint_rule, trapezoid_rule
from theorems.judges import identity_verdict, order_verdict, plot_identity, plot_order
from theorems.registry import Claim, Verdict, register


def study_trapezoid_exact(profile: str, seed: int, rule=trapezoid_rule) -> Verdict:
    """The rule integrates alpha + beta x exactly on random intervals (to round-off)."""
    g = rng(seed)
    cases = []
    count = 20 if profile == "fast" else 200
    for _ in range(count):
        a = float(g.uniform(-2, 1))
        b = a + float(g.uniform(0.1, 3))
        alpha, beta = g.standard_normal(2)
        n = int(g.integers(1, 50))
        exact = alpha * (b - a) + 0.5 * beta * (b * b - a * a)
        got = rule(lambda x, al=alpha, be=beta: al + be * x, a, b, n)
        # n + 1 terms summed, each product exact to eps; scale by the sum of |terms|, which can
        # exceed |exact| (cancellation): cond = sum |w f| / |sum w f|.
        x, w = trapezoid_nodes_weights(a, b, n)
        cond = float(np.sum(np.abs(w * (alpha + beta * x))) / max(abs(exact), 1e-300))
        cases.append((f"n={n}", compare(got, exact, size=n + 1, cond=cond, c=4.0)))
    return identity_verdict(cases, expected="exact on affine integrands: rel. error <= 4 eps (n+1) cond")


def study_trapezoid_order(profile: str, seed: int, rule=trapezoid_rule) -> Verdict:
    """Order 2 on exp on [0, 1] with the Euler-Maclaurin constant (e - 1)/12, within a tolerance
    derived from the next Euler-Maclaurin term (h^2/60 relative) and the sum's round-off."""
    del seed  # deterministic study
    levels = 11 if profile == "fast" else 16
    ns = 2 ** np.arange(1, levels + 1)
    exact = np.e - 1.0
    errors = np.array([abs(rule(np.exp, 0.0, 1.0, int(n)) - exact) for n in ns])
    h = 1.0 / ns
    fit = observed_order(h, errors, expected=2.0, scale=exact)
    predicted_c = (np.e - 1.0) / 12.0  # (f'(b) - f'(a)) / 12
    used = list(fit.used) or [0]

    def rtol_at(i):
        # Euler-Maclaurin: error = (h^2/12)(e - 1) - (h^4/720)(e - 1) + ..., so the next term is
        # h^2/60 of the leading one; round-off of the (n + 1)-term sum, 2 eps (n + 1) e, against
        # the leading error h^2 (e - 1)/12
        return constant_tolerance(h[i] ** 2 / 60.0, roundoff=2.0 * EPS * (ns[i] + 1) * np.e / (h[i] ** 2 * predicted_c))

    at = min(used, key=rtol_at)  # the used level where the derived tolerance is smallest
    c_at = float(errors[at] / h[at] ** 2)
    rtol = rtol_at(at)
    dev = abs(c_at / predicted_c - 1.0)
    c_ok = bool(dev <= rtol)
    verdict = order_verdict(fit, 2.0, extra={"predicted_constant": predicted_c, "measured_constant": c_at,
                                             "constant_rtol": rtol, "constant_deviation": dev},
                            xlabel="h = 1/n", ylabel="|T_n(exp) - (e - 1)|")
    return Verdict(
        holds=verdict.holds and c_ok,
        measured=verdict.measured + f"; constant {c_at:.8f} vs (e-1)/12 = {predicted_c:.8f} at n = {ns[at]} "
                                    f"(deviation {dev:.2e}, derived tolerance {rtol:.2e})",
        expected="order 2 with constant (e - 1)/12 within 2 (h^2/60 + round-off) at the best used level",
        evidence=verdict.evidence,
        notes=verdict.notes,
    )


register(Claim(
    id="davis1984.trapezoid_exact",
    paper="davis1984",
    where="Section 2.1 (trapezoid rule), p. 51",
    statement="The composite trapezoid rule integrates affine functions exactly.",
    kind="identity",
    expected="rel. error <= 4 eps (n + 1) cond",
    study=study_trapezoid_exact,
    plot=plot_identity,
    controls={"left-endpoint rule": partial(study_trapezoid_exact, rule=left_endpoint_rule)},
))

register(Claim(
    id="davis1984.trapezoid_order2",
    paper="davis1984",
    where="Section 2.1 and eq. (2.9.13) (Euler-Maclaurin), pp. 51-54, 136",
    statement="On a smooth non-periodic integrand the composite trapezoid rule converges at order 2, "
              "with leading error (h^2/12)(f'(b) - f'(a)).",
    kind="rate",
    expected="order 2 (95% CI), constant (e - 1)/12 within 2 (h^2/60 + round-off)",
    study=study_trapezoid_order,
    plot=plot_order,
    controls={"left-endpoint rule sold as trapezoid": partial(study_trapezoid_order, rule=left_endpoint_rule)},
))

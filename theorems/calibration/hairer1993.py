"""Hairer, Norsett & Wanner, *Solving ODEs I* (2nd ed., 1993), sections II.1-II.3: explicit Euler
is order 1, the classical Runge-Kutta method order 4.

Calibration claims; negative controls: an Euler step with a 0.03% step error (y + 1.0003 h f:
inconsistent, its error levels off at ~6e-4, where the fine end of the ladder decides), and an RK4
with its weights permuted (still consistent, but only order 2 or lower).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import scipy.linalg

from numerics.odes import euler_step, integrate, rk4_step
from numerics.rates import observed_order
from theorems.judges import order_verdict, plot_order
from theorems.registry import Claim, Verdict, register

# --- ODEs -----------------------------------------------------------------------------------

_A = np.array([[-0.5, 2.0], [-2.0, -0.3]])
_Y0 = np.array([1.0, 0.5])
_T = 1.0


def _linear_rhs(t, y):
    return _A @ y


def _scaled_euler_step(f, t, y, h):
    """Negative control: an Euler step whose step is 0.03% too long (inconsistent: order 0).

    Near the claim: over the coarse half of the ladder it is indistinguishable from Euler (order
    1.04); only the fine end, where the O(3e-4) inconsistency takes over, shows the floor."""
    return y + 1.0003 * h * f(t, y)


def _permuted_rk4_step(f, t, y, h):
    """Negative control: RK4 with weights (2, 1, 2, 1)/6: consistent, but not fourth order."""
    k1 = f(t, y)
    k2 = f(t + 0.5 * h, y + 0.5 * h * k1)
    k3 = f(t + 0.5 * h, y + 0.5 * h * k2)
    k4 = f(t + h, y + h * k3)
    return y + (h / 6.0) * (2.0 * k1 + k2 + 2.0 * k3 + k4)


def study_ode_order(profile: str, seed: int, step=euler_step, claimed: int = 1) -> Verdict:
    """Global error at T = 1 of y' = A y against the exact expm(T A) y0 (scipy.linalg.expm)."""
    del seed
    exact = scipy.linalg.expm(_T * _A) @ _Y0
    if claimed == 1:
        ns = 2 ** np.arange(3, 13 if profile == "fast" else 16)
    else:  # order 4 reaches round-off quickly: a gentler ladder keeps two decades above it
        ns = np.unique(np.round(2 ** np.arange(2.0, 11.5 if profile == "fast" else 12.0, 0.5))).astype(int)
    errors = np.array([
        np.max(np.abs(integrate(step, _linear_rhs, _Y0, 0.0, _T, int(n)) - exact)) / np.max(np.abs(exact))
        for n in ns
    ])
    fit = observed_order(_T / ns, errors, expected=float(claimed))
    # The next order down is excluded so that a scheme of order claimed-1 cannot pass.
    return order_verdict(fit, float(claimed), exclude=float(claimed - 1), xlabel="h",
                         ylabel="relative global error at T = 1")



register(Claim(
    id="hairer1993.euler_order1",
    paper="hairer1993",
    where="Section II.3, Theorem 3.4 (convergence of one-step methods), p. 160",
    statement="Explicit Euler converges with global order 1 on a smooth ODE.",
    kind="rate",
    expected="order 1 (95% CI), excluding 0",
    study=partial(study_ode_order, step=euler_step, claimed=1),
    plot=plot_order,
    controls={"Euler with a 0.03% step error (1.0003 h f)": partial(study_ode_order, step=_scaled_euler_step, claimed=1)},
))

register(Claim(
    id="hairer1993.rk4_order4",
    paper="hairer1993",
    where="Section II.1, Table 1.2 (classical RK4) and Theorem 3.4, pp. 138, 160",
    statement="The classical Runge-Kutta method converges with global order 4 on a smooth ODE.",
    kind="rate",
    expected="order 4 (95% CI), excluding 3",
    study=partial(study_ode_order, step=rk4_step, claimed=4),
    plot=plot_order,
    controls={"RK4 with permuted weights": partial(study_ode_order, step=_permuted_rk4_step, claimed=4)},
))

"""Study helpers shared by the physics papers (luo2020, boffi2023, bischof2025): the fine-end rule
for observed orders, and a constant compared with its prediction under a tolerance derived from
the next term.

Nothing here registers a claim.
"""

from __future__ import annotations

import numpy as np

from numerics.rates import OrderFit


def fine_end_check(fit: OrderFit, expected_order: float, *, floor: float | None = None) -> tuple[str, bool, str]:
    """("fine end", ok, message): the fit's range must reach the finest level whose error is above
    the round-off floor (CONTRIBUTING.md section 3: a fine end that bends away is a failed rate,
    not noise). Levels below ``floor`` may be dropped as round-off."""
    params = np.asarray(fit.params)
    errors = np.asarray(fit.errors)
    order = np.argsort(params) if expected_order > 0 else np.argsort(params)[::-1]
    # order[0] is the finest level (smallest h for p > 0, largest N for p < 0)
    above = [int(i) for i in order if floor is None or errors[i] > floor]
    if not fit.used or not above:
        return ("fine end", False, "no fitted range")
    finest = above[0]
    ok = finest in fit.used
    msg = (f"fit reaches the finest level above round-off (param {params[finest]:.3g})" if ok else
           f"fit stops before the finest level above round-off (param {params[finest]:.3g}, "
           f"local orders there {np.round(fit.local[-3:], 3).tolist()})")
    return ("fine end", ok, msg)

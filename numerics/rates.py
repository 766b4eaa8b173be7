"""Observed orders of convergence with confidence intervals (CONTRIBUTING.md section 3).

Convention. For parameters ``params`` (step sizes h, grid widths, 1/N, or sample sizes N) and
errors ``errors`` the model is

    e = C * param**p ,   i.e.   log e = log C + p log param,

and ``order`` is the exponent ``p`` itself: 2 for a second-order scheme studied against h, and
-1/2 for a Monte Carlo error studied against N.

**The fine end decides.** Levels are ordered from coarse to fine (the fine end is where the
errors are meant to be smallest). A level may be left out of the fit for two reasons only:

* *pre-asymptotic*: it lies at the coarse end, before the local orders
  ``p_k = log(e_{k+1}/e_k) / log(h_{k+1}/h_k)`` settle;
* *round-off*: it lies at the fine end and its error is at most ``ROUND_OFF_ZONE`` (= 100) times
  the round-off floor (``floor`` if given, else ``100 * eps * scale``), i.e. within 1e4 eps of
  ``scale``, and it is off the fitted line (an exact power law is fitted wherever it goes).

Every other level finer than the fitted run must lie on the run's line within the noise model
(below); if the finest level that is clear of the round-off zone does not, the fine end has bent
away and no order is reported as settled:

* ``"stagnating"``: the errors level off above round-off (a bias floor: the fine-end slope plus
  3 of its standard deviations is at most half the settled order);
* ``"not converging"``: the errors do not fall (the slope over all levels is at most
  ``settle_tol``) or they grow at the fine end;
* ``"unsettled"``: the fine end departs otherwise (a lower- or higher-order term takes over, or
  the local orders never agree over ``min_points`` levels).

Asymptotic range. The candidate runs are runs of at least ``min_points`` consecutive levels
(``min_points`` of them above the floor) on which the errors fall (oriented slope above
``settle_tol``) and whose local orders agree: their spread is at most ``settle_tol`` (absolute,
default 0.1) plus ``3 sqrt(2)`` standard deviations of a local order under the noise model. The
longest run wins; between equally long runs the finer one. It is then extended towards the fine
end as described above, and the run (extended or not) must still fall and the slope of its
finest ``min_points`` clear levels must agree with its own within ``settle_tol`` plus 3 standard
deviations, or the fine end departs.

Noise model. Deterministic errors (1-D): ``sigma`` of log e is a robust estimate (1.4826 times the
median absolute value, over sqrt(20)) from *third* differences of log e along the levels clear of
the round-off zone (along all the levels above the floor when fewer than 6 are clear; 0 when fewer
than 5 levels are left, i.e. fewer than 2 third differences). Third differences vanish for an exact
power law and for a constant curvature, and a smooth crossover between two powers contributes about
a tenth of what it adds to second differences, so curvature is not read as noise. A finer level
lies on the run's line when its residual is at most ``settle_tol |x_k - x_end| + 3 sqrt(sigma_k^2 +
var(prediction))`` (``x = log h``; ``var(prediction) = sigma^2 (1/n + (x_k - xbar)^2 / Sxx)`` for
the run's n levels; ``sigma_k = sigma`` for deterministic errors). Stochastic errors (2-D, levels x
seeds): the fit is on log of the seed mean; ``sigma`` is the pooled relative spread over levels,
``sqrt(mean_k s_k^2 / e_k^2 / m)`` (``ddof = 1``), not the per-level 2- or 3-sample variance alone:
each level's own spread (``m - 1`` dof) is shrunk towards the pool with ``PRIOR_DOF`` (= 4) dof,
and the fit is weighted by the result.

Intervals. Deterministic: t-based with ``n - 2`` degrees of freedom on the run's residuals,
widened by the larger of ``|p - p_finest|`` and half the spread of the run's local orders (the
drift of orders that are still settling), and never narrower than the slope's own round-off,
``10 eps (1 + max |log e|) / sqrt(Sxx)``. A deterministic run whose interval reaches order 0 has
not been shown to converge: ``stagnating`` if coarser levels fell faster, else ``unsettled``.
Stochastic: the slope's standard error is the jackknife over seeds (leave one seed out and
refit: for 2 seeds this is the spread of the per-seed slopes) and the quantile is Student's t with
``m - 1`` degrees of freedom, which keeps the nominal coverage for 2, 3 or 5 seeds; on a run of
at least 4 levels whose means scatter about the line more than the seeds explain (structure the
seeds share), the residual standard error with ``n - 2`` degrees of freedom instead.

Other regimes. ``"super-algebraic"``: the local orders grow without settling (at every level, by
more than their round-off, with increments that do not die out), or log e is three times better fitted as linear in the level
count (1/h or N, over a range that at least doubles) than in log h, on the levels above the floor
(and, when some of them lie in the round-off zone, the levels clear of it are not better fitted as a
power law: a zone level cannot carry the verdict alone); ``order`` is the largest local
order seen (a lower bound) and ``ci = (order, inf)``. ``"round-off"``: fewer than ``min_points``
levels lie above the floor, or the errors do not fall and every level is within the round-off zone;
``order`` is NaN.

``ci`` is ``(nan, nan)`` in the regimes ``round-off``, ``stagnating`` and ``not converging``;
``unsettled`` reports the longest settled run's fit with an interval widened to reach the fine-end
slope, for diagnosis only (:func:`theorems.judges.order_verdict` accepts only ``algebraic``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from numerics import EPS

__all__ = [
    "OrderFit",
    "observed_order",
    "local_orders",
    "richardson_order",
    "self_convergence_order",
    "REGIMES",
    "ROUND_OFF_ZONE",
]

REGIMES = ("algebraic", "super-algebraic", "round-off", "unsettled", "stagnating", "not converging")

ROUND_OFF_ZONE = 100.0
"""A fine-end level may be left out as round-off only when its error is <= this times the floor."""

PRIOR_DOF = 4.0
"""Stochastic errors: degrees of freedom of the pooled spread a level's own spread is shrunk to."""

DEPARTURE_Z = 3.0
"""Standard deviations (noise model) a finer level may lie off the run's line."""


@dataclass(frozen=True)
class OrderFit:
    """The result of :func:`observed_order`.

    order      -- fitted exponent p in e = C param^p (see the module docstring for regimes).
    ci         -- (low, high) confidence interval for p at ``confidence``.
    constant   -- fitted C (e = C param^p) on the used range, NaN when no slope was fitted.
    regime     -- one of ``REGIMES``.
    used       -- indices (into the caller's arrays) of the points in the fit.
    excluded   -- index -> reason for every point left out.
    params, errors -- the caller's parameters and (mean) errors, as float64 arrays.
    local      -- local orders between neighbouring levels in order of increasing refinement
                  (length n - 1), for plotting and diagnosis.
    stderr     -- standard error of the slope; ``dof`` its degrees of freedom.
    fine_order -- slope (same sign convention as ``order``) of the finest ``min_points`` levels clear
                  of the round-off zone (NaN when
                  there are fewer).
    floor      -- the round-off floor used.
    noise      -- the standard deviation of log e the noise model assumed (NaN when not needed).
    """

    order: float
    ci: tuple[float, float]
    constant: float
    regime: str
    used: tuple[int, ...]
    excluded: dict[int, str]
    params: np.ndarray
    errors: np.ndarray
    local: np.ndarray
    stderr: float
    dof: int
    confidence: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    fine_order: float = float("nan")
    floor: float = float("nan")
    noise: float = float("nan")

    def contains(self, p: float) -> bool:
        """True when p lies inside the confidence interval."""
        lo, hi = self.ci
        return bool(lo <= p <= hi)

    def describe(self) -> str:
        lo, hi = self.ci
        if self.regime == "algebraic":
            return f"order {self.order:.3f} [{lo:.3f}, {hi:.3f}] on {len(self.used)} levels"
        if self.regime == "super-algebraic":
            return f"super-algebraic (local orders reach {self.order:.3g} without settling)"
        if self.regime == "round-off":
            return f"round-off: errors within {ROUND_OFF_ZONE:g}x of the floor {self.floor:.1e}, no slope"
        finest = float(np.min(self.errors[self.errors > 0])) if np.any(self.errors > 0) else 0.0
        if self.regime == "stagnating":
            return (f"stagnating: errors level off at {finest:.2e}, above round-off ({self.floor:.1e}); "
                    f"fine-end slope {self.fine_order:.2f} after order {self.order:.2f}: no order")
        if self.regime == "not converging":
            return (f"not converging: errors do not fall (slope {self.order:.2f}, fine-end slope "
                    f"{self.fine_order:.2f}, errors {np.min(self.errors):.2e}..{np.max(self.errors):.2e})")
        return (f"unsettled: order {self.order:.3f} [{lo:.3f}, {hi:.3f}] but the fine end departs "
                f"(fine-end slope {self.fine_order:.3f}): no settled order")

    def fitted(self, params) -> np.ndarray:
        """C * params**p, for drawing the fitted line."""
        return self.constant * np.asarray(params, dtype=np.float64) ** self.order

def _validate(params, errors) -> tuple[np.ndarray, np.ndarray]:
    try:
        h = np.asarray(params, dtype=np.float64)
        e = np.asarray(errors, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"observed_order: params and errors must be numeric sequences ({exc})") from None
    if h.ndim != 1:
        raise ValueError(f"observed_order: params must be 1-D, got shape {h.shape}")
    if e.ndim not in (1, 2):
        raise ValueError(f"observed_order: errors must be 1-D (or 2-D: levels x seeds), got shape {e.shape}")
    if e.shape[0] != h.shape[0]:
        raise ValueError(
            f"observed_order: params and errors must have equal length, got {h.shape[0]} and {e.shape[0]}"
        )
    if h.shape[0] < 3:
        raise ValueError(f"observed_order: need at least 3 levels, got {h.shape[0]}")
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ValueError("observed_order: params must be finite and positive")
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise ValueError("observed_order: errors must be finite and non-negative (found NaN, inf or < 0)")
    if np.unique(h).size != h.size:
        raise ValueError("observed_order: params must be distinct")
    if e.ndim == 2 and e.shape[1] < 2:
        raise ValueError("observed_order: stochastic errors need at least 2 seeds per level")
    return h, e


def local_orders(params, errors) -> np.ndarray:
    """p_k = log(e_{k+1}/e_k) / log(h_{k+1}/h_k) for consecutive levels, in the given order.

    Raises ValueError for NaN/inf or negative errors, non-positive params or unequal lengths (an
    exact zero error is admissible: its local orders are then non-finite, as they should be)."""
    h = np.asarray(params, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    if h.ndim != 1 or e.ndim != 1 or h.shape != e.shape:
        raise ValueError(f"local_orders: params and errors must be 1-D of equal length, got shapes {h.shape} and {e.shape}")
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise ValueError("local_orders: errors must be finite and non-negative (found NaN, inf or < 0)")
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ValueError("local_orders: params must be finite and positive")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.diff(np.log(e)) / np.diff(np.log(h))


def _ls_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None):
    """Weighted least squares y = a + b x; returns (a, b, residuals, sum w (x - xbar)^2)."""
    if w is None:
        w = np.ones_like(x)
    xb = np.sum(w * x) / np.sum(w)
    yb = np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - xb) ** 2)
    b = np.sum(w * (x - xb) * (y - yb)) / sxx
    a = yb - b * xb
    return a, b, y - (a + b * x), sxx


def _slope_se(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Unweighted fit y = a + b x: (a, b, standard error of b, Sxx); se is inf for 2 points."""
    a, b, res, sxx = _ls_fit(x, y)
    dof = x.size - 2
    se = float(np.sqrt(np.sum(res**2) / dof / sxx)) if dof > 0 else np.inf
    return float(a), float(b), se, float(sxx)


def observed_order(
    params: Sequence[float] | np.ndarray,
    errors: Sequence[float] | np.ndarray,
    *,
    expected: float | None = None,
    confidence: float = 0.95,
    floor: float | None = None,
    scale: float = 1.0,
    settle_tol: float = 0.1,
    min_points: int = 3,
) -> OrderFit:
    """Fit the observed order of ``errors`` against ``params`` on the asymptotic range.

    ``expected`` only orients the study (its sign says whether the error falls as the parameter
    falls, p > 0, or as it grows, p < 0); it never enters the fit. Without it the orientation is
    taken from the sign of the least-squares slope over all positive errors.
    """
    h, E = _validate(params, errors)
    if not 0 < confidence < 1:
        raise ValueError(f"observed_order: confidence must lie in (0, 1), got {confidence}")
    if min_points < 3:
        raise ValueError(f"observed_order: min_points must be >= 3 (a t interval needs n - 2 >= 1), got {min_points}")
    if settle_tol <= 0:
        raise ValueError(f"observed_order: settle_tol must be positive, got {settle_tol}")
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"observed_order: scale must be finite and positive, got {scale}")
    if floor is not None and (not np.isfinite(floor) or floor < 0):
        raise ValueError(f"observed_order: floor must be finite and non-negative, got {floor}")
    floor_value = float(floor) if floor is not None else 100.0 * EPS * float(scale)
    zone = ROUND_OFF_ZONE * floor_value

    stochastic = E.ndim == 2
    n = h.size
    e = E.mean(axis=1) if stochastic else E
    m = E.shape[1] if stochastic else 1

    notes: list[str] = []
    positive = e > 0
    # Orientation: which end is "fine" (smallest error in the asymptotic regime).
    if expected is not None:
        if not np.isfinite(expected) or expected == 0:
            raise ValueError(f"observed_order: expected must be a finite non-zero order, got {expected}")
        direction = 1.0 if expected > 0 else -1.0
    else:
        if positive.sum() >= 2:
            _, b_all, _, _ = _ls_fit(np.log(h[positive]), np.log(e[positive]))
            direction = 1.0 if b_all >= 0 else -1.0
        else:
            direction = 1.0
    # coarse -> fine ordering: for p > 0 the fine end is the small parameter.
    order_idx = np.argsort(h)[::-1] if direction > 0 else np.argsort(h)
    hs, es = h[order_idx], e[order_idx]
    Es = E[order_idx] if stochastic else None
    local_sorted = local_orders(hs, es)

    excluded: dict[int, str] = {}
    above = (es > floor_value) & (es > 0)
    clear = es > zone
    x = np.log(hs)
    y = np.full(n, -np.inf)
    y[es > 0] = np.log(es[es > 0])

    def fine_slope(with_sd: bool = False):
        """Oriented slope of the finest min_points levels clear of the round-off zone (and, with
        ``with_sd``, its standard deviation under the noise model)."""
        idx = np.flatnonzero(clear)[-min_points:]
        if idx.size < min_points:
            return (float("nan"), 0.0) if with_sd else float("nan")
        _, b_f, _, sxx_f = _ls_fit(x[idx], y[idx])
        sd_f = float(np.max(sigma_k[idx])) / float(np.sqrt(sxx_f))
        return (float(direction * b_f), sd_f) if with_sd else float(direction * b_f)

    def result(order, ci, const, regime, used_sorted, stderr=np.nan, dof=0, reason_fine=None):
        used_set = set(int(i) for i in used_sorted)
        last = max(used_set) if used_set else -1
        for k in range(n):
            if k in used_set or int(order_idx[k]) in excluded:
                continue
            if not above[k]:
                reason = f"round-off (error {es[k]:.2e} at or below the floor {floor_value:.2e})"
            elif used_set and k > last and reason_fine is not None:
                reason = reason_fine
            elif used_set and k > last and not clear[k]:
                reason = (f"round-off (error {es[k]:.2e} within {ROUND_OFF_ZONE:g}x of the floor "
                          f"{floor_value:.2e}, off the fitted line)")
            elif used_set and k < min(used_set):
                reason = "pre-asymptotic (coarse end, before the local orders settle)"
            else:
                reason = f"not in a settled range (regime {regime})"
            excluded[int(order_idx[k])] = reason
        return OrderFit(
            order=float(order),
            ci=(float(ci[0]), float(ci[1])),
            constant=float(const),
            regime=regime,
            used=tuple(sorted(int(order_idx[k]) for k in used_sorted)),
            excluded=dict(sorted(excluded.items())),
            params=h,
            errors=e,
            local=local_sorted,
            stderr=float(stderr),
            dof=int(dof),
            confidence=float(confidence),
            notes=tuple(notes),
            fine_order=direction * fine_slope(),
            floor=floor_value,
            noise=noise[0],
        )

    noise = [float("nan")]
    candidates = np.flatnonzero(above)
    if candidates.size < min_points:
        notes.append(f"only {candidates.size} level(s) above the round-off floor {floor_value:.2e}")
        return result(np.nan, (np.nan, np.nan), np.nan, "round-off", [])

    # Noise of log e at each level (see the module docstring).
    if stochastic:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_var = (Es / es[:, None]).var(axis=1, ddof=1)  # not var / es^2: no underflow
        ok = np.isfinite(rel_var)
        sigma = float(np.sqrt(np.mean(rel_var[ok]) / m)) if np.any(ok) else 0.0
        # each level's own spread (m - 1 dof) shrunk towards the pool with PRIOR_DOF dof: with 2 or
        # 3 seeds mostly the pool, with 10 or more mostly the level's own
        own = np.where(ok, rel_var, np.mean(rel_var[ok]) if np.any(ok) else 0.0) / m
        sigma_k = np.sqrt(((m - 1) * own + PRIOR_DOF * sigma**2) / (m - 1 + PRIOR_DOF))
    else:
        yc = y[clear] if np.count_nonzero(clear) >= 6 else y[above]
        d3 = np.diff(yc, 3)
        sigma = float(1.4826 * np.median(np.abs(d3)) / np.sqrt(20.0)) if d3.size >= 2 else 0.0
    if not stochastic:
        sigma_k = np.full(n, sigma)
    noise[0] = sigma
    local_sd = np.sqrt(sigma_k[:-1] ** 2 + sigma_k[1:] ** 2) / np.abs(np.diff(x))

    # Super-algebraic convergence first: local orders (oriented) that grow at every level, with
    # increments that do not die out (a pre-asymptotic approach to a fixed order has increments
    # shrinking geometrically; exp(-c/h) or exp(-cN) has increments constant or growing).
    pairs = [k for k in range(n - 1) if above[k] and above[k + 1]]
    oriented = direction * local_sorted[pairs]
    if oriented.size >= 3 and np.all(np.isfinite(oriented)) and oriented[0] > 0:
        inc = np.diff(oriented)
        # growth means increments beyond the round-off of the local orders (~ eps |log e| / |dx|):
        # an exact power law's local orders differ in their last bits, and a finest level that
        # cancels (h^3, then 5e-12) must not make 3, 3 + 1e-15, 10.9 "growing at every level"
        tiny = 16.0 * EPS * (1.0 + float(np.max(np.abs(y[candidates])))) / float(np.min(np.abs(np.diff(x))))
        if (
            np.all(inc > tiny)
            and inc[-1] >= 0.5 * inc[0]
            and inc[-1] > settle_tol
            and oriented[-1] > 1.5 * oriented[0]
        ):
            notes.append("local orders grow at every level without settling")
            top = float(direction * oriented.max())
            ci = (top, np.inf) if direction > 0 else (-np.inf, top)
            return result(top, ci, np.nan, "super-algebraic", list(candidates))

    # Geometric convergence that zig-zags (aliasing on grids of alternating parity, say) defeats
    # the strict test above. Compare the two two-parameter models on the levels above the floor:
    # algebraic, log e linear in log h, against geometric, log e linear in the level count
    # (1/h when the fine end is the small parameter, N itself otherwise). A geometric fit that
    # explains log e three times better (over a count that at least doubles) is reported as
    # super-algebraic rather than fitted with a slope.
    if candidates.size >= 4:
        xc, yc = x[candidates], y[candidates]
        count = np.exp(-xc) if direction > 0 else np.exp(xc)
        _, _, res_alg, _ = _ls_fit(xc, yc)
        _, b_geo, res_geo, _ = _ls_fit(count, yc)
        # Under the geometric model the local order grows like the count itself, so the count
        # must at least double over the levels for "growing local orders" to mean anything.
        geometric = (
            b_geo < 0
            and count.max() >= 2.0 * count.min()
            and np.sum(res_geo**2) <= np.sum(res_alg**2) / 3.0
        )
        inside = candidates[~clear[candidates]]
        if geometric and inside.size and np.count_nonzero(clear) >= 3:
            # Levels within the round-off zone must not carry the verdict alone: the levels clear
            # of it must not be better fitted as a power law (h^2 on eight levels and a finest
            # level that cancels to 1e-12 is a power law and a round-off level, not geometric).
            cl = np.flatnonzero(clear)
            cnt = np.exp(-x[cl]) if direction > 0 else np.exp(x[cl])
            geometric = bool(np.sum(_ls_fit(cnt, y[cl])[2] ** 2) <= np.sum(_ls_fit(x[cl], y[cl])[2] ** 2))
        if geometric:
            notes.append("log e is linear in the level count, not in log h: geometric convergence")
            # the largest local order seen: between neighbouring levels above the floor, or, when
            # no two neighbours are (errors exactly 0 or below the floor at every other level),
            # between consecutive levels above the floor
            seen = oriented if oriented.size else direction * local_orders(hs[candidates], es[candidates])
            top = float(direction * seen.max())
            ci = (top, np.inf) if direction > 0 else (-np.inf, top)
            return result(top, ci, np.nan, "super-algebraic", list(candidates))

    lo_q = 0.5 + confidence / 2.0
    xa, ya = x[candidates], y[candidates]
    a_all, b_all, se_all, _ = _slope_se(xa, ya)

    def not_converging(why: str):
        every_in_zone = not np.any(clear)
        regime = "round-off" if every_in_zone else "not converging"
        notes.append(why + (f"; every level is within {ROUND_OFF_ZONE:g}x of the floor" if every_in_zone else ""))
        return result(b_all, (np.nan, np.nan), np.exp(a_all), regime, list(candidates),
                      se_all, xa.size - 2)

    if not direction * b_all > settle_tol:
        return not_converging(f"errors do not fall towards the fine end (slope {b_all:.3g} over all levels)")

    # Candidate runs: consecutive levels with positive errors, min_points of them above the floor,
    # on which the errors fall (oriented slope > settle_tol) and the local orders agree.
    best: tuple[int, int] | None = None
    for i in range(n):
        for j in range(i + min_points - 1, n):
            if not np.all(es[i : j + 1] > 0):
                break
            if np.count_nonzero(above[i : j + 1]) < min_points:
                continue
            run = local_sorted[i:j]
            if not np.all(np.isfinite(run)):
                continue
            allowance = settle_tol + 3.0 * np.sqrt(2.0) * float(np.max(local_sd[i:j]))
            if np.ptp(run) > allowance:
                continue
            _, b, _, _ = _ls_fit(x[i : j + 1], y[i : j + 1])
            if direction * b <= settle_tol:
                continue  # errors do not fall on this run: not a convergence range
            length = j - i + 1
            if best is None or length > best[1] - best[0] + 1 or (
                length == best[1] - best[0] + 1 and j > best[1]
            ):
                best = (i, j)

    def classify_fine(b_ref: float) -> str:
        """Regime of a fine end that is off the settled line: stagnating, not converging, unsettled."""
        pf, sd = fine_slope(with_sd=True)
        if np.isfinite(pf) and pf + DEPARTURE_Z * sd < -settle_tol:
            return "not converging"
        if np.isfinite(pf) and pf + DEPARTURE_Z * sd <= 0.5 * b_ref:
            return "stagnating"
        return "unsettled"

    if best is None:
        a, b, se = a_all, b_all, se_all
        dof = xa.size - 2
        pa = local_sorted[pairs]
        finite = pa[np.isfinite(pa)]
        half = stats.t.ppf(lo_q, max(dof, 1)) * se + (np.ptp(finite) / 2 if finite.size else 0.0)
        regime = classify_fine(direction * b)
        notes.append("no run of settled local orders: fit over all levels above the floor")
        ci = (b - half, b + half) if regime == "unsettled" else (np.nan, np.nan)
        return result(b, ci, np.exp(a), regime, list(candidates), se, dof)

    i, j = best
    a, b, se, sxx = _slope_se(x[i : j + 1], y[i : j + 1])
    npts = j - i + 1
    xbar = float(np.mean(x[i : j + 1]))

    # Towards the fine end: every finer level clear of the round-off zone must lie on the run's
    # line within the noise model; finer levels inside the zone join while they do, and are left
    # out as round-off from the first that does not.
    end = j
    off: list[int] = []
    zone_stop = False
    for k in range(j + 1, n):
        if es[k] <= 0:
            zone_stop = True
            continue
        pred_var = sigma**2 * (1.0 / npts + (x[k] - xbar) ** 2 / sxx)
        tol_k = settle_tol * abs(x[k] - x[j]) + DEPARTURE_Z * np.sqrt(sigma_k[k] ** 2 + pred_var)
        on_line = abs(y[k] - (a + b * x[k])) <= tol_k
        if not clear[k]:
            if zone_stop or not on_line or not above[k]:
                zone_stop = True
            else:
                end = k
            continue
        if zone_stop:
            off.append(k)  # a level clear of the zone after the round-off stop: not round-off
            continue
        end = k
        if not on_line:
            off.append(k)
    last_clear = int(np.flatnonzero(clear)[-1]) if np.any(clear) else -1
    departs = last_clear in off
    if not departs:
        # The run (extended or not) must still fall, and its own fine end must agree with its
        # slope: the settling allowance lets local orders spread by settle_tol + 3 sqrt2 local sd,
        # which can hide a fine end that departs by more than settle_tol + 3 sd of its slope.
        a2, b2, _, _ = _slope_se(x[i : end + 1], y[i : end + 1])
        tail = [k for k in range(i, end + 1) if clear[k]][-min_points:]
        pf_run = _ls_fit(x[tail], y[tail])[1] if len(tail) == min_points else b2
        sd_tail = float(np.max(sigma_k[tail])) / np.sqrt(max(_ls_fit(x[tail], y[tail])[3], 1e-300)) if len(tail) == min_points else 0.0
        if direction * b2 <= settle_tol or abs(pf_run - b2) > settle_tol + DEPARTURE_Z * sd_tail:
            departs = True
    if departs:
        regime = classify_fine(direction * b)
        pf = fine_slope()
        notes.append(
            f"the fine end departs from the settled run (order {b:.3f} on levels {i}..{j} of {n}): "
            f"fine-end slope {direction * pf if np.isfinite(pf) else float('nan'):.3f}"
        )
        if regime == "unsettled":
            half = stats.t.ppf(lo_q, max(npts - 2, 1)) * se
            lo, hi = b - half, b + half
            if np.isfinite(pf):
                lo, hi = min(lo, direction * pf), max(hi, direction * pf)
            ci = (lo, hi)
        else:
            ci = (np.nan, np.nan)
        reason = f"fine end departs from the fitted slope (regime {regime})"
        return result(b, ci, np.exp(a), regime, list(range(i, j + 1)), se, npts - 2, reason_fine=reason)
    if off:
        notes.append(f"level(s) {off} lie off the run's line but the fine end returns to it: kept in the fit")
    i, j = i, end
    idx = list(range(i, j + 1))
    xs, ys = x[i : j + 1], y[i : j + 1]
    npts = j - i + 1
    a, b, se, sxx = _slope_se(xs, ys)
    if stochastic:
        # Weighted by the noise model (1 / sigma_k^2: the pool, or a noisier level's own spread);
        # the residual standard error of that fit, against the jackknife over seeds (leave one
        # seed out, refit the log of the mean on the same levels with the same weights).
        # (relative weights, largest 1: the fit is invariant to their scale, and 1 / sigma^2 must
        # neither overflow when the seeds agree exactly nor underflow)
        w = 1.0 / np.maximum(sigma_k[i : j + 1], 1e-150) ** 2
        w = w / np.max(w)
        a, b, res, sxx_w = _ls_fit(xs, ys, w)
        se = float(np.sqrt(np.sum(w * res**2) / max(npts - 2, 1) / sxx_w))
        keep = [np.delete(Es[i : j + 1], s, axis=1).mean(axis=1) for s in range(m)]
        if all(np.all(v > 0) for v in keep):
            bs = np.array([_ls_fit(xs, np.log(v), w)[1] for v in keep])
            se_jack = float(np.sqrt((m - 1) / m * np.sum((bs - bs.mean()) ** 2)))
            if se_jack >= se or npts < 4:
                se, dof = se_jack, m - 1
            else:
                # The levels scatter about the line more than the seeds explain (seeds that share
                # structure within a level): the residual standard error, with n - 2 dof.
                notes.append(f"residual scatter exceeds the seed spread (slope s.e. {se:.2g} > jackknife {se_jack:.2g})")
                dof = npts - 2
        else:
            notes.append("a seed's errors vanish on the run: slope error from the residuals")
            dof = npts - 2
        half = float(stats.t.ppf(lo_q, dof) * se)
    else:
        dof = npts - 2
        # Deterministic errors: the t interval measures scatter, not the drift of local orders that
        # are still settling, so the half-width also covers the larger of the distance from the fit
        # to the finest local order and half the spread of the run's local orders.
        drift = max(abs(b - local_sorted[j - 1]), 0.5 * float(np.ptp(local_sorted[i:j])))
        half = float(stats.t.ppf(lo_q, dof) * se + drift)
    # Never narrower than the round-off of the slope itself (logs carry absolute errors ~ eps
    # |log e|, which the least-squares sums pass on as ~ eps max|log e| / sqrt(Sxx)): an exact
    # power law must contain its own order.
    half = max(half, 10.0 * EPS * (1.0 + float(np.max(np.abs(ys)))) / float(np.sqrt(sxx)))
    if not stochastic and direction * b - half <= 0:
        # Deterministic errors whose interval reaches order 0 have not been shown to fall, whatever
        # the run's local orders do at its fine end: decaying (the approach to a floor) or flat (a
        # floor reached, which a noise estimate inflated by the bends would pass as settled).
        # (over the coarser levels with positive errors: an exact 0 has log e = -inf and no slope)
        coarser = [k for k in range(i + 1) if es[k] > 0]
        coarse_fell = len(coarser) >= 2 and (
            direction * _ls_fit(x[coarser], y[coarser])[1] > direction * b + settle_tol)
        regime = "stagnating" if coarse_fell else "unsettled"
        notes.append(f"the interval of the finest settled run reaches order 0 (order {b:.3f} +- {half:.3f})")
        ci = (np.nan, np.nan) if regime == "stagnating" else (b - half, b + half)
        return result(b, ci, np.exp(a), regime, idx, se, dof,
                      reason_fine=f"fine end departs from the fitted slope (regime {regime})")
    if i > 0:
        notes.append(f"{i} coarse level(s) pre-asymptotic")
    return result(b, (b - half, b + half), np.exp(a), "algebraic", idx, se, dof)


def _as_solution(q, who: str) -> np.ndarray:
    """A solution as float64, or complex128 when it is complex (a cast to float64 would drop the
    imaginary part, and with it the error of a complex solution)."""
    a = np.asarray(q)
    if a.dtype != bool and not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{who}: solutions must be real or complex numbers, got dtype {a.dtype}")
    if a.size == 0:
        raise ValueError(f"{who}: solutions must not be empty (no entries to compare)")
    return a.astype(np.complex128 if np.iscomplexobj(a) else np.float64)


def richardson_order(coarse, medium, fine, ratio: float, *, norm=None) -> float:
    """Three-level Richardson estimate p = log(||q1 - q2|| / ||q2 - q3||) / log r.

    ``coarse``, ``medium`` and ``fine`` are solutions (scalars or arrays of equal shape) computed
    with parameters h, h/r and h/r^2, real or complex. No exact solution is needed. ``norm``
    defaults to the max-norm (of the modulus, for complex solutions).
    """
    if not np.isfinite(ratio) or ratio <= 1:
        raise ValueError(f"richardson_order: refinement ratio must be > 1, got {ratio}")
    q1, q2, q3 = (_as_solution(q, "richardson_order") for q in (coarse, medium, fine))
    if not (q1.shape == q2.shape == q3.shape):
        raise ValueError(f"richardson_order: shapes differ: {q1.shape}, {q2.shape}, {q3.shape}")
    for name, q in (("coarse", q1), ("medium", q2), ("fine", q3)):
        if not np.all(np.isfinite(q)):
            raise ValueError(f"richardson_order: {name} solution is not finite")
    nrm = norm or (lambda v: float(np.max(np.abs(v), initial=0.0)))
    d12, d23 = nrm(q1 - q2), nrm(q2 - q3)
    if d12 == 0 or d23 == 0:
        raise ValueError("richardson_order: successive solutions coincide (round-off or exact): no order")
    return float(np.log(d12 / d23) / np.log(ratio))


def self_convergence_order(params, solutions, *, norm=None, **kwargs) -> OrderFit:
    """Reference-free observed order from successive differences of solutions.

    With q_k computed at parameter h_k, the differences d_k = ||q_k - q_{k+1}|| behave like
    C (1 - (h_{k+1}/h_k)^p) h_k^p, so on a geometric ladder their observed order against h_k is p.
    ``params`` must be a geometric ladder (constant ratio) ordered as the solutions are.
    Keyword arguments go to :func:`observed_order`.
    """
    h = np.asarray(params, dtype=np.float64)
    if h.ndim != 1 or h.size < 4:
        raise ValueError("self_convergence_order: need a 1-D ladder of at least 4 parameters")
    if len(solutions) != h.size:
        raise ValueError(
            f"self_convergence_order: {len(solutions)} solutions for {h.size} parameters"
        )
    ratios = h[1:] / h[:-1]
    if not np.allclose(ratios, ratios[0], rtol=1e-10, atol=0.0):
        raise ValueError("self_convergence_order: params must form a geometric ladder (constant ratio)")
    qs = [_as_solution(q, "self_convergence_order") for q in solutions]
    if any(q.shape != qs[0].shape for q in qs):
        raise ValueError(f"self_convergence_order: solutions' shapes differ: {sorted({q.shape for q in qs})}")
    bad = [k for k, q in enumerate(qs) if not np.all(np.isfinite(q))]
    if bad:
        raise ValueError(f"self_convergence_order: solution(s) {bad} are not finite")
    nrm = norm or (lambda v: float(np.max(np.abs(v), initial=0.0)))
    diffs = np.array([nrm(qs[k] - qs[k + 1]) for k in range(h.size - 1)])
    return observed_order(h[:-1], diffs, **kwargs)

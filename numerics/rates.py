"""Observed orders of convergence with confidence intervals (CONTRIBUTING.md section 3).

Convention. For parameters ``params`` (step sizes h, grid widths, 1/N, or sample sizes N) and
errors ``errors`` the model is

    e = C * param**p ,   i.e.   log e = log C + p log param,

and ``order`` is the exponent ``p`` itself: 2 for a second-order scheme studied against h, and
-1/2 for a Monte Carlo error studied against N. The fit is made on the *asymptotic range* only:

* local orders ``p_k = log(e_{k+1}/e_k) / log(h_{k+1}/h_k)`` between neighbouring levels show
  where the asymptotic regime starts (the local orders settle) and where round-off takes over
  (the local orders collapse);
* the asymptotic range is the longest run of at least ``min_points`` consecutive levels whose
  local orders agree with each other: their spread is at most ``settle_tol`` (absolute, default
  0.1, which bounds the bias of the fitted slope by about half that) plus three standard
  deviations of the difference of two noisy local orders; ties go to the run nearest the fine end;
* on that run ``log e`` is fitted by least squares and the interval is t-based with ``n - 2``
  degrees of freedom. Deterministic errors have tiny residuals, so a run whose local orders still
  drift would give an interval that is honest about noise but not about the drift; the half-width
  therefore also includes the larger of ``|p - p_finest|`` (the distance between the fit and the
  finest local order of the run, the best single estimate of the asymptotic order) and half the
  spread of the run's local orders.

Stochastic errors (a 2-D ``errors`` of shape ``(n_params, n_seeds)``) are fitted on the mean over
seeds with weights from the seed-to-seed spread (delta method: var(log mean) = var / (m mean^2)),
and the interval uses the t quantile with ``m - 1`` degrees of freedom (or ``n - 2`` when the
residuals show more scatter than the spread predicts, in which case the variance is inflated).

Regimes. ``fit.regime`` is one of

* ``"algebraic"``: a settled power law was found; ``order`` and ``ci`` are the fit;
* ``"super-algebraic"``: the local orders grow without settling (e.g. the trapezoid rule on a
  smooth periodic integrand, exponential convergence), either at every level or, for zig-zagging
  errors, in the sense that log e is three times better fitted as linear in the level count (1/h or
  N, over a range that at least doubles) than in log h: no slope is fitted; ``order`` is the
  largest local order seen (a lower bound) and ``ci = (order, inf)``;
* ``"round-off"``: no level (or fewer than ``min_points``) lies above the round-off floor, or the
  errors do not decrease at all: ``order`` is NaN and ``ci = (nan, nan)``;
* ``"unsettled"``: the local orders never agree over ``min_points`` levels; the fit over all
  levels above the floor is reported with a widened interval and the regime says not to trust it.

The round-off floor is ``floor`` if given, else ``100 * eps * scale`` (``scale = 1`` suits
relative errors). A run must contain at least ``min_points`` levels above the floor; levels below
it join a run only while their local orders stay settled, so an exact synthetic power law is
fitted wherever it goes, while a plateau (collapsing local orders) is cut off.
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
]

REGIMES = ("algebraic", "super-algebraic", "round-off", "unsettled")


@dataclass(frozen=True)
class OrderFit:
    """The result of :func:`observed_order`.

    order      -- fitted exponent p in e = C param^p (see the module docstring for regimes).
    ci         -- (low, high) confidence interval for p at ``confidence``.
    constant   -- fitted C (e = C param^p) on the used range, NaN when no slope was fitted.
    regime     -- "algebraic", "super-algebraic", "round-off" or "unsettled".
    used       -- indices (into the caller's arrays) of the points in the fit.
    excluded   -- index -> reason for every point left out.
    params, errors -- the caller's parameters and (mean) errors, as float64 arrays.
    local      -- local orders between neighbouring levels in the caller's order of increasing
                  refinement (length n - 1), for plotting and diagnosis.
    stderr     -- standard error of the slope; ``dof`` its degrees of freedom.
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
            return "round-off: errors at the floating-point floor, no slope"
        return f"unsettled: order {self.order:.3f} [{lo:.3f}, {hi:.3f}] (local orders never agree)"

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

    stochastic = E.ndim == 2
    n = h.size
    if stochastic:
        m = E.shape[1]
        e = E.mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            var_log = E.var(axis=1, ddof=1) / (m * e**2)
    else:
        m = 1
        e = E
        var_log = None

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
    vs = var_log[order_idx] if stochastic else None
    local_sorted = local_orders(hs, es)
    local_caller = local_sorted  # reported in order of refinement

    excluded: dict[int, str] = {}
    above = (es > floor_value) & (es > 0)

    def result(order, ci, const, regime, used_sorted, stderr=np.nan, dof=0):
        used_set = set(int(i) for i in used_sorted)
        for k in range(n):
            if k in used_set or int(order_idx[k]) in excluded:
                continue
            if not above[k]:
                reason = f"round-off (error {es[k]:.2e} at or below floor {floor_value:.2e})"
            elif used_set and k > max(used_set):
                reason = "past the asymptotic range (local orders collapse: round-off or noise)"
            elif used_set and k < min(used_set):
                reason = "pre-asymptotic (local orders not yet settled)"
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
            local=local_caller,
            stderr=float(stderr),
            dof=int(dof),
            confidence=float(confidence),
            notes=tuple(notes),
        )

    candidates = np.flatnonzero(above)
    if candidates.size < min_points:
        notes.append(f"only {candidates.size} level(s) above the round-off floor {floor_value:.2e}")
        return result(np.nan, (np.nan, np.nan), np.nan, "round-off", [])

    x = np.log(hs)
    y = np.full(n, -np.inf)
    y[es > 0] = np.log(es[es > 0])

    # Noise of log e: from the seed spread, or (deterministic) a robust estimate from second
    # differences of log e along levels above the floor, which vanish for an exact power law
    # on a geometric ladder (and are small otherwise): sd(second difference) = sqrt(6) sigma.
    if stochastic:
        sigma_log = np.sqrt(np.where(np.isfinite(vs), vs, 0.0))
    else:
        # Median absolute second difference over the finer half of the levels above the floor:
        # about zero (not about the median), and away from the coarse end, because curvature of
        # a pre-asymptotic range is not noise and dies out towards the fine end while noise does not.
        # Levels within three decades of the floor are left out too: round-off is not the noise
        # of the study, and there it would pass for noise and widen the settling allowance.
        clear = es > 1e3 * floor_value
        ya = y[clear] if np.count_nonzero(clear) >= 5 else y[above]
        d2 = np.diff(ya, 2)[(ya.size - 2) // 2 :] if ya.size >= 5 else np.zeros(0)
        sigma = float(1.4826 * np.median(np.abs(d2)) / np.sqrt(6.0)) if d2.size >= 2 else 0.0
        sigma_log = np.full(n, sigma)

    def local_sd(k: int) -> float:
        return float(np.sqrt(sigma_log[k] ** 2 + sigma_log[k + 1] ** 2) / abs(x[k + 1] - x[k]))

    # Super-algebraic convergence first: local orders (oriented) that grow at every level, with
    # increments that do not die out (a pre-asymptotic approach to a fixed order has increments
    # shrinking geometrically; exp(-c/h) or exp(-cN) has increments constant or growing).
    pairs = [k for k in range(n - 1) if above[k] and above[k + 1]]
    oriented = direction * local_sorted[pairs]
    if oriented.size >= 3 and np.all(np.isfinite(oriented)) and oriented[0] > 0:
        inc = np.diff(oriented)
        if (
            np.all(inc > 0)
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
        if (
            b_geo < 0
            and count.max() >= 2.0 * count.min()
            and np.sum(res_geo**2) <= np.sum(res_alg**2) / 3.0
        ):
            notes.append("log e is linear in the level count, not in log h: geometric convergence")
            top = float(direction * oriented.max())
            ci = (top, np.inf) if direction > 0 else (-np.inf, top)
            return result(top, ci, np.nan, "super-algebraic", list(candidates))

    # Candidate runs: consecutive levels, all above the floor.
    best: tuple[int, int] | None = None
    for i in range(n):
        for j in range(i + min_points - 1, n):
            if not np.all(es[i : j + 1] > 0):
                break
            if np.count_nonzero(above[i : j + 1]) < min_points:
                continue  # a run must stand on at least min_points levels above the floor
            xs, ys = x[i : j + 1], y[i : j + 1]
            w = None if not stochastic else 1.0 / np.maximum(vs[i : j + 1], 1e-300)
            _, b, _, _ = _ls_fit(xs, ys, w)
            if direction * b <= 0:
                continue  # errors do not fall towards the fine end: not a convergence range
            # Settled: the local orders of the run agree with each other (their spread) to within
            # settle_tol plus what the noise allows (3 sd of a difference of two local orders).
            run = local_sorted[i:j]
            if not np.all(np.isfinite(run)):
                continue
            allowance = settle_tol + 3.0 * np.sqrt(2.0) * max(local_sd(k) for k in range(i, j))
            if np.ptp(run) > allowance:
                continue
            length = j - i + 1
            if best is None or length > best[1] - best[0] + 1 or (
                length == best[1] - best[0] + 1 and j > best[1]
            ):
                best = (i, j)

    lo_q = 0.5 + confidence / 2.0
    if best is None:
        xa, ya = x[candidates], y[candidates]
        pa = local_sorted[[k for k in range(n - 1) if above[k] and above[k + 1]]]
        _, b_all, _, _ = _ls_fit(xa, ya)
        finite = pa[np.isfinite(pa)]
        if direction * b_all <= 0 or not np.isfinite(b_all):
            notes.append("errors do not decrease towards the fine end")
            return result(np.nan, (np.nan, np.nan), np.nan, "round-off", [])
        a, b, res, sxx = _ls_fit(xa, ya)
        dof = xa.size - 2
        s2 = np.sum(res**2) / dof if dof > 0 else np.inf
        se = np.sqrt(s2 / sxx)
        half = stats.t.ppf(lo_q, max(dof, 1)) * se + (np.ptp(finite) / 2 if finite.size else 0.0)
        notes.append("no run of settled local orders: fit over all levels above the floor")
        return result(b, (b - half, b + half), np.exp(a), "unsettled", list(candidates), se, dof)

    i, j = best
    idx = list(range(i, j + 1))
    xs, ys = x[i : j + 1], y[i : j + 1]
    npts = j - i + 1
    if stochastic:
        w = 1.0 / np.maximum(vs[i : j + 1], 1e-300)
        a, b, res, sxx = _ls_fit(xs, ys, w)
        chi2 = float(np.sum(w * res**2))
        dof_res = npts - 2
        inflation = max(1.0, chi2 / dof_res) if dof_res > 0 else 1.0
        se = np.sqrt(inflation / sxx)
        dof = (m - 1) if inflation <= 1.0 else max(dof_res, 1)
        if inflation > 1.0:
            notes.append(f"residual scatter exceeds the seed spread by a factor {inflation:.2f}: variance inflated")
    else:
        a, b, res, sxx = _ls_fit(xs, ys)
        dof = npts - 2
        s2 = float(np.sum(res**2) / dof)
        se = np.sqrt(s2 / sxx)
    # Deterministic errors: the t interval measures scatter, not the drift of local orders that
    # are still settling, so the half-width also covers the larger of the distance from the fit
    # to the finest local order and half the spread of the run's local orders.
    drift = 0.0 if stochastic else max(abs(b - local_sorted[j - 1]), 0.5 * float(np.ptp(local_sorted[i:j])))
    half = float(stats.t.ppf(lo_q, dof) * se + drift)
    # Never narrower than the round-off of the slope itself (logs carry absolute errors ~ eps
    # |log e|, which the least-squares sums pass on as ~ eps max|log e| / sqrt(Sxx)): an exact
    # power law must contain its own order.
    half = max(half, 10.0 * EPS * (1.0 + float(np.max(np.abs(ys)))) / float(np.sqrt(sxx)))
    return result(b, (b - half, b + half), np.exp(a), "algebraic", idx, se, dof)


def richardson_order(coarse, medium, fine, ratio: float, *, norm=None) -> float:
    """Three-level Richardson estimate p = log(||q1 - q2|| / ||q2 - q3||) / log r.

    ``coarse``, ``medium`` and ``fine`` are solutions (scalars or arrays of equal shape) computed
    with parameters h, h/r and h/r^2. No exact solution is needed. ``norm`` defaults to the
    max-norm.
    """
    if not np.isfinite(ratio) or ratio <= 1:
        raise ValueError(f"richardson_order: refinement ratio must be > 1, got {ratio}")
    q1, q2, q3 = (np.asarray(q, dtype=np.float64) for q in (coarse, medium, fine))
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
    if not np.allclose(ratios, ratios[0], rtol=1e-10):
        raise ValueError("self_convergence_order: params must form a geometric ladder (constant ratio)")
    qs = [np.asarray(q, dtype=np.float64) for q in solutions]
    nrm = norm or (lambda v: float(np.max(np.abs(v), initial=0.0)))
    diffs = np.array([nrm(qs[k] - qs[k + 1]) for k in range(h.size - 1)])
    return observed_order(h[:-1], diffs, **kwargs)

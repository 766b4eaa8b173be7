"""Shared judgements: how a study's numbers become a Verdict, one function per kind.

Claim modules compute their evidence and call one of these, so that every identity, rate and
bound in the library is judged by the same rule (CONTRIBUTING.md section 2):

* :func:`identity_verdict` -- every case's relative error is within its derived tolerance
  (:mod:`numerics.tolerance`); measured = the worst error/tolerance ratio.
* :func:`order_verdict` -- an observed order (:mod:`numerics.rates`) in the algebraic regime whose
  confidence interval contains the expected order (and, where it matters, excludes the next order
  down), fitted over at least ``min_decades`` decades of the parameter.
* :func:`bound_verdict` -- measured / bound <= 1 in every case; measured = the worst ratio.
* :func:`regime_verdict` -- the estimator reports a regime (super-algebraic, round-off) rather than
  a slope. An order verdict never holds in the regimes ``unsettled``, ``stagnating`` (a floor above
  round-off) or ``not converging``: there the fine end has bent away from any settled slope.
* :func:`adversarial_search` -- a seeded search for the largest measured/bound ratio over a box of
  admissible inputs (bounds are attacked, not only sampled); :func:`bound_verdict` and
  :func:`with_search` make a bound hold only if the worst ratio found stays <= 1.

Each returns a :class:`theorems.registry.Verdict` whose evidence the matching ``plot_*`` draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from numerics.plotting import convergence_figure, ratio_figure
from numerics.rates import OrderFit
from numerics.tolerance import Comparison
from theorems.figures import roundoff_floor, threshold_label
from theorems.registry import Verdict

__all__ = [
    "identity_verdict",
    "order_verdict",
    "bound_verdict",
    "regime_verdict",
    "plot_identity",
    "plot_order",
    "plot_bound",
    "fit_evidence",
    "fit_from_evidence",
    "Axis",
    "WorstCase",
    "adversarial_search",
    "with_search",
]


def identity_verdict(cases: Sequence[tuple[str, Comparison]], *, expected: str | None = None,
                     notes: str = "") -> Verdict:
    """All cases within tolerance. ``cases`` are (label, Comparison) pairs."""
    if not cases:
        raise ValueError("identity_verdict: no cases were checked")
    labels = [str(lbl) for lbl, _ in cases]
    rel = np.array([c.rel_error for _, c in cases], dtype=np.float64)
    tol = np.array([c.tol for _, c in cases], dtype=np.float64)
    ratios = rel / tol
    worst = int(np.argmax(ratios))
    holds = bool(np.all(rel <= tol))
    measured = (
        f"max error/tolerance {ratios[worst]:.3g} (rel. error {rel[worst]:.2e} at {labels[worst]}) "
        f"over {len(cases)} cases"
    )
    return Verdict(
        holds=holds,
        measured=measured,
        expected=expected or "relative error <= c * eps * size * cond in every case",
        evidence={"labels": labels, "rel_errors": rel, "tolerances": tol, "ratios": ratios,
                  "max_ratio": float(ratios[worst]), "max_rel_error": float(rel.max())},
        notes=notes,
    )


def fit_evidence(fit: OrderFit) -> dict:
    return {
        "params": fit.params,
        "errors": fit.errors,
        "used": np.asarray(fit.used, dtype=np.int64),
        "order": fit.order,
        "ci": np.asarray(fit.ci, dtype=np.float64),
        "constant": fit.constant,
        "regime": fit.regime,
        "local_orders": fit.local,
        "excluded": {str(k): v for k, v in fit.excluded.items()},
    }


def _decades(fit: OrderFit) -> float:
    if len(fit.used) < 2:
        return 0.0
    p = fit.params[list(fit.used)]
    return float(np.log10(p.max() / p.min()))


_REGIME_WHY = {
    "unsettled": ": the fine end departs from the settled slope",
    "stagnating": ": the errors level off above round-off",
    "not converging": ": the errors do not fall",
    "round-off": ": errors at the round-off floor",
    "super-algebraic": ": faster than any power, no slope",
}


def order_verdict(
    fit: OrderFit,
    expected_order: float,
    *,
    exclude: float | None = None,
    min_decades: float = 2.0,
    extra: dict | None = None,
    notes: str = "",
    xlabel: str = "h",
    ylabel: str = "error",
) -> Verdict:
    """The interval contains ``expected_order`` (and not ``exclude``) over >= ``min_decades``."""
    span = _decades(fit)
    reasons = []
    if fit.regime != "algebraic":
        reasons.append(f"regime {fit.regime}" + _REGIME_WHY.get(fit.regime, ""))
    if not (np.isfinite(fit.ci[0]) and np.isfinite(fit.ci[1])):
        reasons.append("no finite interval")
    if not fit.contains(expected_order):
        reasons.append(f"interval misses {expected_order:g}")
    if exclude is not None and fit.contains(exclude):
        reasons.append(f"interval does not exclude {exclude:g}")
    if span + 1e-9 < min_decades:
        reasons.append(f"fit spans {span:.2f} < {min_decades:g} decades")
    holds = not reasons
    measured = fit.describe() + f", {span:.1f} decades"
    if reasons:
        measured += " (" + "; ".join(reasons) + ")"
    expected = f"order {expected_order:g}" + (f", excluding {exclude:g}" if exclude is not None else "")
    evidence = fit_evidence(fit) | {"expected_order": float(expected_order), "decades": span,
                                    "xlabel": xlabel, "ylabel": ylabel}
    if extra:
        evidence |= extra
    text = "; ".join(filter(None, [notes, *fit.notes]))
    return Verdict(holds=holds, measured=measured, expected=expected, evidence=evidence, notes=text)


def regime_verdict(fit: OrderFit, regime: str, *, expected: str, extra: dict | None = None,
                   xlabel: str = "h", ylabel: str = "error") -> Verdict:
    """The estimator must report ``regime`` (e.g. super-algebraic, round-off) and not a slope.

    Only the slope-free regimes can be asked for: an ``algebraic`` order is judged by
    :func:`order_verdict`, and ``unsettled``/``stagnating``/``not converging`` are failures, never
    what a claim predicts."""
    if regime not in ("super-algebraic", "round-off"):
        raise ValueError(f"regime_verdict: regime must be 'super-algebraic' or 'round-off', got {regime!r}")
    holds = fit.regime == regime
    evidence = fit_evidence(fit) | {"expected_regime": regime, "xlabel": xlabel, "ylabel": ylabel}
    if extra:
        evidence |= extra
    return Verdict(holds=holds, measured=fit.describe(), expected=expected, evidence=evidence,
                   notes="; ".join(fit.notes))


@dataclass(frozen=True)
class Axis:
    """One coordinate of a search box: ``lo``..``hi`` on a linear or log scale, optionally integer."""

    lo: float
    hi: float
    log: bool = False
    integer: bool = False

    def __post_init__(self):
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and self.lo <= self.hi):
            raise ValueError(f"Axis: need finite lo <= hi, got {self.lo}, {self.hi}")
        if self.log and self.lo <= 0:
            raise ValueError(f"Axis: a log axis needs lo > 0, got {self.lo}")

    def value(self, u: float):
        u = float(np.clip(u, 0.0, 1.0))
        v = float(np.exp(np.log(self.lo) + u * (np.log(self.hi) - np.log(self.lo)))) if self.log \
            else self.lo + u * (self.hi - self.lo)
        return int(round(v)) if self.integer else v


@dataclass(frozen=True)
class WorstCase:
    """The largest measured/bound ratio an adversarial search found, and where.

    ``starts`` is the number of seeded starts (:func:`adversarial_search`); an exhaustive search
    (every state enumerated, no random start) is recorded with ``starts=0`` and ``evaluations`` the
    number of states it visited. A record that combines an exhaustive search with a seeded one
    carries ``where["exhaustive"]`` (1 when the worst case came from the exhaustive part, else 0),
    ``evaluations`` the total of both and ``starts`` the seeded search's."""

    ratio: float
    where: dict
    evaluations: int
    starts: int

    @property
    def ok(self) -> bool:
        return bool(self.ratio <= 1.0)

    def describe(self) -> str:
        at = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.where.items())
        if self.starts == 0:
            how = f"{self.evaluations} states, exhaustive search"
        elif "exhaustive" in self.where:
            part = "exhaustive" if self.where["exhaustive"] else "seeded"
            how = (f"{self.evaluations} evaluations: an exhaustive search and {self.starts} seeded starts; "
                   f"worst case from the {part} search")
        else:
            how = f"{self.evaluations} evaluations from {self.starts} seeded starts"
        return f"adversarial worst measured/bound {self.ratio:.4g} at ({at}) [{how}]"


def adversarial_search(ratio_of, space: dict[str, Axis], *, seed: int, starts: int = 4,
                       evaluations: int = 40) -> WorstCase:
    """Maximise ``ratio_of(**point)`` (measured/bound) over the box ``space``.

    Paper-agnostic: ``starts`` seeded uniform starts in the unit cube, each followed by a bounded
    Nelder-Mead ascent of at most ``evaluations`` function evaluations (scipy.optimize), then an
    edge polish (each axis moved to either end of its range from the best point, kept when the
    ratio grows: bounds are often attained at an extreme of a parameter); the best point over
    every evaluation is returned. Integer axes are rounded (the objective is then
    piecewise constant along them; the random starts cover them). A NaN or infinite ratio, or a
    ValueError / ArithmeticError / LinAlgError raised by the evaluation, counts as +inf (a failed
    evaluation is a violation, not a skip: the box must hold admissible inputs only). Deterministic for a given seed."""
    from scipy.optimize import minimize

    if not space:
        raise ValueError("adversarial_search: empty search space")
    if starts < 1 or evaluations < 1:
        raise ValueError("adversarial_search: starts and evaluations must be >= 1")
    names = list(space)
    g = np.random.default_rng(seed)
    best = {"ratio": -np.inf, "where": {}}
    count = 0

    def point(u):
        return {k: space[k].value(x) for k, x in zip(names, u, strict=True)}

    def objective(u):
        nonlocal count
        count += 1
        p = point(u)
        try:
            with np.errstate(all="ignore"):
                r = float(ratio_of(**p))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            r = np.inf  # e.g. a construction refusing a non-finite state: a violation, never a skip
        if not np.isfinite(r):
            r = np.inf
        if r > best["ratio"]:
            best["ratio"], best["where"] = r, p
        return -r if np.isfinite(r) else -1e300

    for _ in range(starts):
        u0 = g.uniform(size=len(names))
        f0 = objective(u0)
        if len(names) and evaluations > 1 and np.isfinite(f0):
            minimize(objective, u0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(names),
                     options={"maxfev": evaluations - 1, "initial_simplex": _simplex(u0)})
    if np.isfinite(best["ratio"]):
        u_best = np.array([_unit_of(space[k], best["where"][k]) for k in names])
        for i in range(len(names)):
            for end in (0.0, 1.0):
                trial = u_best.copy()
                trial[i] = end
                before = best["ratio"]
                objective(trial)
                if best["ratio"] > before:
                    u_best = trial
    return WorstCase(float(best["ratio"]), dict(best["where"]), count, starts)


def _unit_of(axis: Axis, v) -> float:
    if axis.hi == axis.lo:
        return 0.0
    if axis.log:
        return float((np.log(v) - np.log(axis.lo)) / (np.log(axis.hi) - np.log(axis.lo)))
    return float((v - axis.lo) / (axis.hi - axis.lo))


def _simplex(u0: np.ndarray) -> np.ndarray:
    """A start simplex of edge 0.25 in the unit cube (steps that leave the cube go the other way)."""
    k = u0.size
    pts = [u0.copy()]
    for i in range(k):
        p = u0.copy()
        p[i] = p[i] + 0.25 if p[i] + 0.25 <= 1.0 else p[i] - 0.25
        pts.append(p)
    return np.array(pts)


def _search_evidence(search: WorstCase) -> dict:
    return {"search_worst_ratio": search.ratio, "search_where": {k: float(v) for k, v in search.where.items()},
            "search_evaluations": search.evaluations, "search_starts": search.starts}


def with_search(verdict: Verdict, search: WorstCase, *, sweep_worst: float | None = None,
                judged: bool = True, why_not_judged: str = "") -> Verdict:
    """``verdict`` holds only if the adversarial worst ratio is <= 1 as well; the worst case found is
    reported next to the sweep's (``sweep_worst``, default ``evidence['max_ratio']``).

    ``judged=False`` reports the worst case without judging it, for a claim whose statement is an
    average over a distribution (the search attacks a stricter, pointwise version); the reason
    (``why_not_judged``) is then required and recorded in the notes."""
    sweep = verdict.evidence.get("max_ratio") if sweep_worst is None else sweep_worst
    text = search.describe() + (f" vs sweep worst {sweep:.4g}" if sweep is not None else "")
    if not judged:
        if not why_not_judged:
            raise ValueError("with_search: an unjudged search needs why_not_judged")
        return Verdict(holds=verdict.holds, measured=f"{verdict.measured}; reported, not judged: {text}",
                       expected=verdict.expected, evidence=dict(verdict.evidence) | _search_evidence(search)
                       | {"search_judged": False},
                       notes="; ".join(filter(None, [verdict.notes, f"adversarial search not judged: {why_not_judged}"])))
    return Verdict(holds=bool(verdict.holds and search.ok), measured=f"{verdict.measured}; {text}",
                   expected=verdict.expected + "; adversarial worst ratio <= 1",
                   evidence=dict(verdict.evidence) | _search_evidence(search) | {"search_judged": True},
                   notes=verdict.notes)


def bound_verdict(labels: Sequence[str], measured: Sequence[float], bounds: Sequence[float], *,
                  expected: str, notes: str = "", extra: dict | None = None,
                  search: WorstCase | None = None) -> Verdict:
    """measured <= bound in every case (and, with ``search``, at the adversarial worst case found);
    reports the worst ratio of the sweep and of the search."""
    m = np.asarray(measured, dtype=np.float64)
    b = np.asarray(bounds, dtype=np.float64)
    if m.shape != b.shape or m.ndim != 1 or m.size == 0:
        raise ValueError("bound_verdict: measured and bounds must be equal-length non-empty 1-D")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(b))):
        raise ValueError("bound_verdict: measured values and bounds must be finite")
    ratios = m / b
    worst = int(np.argmax(ratios))
    evidence = {"labels": [str(x) for x in labels], "measured": m, "bounds": b, "ratios": ratios,
                "max_ratio": float(ratios[worst])}
    if extra:
        evidence |= extra
    verdict = Verdict(
        holds=bool(np.all(m <= b)),
        measured=f"worst measured/bound {ratios[worst]:.3g} at {labels[worst]} over {m.size} cases",
        expected=expected,
        evidence=evidence,
        notes=notes,
    )
    return verdict if search is None else with_search(verdict, search)


def plot_identity(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["ratios"], ylabel="relative error / tolerance",
                        title=verdict.measured, threshold_label=threshold_label("identity"))


def plot_bound(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["ratios"], ylabel="measured / bound", title=verdict.measured,
                        threshold_label=threshold_label("bound"))


@dataclass(frozen=True)
class EvidenceFit:
    """The parts of an OrderFit a figure needs, rebuilt from a verdict's evidence."""

    used: tuple[int, ...]
    order: float
    ci: tuple[float, float]
    regime: str
    constant: float

    def fitted(self, x):
        return self.constant * np.asarray(x, dtype=float) ** self.order


def fit_from_evidence(ev) -> EvidenceFit:
    """Rebuild the fit stored by :func:`fit_evidence` (so a figure never refits)."""
    return EvidenceFit(
        used=tuple(int(i) for i in ev["used"]),
        order=float(ev["order"]),
        ci=(float(ev["ci"][0]), float(ev["ci"][1])),
        regime=str(ev["regime"]),
        constant=float(ev["constant"]),
    )


def plot_order(verdict: Verdict, *, series: dict | None = None, expected_order: float | None = None,
               xlabel: str | None = None, ylabel: str | None = None):
    """Convergence figure of an order verdict: measured points, the fit, the expected slope.

    ``series`` adds labelled curves (default: ``evidence["series"]`` when present, as
    name -> (params, values)); the other keywords override what the evidence says.
    """
    ev = verdict.evidence
    if series is None:
        series = {k: (np.asarray(v[0]), np.asarray(v[1])) for k, v in ev.get("series", {}).items()}
    return convergence_figure(
        ev["params"], ev["errors"], fit=fit_from_evidence(ev),
        expected_order=expected_order if expected_order is not None else ev.get("expected_order"),
        xlabel=xlabel or ev.get("xlabel", "h"), ylabel=ylabel or ev.get("ylabel", "error"),
        title=verdict.measured, series=series or None,
        excluded=ev.get("excluded") or None, floor=roundoff_floor(ev),
        claimed_order=ev.get("claimed_order"),
    )


def combine(verdicts: list[tuple[str, Verdict]], checks: list[tuple[str, bool, str]] = (), *,
            expected: str, primary: int = 0, extra: dict | None = None, notes: str = "") -> Verdict:
    """All sub-verdicts hold and all (name, ok, message) checks pass; evidence of the primary
    verdict at top level (for its plot), the others under their names."""
    holds = all(v.holds for _, v in verdicts) and all(ok for _, ok, _ in checks)
    parts = [f"{name}: {v.measured}" for name, v in verdicts] + [
        f"{name}: {msg}" + ("" if ok else " (FAILS)") for name, ok, msg in checks]
    evidence = dict(verdicts[primary][1].evidence)
    for name, v in verdicts:
        evidence[f"sub:{name}"] = dict(v.evidence)
    if extra:
        evidence |= extra
    text = "; ".join(filter(None, [notes] + [v.notes for _, v in verdicts]))
    return Verdict(holds=holds, measured=" | ".join(parts), expected=expected, evidence=evidence, notes=text)

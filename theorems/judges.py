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

Each returns a :class:`theorems.registry.Verdict` whose evidence the matching ``plot_*`` draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from numerics.plotting import convergence_figure, ratio_figure
from numerics.rates import OrderFit
from numerics.tolerance import Comparison
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


def bound_verdict(labels: Sequence[str], measured: Sequence[float], bounds: Sequence[float], *,
                  expected: str, notes: str = "", extra: dict | None = None) -> Verdict:
    """measured <= bound in every case; reports the worst ratio."""
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
    return Verdict(
        holds=bool(np.all(m <= b)),
        measured=f"worst measured/bound {ratios[worst]:.3g} at {labels[worst]} over {m.size} cases",
        expected=expected,
        evidence=evidence,
        notes=notes,
    )


def plot_identity(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["ratios"], ylabel="relative error / tolerance",
                        title=verdict.measured[:160])


def plot_bound(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["ratios"], ylabel="measured / bound", title=verdict.measured[:160])


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
        title=verdict.measured[:160], series=series or None,
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

"""Figures for studies (CONTRIBUTING.md section 6): one call per study, reproducible bytes.

* :func:`convergence_figure` -- log-log error against parameter: measured points, the points used by
  the fit highlighted, the fitted line, and a reference slope triangle labelled with the
  theoretical order; semilog (log error against a linear parameter) for super-algebraic and
  geometric convergence; points excluded from the fit crossed out, with the round-off floor drawn
  when that was the reason; seed spread as error bars when errors are levels x seeds.
* :func:`ratio_figure` -- achieved error / tolerance (or error / bound) per case, on a log axis with
  the line at 1: the figure of an identity or a bound. Beyond 20 cases the ratios are drawn sorted
  (the worst cases named) instead of 6-pt rotated labels.
* :func:`mark_exact_zeros` -- exact zeros (which a log axis cannot show) drawn at the axis floor
  and labelled "exact 0"; every helper here calls it.
* :func:`short_title` -- a title shortened at a word boundary and wrapped, never cut mid-word.
* :func:`save_figure` -- PDF and PNG with the Agg backend and no creation date, so the same seed
  gives byte-identical files.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["convergence_figure", "draw_ratios", "ratio_figure", "series_figure", "save_figure", "slope_triangle",
           "mark_exact_zeros", "short_title", "regime_style"]

matplotlib.rcParams.update(
    {
        "pdf.fonttype": 42,
        "svg.hashsalt": "theorycheck",
        "path.simplify": False,
        "figure.dpi": 100,
    }
)


def short_title(title: str, width: int = 64, limit: int = 240) -> str:
    """``title`` shortened at a word boundary to ``limit`` characters ("..." marks the cut) and
    wrapped at ``width``: never cut mid-word (the full text is in the appendix's index.md)."""
    t = " ".join(str(title).split())
    if len(t) > limit:
        cut = t[: limit - 3]
        cut = cut[: cut.rfind(" ")] if " " in cut else cut
        t = cut.rstrip(" ,;:|") + " ..."
    return "\n".join(textwrap.wrap(t, width, break_long_words=False, break_on_hyphens=False)) or t


_wrap = short_title


# Regime -> how a convergence figure is drawn. Unknown regimes (the estimator may grow new ones)
# get the default: log-log, no fitted line, the regime named in the legend.
_REGIME_STYLES = {
    "algebraic": {"scale": "loglog", "fit_line": True},
    "unsettled": {"scale": "loglog", "fit_line": True},
    "super-algebraic": {"scale": "semilogy", "fit_line": False},
    "geometric": {"scale": "semilogy", "fit_line": False},
    "round-off": {"scale": "loglog", "fit_line": False},
}
_DEFAULT_STYLE = {"scale": "loglog", "fit_line": False}


def regime_style(regime: str | None) -> dict:
    """Drawing style of a regime (``scale``: loglog/semilogy, ``fit_line``); any string accepted."""
    return dict(_REGIME_STYLES.get(str(regime), _DEFAULT_STYLE))


def mark_exact_zeros(ax) -> int:
    """Draw every exact zero of the lines on a log-y axis at the axis floor (marker v, labelled
    "exact 0") instead of leaving it out silently; returns how many were drawn. Idempotent."""
    if ax.get_yscale() != "log" or getattr(ax, "_theorycheck_zeros", False):
        return 0
    zeros = []
    for line in list(ax.get_lines()):
        if line.get_gid() in ("exact-zero", "threshold"):
            continue
        x = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        if x.shape != y.shape or x.size == 0:
            continue
        z = (y == 0) & np.isfinite(x)
        if z.any():
            zeros.append((x[z], line.get_color()))
    ax._theorycheck_zeros = True
    if not zeros:
        return 0
    positive = []
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        positive.append(y[np.isfinite(y) & (y > 0)])
    pos = np.concatenate(positive) if positive else np.array([])
    floor = 10.0 ** (np.floor(np.log10(pos.min())) - 1) if pos.size else 1e-3
    count = 0
    for k, (x, color) in enumerate(zeros):
        ax.plot(x, np.full(x.shape, floor), "v", color=color, ms=6, gid="exact-zero",
                label="exact 0 (at axis floor)" if k == 0 else None)
        count += x.size
    ax.axhline(floor, color="0.6", lw=0.6, ls=":", gid="exact-zero")
    top = max(float(pos.max()) * 3 if pos.size else floor * 1e3, floor * 10)
    ax.set_ylim(floor / 3, max(ax.get_ylim()[1], top) if pos.size else top)
    ax.text(0.01, floor, " exact 0", transform=ax.get_yaxis_transform(), fontsize=7, color="0.3",
            va="bottom", ha="left", gid="exact-zero")
    if ax.get_legend() is not None:
        ax.legend(fontsize=7)
    return count


def new_figure(width: float = 5.0, height: float = 3.6) -> tuple[Figure, plt.Axes]:
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    return fig, ax


def slope_triangle(ax, params: np.ndarray, errors: np.ndarray, order: float, *, label: str | None = None) -> None:
    """Draw a reference triangle of slope ``order`` below the data, near its fine end."""
    h = np.asarray(params, dtype=float)
    e = np.asarray(errors, dtype=float)
    good = (h > 0) & (e > 0) & np.isfinite(e)
    if good.sum() < 2 or not np.isfinite(order):
        return
    h, e = h[good], e[good]
    lo, hi = np.log10(h.min()), np.log10(h.max())
    span = hi - lo
    x0, x1 = 10 ** (lo + 0.55 * span), 10 ** (lo + 0.8 * span)
    # anchor the triangle half a decade below the data at x0
    e_at = np.exp(np.interp(np.log(x0), np.log(h[np.argsort(h)]), np.log(e[np.argsort(h)])))
    y0 = e_at / 3.0
    y1 = y0 * (x1 / x0) ** order
    # (x0, y0) -> (x1, y1) has slope ``order`` for either sign (y1 < y0 when order < 0)
    ax.plot([x0, x1, x1, x0], [y0, y0, y1, y0], color="0.4", lw=0.8)
    ax.plot([x0, x1], [y0, y1], color="0.4", lw=0.8)
    text = label if label is not None else f"slope {order:g}"
    ax.text(x1 * 1.05, np.sqrt(y0 * y1), text, fontsize=8, color="0.25", va="center")


def convergence_figure(
    params: Sequence[float],
    errors: Sequence[float],
    *,
    fit=None,
    expected_order: float | None = None,
    xlabel: str = "h",
    ylabel: str = "error",
    title: str = "",
    series: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    excluded: dict | None = None,
    floor: float | None = None,
    claimed_order: float | None = None,
    claimed_label: str | None = None,
    yerr: Sequence[float] | None = None,
    yerr_label: str = "+- 1 standard error",
) -> Figure:
    """Convergence plot of one study: log-log for algebraic rates, semilog (log error against the
    parameter) when ``fit.regime`` is super-algebraic or geometric.

    ``fit`` is an :class:`numerics.rates.OrderFit` (or anything with ``used``, ``order``, ``ci``,
    ``regime``, ``fitted``); its used points are filled, the others hollow, and its fitted line is
    drawn over the used range when the regime has a slope. ``excluded`` (index -> reason) crosses
    out the points left out of the fit; ``floor`` draws the round-off floor. ``errors`` of shape
    (levels, seeds) are drawn as means with standard-error bars (or pass ``yerr``, one standard
    error per level, for a statistic such as an RMSE). ``series`` adds further labelled
    curves; ``claimed_order`` draws a paper's claimed slope (a finding) beside the measured one.
    """
    h = np.asarray(params, dtype=float)
    e_raw = np.asarray(errors, dtype=float)
    if h.ndim != 1:
        raise ValueError(f"convergence_figure: params must be 1-D, got shape {h.shape}")
    if e_raw.ndim not in (1, 2) or e_raw.shape[0] != h.shape[0]:
        raise ValueError("convergence_figure: errors must be 1-D (or levels x seeds) with one row per "
                         f"param, got params {h.shape} and errors {e_raw.shape}")
    if h.size == 0:
        raise ValueError("convergence_figure: no levels to draw")
    for name, (hx, ex) in (series or {}).items():
        if np.shape(hx) != np.shape(ex):
            raise ValueError(f"convergence_figure: series {name!r} has x of shape {np.shape(hx)} and y of "
                             f"shape {np.shape(ex)}")
    regime = getattr(fit, "regime", None) if fit is not None else None
    style = regime_style(regime) if fit is not None else regime_style("algebraic")
    semilog = style["scale"] == "semilogy"
    fig, ax = new_figure()
    ax.set_yscale("log")
    if not semilog:
        ax.set_xscale("log")
    else:
        # geometric convergence is linear in the number of nodes/terms: when the error falls as
        # the parameter falls (a step h), draw against 1/h
        e_mean = e_raw.mean(axis=1) if e_raw.ndim == 2 else e_raw
        ok = (e_mean > 0) & np.isfinite(e_mean) & (h > 0)
        if ok.sum() >= 2 and np.corrcoef(np.log(h[ok]), np.log(e_mean[ok]))[0, 1] > 0:
            h = 1.0 / h
            base = xlabel.split("=")[0].strip() or "h"
            if base.startswith("1/"):
                xlabel = base[2:].strip()  # the parameter was 1/N: draw against N
            else:
                xlabel = f"1/{base}" if len(base) <= 2 else f"1/({base})"
    if e_raw.ndim == 2:
        e = e_raw.mean(axis=1)
        m = e_raw.shape[1]
        se = e_raw.std(axis=1, ddof=1) / np.sqrt(m) if m > 1 else np.zeros_like(e)
        lower = np.minimum(se, e * 0.999)  # a log axis cannot go below zero
        ax.errorbar(h, e, yerr=[lower, se], fmt="none", ecolor="C0", elinewidth=0.8, capsize=2,
                    label=f"mean +- s.e. over {m} seeds")
    else:
        e = e_raw
    if yerr is not None:
        se = np.asarray(yerr, dtype=float)
        if se.shape != e.shape:
            raise ValueError(f"convergence_figure: yerr has shape {se.shape}, errors {e.shape}")
        ax.errorbar(h, e, yerr=[np.minimum(se, e * 0.999), se], fmt="none", ecolor="C0", elinewidth=0.8,
                    capsize=2, label=yerr_label)
    ax.plot(h, e, "o", mfc="none", color="C0", label="measured")
    has_fit = fit is not None and len(getattr(fit, "used", ())) > 0
    if has_fit:
        used = np.array(fit.used)
        settled = style["fit_line"] and np.isfinite(getattr(fit, "order", np.nan))
        ax.plot(h[used], e[used], "o", color="C0", label="used in fit" if settled else f"regime: {regime}")
        if settled:
            hh = np.geomspace(h[used].min(), h[used].max(), 50)
            lo, hi = fit.ci
            ax.plot(hh, fit.fitted(hh), "-", color="C1", label=f"fit: order {fit.order:.3f} [{lo:.3f}, {hi:.3f}]")
        elif semilog:
            good = used[(e[used] > 0) & np.isfinite(e[used])]
            if good.size >= 2:
                b, a = np.polyfit(h[good], np.log(e[good]), 1)
                hh = np.linspace(h[good].min(), h[good].max(), 50)
                ax.plot(hh, np.exp(a + b * hh), "-", color="C1",
                        label=f"log-linear fit: error ~ exp({b:.3g} * {xlabel})")
    elif fit is not None:
        ax.plot([], [], " ", label=f"regime: {regime}")
    if excluded:
        idx = np.array(sorted(int(k) for k in excluded), dtype=int)
        idx = idx[(idx >= 0) & (idx < h.size)]
        if idx.size:
            reasons = {str(v).split(" (")[0] for k, v in excluded.items() if 0 <= int(k) < h.size}
            ax.plot(h[idx], e[idx], "x", color="C3", ms=7, label="excluded: " + ", ".join(sorted(reasons))[:60])
    if floor is not None and np.isfinite(floor) and floor > 0:
        ax.axhline(floor, color="C3", lw=0.8, ls=":", label=f"round-off floor {floor:.1e}")
    for k, (name, (hx, ex)) in enumerate((series or {}).items()):
        ax.plot(np.asarray(hx, dtype=float), np.asarray(ex, dtype=float), "--", color=f"C{k + 2}", label=name)
    pos = (e > 0) & np.isfinite(e)
    if expected_order is not None and not semilog:
        slope_triangle(ax, h[pos], e[pos], expected_order, label=f"order {expected_order:g}")
    if claimed_order is not None and pos.sum() >= 2 and not semilog:
        i0 = int(np.argmax(np.where(pos, h, -np.inf)))
        hh = np.geomspace(h[pos].min(), h[pos].max(), 50)
        ax.plot(hh, e[i0] * (hh / h[i0]) ** claimed_order, ":", color="C6", lw=1.5,
                label=claimed_label or f"paper's claim: order {claimed_order:g}")
    ax.set_xlabel(xlabel + (" (linear axis: geometric convergence)" if semilog else ""))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(short_title(title), fontsize=8)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    ax.legend(fontsize=7)
    mark_exact_zeros(ax)
    return fig


SORT_ABOVE = 20  # beyond this many cases, ratios are drawn sorted instead of one tick per case


def draw_ratios(ax, ratios: Sequence[float], *, ylabel: str, xlabel: str = "case", title: str = "",
                threshold: float = 1.0, threshold_label: str | None = None, markersize: float = 6.0,
                labels: Sequence[str] | None = None, sort: bool | None = None) -> None:
    """Ratios per case on a log axis of ``ax`` with the acceptance line (``threshold_label``
    says what it is: "bound", "tolerance (equality up to rounding)"); exact zeros are drawn at the
    axis floor. With more than :data:`SORT_ABOVE` cases (or ``sort=True``) the ratios are drawn
    in decreasing order and the worst three are named (when ``labels`` are given)."""
    with warnings.catch_warnings():
        # all-zero ratios (an exact identity): matplotlib warns before mark_exact_zeros draws them
        warnings.filterwarnings("ignore", message="Data has no positive values")
        _draw_ratios(ax, ratios, ylabel=ylabel, xlabel=xlabel, title=title, threshold=threshold,
                     threshold_label=threshold_label, markersize=markersize, labels=labels, sort=sort)


def _draw_ratios(ax, ratios, *, ylabel, xlabel, title, threshold, threshold_label, markersize, labels, sort):
    r = np.asarray(ratios, dtype=float)
    if r.ndim != 1:
        raise ValueError(f"draw_ratios: ratios must be 1-D, got shape {r.shape}")
    if labels is not None and len(labels) != r.size:
        raise ValueError(f"draw_ratios: {len(labels)} labels for {r.size} ratios")
    sort = r.size > SORT_ABOVE if sort is None else sort
    ax.set_yscale("log")
    if sort:
        order = np.argsort(-np.where(np.isfinite(r), r, np.inf), kind="stable")
        rs = r[order]
        ax.plot(np.arange(1, r.size + 1), rs, "o", color="C0", ms=min(markersize, 4.0),
                label=f"{r.size} cases, sorted")
        if labels is not None:
            for rank, i in enumerate(order[:3]):
                if rs[rank] > 0 and np.isfinite(rs[rank]):
                    ax.annotate(str(labels[i])[:40], (rank + 1, rs[rank]), fontsize=6,
                                xytext=(6, -3 - 7 * rank), textcoords="offset points", color="0.25")
        xlabel = f"{xlabel or 'case'} rank (sorted by ratio, worst first)"
    else:
        ax.plot(np.arange(len(r)), r, "o", color="C0", ms=markersize)
    if not np.any(np.isfinite(r) & (r > 0)):
        ax.set_ylim(threshold * 1e-2, threshold * 10)  # nothing positive to autoscale a log axis on
    ax.axhline(threshold, color="C3", lw=1.0, ls="--", gid="threshold",
               label=threshold_label if threshold_label is not None else f"acceptance line {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(short_title(title, width=_title_width(ax)), fontsize=8)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    ax.legend(fontsize=7)
    mark_exact_zeros(ax)


def _title_width(ax) -> int:
    """Characters of an 8-pt title that fit over ``ax``: about 15 per inch of the width the
    title may use (its axes plus the margins, so the whole figure for a single panel)."""
    fig = ax.get_figure()
    if fig is None:
        return 80
    return max(30, int(13 * fig.get_figwidth() * min(1.0, ax.get_position().width + 0.2)))


def ratio_figure(labels: Sequence[str], ratios: Sequence[float], *, ylabel: str = "error / tolerance",
                 title: str = "", threshold: float = 1.0, threshold_label: str | None = None) -> Figure:
    """Achieved ratios per case on a log axis, with the acceptance line at ``threshold`` (one
    labelled tick per case up to :data:`SORT_ABOVE` cases, sorted ratios beyond)."""
    r = np.asarray(ratios, dtype=float)
    if len(labels) != r.size:
        raise ValueError(f"ratio_figure: {len(labels)} labels for {r.size} ratios")
    sort = r.size > SORT_ABOVE
    fig, ax = new_figure(width=5.0 if sort else max(5.0, 0.35 * len(r) + 2.0))
    draw_ratios(ax, r, ylabel=ylabel, xlabel="", title=title, threshold=threshold,
                threshold_label=threshold_label, labels=[str(s) for s in labels], sort=sort)
    if not sort:
        ax.set_xticks(np.arange(len(r)))
        ax.set_xticklabels([str(s) for s in labels], rotation=45 if len(r) > 6 else 0,
                           fontsize=7, ha="right" if len(r) > 6 else "center")
    return fig


def series_figure(x: Sequence[float], ys: dict[str, Sequence[float]], *, xlabel: str, ylabel: str,
                  title: str = "", logx: bool = False, logy: bool = False,
                  yerr: dict[str, Sequence[float]] | None = None) -> Figure:
    """Several labelled curves on shared axes (training losses, risks against closed forms...);
    ``yerr`` gives one standard error per point for the named (Monte Carlo) curves."""
    xs = np.asarray(x, dtype=float)
    for name, y in ys.items():
        if np.shape(y) != xs.shape:
            raise ValueError(f"series_figure: curve {name!r} has shape {np.shape(y)}, x has {xs.shape}")
    for name, se in (yerr or {}).items():
        if name not in ys or np.shape(se) != xs.shape:
            raise ValueError(f"series_figure: yerr {name!r} must name a curve and match x's shape {xs.shape}")
    fig, ax = new_figure()
    for k, (name, y) in enumerate(ys.items()):
        yv = np.asarray(y, dtype=float)
        if yerr and name in yerr:
            se = np.asarray(yerr[name], dtype=float)
            lower = np.minimum(se, 0.999 * np.abs(yv)) if logy else se
            ax.errorbar(xs, yv, yerr=[lower, se], fmt="-" if k == 0 else "--", color=f"C{k}", capsize=2,
                        elinewidth=0.8, label=f"{name} (+- 1 s.e.)")
            continue
        ax.plot(xs, yv, "-" if k == 0 else "--", color=f"C{k}", label=name)
    if logx:
        ax.set_xscale("log")
        if xs.size and np.all(xs > 0) and np.log10(xs.max() / xs.min()) < 2.5:
            # under ~2 decades matplotlib labels every minor tick and the labels collide: label
            # the data's own x values instead (few points) or the decades only
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            if np.unique(xs).size <= 12:
                ax.set_xticks(np.unique(xs))
                ax.set_xticklabels([f"{v:g}" for v in np.unique(xs)])
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(short_title(title), fontsize=8)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    ax.legend(fontsize=7)
    mark_exact_zeros(ax)
    return fig


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png`` reproducibly; returns the two paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    # Append (not with_suffix): claim ids contain a dot ("davis1984.trapezoid_order2").
    pdf, png = Path(f"{stem}.pdf"), Path(f"{stem}.png")
    fig.savefig(pdf, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                             "Creator": None})
    fig.savefig(png, format="png", metadata={"Software": None}, dpi=120)
    return [pdf, png]

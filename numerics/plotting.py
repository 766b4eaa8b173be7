"""Figures for studies (CONTRIBUTING.md section 6): one call per study, reproducible bytes.

* :func:`convergence_figure` -- log-log error against parameter: measured points, the points used by
  the fit highlighted, the fitted line, and a reference slope triangle labelled with the
  theoretical order.
* :func:`ratio_figure` -- achieved error / tolerance (or error / bound) per case, on a log axis with
  the line at 1: the figure of an identity or a bound.
* :func:`save_figure` -- PDF and PNG with the Agg backend and no creation date, so the same seed
  gives byte-identical files.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["convergence_figure", "draw_ratios", "ratio_figure", "series_figure", "save_figure", "slope_triangle"]

matplotlib.rcParams.update(
    {
        "pdf.fonttype": 42,
        "svg.hashsalt": "theorycheck",
        "path.simplify": False,
        "figure.dpi": 100,
    }
)


def _wrap(title: str, width: int = 80) -> str:
    """Long measured-value titles wrap instead of running off the figure."""
    return "\n".join(textwrap.wrap(title, width)) or title


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
) -> Figure:
    """Log-log convergence plot of one study.

    ``fit`` is an :class:`numerics.rates.OrderFit`; its used points are filled, the others hollow,
    and its fitted line is drawn over the used range. ``series`` adds further labelled curves
    (e.g. a predicted constant times h^p, or a second scheme).
    """
    h = np.asarray(params, dtype=float)
    e = np.asarray(errors, dtype=float)
    if e.ndim == 2:
        e = e.mean(axis=1)
    fig, ax = new_figure()
    pos = e > 0
    ax.loglog(h[pos], e[pos], "o", mfc="none", color="C0", label="measured")
    if fit is not None and len(fit.used):
        used = np.array(fit.used)
        ax.loglog(h[used], e[used], "o", color="C0", label="used in fit")
        if fit.regime in ("algebraic", "unsettled") and np.isfinite(fit.order):
            hh = np.geomspace(h[used].min(), h[used].max(), 50)
            lo, hi = fit.ci
            ax.loglog(hh, fit.fitted(hh), "-", color="C1",
                      label=f"fit: order {fit.order:.3f} [{lo:.3f}, {hi:.3f}]")
    for k, (name, (hx, ex)) in enumerate((series or {}).items()):
        ax.loglog(np.asarray(hx), np.asarray(ex), "--", color=f"C{k + 2}", label=name)
    if expected_order is not None:
        slope_triangle(ax, h[pos], e[pos], expected_order, label=f"order {expected_order:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(_wrap(title), fontsize=8)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    ax.legend(fontsize=7)
    return fig


def draw_ratios(ax, ratios: Sequence[float], *, ylabel: str, xlabel: str = "case", title: str = "",
                threshold: float = 1.0, threshold_label: str | None = None, markersize: float = 6.0) -> None:
    """Ratios per case on a log axis of ``ax`` with the acceptance threshold as a dashed line
    (non-positive ratios, e.g. an exact zero error, are left out of the log axis)."""
    r = np.asarray(ratios, dtype=float)
    ax.semilogy(np.arange(len(r)), np.where(r > 0, r, np.nan), "o", color="C0", ms=markersize)
    ax.axhline(threshold, color="C3", lw=1.0, ls="--",
               label=threshold_label if threshold_label is not None else f"threshold {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(_wrap(title), fontsize=8)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    ax.legend(fontsize=7)


def ratio_figure(labels: Sequence[str], ratios: Sequence[float], *, ylabel: str = "error / tolerance",
                 title: str = "", threshold: float = 1.0) -> Figure:
    """Achieved ratios per case on a log axis, with the acceptance threshold drawn at 1."""
    r = np.asarray(ratios, dtype=float)
    fig, ax = new_figure(width=max(4.0, 0.35 * len(r) + 2.0))
    draw_ratios(ax, r, ylabel=ylabel, xlabel="", title=title, threshold=threshold)
    ax.set_xticks(np.arange(len(r)))
    ax.set_xticklabels([str(s) for s in labels], rotation=60, fontsize=6, ha="right")
    return fig


def series_figure(x: Sequence[float], ys: dict[str, Sequence[float]], *, xlabel: str, ylabel: str,
                  title: str = "", logx: bool = False, logy: bool = False) -> Figure:
    """Several labelled curves on shared axes (training losses, risks against closed forms...)."""
    fig, ax = new_figure()
    for k, (name, y) in enumerate(ys.items()):
        ax.plot(np.asarray(x), np.asarray(y), "-" if k == 0 else "--", color=f"C{k}", label=name)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(_wrap(title), fontsize=8)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    ax.legend(fontsize=7)
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

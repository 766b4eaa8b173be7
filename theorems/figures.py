"""Finishing touches that make every claim's figure read right, whatever its plot function drew.

:func:`finish_figure` runs on each figure the appendix saves (after the claim's own ``plot``):

* a title that is a prefix of the verdict's ``measured`` text cut mid-word (``measured[:90]``)
  is replaced by :func:`numerics.plotting.short_title` of the full text (cut at a word boundary,
  wrapped; the full text is in index.md);
* exact zeros on log axes are drawn at the axis floor and labelled "exact 0"
  (:func:`numerics.plotting.mark_exact_zeros`) instead of vanishing;
* a legend entry "threshold ..." / "acceptance line ..." says what the line is: "tolerance:
  equality up to rounding" when the axis is error / tolerance, "bound" when it is measured /
  bound, else a neutral "reference line".

:func:`roundoff_floor` reads the round-off floor that numerics.rates quotes when it excludes a
point, so convergence figures can draw it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from numerics.plotting import mark_exact_zeros, short_title

__all__ = ["finish_figure", "roundoff_floor", "threshold_label"]

_FLOOR = re.compile(r"floor\s+([0-9.]+e[+-]?[0-9]+)")

_LINE_LABEL = {
    "identity": "tolerance: equality up to rounding (ratio 1)",
    "bound": "bound (ratio 1)",
    "complexity": "bound (ratio 1)",
    "rate": "bound (ratio 1)",
    "distribution": "acceptance threshold",
    "finding": "reference line (ratio 1)",
}


def threshold_label(kind: str) -> str:
    """What the line at ratio 1 means for a claim of this kind (unknown kinds: a neutral name)."""
    return _LINE_LABEL.get(str(kind), "acceptance line (ratio 1)")


def roundoff_floor(evidence: Mapping[str, Any]) -> float | None:
    """The round-off floor behind the fit's exclusions (``evidence["floor"]`` when the study
    stored it, else the floor quoted in an exclusion reason); None when no point hit it."""
    ev = dict(evidence)
    floor = ev.get("floor")
    if isinstance(floor, int | float) and floor > 0:
        return float(floor)
    for reason in dict(ev.get("excluded") or {}).values():
        text = str(reason)
        m = _FLOOR.search(text)
        if m and "round-off" in text:
            return float(m.group(1))
    return None


def _line_label(ylabel: str, kind: str) -> str:
    """What the line at ratio 1 is, judged from what the axis shows (the kind alone can mislead:
    a bound claim may plot a margin over float64 eps)."""
    y = ylabel.lower()
    if "tolerance" in y:
        return threshold_label("identity")
    if "bound" in y or "formula" in y or "closed form" in y:
        return threshold_label("bound") if "bound" in y else "equality with the closed form (ratio 1)"
    return "reference line (ratio 1)"


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def _fix_title(get, set_, measured: str, width: int = 80) -> None:
    title = _norm(get())
    full = _norm(measured)
    if title and len(title) < len(full) and full.startswith(title.rstrip(".")):
        set_(short_title(full, width=width))


def finish_figure(fig, verdict, *, kind: str = ""):
    """Apply the fixes above to ``fig`` in place and return it (None passes through)."""
    if fig is None:
        return fig
    measured = getattr(verdict, "measured", "") or ""
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        _fix_title(suptitle.get_text, suptitle.set_text, measured, width=int(13 * fig.get_figwidth()))
    for ax in fig.axes:
        # about 13 characters of an 8-pt title per inch of the axes' width
        width = max(30, int(13 * fig.get_figwidth() * min(1.0, ax.get_position().width + 0.2)))
        for loc in ("center", "left", "right"):
            _fix_title(lambda ax=ax, loc=loc: ax.get_title(loc=loc),
                       lambda t, ax=ax, loc=loc: ax.set_title(t, loc=loc, fontsize=8), measured, width)
        mark_exact_zeros(ax)
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                t = text.get_text()
                if t.startswith("threshold") or t.startswith("acceptance line"):
                    text.set_text(_line_label(ax.get_ylabel(), kind))
    return fig

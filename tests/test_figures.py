"""Figures that read right (numerics.plotting, theorems.figures): titles cut at word boundaries,
exact zeros drawn at the axis floor, many-case ratios sorted, semilog for super-algebraic rates,
excluded points and the round-off floor, error bars, legend names, lengths checked; and the
truthful-message checks of issue 16 (counts, local orders, the README's numbers)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from numerics.plotting import (
    convergence_figure,
    mark_exact_zeros,
    new_figure,
    ratio_figure,
    regime_style,
    series_figure,
    short_title,
)
from numerics.rates import local_orders
from theorems.figures import finish_figure, roundoff_floor, threshold_label
from theorems.registry import Verdict, all_claims

ROOT = Path(__file__).resolve().parent.parent


def _fit(regime="algebraic", used=(0, 1, 2, 3), order=2.0):
    return SimpleNamespace(used=used, order=order, ci=(1.9, 2.1), regime=regime, constant=1.0,
                           fitted=lambda x: np.asarray(x, dtype=float) ** order)


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_short_title_never_cuts_a_word():
    text = "order 2.003 [1.997, 2.009] on 9 levels, 2.4 decades | constants: measured 0.0833 vs predicted " * 4
    title = short_title(text, width=80, limit=160)
    flat = title.replace("\n", " ")
    assert len(flat) <= 160 and flat.endswith("...")
    words = set(text.split())
    assert all(w in words for w in flat[:-4].split()), flat


def test_finish_figure_repairs_a_title_cut_mid_word():
    measured = "worst measured/bound 0.313 at d=2,n=3 over 120 cases; corner inputs have errors up to 0.494"
    fig, ax = new_figure()
    ax.set_title(measured[:40])  # "... at d=2,n" cut mid-token
    finish_figure(fig, Verdict(holds=True, measured=measured, expected="e"), kind="bound")
    assert ax.get_title().replace("\n", " ") == measured


def test_exact_zeros_are_drawn_at_the_floor():
    fig = ratio_figure(["a", "b", "c"], [0.0, 0.0, 0.0], ylabel="error / tolerance",
                       threshold_label=threshold_label("identity"))
    ax = fig.axes[0]
    zeros = [ln for ln in ax.get_lines() if ln.get_gid() == "exact-zero" and ln.get_marker() == "v"]
    assert zeros and len(zeros[0].get_xdata()) == 3
    assert ax.get_ylim()[0] < 1.0 and any("exact 0" in t for t in _legend(ax))
    assert "equality" in threshold_label("identity") and "bound" in threshold_label("bound")
    assert any("equality" in t for t in _legend(ax))
    assert mark_exact_zeros(ax) == 0  # idempotent


def test_many_case_ratios_are_sorted_with_the_line():
    r = np.geomspace(1e-3, 0.5, 48)[::-1].copy()
    np.random.default_rng(0).shuffle(r)
    fig = ratio_figure([f"case {i}" for i in range(48)], r, threshold_label="bound (ratio 1)")
    ax = fig.axes[0]
    pts = next(ln for ln in ax.get_lines() if ln.get_marker() == "o")
    assert np.all(np.diff(pts.get_ydata()) <= 0)  # worst first
    assert len(ax.get_xticklabels()) < 20 and "sorted" in ax.get_xlabel()
    assert "bound (ratio 1)" in _legend(ax)
    with pytest.raises(ValueError, match="labels"):
        ratio_figure(["a"], [1.0, 2.0])


def test_convergence_figure_styles_by_regime_and_checks_lengths():
    n = np.arange(2.0, 14.0)
    e = np.exp(-2.7 * n)
    fig = convergence_figure(1.0 / n, e, fit=_fit("super-algebraic", used=tuple(range(12)), order=np.nan),
                             xlabel="h = 1/n")
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "log" and ax.get_xlabel().startswith("1/h")
    assert not any(t == "used in fit" for t in _legend(ax))
    # an unknown regime (the estimator may grow new ones) is drawn with the default style
    assert regime_style("stagnating") == regime_style("no such regime")
    convergence_figure(1.0 / n, e, fit=_fit("stagnating"))
    with pytest.raises(ValueError, match="equal|one row"):
        convergence_figure([1.0, 0.5], [1.0, 0.5, 0.25])
    with pytest.raises(ValueError, match="series"):
        convergence_figure([1.0, 0.5], [1.0, 0.25], series={"bad": ([1.0], [1.0, 2.0])})
    with pytest.raises(ValueError, match="curve"):
        series_figure([1.0, 2.0], {"y": [1.0]}, xlabel="x", ylabel="y")


def test_round_off_floor_excluded_points_and_error_bars():
    h = 2.0 ** -np.arange(1, 9)
    e = np.maximum(h**2, 1e-14)
    excluded = {6: "round-off (error 1.00e-14 at or below floor 2.22e-14)",
                7: "round-off (error 1.00e-14 at or below floor 2.22e-14)"}
    assert roundoff_floor({"excluded": excluded}) == pytest.approx(2.22e-14)
    fig = convergence_figure(h, e, fit=_fit(used=(0, 1, 2, 3, 4, 5)), expected_order=2, excluded=excluded,
                             floor=roundoff_floor({"excluded": excluded}))
    labels = _legend(fig.axes[0])
    assert any(t.startswith("round-off floor") for t in labels) and any(t.startswith("excluded") for t in labels)
    stochastic = np.outer(h, np.ones(5)) * (1 + 0.1 * np.random.default_rng(1).standard_normal((8, 5)))
    fig = convergence_figure(h, stochastic, expected_order=1)
    assert any("s.e. over 5 seeds" in t for t in _legend(fig.axes[0]))
    fig = series_figure([1.0, 2.0, 3.0], {"mc": [1.0, 0.5, 0.3]}, xlabel="N", ylabel="r", logy=True,
                        yerr={"mc": [0.1, 0.05, 0.03]})
    assert any("s.e." in t for t in _legend(fig.axes[0]))


def test_a_findings_figure_shows_the_papers_claim():
    h = 2.0 ** -np.arange(1, 9)
    fig = convergence_figure(h, h, fit=_fit(order=1.0, used=tuple(range(8))), expected_order=1,
                             claimed_order=2.0)
    assert "paper's claim: order 2" in _legend(fig.axes[0])


def test_local_orders_reject_nan_and_bad_shapes():
    h = np.array([0.5, 0.25, 0.125])
    with pytest.raises(ValueError, match="NaN"):
        local_orders(h, [1.0, np.nan, 0.1])
    with pytest.raises(ValueError, match="equal length"):
        local_orders(h, [1.0, 0.5])
    with pytest.raises(ValueError, match="positive"):
        local_orders([0.5, 0.0, 0.1], [1.0, 0.5, 0.1])


@pytest.mark.parametrize("bad", [(0, 1, 2), (1, -1, 2), (1, 1, 0), (1.5, 1, 2), (1, "2", 2), (True, 1, 2)])
def test_universal_counts_reject_bad_sizes(bad):
    from constructions.universal.universal import embedding_width, parameter_count

    with pytest.raises(ValueError, match="[dnN] must"):
        parameter_count(*bad)
    with pytest.raises(ValueError, match="[dnN] must"):
        embedding_width(*bad)


def test_public_counts_reject_bad_sizes():
    from constructions.sequence.combiner import logit_counts
    from constructions.sequence.delta_rule import chunkwise_flops, recurrent_flops

    for call in (lambda: recurrent_flops(-1, 2, 2), lambda: chunkwise_flops(8, 0, 2, 2),
                 lambda: recurrent_flops(2.5, 2, 2), lambda: logit_counts(-4, 2), lambda: logit_counts(4, 1.5)):
        with pytest.raises((ValueError, TypeError)):
            call()


_PERCENT = re.compile(r"within\s+([0-9.]+)\s*%")
_THRESHOLD = re.compile(r"(?:≥|>=|≤|<=)\s*([0-9]+(?:\.[0-9]+)?(?:/[0-9]+)?)(?![0-9.])")


def test_readme_numbers_match_the_registered_expectations():
    """Every 'within X%' and '>= x' a README family section states must be what one of that
    section's claims expects (its `expected` text), so a stale README number fails here."""
    readme = (ROOT / "README.md").read_text()
    families = readme.split("## The claim families", 1)[1].split("## Adding a claim", 1)[0]
    claims = all_claims()
    problems = []
    for section in families.split("\n### ")[1:]:
        title = section.splitlines()[0]
        keys = set(re.findall(r"[a-z]+[0-9]{4}", title))
        keys |= set(re.findall(r"`([a-z]+[0-9]{4})\.[a-z0-9_]+`", section))  # claims named in the text
        for sentence in re.split(r"(?<=[.;])\s+(?=[A-Z`*(])", section):
            # a sentence that names claims is checked against those claims, others against the section's
            named = set(re.findall(r"`([a-z]+[0-9]{4}\.[a-z0-9_]+)`", sentence))
            texts = [f"{c.expected} {c.statement}" for c in claims
                     if (c.id in named if named else c.paper in keys)]
            expected = " ".join(texts).replace("≥", ">=").replace("≤", "<=")
            for m in _PERCENT.finditer(sentence):
                if not re.search(rf"(within|<=)\s+{re.escape(m.group(1))}\s*%", expected):
                    problems.append(f"{title}: README says 'within {m.group(1)}%', not what "
                                    f"{sorted(named) or sorted(keys)} expect")
            for m in _THRESHOLD.finditer(sentence):
                if not re.search(rf"(>=|<=)\s*{re.escape(m.group(1))}", expected):
                    problems.append(f"{title}: README states the threshold {m.group(0)!r}, not what "
                                    f"{sorted(named) or sorted(keys)} expect")
    assert not problems, "\n".join(problems)

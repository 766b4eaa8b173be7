"""Wei et al., "Crystal Transformer: Self-learning neural language model for Generative and Tinkering
Design of Materials" (arXiv 2204.11953): the validity filters that score generated compositions,
charge neutrality and balanced electronegativity (as in SMACT's smact_filter).

Claims checked (constructions.building_blocks.chemistry, tables from SMACT cited there):

* ``wei2022.charge_neutrality`` -- charge_neutral agrees with an exhaustive search (itertools.product
  over every element's table states, written here independently of the construction's
  reachable-sum search) on every binary composition A_a B_b (a, b = 1..4) and every ternary
  A_a B_b C_c (a, b, c = 1..3) of a fixed element set (fast: 10 elements, 3960 compositions; full:
  16 elements, 17040), and every returned assignment is neutral and drawn from the table; Fe2O3, NaCl
  and SrTiO3 pass, NaCl2 fails. Control: per-atom oxidation states (mixed valence allowed, e.g.
  Fe3O4 = Fe(II)Fe(III)2O4), the nearest other convention, which the same agreement check rejects.
* ``wei2022.electronegativity_balance`` -- the rule Wei et al. pair with it (Pauling's, SMACT's
  pauling_test): a composition is electronegativity-balanced when some charge-neutral assignment
  has every cation strictly less electronegative than every anion. electronegativity_balanced
  agrees with the exhaustive search plus that rule on the same compositions; NaCl, Fe2O3, SrTiO3
  balanced. Control: the non-strict inequality (<=), which admits ties such as CSe2 (C 2.55, Se 2.55).

Not checkable: the 89.7% / 84.8% validity rates of the trained model's samples (empirical).
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from constructions.building_blocks.chemistry import (
    OXIDATION_STATES,
    PAULING_ELECTRONEGATIVITY,
    charge_neutral,
    electronegativity_balanced,
    parse_formula,
)
from numerics.plotting import new_figure
from theorems.registry import Claim, Verdict, register

_FAST_ELEMENTS = ("Na", "Mg", "Fe", "Ti", "Sr", "C", "Se", "O", "Cl", "N")
_FULL_ELEMENTS = _FAST_ELEMENTS + ("H", "Cu", "S", "F", "Sn", "Bi")


def exhaustive_neutral(counts: dict[str, int]) -> list[dict[str, int]]:
    """Every one-state-per-element assignment from the table with sum n_e s_e = 0 (itertools.product)."""
    els = list(counts)
    return [dict(zip(els, combo, strict=True)) for combo in itertools.product(*(OXIDATION_STATES[e] for e in els))
            if sum(counts[e] * s for e, s in zip(els, combo, strict=True)) == 0]


def mixed_valence_neutral(counts: dict[str, int]) -> bool:
    """Control: each atom may take its own table state (sum over atoms = 0)."""
    reach = {0}
    for e, n in counts.items():
        for _ in range(n):
            reach = {r + s for r in reach for s in OXIDATION_STATES[e]}
    return 0 in reach


def compositions(elements) -> list[dict[str, int]]:
    out = []
    for a, b in itertools.combinations(elements, 2):
        out += [{a: i, b: j} for i in range(1, 5) for j in range(1, 5)]
    for a, b, c in itertools.combinations(elements, 3):
        out += [{a: i, b: j, c: k} for i in range(1, 4) for j in range(1, 4) for k in range(1, 4)]
    return out


def _formula(counts: dict[str, int]) -> str:
    return "".join(f"{e}{n if n > 1 else ''}" for e, n in counts.items())


def _balanced_by_rule(assignments, strict: bool = True) -> bool:
    for a in assignments:
        if any(e not in PAULING_ELECTRONEGATIVITY for e in a):
            continue
        cat = max(PAULING_ELECTRONEGATIVITY[e] for e, s in a.items() if s > 0)
        an = min(PAULING_ELECTRONEGATIVITY[e] for e, s in a.items() if s < 0)
        if (cat < an) if strict else (cat <= an):
            return True
    return False


def _verdict(mismatches: list[str], total: int, counts: dict, named: list[tuple[str, bool, bool]],
             expected: str) -> Verdict:
    named_bad = [f for f, want, got in named if want != got]
    holds = not mismatches and not named_bad
    measured = (f"{len(mismatches)} disagreements over {total} compositions"
                + (f" (e.g. {', '.join(mismatches[:4])})" if mismatches else "")
                + "; " + ", ".join(f"{f}: {'pass' if got else 'fail'}" for f, _, got in named)
                + "; " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return Verdict(holds, measured, expected,
                   evidence={"disagreements": len(mismatches), "compositions": total, "examples": mismatches[:20],
                             "counts": dict(counts), "named": [(f, w, g) for f, w, g in named]})


def study_charge_neutrality(profile: str, seed: int, mixed_valence: bool = False) -> Verdict:
    del seed  # exhaustive, deterministic
    comps = compositions(_FAST_ELEMENTS if profile == "fast" else _FULL_ELEMENTS)
    mismatches, neutral = [], 0
    for c in comps:
        if mixed_valence:
            got, assignment = mixed_valence_neutral(c), None
        else:
            got, assignment = charge_neutral(c)
        ref = exhaustive_neutral(c)
        ok = got == bool(ref)
        if ok and assignment is not None:  # the certificate itself: neutral and from the table
            ok = (sum(c[e] * s for e, s in assignment.items()) == 0
                  and all(s in OXIDATION_STATES[e] for e, s in assignment.items()) and set(assignment) == set(c))
        if not ok:
            mismatches.append(_formula(c))
        neutral += bool(ref)
    def fn(f: str) -> bool:
        return mixed_valence_neutral(parse_formula(f)) if mixed_valence else charge_neutral(f)[0]

    named = [(f, want, fn(f)) for f, want in (("Fe2O3", True), ("NaCl", True), ("SrTiO3", True), ("NaCl2", False))]
    return _verdict(mismatches, len(comps), {"neutral (exhaustive)": neutral}, named,
                    "no disagreement with the exhaustive search; Fe2O3, NaCl, SrTiO3 pass, NaCl2 fails")


def study_electronegativity(profile: str, seed: int, strict: bool = True) -> Verdict:
    del seed
    comps = compositions(_FAST_ELEMENTS if profile == "fast" else _FULL_ELEMENTS)
    mismatches, balanced, neutral_only = [], 0, 0
    for c in comps:
        ref_assign = exhaustive_neutral(c)
        ref = _balanced_by_rule(ref_assign)
        got = _balanced_by_rule(ref_assign, strict=False) if not strict else electronegativity_balanced(c)[0]
        if got != ref:
            mismatches.append(_formula(c))
        balanced += ref
        neutral_only += bool(ref_assign) and not ref
    named = [(f, True, electronegativity_balanced(f)[0] if strict else True) for f in ("NaCl", "Fe2O3", "SrTiO3")]
    return _verdict(mismatches, len(comps), {"balanced": balanced, "neutral but not balanced": neutral_only}, named,
                    "no disagreement with exhaustive search + Pauling rule (strict)")


def plot_agreement(verdict: Verdict):
    ev = verdict.evidence
    fig, ax = new_figure()
    names = list(ev["counts"]) + ["disagreements"]
    vals = list(ev["counts"].values()) + [ev["disagreements"]]
    ax.bar(np.arange(len(vals)), vals, color=["C0"] * (len(vals) - 1) + ["C3"])
    ax.set_xticks(np.arange(len(vals)))
    ax.set_xticklabels(names, fontsize=7)
    ax.set_ylabel(f"compositions (of {ev['compositions']})")
    ax.set_title(verdict.measured[:150], fontsize=7)
    return fig


register(Claim(
    id="wei2022.charge_neutrality",
    paper="wei2022",
    where="Abstract (\"chemically valid materials compositions with as high as 89.7% charge neutrality\"); SMACT-style one-state-per-element filter as we recall the method, section not verified",
    statement="A composition is charge neutral when some assignment of common oxidation states (one per element) "
              "makes its total charge zero; Fe2O3, NaCl, SrTiO3 are, NaCl2 is not.",
    kind="identity",
    expected="charge_neutral = exhaustive search on every binary (counts <= 4) and ternary (counts <= 3) composition "
             "of the element set",
    study=study_charge_neutrality,
    plot=plot_agreement,
    controls={"per-atom oxidation states (mixed valence)": partial(study_charge_neutrality, mixed_valence=True)},
))

register(Claim(
    id="wei2022.electronegativity_balance",
    paper="wei2022",
    where="Abstract (\"84.8% balanced electronegativity\"); Pauling-rule test as in SMACT, as we recall the method, section not verified",
    statement="A charge-neutral composition is electronegativity-balanced when in some neutral assignment every "
              "cation is less electronegative (Pauling) than every anion.",
    kind="identity",
    expected="electronegativity_balanced = exhaustive search + strict Pauling rule on every enumerated composition",
    study=study_electronegativity,
    plot=plot_agreement,
    controls={"non-strict inequality (ties allowed)": partial(study_electronegativity, strict=False)},
))

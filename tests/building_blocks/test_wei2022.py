"""wei2022: charge_neutral against an exhaustive oxidation-state search written here (independent of
the construction and of the claim module's), formula parsing, input errors, the table's citation."""

import itertools

import pytest

from constructions.building_blocks import _tables
from constructions.building_blocks.chemistry import (
    OXIDATION_STATES,
    PAULING_ELECTRONEGATIVITY,
    charge_neutral,
    electronegativity_balanced,
    parse_formula,
)
from theorems.registry import get

_ELEMENTS = ("Li", "K", "Ca", "Al", "Cr", "Cu", "Zn", "P", "S", "F", "Br", "Sn")


def _search(counts):
    """Depth-first over elements; returns all neutral one-state-per-element assignments."""
    items = list(counts.items())
    found = []

    def go(i, total, chosen):
        if i == len(items):
            if total == 0:
                found.append(dict(chosen))
            return
        el, n = items[i]
        for s in OXIDATION_STATES[el]:
            chosen.append((el, s))
            go(i + 1, total + n * s, chosen)
            chosen.pop()

    go(0, 0, [])
    return found


def _pauling(assignments):
    return any(
        all(e in PAULING_ELECTRONEGATIVITY for e in a)
        and max(PAULING_ELECTRONEGATIVITY[e] for e, s in a.items() if s > 0)
        < min(PAULING_ELECTRONEGATIVITY[e] for e, s in a.items() if s < 0)
        for a in assignments
    )


def test_every_binary_and_ternary_composition_agrees():
    total = 0
    for r, bound in ((2, 4), (3, 2)):
        for els in itertools.combinations(_ELEMENTS, r):
            for ns in itertools.product(range(1, bound + 1), repeat=r):
                counts = dict(zip(els, ns, strict=True))
                ref = _search(counts)
                ok, assignment = charge_neutral(counts)
                assert ok == bool(ref), counts
                if ok:
                    assert assignment in ref
                assert electronegativity_balanced(counts)[0] == _pauling(ref), counts
                total += 1
    assert total == 66 * 16 + 220 * 8


@pytest.mark.parametrize("formula,neutral", [("Fe2O3", True), ("NaCl", True), ("SrTiO3", True), ("NaCl2", False),
                                             ("Fe3O4", False), ("Ca(OH)2", True), ("Fe", False), ("He2O", False),
                                             ("Mg3(PO4)2", True)])
def test_named_formulas(formula, neutral):
    assert charge_neutral(formula)[0] is neutral


def test_electronegativity_examples():
    ok, a = electronegativity_balanced("NaCl")
    assert ok and a == {"Na": 1, "Cl": -1}
    assert charge_neutral("CSe2")[0] and not electronegativity_balanced("CSe2")[0]  # a tie 2.55 = 2.55
    assert not electronegativity_balanced("KrF2")[0]  # Kr has no tabulated electronegativity


def test_parse_formula():
    assert parse_formula("Ca(OH)2") == {"Ca": 1, "O": 2, "H": 2}
    assert parse_formula("CH3COOH") == {"C": 2, "H": 4, "O": 2}
    assert parse_formula({"Fe": 2, "O": 3}) == {"Fe": 2, "O": 3}


@pytest.mark.parametrize("bad,err", [("Xx2", ValueError), ("Fe2.5O3", ValueError), ("Fe(O", ValueError),
                                     ("FeO)", ValueError), ("", ValueError), ("2Fe", ValueError),
                                     ({"Fe": 0}, ValueError), ({"Fe": 1.5}, TypeError), (42, TypeError),
                                     ("Fe0", ValueError)])
def test_bad_formula(bad, err):
    with pytest.raises(err):
        charge_neutral(bad)


def test_table_is_cited_and_complete():
    doc = _tables.__doc__
    assert "oxidation_states_icsd.txt" in doc and "3d9e5947e74c6025308b6a4b405f0fbae5759159" in doc
    assert len(OXIDATION_STATES) == 99 - 3 and all(0 not in v for v in OXIDATION_STATES.values())
    assert OXIDATION_STATES["Fe"] == (1, 2, 3, 4, 5, 6) and PAULING_ELECTRONEGATIVITY["Zr"] == 1.33


def test_claim_figures():
    for cid in ("wei2022.charge_neutrality", "wei2022.electronegativity_balance"):
        claim = get(cid)
        v = claim.check("fast", 0)
        assert v.holds, v.measured
        assert claim.plot(v).axes

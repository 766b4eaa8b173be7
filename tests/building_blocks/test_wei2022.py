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


# --- issue 11 section 6: parsing branches, the order and limit of the assignments, anchored errors -----

def test_parse_formula_order_nesting_and_mapping_counts():
    import numpy as np

    assert list(parse_formula("OFe2O")) == ["O", "Fe"] and parse_formula("OFe2O") == {"O": 2, "Fe": 2}
    assert parse_formula("K4(Fe(CN)6)") == {"K": 4, "Fe": 1, "C": 6, "N": 6}
    assert parse_formula("Al2(SO4)3") == {"Al": 2, "S": 3, "O": 12}
    assert parse_formula("C12H22O11") == {"C": 12, "H": 22, "O": 11}
    assert parse_formula(" Na Cl ") == {"Na": 1, "Cl": 1}
    m = parse_formula({"Fe": np.int64(2), "O": 1})
    assert m == {"Fe": 2, "O": 1} and type(m["Fe"]) is int


@pytest.mark.parametrize("bad,err,match", [
    ({1: 2}, TypeError, r"^formula: element keys must be str, got int"),
    ({"Fe": True}, TypeError, r"^formula: count of 'Fe' must be an int, got bool"),
    ({"Fe": 1.0}, TypeError, r"^formula: count of 'Fe' must be an int, got float"),
    ({"Fe": 0}, ValueError, r"^formula: count of 'Fe' must be >= 1, got 0"),
    ({"Xx": 1}, ValueError, r"^formula: unknown element 'Xx'"),
    ({}, ValueError, r"^formula is empty"),
    ("", ValueError, r"^formula is empty"),
    ("()", ValueError, r"^formula is empty"),
    (3.0, TypeError, r"^formula must be a str or a mapping element -> count, got float"),
    ("Fe2.5O3", ValueError, r"^formula 'Fe2.5O3': unexpected character '\.'"),
    ("2Fe", ValueError, r"^formula '2Fe': a count 2 must follow an element or '\)'"),
    ("Fe0", ValueError, r"^formula 'Fe0': counts must be >= 1, got 0"),
    ("Fe(2O)", ValueError, r"^formula 'Fe\(2O\)': a count cannot follow '\('"),
    ("FeO)", ValueError, r"^formula 'FeO\)': unbalanced '\)'"),
    ("Fe(O", ValueError, r"^formula 'Fe\(O': unbalanced '\('"),
])
def test_parse_formula_errors_are_anchored(bad, err, match):
    with pytest.raises(err, match=match):
        parse_formula(bad)


def test_neutral_assignments_order_limit_and_results():
    from constructions.building_blocks.chemistry import neutral_assignments

    for f in ("NaCl", "Fe2O3", "CuSO4", "Mg3(PO4)2", "He2O", "Fe"):
        counts = parse_formula(f)
        everything = neutral_assignments(f)
        assert everything == _search(counts), f  # every assignment, in the table's lexicographic order
        for lim in (1, 2, 5):
            assert neutral_assignments(f, limit=lim) == everything[:lim]
        assert neutral_assignments(f, limit=0) == []
        ok, first = charge_neutral(f)
        assert (ok, first) == ((True, everything[0]) if everything else (False, None))
    assert len(neutral_assignments("CuSO4")) > 5
    assert neutral_assignments("NaCl") == [{"Na": -1, "Cl": 1}, {"Na": 1, "Cl": -1}]
    with pytest.raises(ValueError, match=r"^limit must be a non-negative int"):
        neutral_assignments("NaCl", limit=-1)
    with pytest.raises(TypeError, match=r"^limit must be an int"):
        neutral_assignments("NaCl", limit=1.0)


def test_electronegativity_returns_the_first_balanced_assignment():
    from constructions.building_blocks.chemistry import neutral_assignments

    for f in ("NaCl", "CuSO4", "Fe2O3", "SrTiO3", "CSe2", "KrF2", "NaCl2"):
        ok, a = electronegativity_balanced(f)
        want = [b for b in neutral_assignments(f) if _pauling([b])]
        assert (ok, a) == ((True, want[0]) if want else (False, None)), f
    assert electronegativity_balanced("Na2O") == (True, {"Na": 1, "O": -2})

"""Charge-neutrality and electronegativity-balance filters for compositions (wei2022).

Wei et al., "Crystal Transformer" (arXiv 2204.11953), score generated compositions by two validity
checks: *charge neutrality* (some assignment of oxidation states makes the formula neutral) and
*balanced electronegativity* (in such an assignment every cation is less electronegative than every
anion, Pauling's rule as implemented by SMACT's ``pauling_test``). Both are computed here from the
tables of ``constructions.building_blocks._tables`` (SMACT's ICSD oxidation states; Pauling
electronegativities, CRC 92nd ed.), whose sources are cited there.

Conventions (SMACT's): one oxidation state per element in a formula (so mixed valence such as
Fe3O4 = Fe(II)Fe(III)2O4 is *not* found: 3 x = 8 has no integer solution); no state is zero, so an
elemental formula ("Fe") is never charge neutral; an element whose table entry is empty (He, Ne, Ar)
makes every formula containing it non-neutral.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from constructions.building_blocks._tables import OXIDATION_STATES, PAULING_ELECTRONEGATIVITY
from numerics.validation import check_int

__all__ = [
    "OXIDATION_STATES",
    "PAULING_ELECTRONEGATIVITY",
    "parse_formula",
    "charge_neutral",
    "neutral_assignments",
    "electronegativity_balanced",
]

_TOKEN = re.compile(r"([A-Z][a-z]?)|(\()|(\))|(\d+)|(\S)")


def parse_formula(formula) -> dict[str, int]:
    """Element -> integer count, in order of first appearance.

    Accepts a string ("Fe2O3", "SrTiO3", "Ca(OH)2": parentheses with integer multipliers, repeated
    elements summed) or a mapping element -> positive int. Raises ValueError for an unknown element,
    a non-integer or non-positive count, unbalanced parentheses, or an empty formula; TypeError for
    anything else.
    """
    if isinstance(formula, Mapping):
        counts: dict[str, int] = {}
        for el, n in formula.items():
            if not isinstance(el, str):
                raise TypeError(f"formula: element keys must be str, got {type(el).__name__}")
            if isinstance(n, bool) or not isinstance(n, int) and not hasattr(n, "__index__"):
                raise TypeError(f"formula: count of {el!r} must be an int, got {type(n).__name__}")
            n = int(n)
            if n < 1:
                raise ValueError(f"formula: count of {el!r} must be >= 1, got {n}")
            counts[el] = counts.get(el, 0) + n
    elif isinstance(formula, str):
        counts = _parse_string(formula)
    else:
        raise TypeError(f"formula must be a str or a mapping element -> count, got {type(formula).__name__}")
    if not counts:
        raise ValueError("formula is empty")
    for el in counts:
        if el not in OXIDATION_STATES:
            raise ValueError(f"formula: unknown element {el!r} (the table covers H to Es)")
    return counts


def _parse_string(text: str) -> dict[str, int]:
    stack: list[dict[str, int]] = [{}]
    tokens = list(_TOKEN.finditer(text.strip()))
    i = 0
    while i < len(tokens):
        el, lpar, rpar, num, bad = tokens[i].groups()
        if bad is not None:
            raise ValueError(f"formula {text!r}: unexpected character {bad!r} (integer counts only)")
        if num is not None:
            raise ValueError(f"formula {text!r}: a count {num} must follow an element or ')'")
        mult = 1
        if i + 1 < len(tokens) and tokens[i + 1].group(4) is not None:
            mult = int(tokens[i + 1].group(4))
            if mult < 1:
                raise ValueError(f"formula {text!r}: counts must be >= 1, got {mult}")
            i += 1
        if el is not None:
            stack[-1][el] = stack[-1].get(el, 0) + mult
        elif lpar is not None:
            if mult != 1:
                raise ValueError(f"formula {text!r}: a count cannot follow '('")
            stack.append({})
        else:  # ')'
            if len(stack) == 1:
                raise ValueError(f"formula {text!r}: unbalanced ')'")
            group = stack.pop()
            for e, n in group.items():
                stack[-1][e] = stack[-1].get(e, 0) + n * mult
        i += 1
    if len(stack) != 1:
        raise ValueError(f"formula {text!r}: unbalanced '('")
    return stack[0]


def _suffix_reachable(counts: list[int], states: list[tuple[int, ...]]) -> list[set[int]]:
    """reach[i] = every sum over elements i.. of n_e s_e (reach[len] = {0})."""
    reach = [set() for _ in range(len(counts) + 1)]
    reach[-1] = {0}
    for i in range(len(counts) - 1, -1, -1):
        reach[i] = {n * s + r for s in states[i] for r in reach[i + 1] for n in (counts[i],)}
    return reach


def neutral_assignments(formula, *, limit: int | None = None) -> list[dict[str, int]]:
    """Every assignment element -> oxidation state (one per element, from the table) with
    sum_e n_e s_e = 0, in lexicographic order of the table's state order; at most ``limit``
    (None: all of them; an int >= 0)."""
    counts = parse_formula(formula)
    if limit is not None:
        limit = check_int("limit", limit, 0)
        if limit == 0:
            return []
    els = list(counts)
    ns = [counts[e] for e in els]
    states = [OXIDATION_STATES[e] for e in els]
    reach = _suffix_reachable(ns, states)
    out: list[dict[str, int]] = []

    def walk(i: int, need: int, chosen: list[int]) -> bool:
        if i == len(els):
            out.append(dict(zip(els, chosen, strict=True)))
            return limit is not None and len(out) >= limit
        for s in states[i]:
            if need - ns[i] * s in reach[i + 1] and walk(i + 1, need - ns[i] * s, chosen + [s]):
                return True
        return False

    if 0 in reach[0]:
        walk(0, 0, [])
    return out


def charge_neutral(formula) -> tuple[bool, dict[str, int] | None]:
    """(True, assignment) when some choice of one table oxidation state per element makes
    sum_e n_e s_e = 0 (the first such assignment in the table's order), else (False, None)."""
    found = neutral_assignments(formula, limit=1)
    return (True, found[0]) if found else (False, None)


def electronegativity_balanced(formula) -> tuple[bool, dict[str, int] | None]:
    """(True, assignment) when some charge-neutral assignment also has every cation (state > 0)
    strictly less electronegative (Pauling) than every anion (state < 0): SMACT's pauling_test
    combined with charge neutrality, as Wei et al. use it. An element without a tabulated
    electronegativity (He, Ne, Ar, Kr, Pm, Eu, Tb, Yb) fails the rule."""
    for a in neutral_assignments(formula):
        if any(e not in PAULING_ELECTRONEGATIVITY for e in a):
            continue
        cations = [PAULING_ELECTRONEGATIVITY[e] for e, s in a.items() if s > 0]
        anions = [PAULING_ELECTRONEGATIVITY[e] for e, s in a.items() if s < 0]
        if max(cations) < min(anions):
            return True, a
    return False, None

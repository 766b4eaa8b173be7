"""CONTRIBUTING.md section 5: "the study calls the public entry point the README documents".

For representative claims, the public entry point is replaced -- wherever a theorems module has
bound it -- by a version perturbed far below any construction error a referee would accept (a
relative 1e-9 or a 1e-6-off output), and the claim's own fast study must then fail. A study that
evaluated a private re-assembly or a closed form instead would still hold, as gumaan2025's three
claims did when they ran ``structured_forward`` instead of the exported weights (issue 11).
"""

import sys

import numpy as np
import pytest

import constructions.in_context.icl as icl
import constructions.sequence.delta_rule as dr
import constructions.universal.universal as univ
from theorems.registry import get


def patch_everywhere(monkeypatch, original, replacement) -> int:
    """Replace ``original`` in its module and in every theorems module that imported it by name."""
    count = 0
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name.startswith("theorems") or name.startswith("constructions")):
            continue
        for attr, val in list(vars(mod).items()):
            if val is original:
                monkeypatch.setattr(mod, attr, replacement)
                count += 1
    return count


def _scaled(fn, factor):
    def perturbed(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(np.asarray(o) * factor for o in out)
        return np.asarray(out) * factor
    return perturbed


CASES = [
    # claim id, the public entry point it must call, the perturbation
    ("gumaan2025.error_rate", univ.reference_forward, lambda f: _scaled(f, 1 + 1e-9)),
    ("gumaan2025.modulus_bound", univ.reference_forward, lambda f: _scaled(f, 1 + 1e-9)),
    ("gumaan2025.param_count", univ.reference_forward, lambda f: _scaled(f, 1 + 1e-9)),
    ("yang2024.chunkwise_equals_recurrent", dr.chunkwise, lambda f: _scaled(f, 1 + 1e-9)),
    ("vonoswald2023.prop1", icl.lsa_forward, lambda f: _scaled(f, 1 + 1e-9)),
]


@pytest.mark.parametrize("cid,entry,perturb", CASES, ids=[c[0] for c in CASES])
def test_claim_fails_when_its_public_entry_point_is_perturbed(monkeypatch, cid, entry, perturb):
    claim = get(cid)
    assert claim.study("fast", 0).holds
    assert patch_everywhere(monkeypatch, entry, perturb(entry)) >= 1
    v = claim.study("fast", 0)
    assert not v.holds, f"{cid} still holds with a perturbed {entry.__name__}: {v.measured}"

"""Every registered claim, both directions: it holds (fast profile) and each of its negative
controls is rejected by the same check. Also: no float32 anywhere in the evidence."""

import numpy as np
import pytest

import theorems

CLAIMS = theorems.all_claims()


def _float_arrays(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _float_arrays(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _float_arrays(v)
    elif hasattr(obj, "dtype"):
        yield obj


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_holds_in_fast_profile(claim):
    verdict = claim.check(profile="fast", seed=0)
    assert verdict.holds, f"{claim.id}: measured {verdict.measured}; expected {verdict.expected}; {verdict.notes}"
    for arr in _float_arrays(dict(verdict.evidence)):
        assert np.asarray(arr).dtype != np.float32, f"{claim.id}: float32 in the evidence"


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_negative_controls_are_rejected(claim):
    assert claim.controls, f"{claim.id} has no negative control"
    for name, verdict in claim.run_controls(profile="fast", seed=0).items():
        assert not verdict.holds, f"{claim.id}: control {name!r} was accepted: {verdict.measured}"


def test_claim_ids_are_unique_and_well_formed():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    for c in CLAIMS:
        assert c.id.startswith(c.paper + ".")


def test_jax_runs_in_float64():
    import jax.numpy as jnp

    assert jnp.ones(3).dtype == jnp.float64
    assert (jnp.ones(3) * 0.1).sum().dtype == jnp.float64


def test_no_construction_or_numerics_module_asks_for_low_precision():
    """A static guard beside the runtime one: no module of constructions/ or numerics/ names a
    float32/float16 dtype in code (JAX's x64 flag is then the only source of dtypes)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r"(np|jnp|numpy|jax\.numpy)\.(float32|float16|bfloat16)|dtype\s*=\s*['\"](float32|float16)")
    offenders = []
    for folder in ("constructions", "numerics"):
        for path in sorted((root / folder).rglob("*.py")):
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if pattern.search(code) and "``" not in code:
                    offenders.append(f"{path.name}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)

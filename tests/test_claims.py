"""Registry-wide properties of the claims: unique, well-formed ids, float64 JAX, no low-precision
dtype named in constructions/ or numerics/. The claims themselves run as pytest items."""

import theorems

CLAIMS = theorems.all_claims()


# Both directions for every registered claim (it holds in the fast profile; each negative control
# is rejected; no float32 in the evidence) are the items claim[ID] that theorycheck's pytest plugin
# (theorems/pytest_plugin.py) collects under `pytest --claims`; `make test` passes --claims, and
# tests/test_plugins.py checks that the plugin collects one item per registered claim.


def test_make_test_runs_the_claims():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    claims = makefile.split("\nCLAIMS := ", 1)[1].split("\n", 1)[0]
    assert "$(CLAIMS)" in recipe, recipe
    assert "--claims" in claims and "-p theorems.pytest_plugin" in claims, claims


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

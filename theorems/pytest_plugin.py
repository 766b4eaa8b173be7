"""pytest plugin: every registered claim as a test item, so a paper's repository proof-checks with
plain ``pytest``.

Installed with theorycheck (entry point ``pytest11``), it does nothing unless ``--claims`` is given,
so unrelated test runs are untouched (it imports nothing heavy until then). With ``--claims``
every claim registered (built-in, from installed ``theorycheck.claims`` entry points, and from
``--claims-plugin``) becomes an item ``claim[ID]`` that asserts the claim holds, that each negative
control is rejected, and that no float32 reached the evidence. Options:

    --claims                     collect the claims
    --claims-profile fast|full   study sizes (default fast)
    --claims-seed N              the seed (default 0)
    --claims-plugin MODULE_OR_PATH   also load this plugin (repeatable; write it with "=",
                                 since pytest reads a bare path argument as a rootdir hint)
    --claims-paper KEY           only this paper's claims (repeatable)

Select with ``-k`` (``-k vonoswald2023``, ``-k "in_context and not finding"``: the paper key, the
family, the kind and the id are keywords of each item) or with markers: every item carries
``claim``, ``paper_<key>`` and ``family_<family>`` markers (``-m paper_vonoswald2023``).
A failure message shows measured against expected, the controls that were accepted, and the
path of the figure drawn for the failing verdict.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

__all__ = ["ClaimFailure", "check_claim"]


class ClaimFailure(AssertionError):
    """A claim that does not hold (or a control that is accepted), with the evidence in the text."""


def _float32_leaks(obj, path="evidence"):
    import numpy as np

    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _float32_leaks(v, f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _float32_leaks(v, f"{path}[{i}]")
    elif hasattr(obj, "dtype") and np.asarray(obj).dtype in (np.float32, np.float16):
        yield path


def _figure_path(claim, verdict) -> str:
    if claim.plot is None:
        return "(no figure)"
    try:
        from numerics.plotting import save_figure

        folder = Path(tempfile.gettempdir()) / "theorycheck-failed-claims"
        folder.mkdir(parents=True, exist_ok=True)
        save_figure(claim.plot(verdict), folder / claim.id)
        return str(folder / f"{claim.id}.png")
    except Exception as exc:  # the failure message must not be lost to a broken plot
        return f"(figure failed: {type(exc).__name__}: {exc})"


def check_claim(claim, profile: str = "fast", seed: int = 0) -> None:
    """Run a claim and its controls; raise :class:`ClaimFailure` saying what failed."""
    verdict = claim.check(profile=profile, seed=seed)
    problems = []
    if not verdict.holds:
        problems.append(f"{claim.id} does not hold ({profile} profile, seed {seed})\n"
                        f"  measured: {verdict.measured}\n  expected: {verdict.expected}"
                        + (f"\n  notes:    {verdict.notes}" if verdict.notes else ""))
    leaks = list(_float32_leaks(dict(verdict.evidence)))
    if leaks:
        problems.append(f"{claim.id}: float32 in the evidence at {', '.join(leaks[:5])}")
    for name, cv in claim.run_controls(profile=profile, seed=seed).items():
        if cv.holds:
            problems.append(f"{claim.id}: negative control {name!r} was accepted: {cv.measured}")
    if problems:
        problems.append(f"  figure:   {_figure_path(claim, verdict)}")
        raise ClaimFailure("\n".join(problems))


def pytest_addoption(parser):
    group = parser.getgroup("theorycheck", "theorycheck claims")
    group.addoption("--claims", action="store_true", default=False,
                    help="collect every registered theorycheck claim as a test item claim[ID]")
    group.addoption("--claims-profile", choices=("fast", "full"), default="fast",
                    help="study profile for --claims (default fast)")
    group.addoption("--claims-seed", type=int, default=0, help="seed for --claims (default 0)")
    group.addoption("--claims-plugin", action="append", default=[], metavar="MODULE_OR_PATH",
                    help="also load claims from this module or path (repeatable)")
    group.addoption("--claims-paper", action="append", default=[], metavar="KEY",
                    help="collect only this paper's claims (repeatable; default: every claim)")


def pytest_configure(config):
    if not config.getoption("claims", default=False):
        return
    config.addinivalue_line("markers", "claim: a theorycheck claim collected by --claims")


class ClaimItem(pytest.Item):
    def __init__(self, *, claim_id, profile, seed, **kwargs):
        super().__init__(**kwargs)
        self.claim_id, self.profile, self.seed = claim_id, profile, seed

    def runtest(self):
        from theorems.registry import get

        check_claim(get(self.claim_id), self.profile, self.seed)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ClaimFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"claim[{self.claim_id}]"


def _family(claim_id: str) -> str:
    from theorems.registry import origin

    parts = origin(claim_id).split(".")
    return parts[1] if parts[0] == "theorems" and len(parts) > 2 else "plugin"


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselection, which also run in this hook
def pytest_collection_modifyitems(session, config, items):
    if not config.getoption("claims", default=False):
        return
    import numerics  # noqa: F401  (float64 JAX first)
    from theorems.plugins import load_plugins
    from theorems.registry import all_claims

    load_plugins(config.getoption("claims_plugin"))
    profile, seed = config.getoption("claims_profile"), config.getoption("claims_seed")
    papers = set(config.getoption("claims_paper"))
    known = set()
    for claim in all_claims():
        if papers and claim.paper not in papers:
            continue
        family = _family(claim.id)
        for mark, what in ((f"paper_{claim.paper}", "paper"), (f"family_{family}", "family")):
            if mark not in known:  # registered, so that --strict-markers and -m accept them
                config.addinivalue_line("markers", f"{mark}: theorycheck claims of this {what}")
                known.add(mark)
        item = ClaimItem.from_parent(session, name=f"claim[{claim.id}]", nodeid=f"claim[{claim.id}]",
                                     claim_id=claim.id,
                                     profile=profile, seed=seed)
        for mark in ("claim", f"paper_{claim.paper}", f"family_{family}"):
            item.add_marker(mark)
        for word in (claim.paper, family, claim.kind):
            item.keywords[word] = True
        items.append(item)

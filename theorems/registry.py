"""The claim registry: every checked statement of every paper, registered once.

A :class:`Claim` carries its metadata (paper key, location in the paper, statement, kind, what is
expected) and a *study*: a pure function ``study(profile, seed) -> Verdict``. The same study serves
the test suite (``profile="fast"``), the appendix (``profile="full"``) and the figure (``plot``
draws from ``Verdict.evidence``), so a figure can never disagree with its check.

Every claim also carries *negative controls*: studies of a deliberately perturbed construction
(wrong sign, wrong step, dropped mask, a first-order scheme sold as second order) that run through
the same judgement and must be rejected. ``pytest --claims`` (:mod:`theorems.pytest_plugin`) asserts both directions for every
registered claim.

Kinds (CONTRIBUTING.md section 2): ``identity``, ``rate``, ``bound``, ``distribution``, ``complexity`` and
``finding``. For a ``finding`` the verdict's ``holds`` means *the finding is reproduced*: the
paper's statement fails (or needs the extra hypothesis) exactly as recorded, with the
counterexample in the evidence.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "KINDS",
    "PROFILES",
    "Claim",
    "Verdict",
    "register",
    "unregister",
    "all_claims",
    "get",
    "origin",
    "claim_modules",
    "UnknownClaimError",
]

Kind = Literal["identity", "rate", "bound", "distribution", "complexity", "finding"]
Profile = Literal["fast", "full"]
KINDS: tuple[str, ...] = ("identity", "rate", "bound", "distribution", "complexity", "finding")
PROFILES: tuple[str, ...] = ("fast", "full")

_ID_PATTERN = re.compile(r"^[a-z]+[0-9]{4}[a-z]?\.[a-z0-9_]+$")
# Modules of the theorems package that hold no claims.
@dataclass(frozen=True)
class Verdict:
    """The outcome of one study.

    holds     -- True when the measured evidence supports the claim (for a finding: when the
                 counterexample is reproduced).
    measured  -- a short human-readable account of what was measured ("order 2.003 [1.997, 2.009]").
    expected  -- what the claim predicts, in the same terms ("order 2").
    evidence  -- numbers and arrays for tables, results.json and the figure.
    notes     -- anything a reader should know (excluded points, regime, caveats).
    """

    holds: bool
    measured: str
    expected: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.holds, bool):
            # numpy.bool_ sneaks in from comparisons; insist on a real bool so JSON stays clean.
            object.__setattr__(self, "holds", bool(self.holds))


Study = Callable[[str, int], Verdict]
Plot = Callable[[Verdict], Any]


@dataclass(frozen=True)
class Claim:
    """One checkable statement of one paper.

    id        -- ``paperkey.label`` (``vonoswald2023.prop1``); the paper key is the first author's
                 surname in lowercase ASCII plus the year.
    paper     -- the paper key; must match the prefix of ``id`` and a record in ``papers/``.
    where     -- location in the paper: theorem/equation and page where known.
    statement -- the claim in one or two sentences, in the paper's notation.
    kind      -- one of KINDS.
    expected  -- what is expected, in words that the verdict's ``measured`` can be read against.
    study     -- ``study(profile, seed) -> Verdict``; pure, seeded, deterministic.
    plot      -- ``plot(verdict) -> matplotlib Figure`` drawn from the verdict's evidence.
    controls  -- name -> study of a perturbed construction, judged the same way; must NOT hold.
    finding   -- for kind "finding": what the paper states and what fails (recorded in the appendix).
    """

    id: str
    paper: str
    where: str
    statement: str
    kind: Kind
    expected: str
    study: Study
    plot: Plot | None = None
    controls: Mapping[str, Study] = field(default_factory=dict)
    finding: str = ""

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.id):
            raise ValueError(
                f"claim id {self.id!r} must look like 'paperkey.label' "
                "(lowercase surname + year, a dot, a lowercase label)"
            )
        if self.id.split(".", 1)[0] != self.paper:
            raise ValueError(f"claim id {self.id!r} does not start with its paper key {self.paper!r}")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id!r}: kind {self.kind!r} is not one of {KINDS}")
        for name in ("where", "statement", "expected"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"claim {self.id!r}: {name!r} must not be empty")
        if not callable(self.study):
            raise TypeError(f"claim {self.id!r}: study must be callable (profile, seed) -> Verdict")
        if self.kind == "finding" and not self.finding.strip():
            raise ValueError(f"claim {self.id!r}: a finding must say what the paper states and what fails")
        if not self.controls:
            raise ValueError(
                f"claim {self.id!r}: every claim needs at least one negative control "
                "(a perturbed construction the same check rejects)"
            )

    @property
    def label(self) -> str:
        return self.id.split(".", 1)[1]

    def check(self, profile: str = "fast", seed: int = 0) -> Verdict:
        """Run the study and return its verdict."""
        return _run(self.id, self.study, profile, seed)

    def run_controls(self, profile: str = "fast", seed: int = 0) -> dict[str, Verdict]:
        """Run every negative control; each verdict should have ``holds == False``."""
        return {
            name: _run(f"{self.id}[control {name}]", study, profile, seed)
            for name, study in self.controls.items()
        }


def _validate_run_args(what: str, profile: str, seed: int) -> None:
    if profile not in PROFILES:
        raise ValueError(f"{what}: profile must be one of {PROFILES}, got {profile!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{what}: seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{what}: seed must be non-negative, got {seed}")


def _run(what: str, study: Study, profile: str, seed: int) -> Verdict:
    _validate_run_args(what, profile, seed)
    verdict = study(profile, seed)
    if not isinstance(verdict, Verdict):
        raise TypeError(f"{what}: study returned {type(verdict).__name__}, not a Verdict")
    return verdict


_REGISTRY: dict[str, Claim] = {}
_DISCOVERED = False


class UnknownClaimError(KeyError):
    """Raised by :func:`get` for an id that is not registered; carries close matches."""

    def __init__(self, claim_id: str, suggestions: list[str]):
        self.claim_id = claim_id
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown claim id {claim_id!r}{hint}")

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return self.args[0]

    def __reduce__(self):
        # pickled back from worker processes: rebuild from the constructor's own arguments
        return (type(self), (self.claim_id, list(self.suggestions)))


_ORIGIN: dict[str, str] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (once); returns it so modules can keep a handle.

    The name of the module that called ``register`` is kept as the claim's origin
    (:func:`origin`): worker processes import it again to find the claim, and a claim registered
    from ``__main__`` (a notebook, ``python -c``) is run in the calling process instead.
    """
    if not isinstance(claim, Claim):
        raise TypeError(f"register() takes a Claim, got {type(claim).__name__}")
    existing = _REGISTRY.get(claim.id)
    if existing is not None and existing is not claim:
        raise ValueError(f"claim {claim.id!r} is registered twice")
    _REGISTRY[claim.id] = claim
    _ORIGIN.setdefault(claim.id, sys._getframe(1).f_globals.get("__name__", "__main__"))
    return claim


def unregister(claim_id: str) -> None:
    """Remove a claim (used by tests that register a deliberately wrong claim)."""
    _REGISTRY.pop(claim_id, None)
    _ORIGIN.pop(claim_id, None)


def origin(claim_id: str) -> str:
    """The dotted name of the module that registered the claim (``__main__`` for in-process)."""
    get(claim_id)
    return _ORIGIN.get(claim_id, "__main__")


def _families() -> list[str]:
    """The family packages under ``theorems/`` (the machinery at the top level is skipped)."""
    import theorems

    return [fam.name for fam in sorted(pkgutil.iter_modules(theorems.__path__), key=lambda m: m.name)
            if fam.ispkg and not fam.name.startswith("_")]


def claim_modules() -> list[str]:
    """Dotted names of every claim module: ``theorems.<family>.<module>`` for each family package
    under ``theorems/`` (the machinery at the top level and ``_``-prefixed helpers are skipped)."""
    names = []
    for fam in _families():
        package = importlib.import_module(f"theorems.{fam}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if not info.name.startswith("_") and not info.ispkg:
                names.append(f"theorems.{fam}.{info.name}")
    return names


def _discover() -> None:
    """Import every claim module of the family packages once, so that each registers itself,
    then the modules that installed distributions name in the ``theorycheck.claims`` entry-point
    group (:mod:`theorems.plugins`)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True  # set first: a plugin that calls all_claims() while importing must not recurse
    try:
        for name in claim_modules():
            importlib.import_module(name)
        from theorems.plugins import load_entry_points

        load_entry_points()
    except BaseException:
        _DISCOVERED = False
        raise


def all_claims() -> list[Claim]:
    """Every registered claim, sorted by id."""
    _discover()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _import_paper_module(paper: str) -> None:
    """Import theorems.<family>.<paper> for every family that has a module of that name (a
    claim id's prefix is its paper key, and a paper's claims live in the module of that name)."""
    import importlib.util

    if not paper.isidentifier() or paper.startswith("_"):
        return
    for fam in _families():
        name = f"theorems.{fam}.{paper}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def get(claim_id: str) -> Claim:
    """The claim with this id; an unknown id raises UnknownClaimError naming close matches.

    Before the registry has been discovered in full, the module named by the id's paper key is
    imported first (so that ``python -m theorems verify ID`` and each worker process import one
    paper module, not all of them); an id not found there triggers the full discovery of
    :func:`all_claims` (every family module, then installed entry points) before it is reported
    unknown. The paper's own module is imported even when a plugin already registered the id, so a
    plugin that reuses a built-in id still fails with "registered twice".
    """
    if not isinstance(claim_id, str):
        raise TypeError(f"claim id must be a str, got {type(claim_id).__name__}")
    if not _DISCOVERED:
        _import_paper_module(claim_id.split(".", 1)[0])
    if claim_id not in _REGISTRY:
        _discover()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        suggestions = difflib.get_close_matches(claim_id, list(_REGISTRY), n=3, cutoff=0.5)
        if not suggestions:
            suggestions = [k for k in _REGISTRY if k.startswith(claim_id.split(".")[0] + ".")][:3]
        raise UnknownClaimError(claim_id, suggestions) from None

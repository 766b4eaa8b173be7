"""papers/ records: loading, validation, and their consistency with the claim registry.

A record (``papers/KEY.toml``, format in ``papers/README.md``) holds the bibliography of one paper
and the status of each of its checkable claims: ``checked`` (a registered claim id), ``planned``
or ``not-checkable`` (with a reason). The registry is the single source of truth for a checked
claim's metadata; :func:`consistency_problems` lists every disagreement between the two, and the
test suite requires that list to be empty.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PaperRecord", "PAPERS_DIR", "load_records", "consistency_problems", "coverage_rows",
           "papers_sources"]

PAPERS_DIR = Path(__file__).resolve().parent.parent / "papers"
STATUSES = ("checked", "planned", "not-checkable")
_KEY = re.compile(r"^[a-z]+[0-9]{4}[a-z]?$")


@dataclass(frozen=True)
class PaperRecord:
    key: str
    title: str
    authors: tuple[str, ...]
    year: int
    arxiv: str
    venue: str
    seed: bool
    bibtex: str
    claims: tuple[dict, ...] = field(default_factory=tuple)
    path: Path | None = None

    def count(self, status: str) -> int:
        return sum(1 for c in self.claims if c.get("status") == status)

    @property
    def checked_ids(self) -> list[str]:
        return [c["id"] for c in self.claims if c.get("status") == "checked" and "id" in c]


def _parse(path: Path) -> PaperRecord:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name}: not valid TOML ({exc})") from None
    missing = [k for k in ("key", "title", "authors", "year", "bibtex") if k not in data]
    if missing:
        raise ValueError(f"{path.name}: missing field(s) {', '.join(missing)}")
    return PaperRecord(
        key=str(data["key"]),
        title=str(data["title"]),
        authors=tuple(str(a) for a in data["authors"]),
        year=int(data["year"]),
        arxiv=str(data.get("arxiv", "")),
        venue=str(data.get("venue", "")),
        seed=bool(data.get("seed", False)),
        bibtex=str(data["bibtex"]).strip(),
        claims=tuple(dict(c) for c in data.get("claims", [])),
        path=path,
    )


def load_records(directory: Path | None = None) -> dict[str, PaperRecord]:
    """Every papers/*.toml, keyed by paper key."""
    directory = Path(directory) if directory is not None else PAPERS_DIR
    if not directory.is_dir():
        raise FileNotFoundError(f"papers directory not found: {directory}")
    records: dict[str, PaperRecord] = {}
    for path in sorted(directory.glob("*.toml")):
        rec = _parse(path)
        if rec.key in records:
            raise ValueError(f"paper key {rec.key!r} appears in two records")
        records[rec.key] = rec
    return records


def papers_sources(claims=None) -> list[tuple[Path | None, list]]:
    """(papers folder, claims whose records must be there) for theorycheck's own papers/ and for
    every plugin's folder (:mod:`theorems.plugins`); None collects claims with no folder."""
    from theorems.plugins import papers_dir_for_claim
    from theorems.registry import all_claims

    claims = all_claims() if claims is None else claims
    groups: dict[Path | None, list] = {PAPERS_DIR: []}
    for c in claims:
        groups.setdefault(papers_dir_for_claim(c.id), []).append(c)
    return sorted(groups.items(), key=lambda kv: (kv[0] != PAPERS_DIR, str(kv[0])))


def consistency_problems(records: dict[str, PaperRecord] | None = None, claims=None) -> list[str]:
    """Every way papers/ and the registry disagree (empty list = in step).

    With no arguments, every source is checked: theorycheck's papers/ against the built-in
    claims and each plugin's papers folder against that plugin's claims."""
    if records is None and claims is None:
        problems: list[str] = []
        for folder, group in papers_sources():
            if folder is None:
                problems += [f"{c.id}: registered outside any plugin or package with a papers folder "
                             "(load it with --plugin, or give the plugin THEORYCHECK_PAPERS)" for c in group]
                continue
            problems += consistency_problems(load_records(folder), group)
        return problems
    from theorems.registry import all_claims

    records = load_records() if records is None else records
    claims = all_claims() if claims is None else claims
    problems = []
    registered = {c.id: c for c in claims}
    for key, rec in records.items():
        where = rec.path.name if rec.path else key
        if not _KEY.match(key):
            problems.append(f"{where}: key {key!r} is not surname+year in lowercase ASCII")
        if rec.path is not None and rec.path.stem != key:
            problems.append(f"{where}: file name does not match key {key!r}")
        if not rec.authors:
            problems.append(f"{where}: no authors")
        if not rec.bibtex.startswith("@"):
            problems.append(f"{where}: bibtex does not start with an @entry")
        seen = set()
        for i, c in enumerate(rec.claims):
            status = c.get("status")
            if status not in STATUSES:
                problems.append(f"{where}: claim {i} has status {status!r}, not one of {STATUSES}")
                continue
            if status == "checked":
                cid = c.get("id")
                if not cid:
                    problems.append(f"{where}: checked claim {i} has no id")
                elif cid not in registered:
                    problems.append(f"{where}: {cid} is marked checked but is not registered")
                elif registered[cid].paper != key:
                    problems.append(f"{where}: {cid} is registered under paper {registered[cid].paper!r}")
                if cid in seen:
                    problems.append(f"{where}: {cid} listed twice")
                seen.add(cid)
            else:
                for needed in ("label", "statement", "why"):
                    if not str(c.get(needed, "")).strip():
                        problems.append(f"{where}: {status} claim {i} needs a {needed!r}")
    for cid, claim in registered.items():
        rec = records.get(claim.paper)
        if rec is None:
            problems.append(f"{cid}: no papers/{claim.paper}.toml record")
        elif cid not in rec.checked_ids:
            problems.append(f"{cid}: not listed as checked in papers/{claim.paper}.toml")
    return problems


def coverage_rows(records: dict[str, PaperRecord] | None = None) -> list[tuple[str, int, str, int, int, int]]:
    """(key, year, title, checked, planned, not-checkable) per paper, sorted by key."""
    records = load_records() if records is None else records
    return [
        (k, r.year, r.title, r.count("checked"), r.count("planned"), r.count("not-checkable"))
        for k, r in sorted(records.items())
    ]

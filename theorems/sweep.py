"""Seed sweeps: does a claim hold, and is each control rejected, at every seed, not only at one?

``run_sweep(ids, seeds)`` runs every claim's study and every negative control at each seed (as
pure jobs, :mod:`theorems.runner`, cached with :mod:`theorems.cache`) and reports per claim the
number of seeds at which the claim holds and, per control, at which it is rejected. A claim whose
statistics make a rare failure unavoidable says so with its false-failure probability; the sweep
does not excuse it: any failure at any seed makes the sweep fail (exit 1 on the command line), and
the report shows the seed and what was measured there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SweepRow", "SweepReport", "parse_seeds", "run_sweep"]


def parse_seeds(text: str) -> list[int]:
    """'0:20' -> 0..19 (a Python-style half-open range), '3' -> [3], '0,4,7' -> [0, 4, 7]."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("seeds must look like 'A:B' (half-open range), 'N' or 'A,B,C'")
    try:
        if ":" in text:
            a, b = (int(x) for x in text.split(":", 1))
            seeds = list(range(a, b))
        else:
            seeds = [int(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"seeds {text!r} must look like 'A:B', 'N' or 'A,B,C' with integers") from None
    if not seeds:
        raise ValueError(f"seeds {text!r} is an empty range")
    if min(seeds) < 0:
        raise ValueError(f"seeds must be non-negative, got {text!r}")
    return sorted(set(seeds))


@dataclass
class SweepRow:
    claim_id: str
    seeds: int = 0
    held: int = 0
    controls_rejected: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)  # seed, what, measured

    @property
    def passed(self) -> bool:
        return self.held == self.seeds and all(v == self.seeds for v in self.controls_rejected.values())

    def as_dict(self) -> dict[str, Any]:
        return {"seeds": self.seeds, "held": self.held, "controls_rejected": dict(self.controls_rejected),
                "failures": list(self.failures), "passed": self.passed}


@dataclass
class SweepReport:
    profile: str
    seeds: list[int]
    rows: dict[str, SweepRow]
    reused: int = 0
    ran: int = 0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows.values())

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "seeds": self.seeds, "passed": self.passed,
                "claims": {cid: row.as_dict() for cid, row in sorted(self.rows.items())}}

    def table(self) -> str:
        n = len(self.seeds)
        width = max((len(c) for c in self.rows), default=10)
        lines = [f"{'claim':<{width}}  {'holds':>7}  controls rejected"]
        for cid, row in sorted(self.rows.items()):
            ctl = ", ".join(f"{name} {k}/{n}" for name, k in row.controls_rejected.items())
            lines.append(f"{cid:<{width}}  {row.held:>3}/{n:<3}  {ctl}")
            for f in row.failures:
                lines.append(f"{'':<{width}}    seed {f['seed']}: {f['what']}: {f['measured'][:120]}")
        ok = sum(r.passed for r in self.rows.values())
        lines.append(f"{ok} of {len(self.rows)} claims hold with every control rejected at all {n} seeds "
                     f"({self.profile} profile; {self.reused} cached results reused, {self.ran} run)")
        return "\n".join(lines)

    def write_json(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.as_dict(), indent=1, allow_nan=False), encoding="utf-8")


def run_sweep(claim_ids: Iterable[str], seeds: Iterable[int], *, profile: str = "fast", jobs: int = 1,
              scheduler: str | None = None, cache=None,
              progress: Callable[[int, int, str, int, dict[str, Any], bool], None] | None = None,
              ) -> SweepReport:
    """Every claim and control at every seed (no figures); see the module docstring."""
    from theorems.registry import PROFILES, get
    from theorems.runner import run_jobs

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    ids = [get(c).id for c in claim_ids]
    seeds = sorted(set(int(s) for s in seeds))
    if not seeds or min(seeds) < 0:
        raise ValueError("seeds must be a non-empty list of non-negative ints")
    reused = 0

    def count(k, n, cid, seed, data, cached):
        nonlocal reused
        reused += bool(cached)
        if progress:
            progress(k, n, cid, seed, data, cached)

    payloads = run_jobs([(c, s) for c in ids for s in seeds], profile=profile, figure=False,
                        n_jobs=jobs, scheduler=scheduler, cache=cache, progress=count)
    rows = {cid: SweepRow(cid, controls_rejected={name: 0 for name in get(cid).controls}) for cid in ids}
    for (cid, seed), (data, _) in sorted(payloads.items()):
        row = rows[cid]
        row.seeds += 1
        if data.get("error"):
            row.failures.append({"seed": seed, "what": "error", "measured": data["error"]})
        elif data["holds"]:
            row.held += 1
        else:
            row.failures.append({"seed": seed, "what": "claim does not hold", "measured": data["measured"]})
        for name, ctl in data.get("controls", {}).items():
            if ctl["holds"]:
                row.failures.append({"seed": seed, "what": f"control accepted: {name}",
                                     "measured": ctl["measured"]})
            else:
                row.controls_rejected[name] = row.controls_rejected.get(name, 0) + 1
    return SweepReport(profile=profile, seeds=seeds, rows=rows, reused=reused, ran=len(payloads) - reused)

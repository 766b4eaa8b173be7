"""The reproducible appendix: every claim's study, figure, verdict and negative controls.

``write_appendix(out, profile, seed)`` runs every registered claim (in worker processes), then
writes into a temporary folder beside ``out``

    index.md          one row per claim: paper, where, statement, expected, measured, verdict,
                      controls, figure; then the findings with their counterexamples
    claims.tex        the same table as a LaTeX longtable, for a paper's appendix
    results.json      everything measured (evidence included), deterministic for a given seed
    timings.json      seconds per claim (kept apart: timings are not reproducible numbers)
    environment.json  package versions, git commit, seed, profile, command
    figures/ID.pdf|png

and only then moves the folder into place, so an interrupted run never leaves a half-written
appendix. A claim fails when its verdict does not hold, when any of its negative controls is
accepted, or when its study raises; the appendix is still written (with the failure shown) and
the return value says how many failed.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ClaimResult", "run_claim", "write_appendix", "to_jsonable"]

PACKAGES = ("numpy", "scipy", "jax", "jaxlib", "matplotlib", "mpmath", "optax", "hypothesis", "pytest")


@dataclass
class ClaimResult:
    id: str
    paper: str
    where: str
    statement: str
    kind: str
    expected: str
    holds: bool
    measured: str
    notes: str
    finding: str
    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    figure: str = ""
    error: str = ""
    seconds: float = 0.0
    sweep: dict[str, Any] | None = None  # {"seeds": n, "held": k, "controls_rejected": {name: k}}

    @property
    def passed(self) -> bool:
        return self.holds and not self.error and all(not c["holds"] for c in self.controls.values())

    @property
    def verdict_word(self) -> str:
        if self.error:
            return "ERROR"
        if not self.holds:
            return "FAIL"
        if any(c["holds"] for c in self.controls.values()):
            return "FAIL (control accepted)"
        return "reproduced" if self.kind == "finding" else "holds"


def to_jsonable(obj: Any) -> Any:
    """numpy/jax arrays -> lists, non-finite floats -> strings (strict JSON), recursively."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "__array__") and not isinstance(obj, str | bytes):
        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return to_jsonable(arr.tolist())
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        x = float(obj)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if obj is None or isinstance(obj, str):
        return obj
    return repr(obj)


def run_claim(claim_id: str, profile: str, seed: int, figures_dir: str | None) -> ClaimResult:
    """Run one claim's study, its controls and its figure (a worker-process entry point)."""
    from numerics.plotting import save_figure
    from theorems.registry import get

    claim = get(claim_id)
    start = time.perf_counter()
    result = ClaimResult(
        id=claim.id, paper=claim.paper, where=claim.where, statement=claim.statement, kind=claim.kind,
        expected=claim.expected, holds=False, measured="", notes="", finding=claim.finding,
    )
    try:
        verdict = claim.check(profile=profile, seed=seed)
        result.holds = verdict.holds
        result.measured = verdict.measured
        result.expected = verdict.expected or claim.expected
        result.notes = verdict.notes
        result.evidence = to_jsonable(dict(verdict.evidence))
        for name, cv in claim.run_controls(profile=profile, seed=seed).items():
            result.controls[name] = {"holds": cv.holds, "measured": cv.measured}
        if figures_dir is not None and claim.plot is not None:
            fig = claim.plot(verdict)
            save_figure(fig, Path(figures_dir) / claim.id)
            result.figure = f"figures/{claim.id}.png"
    except Exception as exc:  # a failing study is reported in the appendix, not hidden
        result.error = f"{type(exc).__name__}: {exc}"
        result.notes = (result.notes + "\n" + traceback.format_exc(limit=4)).strip()
    result.seconds = time.perf_counter() - start
    return result


def _git_commit(root: Path) -> dict[str, Any]:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": sha or "unknown", "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def environment_stamp(profile: str, seed: int) -> dict[str, Any]:
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "theorycheck": _safe_version("theorycheck"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": versions,
        "git": _git_commit(Path(__file__).resolve().parent.parent),
        "profile": profile,
        "seed": seed,
        "command": " ".join(sys.argv),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _safe_version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _tex(text: str) -> str:
    repl = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(repl.get(ch, ch) for ch in " ".join(str(text).split()))


def sweep_cell(sweep: dict[str, Any] | None) -> str:
    """'k/n' (plus the worst control's rejections when not all) for the seed-sweep column."""
    if not sweep:
        return ""
    text = f"{sweep['held']}/{sweep['seeds']}"
    worst = min(sweep.get("controls_rejected", {}).values(), default=sweep["seeds"])
    if worst < sweep["seeds"]:
        text += f" (a control rejected at only {worst}/{sweep['seeds']})"
    return text


def render_index(results: list[ClaimResult], env: dict[str, Any]) -> str:
    n_pass = sum(r.passed for r in results)
    lines = [
        "# theorycheck appendix",
        "",
        f"Profile `{env['profile']}`, seed {env['seed']}, commit `{env['git']['commit']}`"
        f"{' (dirty)' if env['git'].get('dirty') else ''}; {n_pass} of {len(results)} claims pass "
        "(the claim holds, or a finding is reproduced, and every negative control is rejected).",
        "",
    ]
    swept = any(r.sweep for r in results)
    header = ["claim", "paper", "where", "statement", "expected", "measured", "verdict",
              "controls rejected", *(["holds at k/n seeds"] if swept else []), "figure"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        rejected = sum(not c["holds"] for c in r.controls.values())
        fig = f"[fig]({r.figure})" if r.figure else ""
        measured = r.error or r.measured
        seeds = [sweep_cell(r.sweep)] if swept else []
        lines.append(
            f"| `{r.id}` | {r.paper} | {_md(r.where)} | {_md(r.statement)} | {_md(r.expected)} | "
            f"{_md(measured)} | **{r.verdict_word}** | {rejected}/{len(r.controls)} | "
            + "".join(f"{c} | " for c in seeds) + f"{fig} |"
        )
    findings = [r for r in results if r.kind == "finding"]
    if findings:
        lines += ["", "## Findings", ""]
        for r in findings:
            lines += [f"### `{r.id}` ({r.paper}, {_md(r.where)})", "", r.finding.strip(), "",
                      f"Measured: {_md(r.measured)}", ""]
    lines += ["", "## Negative controls", ""]
    for r in results:
        for name, c in r.controls.items():
            lines.append(f"- `{r.id}` / {name}: {'ACCEPTED (bad)' if c['holds'] else 'rejected'} "
                         f"({_md(c['measured'])})")
    errors = [r for r in results if r.error]
    if errors:
        lines += ["", "## Errors", ""]
        lines += [f"- `{r.id}`: {_md(r.error)}" for r in errors]
    lines += ["", "## Environment", "", "```json", json.dumps(env, indent=2), "```", ""]
    return "\n".join(lines)


def render_tex(results: list[ClaimResult]) -> str:
    rows = [
        "% Generated by `python -m theorems appendix`; do not edit by hand.",
        r"\begin{longtable}{p{0.17\linewidth}p{0.12\linewidth}p{0.27\linewidth}p{0.16\linewidth}p{0.18\linewidth}l}",
        r"\hline claim & where & statement & expected & measured & verdict \\ \hline \endhead",
    ]
    for r in results:
        rows.append(" & ".join(_tex(x) for x in (r.id, r.where, r.statement, r.expected,
                                                  r.error or r.measured, r.verdict_word)) + r" \\")
    rows += [r"\hline", r"\end{longtable}", ""]
    return "\n".join(rows)


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move tmp into place as out; an existing out is swapped aside first, then removed."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_appendix(out: Path | str, *, profile: str = "full", seed: int = 0, jobs: int = 2,
                   claim_ids: Iterable[str] | None = None,
                   progress: Callable[[int, int, ClaimResult], None] | None = None,
                   scheduler: str | None = None, cache=None,
                   sweep_seeds: Iterable[int] | None = None) -> list[ClaimResult]:
    """Run the claims and write the appendix into ``out`` atomically; returns the results.

    ``scheduler`` runs the studies on a Dask cluster (:mod:`theorems.runner`), ``cache`` (a
    :class:`theorems.cache.Cache`) reuses unchanged verdicts, and ``sweep_seeds`` also runs every
    claim and control at those seeds and adds a "holds at k/n seeds" column."""
    from theorems.registry import PROFILES, all_claims, get
    from theorems.runner import run_jobs

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    ids = [get(i).id for i in claim_ids] if claim_ids is not None else [c.id for c in all_claims()]
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        figures = tmp / "figures"
        figures.mkdir()

        def report(k, n, cid, s, data, cached):
            if progress:
                progress(k, n, ClaimResult(**data))

        payloads = run_jobs([(cid, seed) for cid in ids], profile=profile, figure=True, n_jobs=jobs,
                            scheduler=scheduler, cache=cache, progress=report)
        results: dict[str, ClaimResult] = {}
        for (cid, _), (data, files) in payloads.items():
            results[cid] = ClaimResult(**data)
            for name, content in files.items():
                (figures / name).write_bytes(content)
        if sweep_seeds is not None:
            from theorems.sweep import run_sweep

            summary = run_sweep(ids, list(sweep_seeds), profile=profile, jobs=jobs,
                                scheduler=scheduler, cache=cache)
            for cid, row in summary.rows.items():
                results[cid].sweep = row.as_dict()
        ordered = [results[cid] for cid in sorted(results)]
        env = environment_stamp(profile, seed)
        (tmp / "index.md").write_text(render_index(ordered, env), encoding="utf-8")
        (tmp / "claims.tex").write_text(render_tex(ordered), encoding="utf-8")
        payload = [{k: v for k, v in r.__dict__.items() if k != "seconds"} | {"passed": r.passed}
                   for r in ordered]
        (tmp / "results.json").write_text(
            json.dumps({"profile": profile, "seed": seed, "claims": to_jsonable(payload)}, indent=1,
                       allow_nan=False), encoding="utf-8")
        (tmp / "timings.json").write_text(json.dumps({r.id: round(r.seconds, 3) for r in ordered}, indent=1))
        (tmp / "environment.json").write_text(json.dumps(env, indent=2), encoding="utf-8")
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ordered

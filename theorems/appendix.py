"""The reproducible appendix: every claim's study, figure, verdict and negative controls.

``write_appendix(out, profile, seed)`` runs every registered claim (in worker processes), then
writes into a temporary folder beside ``out``

    index.md          the document: summary, one section per family and paper, one block per
                      claim (statement, where, expected, measured, verdict, controls with their
                      numbers, notes, excluded points, the figure inline), the findings with their
                      counterexamples, the overview table (theorems.document)
    appendix.tex      the same as a standalone LaTeX document (pdflatex, no BibTeX run needed)
    claims.tex        the overview table as a LaTeX longtable fragment (caption, label)
    references.bib    every cited paper's BibTeX, from papers/
    results.json      everything measured (evidence included), deterministic for a given seed;
                      layout in schemas/results.schema.json
    timings.json      seconds per claim (kept apart: timings are not reproducible numbers)
    environment.json  every installed distribution, Python, platform, CPU, BLAS, git commit,
                      seed, profile and the command line that reruns this appendix
    figures/ID.pdf|png

and only then moves the folder into place, so an interrupted run never leaves a half-written
appendix. A claim fails when its verdict does not hold, when any of its negative controls is
accepted, or when its study raises; the appendix is still written (with the failure shown) and
the return value says how many failed. SIGINT or SIGTERM stops the run: the worker processes
are terminated, the temporary folder is removed and KeyboardInterrupt propagates (the CLI exits
130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ClaimResult", "run_claim", "write_appendix", "to_jsonable", "last_appendix"]

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
    family: str = ""
    cpu_seconds: float = 0.0
    sweep: dict[str, Any] | None = None  # {"seeds": n, "held": k, "controls_rejected": {name: k}, ...}

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
    """numpy/jax arrays -> lists, numpy scalars -> Python ones, recursively. Non-finite floats stay
    floats: results.json turns them into null with a flag (theorems.document.strict_json)."""
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
        return float(obj)
    if obj is None or isinstance(obj, str):
        return obj
    return repr(obj)


def run_claim(claim_id: str, profile: str, seed: int, figures_dir: str | None) -> ClaimResult:
    """Run one claim's study, its controls and its figure (a worker-process entry point)."""
    from numerics.plotting import save_figure
    from theorems.document import family_of, scalar_numbers
    from theorems.figures import finish_figure
    from theorems.registry import get

    claim = get(claim_id)
    start = time.perf_counter()
    cpu_start = time.process_time()
    result = ClaimResult(
        id=claim.id, paper=claim.paper, where=claim.where, statement=claim.statement, kind=claim.kind,
        expected=claim.expected, holds=False, measured="", notes="", finding=claim.finding,
        family=family_of(claim),
    )
    try:
        verdict = claim.check(profile=profile, seed=seed)
        result.holds = verdict.holds
        result.measured = verdict.measured
        result.expected = verdict.expected or claim.expected
        result.notes = verdict.notes
        result.evidence = to_jsonable(dict(verdict.evidence))
        for name, cv in claim.run_controls(profile=profile, seed=seed).items():
            result.controls[name] = {"holds": cv.holds, "measured": cv.measured, "notes": cv.notes,
                                     "numbers": to_jsonable(scalar_numbers(cv.evidence))}
        if figures_dir is not None and claim.plot is not None:
            fig = finish_figure(claim.plot(verdict), verdict, kind=claim.kind)
            save_figure(fig, Path(figures_dir) / claim.id)
            result.figure = f"figures/{claim.id}.png"
    except Exception as exc:  # a failing study is reported in the appendix, not hidden
        result.error = f"{type(exc).__name__}: {exc}"
        result.notes = (result.notes + "\n" + traceback.format_exc(limit=4)).strip()
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
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


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> list[dict[str, Any]] | None:
    """BLAS/OpenMP libraries loaded by numpy/scipy (threadpoolctl, optional: None without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    import numpy  # noqa: F401  (load the BLAS first)
    import scipy.linalg  # noqa: F401

    keep = ("user_api", "internal_api", "version", "num_threads", "architecture", "threading_layer", "filepath")
    return [{k: info.get(k) for k in keep if k in info} for info in threadpool_info()]


def _distributions() -> dict[str, str]:
    dists = {}
    for d in metadata.distributions():
        name = d.metadata["Name"] if d.metadata else None
        if name:
            dists[str(name)] = str(d.version)
    return dict(sorted(dists.items(), key=lambda kv: kv[0].lower()))


def rerun_command(profile: str, seed: int, out: str | Path = "appendix", jobs: int = 2,
                  claim_ids: Iterable[str] | None = None, commit: str | None = None) -> str:
    """The command line that writes this appendix again (at ``commit`` when known)."""
    cmd = ["python", "-m", "theorems", "appendix", "--out", str(out), "--profile", profile,
           "--seed", str(seed), "--jobs", str(jobs), *(claim_ids or [])]
    text = shlex.join(cmd)
    if commit and commit != "unknown":
        text = f"git checkout {commit} && {text}"
    return text


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
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "blas": _blas(),
        "packages": versions,
        "distributions": _distributions(),
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


def render_index(results: list[ClaimResult], env: dict[str, Any]) -> str:
    """index.md (theorems.document.render_index)."""
    from theorems.document import render_index as render

    return render(results, env)


def render_tex(results: list[ClaimResult]) -> str:
    """claims.tex, the overview table fragment (theorems.document.render_claims_tex)."""
    from theorems.document import render_claims_tex

    return render_claims_tex(results)


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move tmp into place as out; an existing out is swapped aside first, then removed."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM); ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum, frame):  # a signal handler
    raise Interrupted(signum)


def _worker_init() -> None:
    # Workers leave SIGINT to the parent (Ctrl-C reaches the whole process group): the parent
    # stops them itself, so an interrupt prints one message, not one traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Terminate a process pool now: cancel what is queued, end the running workers."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 1.0
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(timeout=0.5)


class _signals_raise:
    """Within the block SIGINT and SIGTERM raise :class:`Interrupted` (main thread only)."""

    def __enter__(self):
        self.saved = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, _raise_interrupted)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        return False


def _cache_dir() -> Path:
    from theorems.cache import user_cache_dir

    return user_cache_dir()


def last_appendix() -> Path | None:
    """The folder of the last appendix written on this machine (for ``cite`` without ids)."""
    try:
        path = Path((_cache_dir() / "last-appendix").read_text(encoding="utf-8").strip())
    except OSError:
        return None
    return path if (path / "results.json").is_file() else None


def _remember(out: Path) -> None:
    try:
        _cache_dir().mkdir(parents=True, exist_ok=True)
        (_cache_dir() / "last-appendix").write_text(str(out), encoding="utf-8")
    except OSError:
        pass  # a read-only home must not fail the appendix


def write_appendix(out: Path | str, *, profile: str = "full", seed: int = 0, jobs: int = 2,
                   claim_ids: Iterable[str] | None = None,
                   progress: Callable[[int, int, ClaimResult], None] | None = None,
                   scheduler: str | None = None, cache=None,
                   sweep_seeds: Iterable[int] | None = None) -> list[ClaimResult]:
    """Run the claims and write the appendix into ``out`` atomically; returns the results.

    ``scheduler`` runs the studies on a Dask cluster and ``cache`` (a
    :class:`theorems.cache.Cache`) reuses unchanged verdicts (:mod:`theorems.runner`);
    ``sweep_seeds`` also runs every claim and control at those seeds and adds a column
    "holds at k/n seeds" (:mod:`theorems.sweep`).
    """
    from theorems.document import render_appendix_tex, render_bib, results_payload
    from theorems.registry import PROFILES, all_claims, get

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    explicit = claim_ids is not None
    ids = [get(i).id for i in claim_ids] if claim_ids is not None else [c.id for c in all_claims()]
    out_arg = str(out)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    wall_start = time.perf_counter()
    # the commit of the code that runs is taken now, not when the run ends (a commit made during a
    # long run must not be stamped on results computed by the code before it)
    git_start = _git_commit(Path(__file__).resolve().parent.parent)
    with _signals_raise():
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            figures = tmp / "figures"
            figures.mkdir()
            from theorems.runner import run_jobs

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
            if env["git"] != git_start:
                git_start["at_end"] = env["git"]  # the worktree changed while the studies ran
            env["git"] = git_start
            env["jobs"] = jobs
            env["claims"] = ids if explicit else "all"
            env["rerun"] = rerun_command(profile, seed, out_arg, jobs, ids if explicit else None,
                                         env["git"].get("commit"))
            env["cpu_seconds"] = round(sum(r.cpu_seconds for r in ordered), 3)
            env["wall_seconds"] = round(time.perf_counter() - wall_start, 3)
            (tmp / "index.md").write_text(render_index(ordered, env), encoding="utf-8")
            (tmp / "claims.tex").write_text(render_tex(ordered), encoding="utf-8")
            (tmp / "appendix.tex").write_text(render_appendix_tex(ordered, env), encoding="utf-8")
            (tmp / "references.bib").write_text(render_bib(ordered), encoding="utf-8")
            (tmp / "results.json").write_text(
                json.dumps(results_payload(ordered, env), indent=1, allow_nan=False), encoding="utf-8")
            (tmp / "timings.json").write_text(json.dumps({r.id: round(r.seconds, 3) for r in ordered}, indent=1))
            env_clean, _ = strict_env(env)
            (tmp / "environment.json").write_text(json.dumps(env_clean, indent=2), encoding="utf-8")
            _replace_dir(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    _remember(out)
    return ordered


def strict_env(env: dict[str, Any]):
    from theorems.document import strict_json

    return strict_json(env)

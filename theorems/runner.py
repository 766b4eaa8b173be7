"""Running studies as pure jobs: (claim, profile, seed) -> result, locally or on a cluster.

A job runs one claim's study and its negative controls (and, for the appendix, draws its figure)
and returns plain data: the :class:`theorems.appendix.ClaimResult` fields as a dict and the figure
files as bytes. Because a job is pure and its output is data, the same job can run

* in this process (``jobs=1``, and always for a claim registered in-process, e.g. in a notebook or
  ``python -c``: its study cannot be imported by another process);
* in a local pool of spawned worker processes (``jobs=N``; each worker imports the same plugins
  again, :func:`theorems.plugins.load_plugins`, before it looks a claim up);
* on a Dask distributed cluster (``scheduler="tcp://host:8786"``), where theorycheck and the
  plugins must be importable on the workers;

and can be cached (:mod:`theorems.cache`). Results are keyed by (claim id, seed) and put in order
by the caller, so the order in which jobs finish never shows in the output.
"""

from __future__ import annotations

import importlib
import multiprocessing
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

__all__ = ["run_payload", "run_jobs", "Payload"]

Payload = tuple[dict[str, Any], dict[str, bytes]]


def _worker_start(plugin_specs: Iterable[str], modules: Iterable[str]) -> None:
    """Pool-worker start-up: SIGINT left to the parent (which stops the pool), then the plugins."""
    from theorems.appendix import _worker_init

    _worker_init()
    _prepare(plugin_specs, modules)


def _prepare(plugin_specs: Iterable[str], modules: Iterable[str]) -> None:
    """Worker start-up: the plugins of the parent, then any other module that registered a claim."""
    import numerics  # noqa: F401  (float64 JAX before anything else)
    from theorems.plugins import load_plugins

    load_plugins(list(plugin_specs))
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the claim is then unknown in the worker and runs in the parent instead


def run_payload(claim_id: str, profile: str, seed: int, figure: bool,
                plugin_specs: tuple[str, ...] = (), modules: tuple[str, ...] = ()) -> Payload:
    """One job: the claim's result as a dict and its figure files (name -> bytes)."""
    from theorems.appendix import run_claim

    _prepare(plugin_specs, modules)
    with tempfile.TemporaryDirectory(prefix="theorycheck-fig-") as tmp:
        result = run_claim(claim_id, profile, seed, tmp if figure else None)
        files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())} if figure else {}
    return dict(result.__dict__), files


def _remote_modules(claim_ids: Iterable[str]) -> tuple[tuple[str, ...], set[str]]:
    """(modules a worker must import, claims that can only run here)."""
    from theorems.plugins import plugins
    from theorems.registry import origin

    plugin_modules = {p.module for p in plugins()}
    modules, local = set(), set()
    for cid in claim_ids:
        mod = origin(cid)
        if mod == "__main__":
            local.add(cid)
        elif not mod.startswith("theorems.") and not any(
                mod == p or mod.startswith(p + ".") for p in plugin_modules):
            modules.add(mod)
    return tuple(sorted(modules)), local


def run_jobs(jobs: Iterable[tuple[str, int]], *, profile: str, figure: bool, n_jobs: int = 1,
             scheduler: str | None = None, cache=None,
             progress: Callable[[int, int, str, int, dict[str, Any], bool], None] | None = None,
             ) -> dict[tuple[str, int], Payload]:
    """Run (claim id, seed) jobs; returns {(id, seed): (result dict, figures)}.

    ``cache`` (a :class:`theorems.cache.Cache` or None) is consulted first and filled with every
    result whose study did not raise. ``progress(k, n, claim_id, seed, result, cached)`` is called
    as each job completes."""
    from theorems.cache import cache_key
    from theorems.plugins import loaded_specs
    from theorems.registry import UnknownClaimError, origin

    jobs = list(dict.fromkeys(jobs))
    total = len(jobs)
    done: dict[tuple[str, int], Payload] = {}
    keys: dict[tuple[str, int], str | None] = {}

    def finish(job, payload, cached):
        done[job] = payload
        if cache is not None and not cached and not payload[0].get("error"):
            cache.store(keys.get(job), payload[0], payload[1])
        if progress:
            progress(len(done), total, job[0], job[1], payload[0], cached)

    todo = []
    for job in jobs:
        if cache is not None:
            keys[job] = cache_key(job[0], profile, job[1], origin(job[0]), figure=figure)
            hit = cache.load(keys[job])
            if hit is not None:
                finish(job, hit, True)
                continue
        todo.append(job)

    modules, local_only = _remote_modules({cid for cid, _ in todo})
    specs = tuple(loaded_specs())
    remote = [j for j in todo if j[0] not in local_only]
    here = [j for j in todo if j[0] in local_only]

    def run_here(job):
        finish(job, run_payload(job[0], profile, job[1], figure), False)

    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = {client.submit(run_payload, cid, profile, seed, figure, specs, modules,
                                     key=f"theorycheck-{cid}-{profile}-{seed}-{int(figure)}",
                                     pure=False): (cid, seed) for cid, seed in remote}
            for job in here:
                run_here(job)
            for fut in dask_completed(list(futures)):
                job = futures[fut]
                try:
                    finish(job, fut.result(), False)
                except UnknownClaimError:
                    run_here(job)
    elif n_jobs > 1 and len(remote) > 1:
        # spawn, not fork: JAX is multithreaded and fork-after-threads can deadlock.
        from theorems.appendix import _stop_pool

        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_worker_start,
                                   initargs=(specs, modules))
        try:
            futures = {pool.submit(run_payload, cid, profile, seed, figure, specs, modules): (cid, seed)
                       for cid, seed in remote}
            for job in here:
                run_here(job)
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    finish(job, fut.result(), False)
                except UnknownClaimError:
                    run_here(job)
        except BaseException:  # Ctrl-C / SIGTERM (theorems.appendix.Interrupted) or a broken pool
            _stop_pool(pool)
            raise
        pool.shutdown()
    else:
        for job in remote + here:
            run_here(job)
    return done

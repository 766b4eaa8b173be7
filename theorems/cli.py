"""Command line: ``python -m theorems list | verify | papers | appendix | sweep | cite | diff``.

    list     [--paper KEY] [--kind KIND] [--markdown]     the registered claims (fits 100 columns)
    verify   [ID ...] [--paper KEY] [--kind KIND] [--jobs N] [--profile P] [--seed S]
    papers                                                coverage of papers/ and its consistency
    appendix --out DIR [ID ...]                           every study, figure and document
    cite     [ID or PAPER ...]                            BibTeX of those claims' papers; with no
                                                          argument, of every claim that passed in
                                                          the last appendix written here
    sweep    [--seeds A:B] [--profile P] [--json FILE] [ID ...]   every claim and control at
                                                          every seed; exit 1 on any failure
    diff     OLD NEW [--rtol R] [--atol A]                what changed between two appendices

Every command takes ``--plugin MODULE_OR_PATH`` (repeatable): modules that register claims of
other people's papers (:mod:`theorems.plugins`); installed ``theorycheck.claims`` entry points
are loaded without it. ``appendix`` and ``sweep`` take ``--jobs N``, ``--scheduler ADDRESS``
(a Dask cluster), ``--no-cache`` and ``--cache-dir DIR`` (:mod:`theorems.runner`,
:mod:`theorems.cache`).

Exit codes: 0 all good; 1 a claim failed (its verdict does not hold, a negative control was
accepted, or its study raised), papers/ disagrees with the registry, or ``diff`` found a change;
2 bad usage (unknown claim id or paper key, with close matches suggested); 130/143 the appendix
was stopped by SIGINT/SIGTERM (nothing written, no worker left).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main"]


WIDTH = 100  # list's lines fit this many columns


def _shorten(text: str, limit: int) -> str:
    from theorems.document import shorten

    return shorten(text, limit)


def _select(claims, papers=None, kind=None):
    """Claims of the given paper keys and kind; an unknown key exits 2 naming close matches."""
    import difflib

    if papers:
        known = sorted({c.paper for c in claims})
        for key in papers:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                print(f"error: no claims of paper {key!r}{hint}", file=sys.stderr)
                raise SystemExit(2)
        claims = [c for c in claims if c.paper in papers]
    if kind:
        claims = [c for c in claims if c.kind == kind]
    return claims


def _cmd_list(args) -> int:
    from theorems.registry import all_claims

    claims = _select(all_claims(), getattr(args, "paper", None), getattr(args, "kind", None))
    if args.markdown:
        print("| claim | kind | where | statement |")
        print("|---|---|---|---|")
        for c in claims:
            statement = " ".join(c.statement.split()).replace("|", "\\|")
            print(f"| `{c.id}` | {c.kind} | {c.where} | {statement} |")
        return 0
    width = min(max((len(c.id) for c in claims), default=10), 40)
    rest = WIDTH - width - 2 - 12 - 1
    where_w = 20
    for c in claims:
        where = _shorten(c.where, where_w)
        statement = _shorten(c.statement, rest - where_w - 2)
        print(f"{_shorten(c.id, width):<{width}}  {c.kind:<12} {where:<{where_w}}  {statement}".rstrip())
    print(f"{len(claims)} claims from {len({c.paper for c in claims})} papers")
    return 0


def _resolve(ids):
    from theorems.registry import UnknownClaimError, all_claims, get

    if not ids:
        return all_claims()
    claims = []
    for cid in ids:
        try:
            claims.append(get(cid))
        except UnknownClaimError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    return claims


def _verify_results(claims, profile, seed, jobs):
    """ClaimResults in the claims' order: one by one here (jobs 1), or as pure jobs on worker
    processes that import the same plugins (:func:`theorems.runner.run_jobs`)."""
    from theorems.appendix import ClaimResult, run_claim

    if jobs <= 1 or len(claims) <= 1:
        for c in claims:
            yield run_claim(c.id, profile, seed, None)
        return
    from theorems.runner import run_jobs

    payloads = run_jobs([(c.id, seed) for c in claims], profile=profile, figure=False, n_jobs=jobs)
    for c in claims:
        yield ClaimResult(**payloads[(c.id, seed)][0])


def _cmd_verify(args) -> int:
    from theorems.registry import all_claims

    if args.jobs < 1:
        print("error: --jobs must be a positive integer", file=sys.stderr)
        return 2
    claims = _resolve(args.ids) if args.ids else all_claims()
    claims = _select(claims, args.paper, args.kind)
    if not claims:
        print("error: no claim matches the selection", file=sys.stderr)
        return 2
    failed = 0
    for r in _verify_results(claims, args.profile, args.seed, args.jobs):
        if r.error:
            print(f"ERROR {r.id}: {r.error}")
            failed += 1
            continue
        accepted = [name for name, c in r.controls.items() if c["holds"]]
        ok = r.holds and not accepted
        failed += not ok
        word = "PASS" if ok else "FAIL"
        print(f"{word:4} {r.id} ({r.seconds:.1f}s): {r.measured}")
        if not r.holds:
            print(f"     expected: {r.expected}")
        for name in accepted:
            print(f"     negative control accepted: {name}: {r.controls[name]['measured']}")
    print(f"{len(claims) - failed} of {len(claims)} claims pass")
    return 1 if failed else 0


def _cmd_papers(args) -> int:
    from theorems.records import consistency_problems, coverage_rows, load_records, papers_sources

    rows = []  # theorycheck's own papers/ first, then each plugin's papers folder
    for folder, _ in papers_sources():
        if folder is not None:
            rows += coverage_rows(load_records(folder))
    print(f"{'paper':<18} {'year':>4}  {'checked':>7} {'planned':>7} {'n/c':>4}  title")
    for key, year, title, checked, planned, nc in rows:
        print(f"{key:<18} {year:>4}  {checked:>7} {planned:>7} {nc:>4}  {title[:60]}")
    totals = [sum(r[i] for r in rows) for i in (3, 4, 5)]
    print(f"{len(rows)} papers; {totals[0]} claims checked, {totals[1]} planned, {totals[2]} not checkable")
    problems = consistency_problems()
    for p in problems:
        print(f"inconsistent: {p}", file=sys.stderr)
    return 1 if problems else 0


def _cmd_appendix(args) -> int:
    from theorems.appendix import write_appendix

    claims = _resolve(args.ids) if args.ids else None
    start = time.perf_counter()

    def progress(k, n, res):
        bar = "#" * int(30 * k / n)
        print(f"[{bar:<30}] {k:>3}/{n} {res.verdict_word:<10} {res.id} ({res.seconds:.1f}s)",
              file=sys.stderr, flush=True)

    from theorems.appendix import Interrupted

    cache = _cache(args)
    try:
        results = write_appendix(args.out, profile=args.profile, seed=args.seed, jobs=args.jobs,
                                 claim_ids=[c.id for c in claims] if claims else None, progress=progress,
                                 scheduler=args.scheduler, cache=cache, sweep_seeds=args.seeds)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else 2
        print(f"interrupted ({'SIGTERM' if signum == 15 else 'SIGINT'}): workers stopped, nothing "
              f"written to {Path(args.out).resolve()}", file=sys.stderr)
        return 128 + signum
    failed = [r for r in results if not r.passed]
    swept = [r for r in results if r.sweep and not r.sweep["passed"]]
    print(f"appendix written to {Path(args.out).resolve()} in {time.perf_counter() - start:.0f}s: "
          f"{len(results) - len(failed)} of {len(results)} claims pass; "
          f"{cache.hits} cached results reused")
    for r in failed:
        print(f"  {r.verdict_word}: {r.id}: {r.error or r.measured}")
    for r in swept:
        print(f"  fails at some seed: {r.id}: holds at {r.sweep['held']}/{r.sweep['seeds']}")
    return 1 if failed or swept else 0


def _cache(args):
    from theorems.cache import Cache

    return Cache(args.cache_dir, enabled=not args.no_cache)


def _cmd_sweep(args) -> int:
    from theorems.appendix import Interrupted
    from theorems.sweep import run_sweep

    claims = _resolve(args.ids)
    cache = _cache(args)
    start = time.perf_counter()

    def progress(k, n, cid, seed, data, cached):
        bar = "#" * int(30 * k / n)
        print(f"[{bar:<30}] {k:>5}/{n} {cid} seed {seed}{' (cached)' if cached else ''}",
              file=sys.stderr, flush=True)

    try:
        report = run_sweep([c.id for c in claims], args.seeds, profile=args.profile, jobs=args.jobs,
                           scheduler=args.scheduler, cache=cache, progress=progress)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else 2
        print("interrupted: workers stopped", file=sys.stderr)
        return 128 + signum
    print(report.table())
    print(f"sweep took {time.perf_counter() - start:.0f}s")
    if args.json:
        report.write_json(args.json)
    return 0 if report.passed else 1


def _seeds(text: str) -> list[int]:
    from theorems.sweep import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_cite(args) -> int:
    from theorems.appendix import last_appendix
    from theorems.document import bibtex_for
    from theorems.registry import UnknownClaimError, all_claims, get

    papers = {c.paper for c in all_claims()}
    keys: list[str] = []
    if args.items:
        for item in args.items:
            if "." not in item and item in papers:
                keys.append(item)
                continue
            try:
                keys.append(get(item).paper)
            except UnknownClaimError as exc:
                print(f"error: {item!r} is neither a paper key nor a claim id ({exc})", file=sys.stderr)
                return 2
    else:
        import json

        folder = Path(args.appendix) if args.appendix else last_appendix()
        if folder is None or not (folder / "results.json").is_file():
            print("error: give claim ids or paper keys, or run `python -m theorems appendix` first "
                  "(or pass --appendix DIR)", file=sys.stderr)
            return 2
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        keys = [c["paper"] for c in data.get("claims", []) if c.get("passed")]
        print(f"% papers of the {len(keys)} claims that passed in {folder.resolve()}")
        if not keys:
            return 1
        known = {c.paper for c in all_claims()} | set(_record_keys())
        for key in sorted(set(keys) - known):
            print(f"% {key}: no papers/ record, no BibTeX", file=sys.stderr)
        keys = [k for k in keys if k in known]
    try:
        print(bibtex_for(keys, skip_missing=not args.items), end="")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _record_keys() -> list[str]:
    from theorems.records import load_records

    try:
        return list(load_records())
    except (FileNotFoundError, ValueError):
        return []


def _cmd_diff(args) -> int:
    import json

    from theorems.document import diff_results

    docs = []
    for folder in (args.old, args.new):
        path = Path(folder) / "results.json" if Path(folder).is_dir() else Path(folder)
        try:
            docs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"error: cannot read {path}: {exc}", file=sys.stderr)
            return 2
    lines = diff_results(docs[0], docs[1], rtol=args.rtol, atol=args.atol)
    for line in lines:
        print(line)
    print(f"{len(lines)} difference(s) (numbers compared with rtol {args.rtol:g}, atol {args.atol:g})")
    return 1 if lines else 0


def _nonneg_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be a non-negative number")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("seed must be non-negative")
    return value


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run the studies on a Dask distributed cluster (e.g. tcp://host:8786)")
    p.add_argument("--no-cache", action="store_true", help="rerun every study (and refresh the cache)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="verdict cache folder (default $THEORYCHECK_CACHE or ~/.cache/theorycheck)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_PATH",
                        help="import claims from this module or .py file/package folder (repeatable)")
    parser = argparse.ArgumentParser(prog="python -m theorems",
                                     description="List, verify and write the appendix of theorycheck's claims.")
    sub = parser.add_subparsers(dest="command", required=True)
    from theorems.registry import KINDS

    ls = sub.add_parser("list", parents=[common], help="list every registered claim")
    ls.add_argument("--markdown", action="store_true", help="as a Markdown table (for README.md)")
    ls.add_argument("--paper", action="append", metavar="KEY", help="only this paper's claims (repeatable)")
    ls.add_argument("--kind", choices=KINDS, help="only claims of this kind")
    v = sub.add_parser("verify", parents=[common],
                       help="run claims (all when no id is given) and their negative controls")
    v.add_argument("ids", nargs="*", help="claim ids, e.g. davis1984.trapezoid_order2")
    v.add_argument("--paper", action="append", metavar="KEY", help="only this paper's claims (repeatable)")
    v.add_argument("--kind", choices=KINDS, help="only claims of this kind")
    v.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    v.add_argument("--profile", choices=("fast", "full"), default="fast")
    v.add_argument("--seed", type=_seed, default=0)
    sub.add_parser("papers", parents=[common],
                   help="coverage table of papers/ (and plugins' papers) and its consistency with the registry")
    a = sub.add_parser("appendix", parents=[common], help="run every study and write the appendix")
    a.add_argument("--out", required=True, type=Path, help="output folder (replaced atomically)")
    a.add_argument("--profile", choices=("fast", "full"), default="full")
    a.add_argument("--seed", type=_seed, default=0)
    a.add_argument("--seeds", type=_seeds, default=None, metavar="A:B",
                   help="also sweep these seeds and add a 'holds at k/n seeds' column")
    _add_run_options(a)
    a.add_argument("ids", nargs="*", help="only these claims (default: all)")
    sw = sub.add_parser("sweep", parents=[common],
                        help="run every claim and control at every seed; exit 1 on any failure")
    sw.add_argument("--seeds", type=_seeds, default=list(range(20)), metavar="A:B",
                    help="half-open range A:B, N or A,B,C (default 0:20)")
    sw.add_argument("--profile", choices=("fast", "full"), default="fast")
    sw.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    _add_run_options(sw)
    sw.add_argument("ids", nargs="*", help="only these claims (default: all)")
    c = sub.add_parser("cite", parents=[common],
                       help="BibTeX of the papers of the given claims (default: the last appendix's)")
    c.add_argument("items", nargs="*", help="claim ids or paper keys")
    c.add_argument("--appendix", type=Path, help="appendix folder to read instead of the last one")
    d = sub.add_parser("diff", parents=[common],
                       help="claims whose verdict or numbers changed between two appendices")
    d.add_argument("old", type=Path, help="old appendix folder (or its results.json)")
    d.add_argument("new", type=Path, help="new appendix folder (or its results.json)")
    d.add_argument("--rtol", type=_nonneg_float, default=1e-6, help="relative tolerance (default 1e-6)")
    d.add_argument("--atol", type=_nonneg_float, default=0.0, help="absolute tolerance (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"list": _cmd_list, "verify": _cmd_verify, "papers": _cmd_papers, "appendix": _cmd_appendix,
                "sweep": _cmd_sweep, "cite": _cmd_cite, "diff": _cmd_diff}
    if args.plugin:
        from theorems.plugins import load_plugins

        try:
            load_plugins(args.plugin)
        except (ImportError, OSError, ValueError) as exc:
            print(f"error: cannot load plugin: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
    try:
        code = handlers[args.command](args)
    except SystemExit as exc:
        return int(exc.code or 0)
    if argv is None and args.command in ("appendix", "sweep") and code in (130, 143):
        # Run as a program and stopped by a signal: the workers are gone and the temporary folder
        # is removed, so leave now. A normal interpreter exit would first tear down JAX/XLA and
        # the BLAS thread pools, which on a loaded machine takes seconds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code

"""Command line: ``python -m theorems list | verify [ID...] | papers | appendix --out DIR | sweep``.

Every command takes ``--plugin MODULE_OR_PATH`` (repeatable): modules that register claims of
other people's papers (:mod:`theorems.plugins`); installed ``theorycheck.claims`` entry points
are loaded without it.

Exit codes: 0 all good; 1 a claim failed (its verdict does not hold, a negative control was
accepted, or its study raised) or papers/ disagrees with the registry; 2 bad usage (unknown claim
id, with close matches suggested).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _cmd_list(args) -> int:
    from theorems.registry import all_claims

    claims = all_claims()
    if args.markdown:
        print("| claim | kind | where | statement |")
        print("|---|---|---|---|")
        for c in claims:
            statement = " ".join(c.statement.split()).replace("|", "\\|")
            print(f"| `{c.id}` | {c.kind} | {c.where} | {statement} |")
        return 0
    width = max((len(c.id) for c in claims), default=10)
    for c in claims:
        print(f"{c.id:<{width}}  {c.kind:<12} {c.where[:40]:<40}  {c.statement[:70]}")
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


def _cmd_verify(args) -> int:
    claims = _resolve(args.ids)
    failed = 0
    for c in claims:
        start = time.perf_counter()
        try:
            verdict = c.check(profile=args.profile, seed=args.seed)
            controls = c.run_controls(profile=args.profile, seed=args.seed)
        except Exception as exc:  # report and go on: one broken study must not hide the others
            print(f"ERROR {c.id}: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        accepted = [name for name, v in controls.items() if v.holds]
        ok = verdict.holds and not accepted
        failed += not ok
        word = "PASS" if ok else "FAIL"
        print(f"{word:4} {c.id} ({time.perf_counter() - start:.1f}s): {verdict.measured}")
        if not verdict.holds:
            print(f"     expected: {verdict.expected}")
        for name in accepted:
            print(f"     negative control accepted: {name}: {controls[name].measured}")
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

    cache = _cache(args)
    results = write_appendix(args.out, profile=args.profile, seed=args.seed, jobs=args.jobs,
                             claim_ids=[c.id for c in claims] if claims else None, progress=progress,
                             scheduler=args.scheduler, cache=cache, sweep_seeds=args.seeds)
    failed = [r for r in results if not r.passed]
    swept = [r for r in results if r.sweep and not r.sweep["passed"]]
    print(f"appendix written to {Path(args.out).resolve()} in {time.perf_counter() - start:.0f}s: "
          f"{len(results) - len(failed)} of {len(results)} claims pass"
          + (f"; {cache.hits} cached results reused" if cache is not None else ""))
    for r in swept:
        print(f"  fails at some seed: {r.id}: holds at {r.sweep['held']}/{r.sweep['seeds']}")
    for r in failed:
        print(f"  {r.verdict_word}: {r.id}: {r.error or r.measured}")
    return 1 if failed or swept else 0


def _cache(args):
    from theorems.cache import Cache

    return Cache(args.cache_dir, enabled=not args.no_cache)


def _cmd_sweep(args) -> int:
    from theorems.sweep import run_sweep

    claims = _resolve(args.ids)
    cache = _cache(args)
    start = time.perf_counter()

    def progress(k, n, cid, seed, data, cached):
        bar = "#" * int(30 * k / n)
        print(f"[{bar:<30}] {k:>5}/{n} {cid} seed {seed}{' (cached)' if cached else ''}",
              file=sys.stderr, flush=True)

    report = run_sweep([c.id for c in claims], args.seeds, profile=args.profile, jobs=args.jobs,
                       scheduler=args.scheduler, cache=cache, progress=progress)
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
    ls = sub.add_parser("list", parents=[common], help="list every registered claim")
    ls.add_argument("--markdown", action="store_true", help="as a Markdown table (for README.md)")
    v = sub.add_parser("verify", parents=[common],
                       help="run claims (all when no id is given) and their negative controls")
    v.add_argument("ids", nargs="*", help="claim ids, e.g. davis1984.trapezoid_order2")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"list": _cmd_list, "verify": _cmd_verify, "papers": _cmd_papers,
                "appendix": _cmd_appendix, "sweep": _cmd_sweep}
    try:
        if args.plugin:
            from theorems.plugins import load_plugins

            try:
                load_plugins(args.plugin)
            except (ImportError, OSError, ValueError) as exc:
                print(f"error: cannot load plugin: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 2
        return handlers[args.command](args)
    except SystemExit as exc:
        return int(exc.code or 0)

"""Command line: ``python -m theorems list | verify | papers | appendix | cite | diff``.

    list     [--paper KEY] [--kind KIND] [--markdown]     the registered claims (fits 100 columns)
    verify   [ID ...] [--paper KEY] [--kind KIND] [--jobs N] [--profile P] [--seed S]
    papers                                                coverage of papers/ and its consistency
    appendix --out DIR [ID ...]                           every study, figure and document
    cite     [ID or PAPER ...]                            BibTeX of those claims' papers; with no
                                                          argument, of every claim that passed in
                                                          the last appendix written here
    diff     OLD NEW [--rtol R] [--atol A]                what changed between two appendices

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
    """ClaimResults in the claims' order, as they complete (worker processes when jobs > 1)."""
    from theorems.appendix import run_claim

    if jobs <= 1 or len(claims) <= 1:
        for c in claims:
            yield run_claim(c.id, profile, seed, None)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from theorems.appendix import _stop_pool, _worker_init

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init)
    try:
        futures = [pool.submit(run_claim, c.id, profile, seed, None) for c in claims]
        for fut in futures:
            yield fut.result()
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown()


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
    from theorems.records import consistency_problems, coverage_rows, load_records

    records = load_records()
    rows = coverage_rows(records)
    print(f"{'paper':<18} {'year':>4}  {'checked':>7} {'planned':>7} {'n/c':>4}  title")
    for key, year, title, checked, planned, nc in rows:
        print(f"{key:<18} {year:>4}  {checked:>7} {planned:>7} {nc:>4}  {title[:60]}")
    totals = [sum(r[i] for r in rows) for i in (3, 4, 5)]
    print(f"{len(rows)} papers; {totals[0]} claims checked, {totals[1]} planned, {totals[2]} not checkable")
    problems = consistency_problems(records)
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

    try:
        results = write_appendix(args.out, profile=args.profile, seed=args.seed, jobs=args.jobs,
                                 claim_ids=[c.id for c in claims] if claims else None, progress=progress)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else 2
        print(f"interrupted ({'SIGTERM' if signum == 15 else 'SIGINT'}): workers stopped, nothing "
              f"written to {Path(args.out).resolve()}", file=sys.stderr)
        return 128 + signum
    failed = [r for r in results if not r.passed]
    print(f"appendix written to {Path(args.out).resolve()} in {time.perf_counter() - start:.0f}s: "
          f"{len(results) - len(failed)} of {len(results)} claims pass")
    for r in failed:
        print(f"  {r.verdict_word}: {r.id}: {r.error or r.measured}")
    return 1 if failed else 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m theorems",
                                     description="List, verify and write the appendix of theorycheck's claims.")
    sub = parser.add_subparsers(dest="command", required=True)
    from theorems.registry import KINDS

    ls = sub.add_parser("list", help="list every registered claim")
    ls.add_argument("--markdown", action="store_true", help="as a Markdown table (for README.md)")
    ls.add_argument("--paper", action="append", metavar="KEY", help="only this paper's claims (repeatable)")
    ls.add_argument("--kind", choices=KINDS, help="only claims of this kind")
    v = sub.add_parser("verify", help="run claims (all when no id is given) and their negative controls")
    v.add_argument("ids", nargs="*", help="claim ids, e.g. davis1984.trapezoid_order2")
    v.add_argument("--paper", action="append", metavar="KEY", help="only this paper's claims (repeatable)")
    v.add_argument("--kind", choices=KINDS, help="only claims of this kind")
    v.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    v.add_argument("--profile", choices=("fast", "full"), default="fast")
    v.add_argument("--seed", type=_seed, default=0)
    sub.add_parser("papers", help="coverage table of papers/ and its consistency with the registry")
    a = sub.add_parser("appendix", help="run every study and write the appendix")
    a.add_argument("--out", required=True, type=Path, help="output folder (replaced atomically)")
    a.add_argument("--profile", choices=("fast", "full"), default="full")
    a.add_argument("--seed", type=_seed, default=0)
    a.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    a.add_argument("ids", nargs="*", help="only these claims (default: all)")
    c = sub.add_parser("cite", help="BibTeX of the papers of the given claims (default: the last appendix's)")
    c.add_argument("items", nargs="*", help="claim ids or paper keys")
    c.add_argument("--appendix", type=Path, help="appendix folder to read instead of the last one")
    d = sub.add_parser("diff", help="claims whose verdict or numbers changed between two appendices")
    d.add_argument("old", type=Path, help="old appendix folder (or its results.json)")
    d.add_argument("new", type=Path, help="new appendix folder (or its results.json)")
    d.add_argument("--rtol", type=_nonneg_float, default=1e-6, help="relative tolerance (default 1e-6)")
    d.add_argument("--atol", type=_nonneg_float, default=0.0, help="absolute tolerance (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"list": _cmd_list, "verify": _cmd_verify, "papers": _cmd_papers, "appendix": _cmd_appendix,
                "cite": _cmd_cite, "diff": _cmd_diff}
    try:
        code = handlers[args.command](args)
    except SystemExit as exc:
        return int(exc.code or 0)
    if argv is None and args.command == "appendix" and code in (130, 143):
        # Run as a program and stopped by a signal: the workers are gone and the temporary folder
        # is removed, so leave now. A normal interpreter exit would first tear down JAX/XLA and
        # the BLAS thread pools, which on a loaded machine takes seconds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code

"""`make mutate`: mutation testing of numerics/ and constructions/ with mutmut (forkserver isolation).

Each target module is mutated on its own, in a scratch copy of the working tree, and its mutants
run only against the test files that can see it: the test modules whose import closure (over the
project's own modules, read with ``ast``) contains the target. mutmut then narrows that further to
the tests that call the mutated function. ``tests/test_claims.py`` (every claim, about two
minutes) is left out unless ``--claims`` is given: every claim also has a direct test module; so are
the tests marked ``slow`` (full-profile studies, minutes per mutant) unless ``--slow`` is given.

    python mutation/run.py [--claims] [--workdir DIR] [TARGET.py ...]   (default: numerics/rates.py)
    python mutation/run.py --all        (numerics/ and constructions/, one module after another)
    python mutation/run.py --sample 80 --seed 11 [--reuse] numerics/rates.py   (a seeded sample)
    python mutation/run.py --reuse --mutants x_observed_order__mutmut_769,... numerics/rates.py
    python mutation/run.py --together --sample 50 --seed 1 constructions/counts/*.py
                                        (one campaign for several modules: one test-statistics run)

mutmut's fork server preloads third-party libraries only (``forkserver_warmup=import``): every
mutant's pytest imports the project's modules afresh, with the mutant on, so module-level values
built by a mutated function at import (``PRESETS`` in constructions/counts/transformer.py) are
built by the mutant; and such import-time functions are credited to every selected test that sees
their module (mutmut's own stats credit import-time calls to one arbitrary test).

``--reuse`` keeps the scratch copy (under ``--workdir``) with its generated mutants, so a second
sample, or a re-run of survivors after new tests, does not regenerate them (rates.py: ~9 min).

Results: ``mutation/results/<module>.txt`` (mutmut's per-mutant status; for a sample or named
mutants ``<module>__sample<N>_seed<S>.txt`` / ``<module>__named.txt``, the mutants run only) and
a summary line per module on stdout (the constructions' campaigns of the first sessions wrote
their samples to ``<module>.txt`` and re-runs of survivors to ``<module>.rerun.txt``); survivors
are triaged by hand in ``mutation/triage.md``.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("numerics", "constructions", "theorems")
MUTMUT = Path(sys.executable).with_name("mutmut")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Project modules a file imports (absolute imports; ``from a import b`` yields a and a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in PACKAGES}


def project_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            graph[module_name(path)] = imports_of(path)
    known = set(graph)
    for mod in list(graph):
        deps = set()
        for dep in graph[mod]:
            while dep and dep not in known:
                dep = dep.rpartition(".")[0]
            if dep:
                deps.add(dep)
        # a package's modules see its __init__
        parent = mod.rpartition(".")[0]
        if parent in known:
            deps.add(parent)
        graph[mod] = deps - {mod}
    return graph


def closure(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(graph.get(m, ()))
    return seen


def tests_seeing(target: Path, graph, claims: bool) -> list[str]:
    mod = module_name(target)
    known = set(graph)
    chosen = []
    for test in sorted((ROOT / "tests").rglob("test_*.py")):
        if test.name == "test_claims.py" and not claims:
            continue
        direct = set()
        for dep in imports_of(test):
            while dep and dep not in known:
                dep = dep.rpartition(".")[0]
            if dep:
                direct.add(dep)
        if mod in closure(direct, graph):
            chosen.append(str(test.relative_to(ROOT)))
    return chosen


def import_time_functions(path: Path) -> set[str]:
    """Module-level functions of ``path`` that run when it is imported: called by a module-level
    statement (``PRESETS = {"gpt2": _gpt2(...)}``, a decorator, a default, a class body), and
    the module-level functions those call in turn."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}

    def called_in(nodes) -> set[str]:
        return {c.func.id for node in nodes for c in ast.walk(node)
                if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in funcs}

    at_import: list[ast.AST] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            at_import += [*stmt.decorator_list, *stmt.args.defaults, *stmt.args.kw_defaults]
        elif isinstance(stmt, ast.ClassDef):
            at_import += [*stmt.decorator_list, *(s for s in stmt.body
                                                   if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef))]
        else:
            at_import.append(stmt)
    found, todo = set(), called_in([n for n in at_import if n is not None])
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo |= called_in(funcs[name].body)
    return found


def map_import_time_functions(scratch: Path, targets: list[Path], graph, tests: list[str]) -> None:
    """Give each import-time function of the targets every selected test of the test files that see
    its module, in mutmut's stats (mutants/mutmut-stats.json, read again by the next ``mutmut run``).

    mutmut's stats run records which functions a test calls between two test teardowns, so calls
    made while the test modules are imported (collection) are credited to whichever test tears
    down first (in the counts campaign: a GLU test, for ``_gpt2``), and a mutant of ``_gpt2`` ran
    that test only. Together with ``forkserver_warmup=import`` (the module imported afresh with the
    mutant on), the tests that read PRESETS now judge those mutants."""
    stats_path = scratch / "mutants" / "mutmut-stats.json"
    if not stats_path.is_file():
        return
    import json

    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    known = list(stats.get("duration_by_test", {}))
    by_fn = stats.setdefault("tests_by_mangled_function_name", {})
    changed = False
    for target in targets:
        names = import_time_functions(target)
        if not names:
            continue
        files = set(tests_seeing(target, graph, True)) & set(tests)
        ids = sorted(t for t in known if t.split("::", 1)[0] in files)
        mod = module_name(target)
        for name in sorted(names):
            key = f"{mod}.x_{name}"
            merged = sorted(set(by_fn.get(key, [])) | set(ids))
            changed |= merged != sorted(by_fn.get(key, []))
            by_fn[key] = merged
        print(f"== {module_name(target)}: import-time functions {sorted(names)} credited to {len(ids)} tests",
              flush=True)
    if changed:
        stats_path.write_text(json.dumps(stats, indent=4), encoding="utf-8")


# Lines whose mutants can only change a message or reject bad input differently: validation
# (``raise ValueError/TypeError``), notes, exclusion reasons and describe() strings. Their mutants
# are "message-only" in the triage's terms and are not generated.
# The repository files some tests read (README.md for tests/test_figures.py, schemas/, ...).
ALSO_COPY = ("numerics", "constructions", "theorems", "papers", "schemas", "examples", "README.md",
             "CONTRIBUTING.md", "CITATION.cff", "LICENSE")

# Third-party modules the fork server imports before forking a mutant's run (forkserver_warmup =
# import): never a project module, whose import-time values must be computed with the mutant on.
PRELOAD = ("numpy", "scipy", "scipy.linalg", "scipy.special", "scipy.integrate", "scipy.stats", "jax",
           "jax.numpy", "optax", "mpmath", "sympy", "hypothesis", "hypothesis.extra.numpy", "pytest")

DO_NOT_MUTATE = (
    r"raise (ValueError|TypeError)",
    r"notes\.append\(",
    r"^\s*reason(_fine)? = ",
    r"^\s*(return )?\(?f\"",
    r"^\s*f\"",
)


def run_target(target: Path | list[Path], workdir: Path, claims: bool, tests: list[str] | None = None,
               sample: int = 0, seed: int = 0, reuse: bool = False, mutants: list[str] | None = None,
               generate_only: bool = False, slow: bool = False) -> tuple[int, int, dict[str, int]]:
    """One campaign. ``target`` may be a list of modules (``--together``): they are mutated in one
    scratch copy against the union of their test selections, so mutmut's test statistics are
    gathered once, and a sample is drawn from all their mutants (so each module's share is
    proportional to its number of mutants); results are still written per module."""
    graph = project_graph()
    targets = target if isinstance(target, list) else [target]
    if not tests:
        tests = sorted({t for tg in targets for t in tests_seeing(tg, graph, claims)})
    rels = [tg.relative_to(ROOT) for tg in targets]
    rel = rels[0] if len(rels) == 1 else rels[0].parent
    scratch = workdir / str(rel).replace("/", "__").removesuffix(".py")
    # --reuse keeps the scratch copy and its generated mutants: the tracked files are copied over
    # it again (shutil.copy2 keeps their mtimes), and mutmut regenerates the target's mutants only
    # if the target is newer than its mutated copy, i.e. only if the target itself changed. The
    # tests are refreshed either way (mutmut copies tests/ into mutants/ on every run, and traces
    # the tests it has not seen before).
    if scratch.exists() and not (reuse and (scratch / "mutants").is_dir()):
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (scratch / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, scratch / f)
    preload = scratch / "mutmut_preload.txt"
    preload.write_text("\n".join(PRELOAD) + "\n", encoding="utf-8")
    # pyproject.toml has no [tool.mutmut]; the per-target configuration goes in setup.cfg.
    selection = "\n    ".join(tests)
    (scratch / "setup.cfg").write_text(
        "[mutmut]\n"
        f"source_paths=\n    {rel.parts[0]}\n"
        "only_mutate=\n    " + "\n    ".join(map(str, rels)) + "\n"
        # The target's own package is a source path, copied (once) by mutmut itself; listing it in
        # also_copy as well would copy the unmutated target over its mutated copy on every run,
        # and mutmut would regenerate all its mutants (~9 min for rates.py) on the second run of
        # a sample.
        "also_copy=\n    " + "\n    ".join(p for p in ALSO_COPY if p != rel.parts[0]) + "\n"
        "process_isolation=forkserver\n"
        # mutmut's default fork-server warm-up ("collect") imports the test modules, hence the
        # project's modules, in the server before any mutant is switched on: values a module
        # computes at import with a mutated function (counts' PRESETS) then keep the unmutated
        # result in every mutant's run. "import" preloads only third-party libraries (the costly
        # part of an import); each mutant's pytest imports the project's modules afresh, with the
        # mutant on.
        "forkserver_warmup=import\n"
        f"preload_modules_file={preload}\n"
        "pytest_add_cli_args=\n    -p\n    no:cacheprovider\n    -q\n"
        # tests marked slow are full-profile studies (minutes each, per mutant): left out unless --slow
        + ("" if slow else "    -m\n    not slow\n")
        + f"pytest_add_cli_args_test_selection=\n    {selection}\n"
        "use_git_change_detection=false\n"
        "do_not_mutate_patterns=\n    " + "\n    ".join(DO_NOT_MUTATE) + "\n",
        encoding="utf-8",
    )
    env = dict(os.environ, HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    env.pop("PYTHONPATH", None)
    chosen: list[str] = []
    tag = ""
    print(f"== {rel}: {len(tests)} test files: {' '.join(tests)}", flush=True)
    if sample or mutants or generate_only:
        # Generate the mutants and the test statistics once (no mutant named: none is run), then
        # run a seeded random sample of the generated mutants, or the named ones.
        subprocess.run([str(MUTMUT), "run", "--max-children", "1", "no-such-mutant"], cwd=scratch, env=env,
                       check=False)
        map_import_time_functions(scratch, targets, graph, tests)
        listed = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=scratch, env=env,
                                capture_output=True, text=True, check=False).stdout
        names = sorted(line.rsplit(":", 1)[0].strip() for line in listed.splitlines() if ":" in line)
        if mutants:
            full = {n.rsplit(".", 1)[-1]: n for n in names}
            unknown = [m for m in mutants if m not in names and m not in full]
            if unknown:
                print(f"error: no such mutants of {rel}: {' '.join(unknown)}", file=sys.stderr)
                return 0, 0, {}
            chosen = sorted(m if m in names else full[m] for m in mutants)
            what = f"the {len(chosen)} named mutants"
            tag = "named"
        elif sample:
            import random

            chosen = sorted(random.Random(seed).sample(names, min(sample, len(names))))
            what = f"a sample of {len(chosen)} (seed {seed})"
            tag = f"sample{sample}_seed{seed}"
        else:
            chosen = []
            what = "none (--generate-only)"
        print(f"== {rel}: {len(names)} mutants generated, running {what}", flush=True)
        if chosen:
            subprocess.run([str(MUTMUT), "run", "--max-children", "1", *chosen], cwd=scratch, env=env,
                           check=False)
    else:
        # stats first (no mutant run), so that the import-time functions get their tests, then all
        subprocess.run([str(MUTMUT), "run", "--max-children", "1", "no-such-mutant"], cwd=scratch, env=env,
                       check=False)
        map_import_time_functions(scratch, targets, graph, tests)
        subprocess.run([str(MUTMUT), "run", "--max-children", "1"], cwd=scratch, env=env, check=False)
    res = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=scratch, env=env,
                         capture_output=True, text=True, check=False)
    out = ROOT / "mutation" / "results"
    out.mkdir(parents=True, exist_ok=True)
    def of_module(r: Path, rows: list[str]) -> list[str]:
        prefix = ".".join(r.with_suffix("").parts) + "."
        return [line for line in rows if line.strip().startswith(prefix)]

    stem = {r: str(r).replace("/", "__").removesuffix(".py") for r in rels}
    lines = [line for line in res.stdout.splitlines() if ":" in line]
    if not (sample or mutants or generate_only):
        for r in rels:
            (out / (stem[r] + ".txt")).write_text("\n".join(of_module(r, lines)) + "\n", encoding="utf-8")
    # With --reuse the scratch copy also holds the statuses of earlier runs: this run's figures
    # (and its own results file, <module>__<tag>.txt) count only the mutants it ran.
    if chosen:
        run_set = set(chosen)
        lines = [line for line in lines if line.rsplit(":", 1)[0].strip() in run_set]
        for r in rels:
            (out / (stem[r] + f"__{tag}.txt")).write_text("\n".join(of_module(r, lines)) + "\n",
                                                          encoding="utf-8")
    counts: dict[str, int] = {}
    for line in lines:
        status = line.rsplit(":", 1)[1].strip()
        counts[status] = counts.get(status, 0) + 1
    total = sum(v for k, v in counts.items() if k != "not checked")
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    print(f"== {rel}: {killed}/{total} killed {counts}", flush=True)
    if len(rels) > 1:
        for r in rels:
            run = [x.rsplit(":", 1)[1].strip() for x in of_module(r, lines)]
            run = [x for x in run if x != "not checked"]
            print(f"==   {r}: {sum(x in ('killed', 'timeout') for x in run)}/{len(run)} killed", flush=True)
    return killed, total, counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*")
    ap.add_argument("--all", action="store_true", help="every module of numerics/ and constructions/")
    ap.add_argument("--claims", action="store_true", help="also run tests/test_claims.py (slow)")
    ap.add_argument("--slow", action="store_true", help="also run the tests marked slow (full-profile studies)")
    ap.add_argument("--workdir", default=os.environ.get("MUTATE_DIR", "/tmp/theorycheck-mutate"))
    ap.add_argument("--tests", default="", help="comma-separated test files instead of the import-graph selection")
    ap.add_argument("--sample", type=int, default=0, help="run only a seeded random sample of N mutants")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reuse", action="store_true",
                    help="keep the scratch copy of an earlier run and its generated mutants (regenerated only "
                         "if the target changed); the tests are refreshed")
    ap.add_argument("--mutants", default="",
                    help="comma-separated mutant names (e.g. x_observed_order__mutmut_769) to run instead of a sample")
    ap.add_argument("--generate-only", action="store_true", help="generate the mutants and test statistics, run none")
    ap.add_argument("--together", action="store_true",
                    help="one campaign for all targets (one scratch copy, one test-statistics run, one sample)")
    args = ap.parse_args(argv)
    if args.all:
        targets = sorted(p for pkg in ("numerics", "constructions") for p in (ROOT / pkg).rglob("*.py")
                         if p.name != "__init__.py")
    else:
        targets = [ROOT / t for t in (args.targets or ["numerics/rates.py"])]
    for t in targets:
        if not t.is_file():
            print(f"error: no such module {t}", file=sys.stderr)
            return 2
    tests = [x for x in args.tests.split(",") if x]
    mutants = [x for x in args.mutants.split(",") if x]
    for t in ([targets] if args.together else targets):
        run_target(t, Path(args.workdir), args.claims, tests, args.sample, args.seed, args.reuse, mutants,
                   args.generate_only, args.slow)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

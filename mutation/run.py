"""`make mutate`: mutation testing of numerics/ and constructions/ with mutmut (forkserver isolation).

Each target module is mutated on its own, in a scratch copy of the working tree, and its mutants
run only against the test files that can see it: the test modules whose import closure (over the
project's own modules, read with ``ast``) contains the target. mutmut then narrows that further to
the tests that call the mutated function. ``tests/test_claims.py`` (every claim, about two
minutes) is left out unless ``--claims`` is given: every claim also has a direct test module; so are
the tests marked ``slow`` (full-profile studies, minutes per mutant) unless ``--slow`` is given.

    python mutation/run.py [--claims] [--workdir DIR] [TARGET.py ...]   (default: numerics/rates.py)
    python mutation/run.py --all        (numerics/ and constructions/, one module after another)
    python mutation/run.py --sample N --seed S TARGET.py      (a seeded random sample of N mutants)
    python mutation/run.py --mutants NAME,NAME TARGET.py      (re-run named mutants, e.g. survivors)
    python mutation/run.py --together --sample 50 --seed 1 constructions/counts/*.py
                                        (one campaign for several modules: one test-statistics run)

Results: ``mutation/results/<module>.txt`` (mutmut's per-mutant status) and a summary line per
module on stdout; survivors are triaged by hand in ``mutation/triage.md``.
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


# Copied into mutmut's mutants/ tree beside the mutated package and tests/: without README.md,
# tests/test_figures.py fails in mutmut's clean run and no mutant of a module it can see is run.
ALSO_COPY = ("numerics", "constructions", "theorems", "papers", "schemas", "examples", "README.md",
             "CONTRIBUTING.md", "CITATION.cff", "LICENSE")


# Lines whose mutants can only change a message or reject bad input differently: validation
# (``raise ValueError/TypeError``), notes, exclusion reasons and describe() strings. Their mutants
# are "message-only" in the triage's terms and are not generated.
DO_NOT_MUTATE = (
    r"raise (ValueError|TypeError)",
    r"notes\.append\(",
    r"^\s*reason(_fine)? = ",
    r"^\s*(return )?\(?f\"",
    r"^\s*f\"",
)


def run_target(target: Path | list[Path], workdir: Path, claims: bool, tests: list[str] | None = None,
               sample: int = 0, seed: int = 0, mutants: list[str] | None = None, slow: bool = False
               ) -> tuple[int, int, dict[str, int]]:
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
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (scratch / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, scratch / f)
    # pyproject.toml has no [tool.mutmut]; the per-target configuration goes in setup.cfg.
    selection = "\n    ".join(tests)
    (scratch / "setup.cfg").write_text(
        "[mutmut]\n"
        f"source_paths=\n    {rel.parts[0]}\n"
        "only_mutate=\n    " + "\n    ".join(map(str, rels)) + "\n"
        # the repository files some tests read (README.md for tests/test_figures.py, schemas/, ...)
        "also_copy=\n    " + "\n    ".join(ALSO_COPY) + "\n"
        "process_isolation=forkserver\n"
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
    print(f"== {rel}: {len(tests)} test files: {' '.join(tests)}", flush=True)
    if mutants:
        # Re-run named mutants (e.g. the survivors of a sample, after new tests): their results go to
        # <module>.rerun.txt, so that the sample's <module>.txt stays as it was written.
        print(f"== {rel}: running {len(mutants)} named mutants", flush=True)
        subprocess.run([str(MUTMUT), "run", "--max-children", "1", *mutants], cwd=scratch, env=env, check=False)
    elif sample:
        # Generate the mutants and the test statistics once (no mutant named: none is run), then
        # run a seeded random sample of the generated mutants.
        subprocess.run([str(MUTMUT), "run", "--max-children", "1", "no-such-mutant"], cwd=scratch, env=env,
                       check=False)
        listed = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=scratch, env=env,
                                capture_output=True, text=True, check=False).stdout
        names = sorted(line.rsplit(":", 1)[0].strip() for line in listed.splitlines() if ":" in line)
        import random

        chosen = sorted(random.Random(seed).sample(names, min(sample, len(names))))
        print(f"== {rel}: {len(names)} mutants generated, running a sample of {len(chosen)} (seed {seed})",
              flush=True)
        subprocess.run([str(MUTMUT), "run", "--max-children", "1", *chosen], cwd=scratch, env=env, check=False)
    else:
        subprocess.run([str(MUTMUT), "run", "--max-children", "1"], cwd=scratch, env=env, check=False)
    res = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=scratch, env=env,
                         capture_output=True, text=True, check=False)
    out = ROOT / "mutation" / "results"
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".rerun.txt" if mutants else ".txt"
    for r in rels:
        prefix = ".".join(r.with_suffix("").parts) + "."
        lines = [line for line in res.stdout.splitlines(keepends=True) if line.strip().startswith(prefix)]
        text = res.stdout if len(rels) == 1 else "".join(lines)
        (out / (str(r).replace("/", "__").removesuffix(".py") + suffix)).write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for line in res.stdout.splitlines():
        if ":" in line:
            status = line.rsplit(":", 1)[1].strip()
            counts[status] = counts.get(status, 0) + 1
    total = sum(v for k, v in counts.items() if k != "not checked")
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    print(f"== {rel}: {killed}/{total} killed {counts}", flush=True)
    if len(rels) > 1:
        for r in rels:
            prefix = ".".join(r.with_suffix("").parts) + "."
            st = [line.rsplit(":", 1)[1].strip() for line in res.stdout.splitlines()
                  if ":" in line and line.strip().startswith(prefix)]
            run = [x for x in st if x != "not checked"]
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
    ap.add_argument("--mutants", default="",
                    help="comma-separated mutant names to run (results to mutation/results/<module>.rerun.txt)")
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
        run_target(t, Path(args.workdir), args.claims, tests, args.sample, args.seed, mutants, args.slow)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

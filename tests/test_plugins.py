"""Claims from outside the package (plugins, entry points, in-process registration), the pytest
plugin, seed sweeps, the verdict cache and the Dask runner.

Command-line runs use subprocesses, so that a plugin's claims never leak into this process's
registry (other tests compare the registry with papers/)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from numerics.integral_equations import FixedPointDivergenceError, FixedPointNotConvergedError
from theorems.registry import UnknownClaimError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "simpson"
SIMPSON = EXAMPLE / "theorycheck_simpson" / "claims.py"
CHEAP = ["davis1984.trapezoid_exact", "hairer1993.euler_order1"]


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


def _run(args, cwd=None, **env):
    return subprocess.run([sys.executable, *args], cwd=cwd or ROOT, env=_env(**env),
                          capture_output=True, text=True, timeout=600)


# --- errors that cross a process boundary ------------------------------------------------------


def test_errors_survive_pickling():
    err = pickle.loads(pickle.dumps(UnknownClaimError("simpson1743.ordr4", ["simpson1743.order4"])))
    assert isinstance(err, UnknownClaimError) and err.suggestions == ["simpson1743.order4"]
    assert "did you mean simpson1743.order4" in str(err)
    for cls in (FixedPointDivergenceError, FixedPointNotConvergedError):
        back = pickle.loads(pickle.dumps(cls("diverges", np.array([1.0, 2.0]))))
        assert type(back) is cls and str(back) == "diverges"
        np.testing.assert_array_equal(back.history, [1.0, 2.0])


# --- the worked example through --plugin -------------------------------------------------------


def test_example_plugin_verify_papers_and_appendix(tmp_path):
    ids = ["simpson1743.exact_cubics", "simpson1743.order4"]
    res = _run(["-m", "theorems", "verify", "--plugin", str(SIMPSON), *ids])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 of 2 claims pass" in res.stdout
    res = _run(["-m", "theorems", "papers", "--plugin", str(SIMPSON)])
    assert res.returncode == 0, res.stderr
    assert "simpson1743" in res.stdout
    out = tmp_path / "app"
    res = _run(["-m", "theorems", "appendix", "--plugin", str(SIMPSON), "--out", str(out), "--profile",
                "fast", "--jobs", "2", "--no-cache", *ids])
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads((out / "results.json").read_text())
    assert sorted(c["id"] for c in data["claims"]) == ids and all(c["passed"] for c in data["claims"])
    assert (out / "figures" / "simpson1743.order4.png").is_file()


def test_unknown_plugin_and_unknown_plugin_claim_exit_2():
    res = _run(["-m", "theorems", "verify", "--plugin", "no_such_module_xyz", "davis1984.trapezoid_exact"])
    assert res.returncode == 2 and "cannot load plugin" in res.stderr
    res = _run(["-m", "theorems", "verify", "--plugin", str(SIMPSON), "simpson1743.ordr4"])
    assert res.returncode == 2 and "did you mean simpson1743.order4" in res.stderr


def test_plugin_without_its_record_is_inconsistent(tmp_path):
    plugin = tmp_path / "norecord.py"
    plugin.write_text(textwrap.dedent("""
        from functools import partial
        from theorems.registry import Claim, Verdict, register
        def study(profile, seed, ok=True):
            return Verdict(holds=ok, measured="m", expected="e")
        register(Claim(id="nobody2001.claim", paper="nobody2001", where="p. 1", statement="s",
                       kind="identity", expected="e", study=study,
                       controls={"wrong": partial(study, ok=False)}))
    """))
    res = _run(["-m", "theorems", "papers", "--plugin", str(plugin)])
    assert res.returncode == 1 and "nobody2001.claim" in res.stderr


def test_entry_point_plugins_are_discovered(tmp_path):
    """A distribution installed with a theorycheck.claims entry point (pip install --target),
    found without --plugin."""
    target = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--target", str(target), str(EXAMPLE)],
                         capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        pytest.skip(f"pip cannot build the example here: {res.stderr[-300:]}")
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), str(target)])}
    proc = subprocess.run([sys.executable, "-m", "theorems", "verify", "simpson1743.order4"],
                          cwd=tmp_path, env=dict(os.environ, **env), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS simpson1743.order4" in proc.stdout


# --- in-process (notebook-style) registration with worker processes ----------------------------


def test_in_process_claim_runs_with_two_jobs(tmp_path):
    script = textwrap.dedent(f"""
        from functools import partial
        from theorems.appendix import write_appendix
        from theorems.registry import Claim, Verdict, register
        def study(profile, seed, ok=True):
            return Verdict(holds=ok, measured=f"seed {{seed}}", expected="holds")
        register(Claim(id="notebook2026.inline", paper="notebook2026", where="cell 3", statement="s",
                       kind="identity", expected="holds", study=study,
                       controls={{"wrong": partial(study, ok=False)}}))
        res = write_appendix({str(tmp_path / 'app')!r}, profile="fast", jobs=2,
                             claim_ids=["notebook2026.inline", *{CHEAP!r}])
        print("PASSED", sum(r.passed for r in res), len(res))
    """)
    res = _run(["-c", script])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PASSED 3 3" in res.stdout


# --- the pytest plugin -------------------------------------------------------------------------


def _pytest(args, cwd):
    return _run(["-m", "pytest", "-p", "no:cacheprovider", "-p", "theorems.pytest_plugin", *args], cwd=cwd)


def test_pytest_plugin_collects_every_claim_and_nothing_without_the_flag(tmp_path):
    from theorems.registry import all_claims

    res = _pytest(["--claims", "--collect-only", "-q"], tmp_path)
    collected = [line for line in res.stdout.splitlines() if line.startswith("claim[")]
    assert len(collected) == len(all_claims()), res.stdout[-2000:]
    res = _pytest(["-q"], tmp_path)
    assert res.returncode == 5, res.stdout  # pytest's "no tests collected": the plugin added nothing


def test_pytest_plugin_runs_a_plugin_and_selects_by_paper(tmp_path):
    res = _pytest(["--claims", f"--claims-plugin={SIMPSON}", "-m", "paper_simpson1743", "-q"], tmp_path)
    assert res.returncode == 0, res.stdout
    assert "2 passed" in res.stdout


def test_pytest_plugin_failure_shows_measured_expected_and_figure(tmp_path):
    plugin = tmp_path / "badplugin.py"
    plugin.write_text(textwrap.dedent("""
        from functools import partial
        from theorems.judges import plot_identity
        from theorems.registry import Claim, Verdict, register
        def study(profile, seed, ok=False):
            return Verdict(holds=ok, measured="order 1.02", expected="order 2",
                           evidence={"cases": [], "ratios": [2.0], "labels": ["x"]})
        register(Claim(id="wrong1999.order", paper="wrong1999", where="p. 1", statement="s",
                       kind="rate", expected="order 2", study=study, plot=None,
                       controls={"accepted": partial(study, ok=True)}))
    """))
    res = _pytest(["--claims", f"--claims-plugin={plugin}", "-k", "wrong1999", "-q"], tmp_path)
    assert res.returncode == 1
    assert "measured: order 1.02" in res.stdout and "expected: order 2" in res.stdout
    assert "negative control 'accepted' was accepted" in res.stdout
    assert "figure:" in res.stdout


def test_example_repository_runs_its_proof_check_with_plain_pytest():
    """In the example's folder, `pytest` (its pyproject adds --claims --claims-paper simpson1743)
    runs the rule's own tests and the paper's two claims; the plugin module is named by -p as it
    would be by the installed entry point."""
    res = _run(["-m", "pytest", "-p", "no:cacheprovider", "-p", "theorems.pytest_plugin",
                f"--claims-plugin={SIMPSON}", "-q"], cwd=EXAMPLE)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 passed" in res.stdout


# --- seed sweeps -------------------------------------------------------------------------------


def _flaky_plugin(tmp_path: Path) -> Path:
    plugin = tmp_path / "flaky.py"
    plugin.write_text(textwrap.dedent("""
        from functools import partial
        from theorems.registry import Claim, Verdict, register
        def study(profile, seed, wrong=False):
            holds = (seed != 1) if not wrong else (seed == 2)
            return Verdict(holds=holds, measured=f"seed {seed}", expected="all seeds")
        register(Claim(id="flaky2020.seed_one", paper="flaky2020", where="p. 1", statement="s",
                       kind="identity", expected="all seeds", study=study,
                       controls={"wrong": partial(study, wrong=True)}))
    """))
    return plugin


def test_sweep_reports_per_seed_failures_and_exit_codes(tmp_path):
    out = tmp_path / "sweep.json"
    res = _run(["-m", "theorems", "sweep", "--plugin", str(_flaky_plugin(tmp_path)), "--seeds", "0:4",
                "--json", str(out), "--no-cache", "--jobs", "1", "flaky2020.seed_one", CHEAP[0]])
    assert res.returncode == 1, res.stdout
    data = json.loads(out.read_text())
    row = data["claims"]["flaky2020.seed_one"]
    assert (row["seeds"], row["held"], row["controls_rejected"]["wrong"]) == (4, 3, 3)
    assert sorted(f["seed"] for f in row["failures"]) == [1, 2]
    assert data["claims"][CHEAP[0]]["passed"] is True
    assert "seed 1: claim does not hold" in res.stdout
    res = _run(["-m", "theorems", "sweep", "--seeds", "0:3", "--no-cache", "--jobs", "1", CHEAP[0]])
    assert res.returncode == 0, res.stdout
    assert f"{CHEAP[0]}" in res.stdout and "3/3" in res.stdout


def test_appendix_gains_a_seed_column(tmp_path):
    out = tmp_path / "app"
    res = _run(["-m", "theorems", "appendix", "--out", str(out), "--profile", "fast", "--seeds", "0:3",
                "--jobs", "1", "--cache-dir", str(tmp_path / "cache"), CHEAP[0]])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "holds at k/n seeds" in (out / "index.md").read_text()
    sweep = json.loads((out / "results.json").read_text())["claims"][0]["sweep"]
    assert (sweep["seeds"], sweep["held"]) == (3, 3)


def test_seed_ranges_parse_and_reject_nonsense():
    from theorems.sweep import parse_seeds

    assert parse_seeds("0:20") == list(range(20))
    assert parse_seeds("3") == [3] and parse_seeds("4,0,4") == [0, 4]
    for bad in ("", "5:5", "a:b", "-1:3"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


# --- the cache ---------------------------------------------------------------------------------


def _two_claim_package(tmp_path: Path) -> Path:
    """A plugin package with two papers' modules, each importing its own construction."""
    pkg = tmp_path / "twopapers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from twopapers import alpha2001, beta2002  # noqa\n")
    (pkg / "cons_a.py").write_text("def value():\n    return 1.0\n")
    (pkg / "cons_b.py").write_text("def value():\n    return 2.0\n")
    template = textwrap.dedent("""
        from functools import partial
        from theorems.registry import Claim, Verdict, register
        {imports}
        def study(profile, seed, ok=True):
            {body}
            return Verdict(holds=ok, measured=str(value()), expected="e")
        register(Claim(id="{key}.c", paper="{key}", where="p. 1", statement="s", kind="identity",
                       expected="e", study=study, controls={{"wrong": partial(study, ok=False)}}))
    """)
    (pkg / "alpha2001.py").write_text(template.format(
        key="alpha2001", imports="from twopapers.cons_a import value", body="pass"))
    # an import inside a function counts too
    (pkg / "beta2002.py").write_text(template.format(
        key="beta2002", imports="", body="from twopapers.cons_b import value"))
    return pkg


def test_cache_reruns_exactly_the_claims_that_import_a_changed_module(tmp_path):
    pkg = _two_claim_package(tmp_path)
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(tmp_path)!r})
        from theorems.cache import Cache
        from theorems.plugins import load_plugin
        from theorems.runner import run_jobs
        load_plugin("twopapers")
        cache = Cache({str(tmp_path / 'cache')!r})
        ran = []
        run_jobs([("alpha2001.c", 0), ("beta2002.c", 0)], profile="fast", figure=False, cache=cache,
                 progress=lambda k, n, cid, s, d, cached: ran.append((cid, cached)))
        print("RAN", sorted(ran))
    """)
    first = _run(["-c", script])
    assert "('alpha2001.c', False), ('beta2002.c', False)" in first.stdout, first.stdout + first.stderr
    warm = _run(["-c", script])
    assert "('alpha2001.c', True), ('beta2002.c', True)" in warm.stdout, warm.stdout + warm.stderr
    (pkg / "cons_b.py").write_text("def value():\n    return 2.0  # touched\n")
    touched = _run(["-c", script])
    assert "('alpha2001.c', True), ('beta2002.c', False)" in touched.stdout, touched.stdout


def test_cache_key_depends_on_sources_versions_and_arguments(monkeypatch):
    from theorems import cache

    base = cache.cache_key(CHEAP[0], "fast", 0, "theorems.calibration.davis1984")
    assert base is not None
    assert cache.cache_key(CHEAP[0], "fast", 1, "theorems.calibration.davis1984") != base
    assert cache.cache_key(CHEAP[0], "full", 0, "theorems.calibration.davis1984") != base
    assert cache.cache_key(CHEAP[0], "fast", 0, "__main__") is None
    deps = cache.dependency_files("theorems.calibration.davis1984")
    assert "numerics.quadrature" in deps and "theorems.calibration._common" in deps
    assert "numerics" in deps and "theorems.judges" in deps
    assert "constructions.in_context.icl" not in deps
    monkeypatch.setattr(cache, "_installed_versions", lambda: (("numpy", "0.0"),))
    assert cache.cache_key(CHEAP[0], "fast", 0, "theorems.calibration.davis1984") != base


def test_appendix_reuses_cached_verdicts_with_identical_output(tmp_path):
    cache_dir = tmp_path / "cache"
    outs = []
    for k in range(2):
        out = tmp_path / f"app{k}"
        res = _run(["-m", "theorems", "appendix", "--out", str(out), "--profile", "fast", "--jobs", "1",
                    "--cache-dir", str(cache_dir), *CHEAP])
        assert res.returncode == 0, res.stdout + res.stderr
        outs.append(out)
    assert "2 cached results reused" in res.stdout
    assert (outs[0] / "results.json").read_bytes() == (outs[1] / "results.json").read_bytes()
    for cid in CHEAP:
        png = f"figures/{cid}.png"
        assert (outs[0] / png).read_bytes() == (outs[1] / png).read_bytes()


# --- the Dask runner ---------------------------------------------------------------------------


def test_dask_local_cluster_gives_byte_identical_results(tmp_path):
    pytest.importorskip("distributed")
    script = textwrap.dedent(f"""
        from distributed import LocalCluster
        from theorems.appendix import write_appendix
        if __name__ == "__main__":
            write_appendix({str(tmp_path / 'local')!r}, profile="fast", jobs=1, claim_ids={CHEAP!r})
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                write_appendix({str(tmp_path / 'dask')!r}, profile="fast", claim_ids={CHEAP!r},
                               scheduler=cluster.scheduler_address)
            print("DONE")
    """)
    path = tmp_path / "run_dask.py"
    path.write_text(script)
    res = _run([str(path)])
    assert "DONE" in res.stdout, res.stdout + res.stderr[-3000:]
    local, dask = (tmp_path / "local" / "results.json"), (tmp_path / "dask" / "results.json")
    assert local.read_bytes() == dask.read_bytes()


def test_the_test_run_never_touches_the_user_cache():
    """conftest points the verdict cache at a temporary folder: a verdict left in ~/.cache by an
    earlier `make appendix` must not be reused by a test (it once made a run finish before the
    signal test could interrupt it), and the tests must not fill the user's cache."""
    from theorems.cache import default_dir, user_cache_dir

    assert default_dir() != user_cache_dir()
    assert default_dir().name.startswith("theorycheck-test-cache-")
    assert os.environ["THEORYCHECK_CACHE"] == str(default_dir())


def test_get_imports_the_paper_module_first_and_a_reused_builtin_id_still_fails(tmp_path):
    """get(ID) before the full discovery imports theorems.<family>.<paper> only (one paper module,
    not all 44); an id its module does not hold triggers the full discovery (and is then found or
    reported unknown with suggestions); a plugin that registers a built-in id is rejected as
    'registered twice' even though nothing else was discovered."""
    script = textwrap.dedent("""
        import sys
        from theorems.registry import get, UnknownClaimError
        get("davis1984.trapezoid_exact")
        papers = sorted(m for m in sys.modules if m.count(".") == 2 and m.startswith("theorems.")
                        and not m.rsplit(".", 1)[1].startswith("_"))
        print("lazy", papers)
        try:
            get("davis1984.no_such_claim")
        except UnknownClaimError as exc:
            print("unknown", exc.suggestions)
        print("full", sum(m.startswith("theorems.in_context.") for m in sys.modules) > 3)
    """)
    res = _run(["-c", script])
    assert res.returncode == 0, res.stderr
    assert "lazy ['theorems.calibration.davis1984']" in res.stdout
    assert "unknown ['davis1984." in res.stdout and "full True" in res.stdout
    plugin = tmp_path / "dup.py"
    plugin.write_text(textwrap.dedent("""
        from theorems.registry import Claim, register
        from theorems.judges import identity_verdict
        register(Claim(id="davis1984.trapezoid_exact", paper="davis1984", where="x", statement="x",
                       kind="identity", expected="x", study=lambda p, s: identity_verdict([], expected="x"),
                       controls={"c": lambda p, s: identity_verdict([], expected="x")}))
    """))
    res = _run(["-m", "theorems", "verify", "--plugin", str(plugin), "davis1984.trapezoid_exact"])
    assert res.returncode != 0 and "registered twice" in res.stderr, (res.returncode, res.stderr[-500:])

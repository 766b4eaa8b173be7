"""The appendix as a document (theorems.document): index.md sections, the LaTeX appendix that
compiles, references.bib, results.json against its JSON Schema (NaN/inf as null with a flag),
environment.json, CITATION.cff / LICENSE / README citation in step, and the cite, diff, verify
--paper and list commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from theorems import cli
from theorems.appendix import write_appendix
from theorems.document import diff_results, software_bibtex, strict_json, tex
from theorems.registry import Claim, Verdict, register, unregister

ROOT = Path(__file__).resolve().parent.parent
IDS = ["davis1984.trapezoid_exact", "hairer1993.euler_order1", "guibas2021.not_shift_equivariant"]


def _nonfinite_study(profile, seed, holds=True):
    return Verdict(holds=holds, measured="a study with non-finite evidence", expected="null, flagged",
                   evidence={"x": np.array([1.0, np.nan, np.inf]), "worst": -np.inf, "ok": 2.0},
                   notes="first line of a note\nsecond line")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One small fast appendix (two real claims, a finding and a claim with NaN/inf evidence)."""
    claim = Claim(id="nonfinite2000.flags", paper="nonfinite2000", where="test", statement="s",
                  kind="identity", expected="e", study=_nonfinite_study,
                  controls={"negated": partial(_nonfinite_study, holds=False)})
    register(claim)
    out = tmp_path_factory.mktemp("doc") / "app"
    try:
        write_appendix(out, profile="fast", seed=0, jobs=1, claim_ids=[*IDS, claim.id])
    finally:
        unregister(claim.id)
    return out


def test_index_md_is_a_document(app):
    text = (app / "index.md").read_text()
    for heading in ("## Summary", "## Contents", "Family `calibration`", "Family `neural_operators`",
                    "## <a id=\"findings\"></a>Findings", "Overview table", "Environment"):
        assert heading in text, heading
    rec = tomllib.loads((ROOT / "papers" / "guibas2021.toml").read_text())
    assert rec["title"] in text and f"arXiv:{rec['arxiv']}" in text
    assert "cite as `\\cite{" in text
    # each claim block: statement, where, expected, measured, verdict, controls with numbers, figure
    block = text.split("`hairer1993.euler_order1`: holds", 1)[1].split("####", 1)[0]
    for part in ("**Statement.**", "**Where.**", "**Expected.**", "**Measured.**", "**Verdict.**",
                 "**Negative controls** (1 of 1 rejected)", "order = ", "**Excluded points**",
                 "pre-asymptotic", "![hairer1993.euler_order1"):
        assert part in block, part
    assert "**Notes and caveats.**" in text and "second line" in text
    assert "- **Counterexample.** minimal case" in text


def test_results_json_matches_its_schema_and_flags_nonfinite(app):
    jsonschema = pytest.importorskip("jsonschema")
    raw = (app / "results.json").read_text()
    data = json.loads(raw)
    schema = json.loads((ROOT / "schemas" / "results.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)  # draft-07: jsonschema >= 3 reads it
    validator.check_schema(schema)
    validator(schema).validate(data)
    assert data["schema_version"] == "1.0"
    assert "NaN" not in raw and "Infinity" not in raw

    def strings(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k != "nonfinite":
                    yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)
        elif isinstance(x, str):
            yield x

    assert not {"nan", "inf", "-inf"} & set(strings(data))  # never strings for numbers
    claim = next(c for c in data["claims"] if c["id"] == "nonfinite2000.flags")
    assert claim["evidence"]["x"] == [1.0, None, None] and claim["evidence"]["worst"] is None
    kinds = {f["path"]: f["kind"] for f in claim["nonfinite"]}
    assert kinds["/evidence/x/1"] == "nan" and kinds["/evidence/x/2"] == "inf"
    assert kinds["/evidence/worst"] == "-inf"
    euler = next(c for c in data["claims"] if c["id"] == "hairer1993.euler_order1")
    control = next(iter(euler["controls"].values()))
    assert isinstance(control["numbers"]["order"], float) and len(control["numbers"]["ci"]) == 2
    assert euler["family"] == "calibration" and euler["excluded"][0]["reason"]


def test_strict_json_round_trip():
    clean, flags = strict_json({"a": [np.float64(np.nan), 1], "b/c": {"d": np.inf}})
    assert clean == {"a": [None, 1], "b/c": {"d": None}}
    assert flags == [{"path": "/a/0", "kind": "nan"}, {"path": "/b~1c/d", "kind": "inf"}]


def test_environment_json(app):
    env = json.loads((app / "environment.json").read_text())
    assert "numpy" in env["distributions"] and env["python"] == sys.version.split()[0]
    assert env["cpu"] and env["platform"]
    assert env["blas"] is None or isinstance(env["blas"], list)
    assert "python -m theorems appendix" in env["rerun"] and "--profile fast --seed 0" in env["rerun"]
    assert all(i in env["rerun"] for i in IDS)


def test_references_bib_and_claims_fragment(app):
    bib = (app / "references.bib").read_text()
    assert "@book{davis1984methods," in bib and bib.count("\n@") + bib.startswith("@") >= 3
    frag = (app / "claims.tex").read_text()
    assert r"\caption{" in frag and r"\label{tab:theorycheck-claims}" in frag
    assert r"\cite{davis1984methods}" in frag


def test_tex_escapes_and_breaks():
    assert tex("|z| <= 1 & 50% _x") == (r"\textbar{}z\textbar{} \textless{}=\allowbreak{} 1 \& 50\% "
                                          r"\_\allowbreak{}x")
    assert "[U+2603]" in tex("snow \u2603")  # unknown characters are shown, never dropped
    assert tex("Lie\u2013Trotter") == "Lie--Trotter"


def _pdflatex(folder: Path, name: str) -> str:
    for _ in range(2):  # twice: references and labels
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name], cwd=folder,
                       capture_output=True, timeout=120)
    return (folder / (Path(name).stem + ".log")).read_text(errors="replace")


def _overfull(log: str) -> list[float]:
    return [float(x) for x in re.findall(r"Overfull \\[hv]box \(([0-9.]+)pt too", log)]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH (see README)")
def test_appendix_tex_compiles_without_errors_or_overfull_boxes(app, tmp_path):
    folder = tmp_path / "tex"
    shutil.copytree(app, folder)
    log = _pdflatex(folder, "appendix.tex")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert not errors, errors
    assert (folder / "appendix.pdf").is_file()
    wide = [w for w in _overfull(log) if w > 1.0]
    assert not wide, f"overfull boxes wider than 1pt: {wide}"
    assert "Citation" not in " ".join(line for line in log.splitlines() if "undefined" in line)
    # the fragment compiles inside a user's document with the documented packages
    (folder / "user.tex").write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
                                     "\\usepackage{longtable,booktabs,array}\n\\begin{document}\n"
                                     "\\input{claims.tex}\n\\end{document}\n")
    log = _pdflatex(folder, "user.tex")
    assert not [line for line in log.splitlines() if line.startswith("!")]
    assert not [w for w in _overfull(log) if w > 1.0]


def test_citation_cff_is_valid_and_readme_snippet_in_step():
    ruamel = pytest.importorskip("ruamel.yaml")
    cffconvert = shutil.which("cffconvert") or str(Path(sys.executable).with_name("cffconvert"))
    if not Path(cffconvert).exists():
        pytest.skip("cffconvert not installed")
    res = subprocess.run([cffconvert, "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    cff = ruamel.YAML(typ="safe").load((ROOT / "CITATION.cff").read_text())
    readme = (ROOT / "README.md").read_text()
    cite_section = readme.split("## How to cite", 1)[1]
    snippet = cite_section.split("```bibtex\n", 1)[1].split("\n```", 1)[0]
    assert snippet == software_bibtex(cff)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == cff["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert pyproject["project"]["version"] == str(cff["version"])


def test_cite_command(app, capsys, monkeypatch, tmp_path):
    assert cli.main(["cite", "davis1984.trapezoid_exact", "hairer1993"]) == 0
    out = capsys.readouterr().out
    assert "@book{davis1984methods," in out and "hairer1993" in out
    assert cli.main(["cite", "nosuch2000.x"]) == 2
    assert cli.main(["cite", "--appendix", str(app)]) == 0
    out = capsys.readouterr().out
    assert "davis1984methods" in out and "guibas2022afno" in out
    # no argument: the last appendix written on this machine (recorded under XDG_CACHE_HOME)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cli.main(["cite"]) == 2
    (tmp_path / "cache" / "theorycheck").mkdir(parents=True)
    (tmp_path / "cache" / "theorycheck" / "last-appendix").write_text(str(app))
    assert cli.main(["cite"]) == 0
    assert "davis1984methods" in capsys.readouterr().out


def test_diff(app, tmp_path, capsys):
    assert cli.main(["diff", str(app), str(app)]) == 0
    data = json.loads((app / "results.json").read_text())
    claim = next(c for c in data["claims"] if c["id"] == "hairer1993.euler_order1")
    claim["evidence"]["order"] *= 1.01
    data["claims"][0]["verdict"] = "FAIL"
    (tmp_path / "new.json").write_text(json.dumps(data))
    assert cli.main(["diff", str(app), str(tmp_path / "new.json")]) == 1
    out = capsys.readouterr().out
    assert "numbers  hairer1993.euler_order1: 1 moved" in out and "/evidence/order" in out
    assert f"verdict  {data['claims'][0]['id']}" in out
    old = json.loads((app / "results.json").read_text())
    assert diff_results(old, data, rtol=0.02) == [l for l in diff_results(old, data, rtol=0.02)
                                                  if not l.startswith("numbers  hairer1993")]


def test_verify_paper_kind_and_jobs(capsys):
    assert cli.main(["verify", "--paper", "davis1984", "--kind", "identity"]) == 0
    out = capsys.readouterr().out
    assert "davis1984.trapezoid_exact" in out and "trapezoid_order2" not in out and "1 of 1" in out
    assert cli.main(["verify", "--paper", "davis198"]) == 2
    assert "did you mean davis1984" in capsys.readouterr().err
    assert cli.main(["verify", "--jobs", "2", "davis1984.trapezoid_exact", "hairer1993.euler_order1"]) == 0
    assert "2 of 2 claims pass" in capsys.readouterr().out


def test_list_fits_100_columns(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 10 and max(len(line) for line in lines) <= 100
    assert cli.main(["list", "--paper", "davis1984", "--kind", "rate"]) == 0
    out = capsys.readouterr().out
    assert "davis1984.trapezoid_order2" in out and "trapezoid_exact" not in out

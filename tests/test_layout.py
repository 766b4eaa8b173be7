"""The house layout (CONTRIBUTING.md, "Layout"): the machinery alone at the top of theorems/,
one folder per family mirrored in constructions/ and tests/, no paper module importing another
paper's, imports flowing numerics <- constructions <- theorems, and every dotted path that the
README and CONTRIBUTING.md name importable."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MACHINERY = {"__init__", "__main__", "registry", "judges", "records", "appendix", "cli"}
PAPER_KEY = re.compile(r"^([a-z]+[0-9]{4})")


def _families() -> list[str]:
    return sorted(p.name for p in (ROOT / "theorems").iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and not p.name.startswith("_"))


def _imports(path: Path) -> list[str]:
    """Every module a file imports (absolute names; `from a.b import c` yields a.b and a.b.c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def test_theorems_top_level_is_machinery_only():
    """No paper module (a name starting with a paper key) and no claim registration at the top."""
    stray = []
    for path in sorted((ROOT / "theorems").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if PAPER_KEY.match(path.stem) or (path.stem != "registry" and "register(Claim(" in text):
            stray.append(path.stem)
    assert not stray, f"paper modules outside a family folder: {stray}"
    assert MACHINERY <= {p.stem for p in (ROOT / "theorems").glob("*.py")}


def test_families_are_mirrored():
    fams = _families()
    assert {"calibration", "in_context", "splitting", "integral_operators", "universal",
            "sequence"} <= set(fams)
    for fam in fams:
        assert (ROOT / "tests" / fam).is_dir(), f"tests/{fam}/ missing"
    for p in (ROOT / "constructions").iterdir():
        if p.is_dir() and not p.name.startswith("_"):
            assert p.name in fams, f"constructions/{p.name}/ has no theorems family"
    flat = sorted(p.name for p in (ROOT / "constructions").glob("*.py") if p.stem != "__init__")
    assert not flat, f"flat construction modules: {flat}"


def test_no_paper_module_imports_another_paper():
    offenders = []
    for fam in _families():
        for path in sorted((ROOT / "theorems" / fam).glob("*.py")):
            own = PAPER_KEY.match(path.stem)
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] != "theorems" or len(parts) < 3:
                    continue
                other = PAPER_KEY.match(parts[2])
                if other and (own is None or other.group(1) != own.group(1)):
                    offenders.append(f"theorems/{fam}/{path.name} imports {name}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("layer,forbidden", [
    ("numerics", ("constructions", "theorems")),
    ("constructions", ("theorems",)),
])
def test_imports_flow_one_way(layer, forbidden):
    offenders = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in forbidden:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_the_scan_catches_a_cross_paper_import(tmp_path):
    """Negative control for the scan itself: a planted cross-paper import is found."""
    f = tmp_path / "ahn2023.py"
    f.write_text("from theorems.in_context.vonoswald2023 import draw_regression\n")
    names = _imports(f)
    assert "theorems.in_context.vonoswald2023" in names


_DOTTED = re.compile(r"\b((?:constructions|numerics|theorems)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def _dotted_paths(text: str) -> set[str]:
    return {m.group(1).rstrip(".") for m in _DOTTED.finditer(text)}


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@pytest.mark.parametrize("doc", ["README.md", "CONTRIBUTING.md"])
def test_every_dotted_path_in_the_docs_imports(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    paths = _dotted_paths(text)
    assert paths, f"{doc} names no dotted path at all"
    broken = sorted(p for p in paths if not _resolves(p))
    assert not broken, f"{doc} names paths that do not import: {broken}"


def test_every_file_path_in_the_docs_and_papers_exists():
    pattern = re.compile(r"\b((?:constructions|numerics|theorems|tests)/[A-Za-z0-9_/]+\.py)\b")
    docs = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "papers").glob("*"))]
    missing = []
    for doc in docs:
        for m in pattern.finditer(doc.read_text(encoding="utf-8")):
            if not (ROOT / m.group(1)).exists():
                missing.append(f"{doc.name}: {m.group(1)}")
    assert not missing, "\n".join(missing)


def test_no_docstring_points_to_the_guide():
    offenders = []
    for folder in ("numerics", "constructions", "theorems", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "test_layout.py":
                continue
            if "GUIDE" in path.read_text(encoding="utf-8"):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"files that cite GUIDE.md, which users never get: {offenders}"

"""Cached studies: a claim's result is reused while nothing it depends on has changed.

The key of one run is a SHA-256 over

* the claim id, the profile and the seed (and whether a figure was asked for);
* the source bytes of the module that registered the claim and of every module it imports,
  transitively, inside the project (``numerics``, ``constructions``, ``theorems`` and the plugin's
  own top-level package), found statically with :mod:`ast`, so an import inside a function counts
  too; the ``__init__.py`` of each parent package is hashed as well (it runs first), without
  following its own imports;
* the installed versions of the numerical dependencies (:data:`VERSIONED`) and Python's.

A change to one construction therefore reruns exactly the claims whose modules import it, directly
or through another module. A claim registered in-process (``__main__``) has no source file to hash
and is never cached.

Entries live in ``$THEORYCHECK_CACHE`` or ``~/.cache/theorycheck`` (or the folder given), one
folder per key holding ``result.json`` and the figure files. Writing is atomic (a temporary
folder renamed into place), so concurrent workers and an interrupted run never leave a torn entry.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["VERSIONED", "user_cache_dir", "default_dir", "dependency_files", "cache_key", "Cache"]

VERSIONED = ("numpy", "scipy", "jax", "jaxlib", "matplotlib", "mpmath", "optax", "sympy")
PROJECT_PACKAGES = ("numerics", "constructions", "theorems")


def user_cache_dir() -> Path:
    """theorycheck's folder under the user's cache home ($XDG_CACHE_HOME or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "theorycheck"


def default_dir() -> Path:
    """The verdict cache: $THEORYCHECK_CACHE, else :func:`user_cache_dir`."""
    env = os.environ.get("THEORYCHECK_CACHE")
    return Path(env) if env else user_cache_dir()


@lru_cache(maxsize=4096)
def _module_file(name: str) -> str | None:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None) if module is not None else None
    if path is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        path = spec.origin if spec is not None and spec.has_location else None
    return str(Path(path).resolve()) if path and path.endswith(".py") else None


def _imported_names(path: str, module: str) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against ``module``)."""
    tree = ast.parse(Path(path).read_bytes(), filename=path)
    is_pkg = Path(path).name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, base] if base else parts)
            if base:
                names.add(base)
                names.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
    return names


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def dependency_files(module: str) -> dict[str, str]:
    return dict(_dependency_files(module))


@lru_cache(maxsize=1024)  # one run asks once per module, not once per (claim, seed) job
def _dependency_files(module: str) -> tuple[tuple[str, str], ...]:
    """module name -> file of ``module`` and of everything it imports inside the project.

    Imports are followed transitively. A parent package's ``__init__.py`` runs before its
    submodule, so its source is hashed too, but its own imports are not followed: a package
    ``__init__`` that imports all its submodules would otherwise make every claim depend on every
    sibling."""
    roots = set(PROJECT_PACKAGES) | {module.split(".")[0]}
    hashed: dict[str, str] = {}
    followed: set[str] = set()
    stack = [module]
    while stack:
        name = stack.pop()
        if name in followed or name.split(".")[0] not in roots:
            continue
        path = _module_file(name)
        if path is None:  # an attribute imported with `from a import b`, or not a source module
            continue
        followed.add(name)
        hashed[name] = path
        for parent in _with_parents(name)[:-1]:
            parent_path = _module_file(parent)
            if parent_path is not None:
                hashed[parent] = parent_path
        stack.extend(_imported_names(path, name))
    return tuple(sorted(hashed.items()))


@lru_cache(maxsize=4096)
def _digest(path: str, mtime_ns: int, size: int) -> bytes:
    return hashlib.sha256(Path(path).read_bytes()).digest()


def _file_digest(path: str) -> bytes:
    st = os.stat(path)
    return _digest(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=1)
def _installed_versions() -> tuple[tuple[str, str | None], ...]:
    return tuple(_versions().items())


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for pkg in VERSIONED:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def cache_key(claim_id: str, profile: str, seed: int, module: str, *, figure: bool = True) -> str | None:
    """The key of one run, or None when the claim cannot be cached (registered in-process)."""
    if module == "__main__" or _module_file(module) is None:
        return None
    h = hashlib.sha256()
    h.update(json.dumps({"claim": claim_id, "profile": profile, "seed": seed, "figure": figure,
                         "versions": dict(_installed_versions())}, sort_keys=True).encode())
    for name, path in _dependency_files(module):
        h.update(name.encode() + b"\0" + _file_digest(path))
    return h.hexdigest()


class Cache:
    """Verdict cache on disk (see the module docstring). ``enabled=False`` reads nothing but still
    writes, so ``--no-cache`` forces a rerun and refreshes the entries."""

    def __init__(self, folder: Path | str | None = None, *, enabled: bool = True):
        self.folder = Path(folder) if folder is not None else default_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def load(self, key: str | None) -> tuple[dict[str, Any], dict[str, bytes]] | None:
        if key is None or not self.enabled:
            self.misses += 1
            return None
        entry = self.folder / key
        try:
            result = json.loads((entry / "result.json").read_text(encoding="utf-8"))
            figures = {p.name: p.read_bytes() for p in sorted(entry.iterdir()) if p.name != "result.json"}
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return result, figures

    def store(self, key: str | None, result: dict[str, Any], figures: dict[str, bytes]) -> None:
        if key is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=self.folder))
        try:
            # NaN and inf round-trip through Python's json (results.json is made strict later)
            (tmp / "result.json").write_text(json.dumps(result, allow_nan=True),
                                             encoding="utf-8")
            for name, data in figures.items():
                (tmp / name).write_bytes(data)
            target = self.folder / key
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        except (OSError, TypeError, ValueError):  # an unstorable result is simply not cached
            shutil.rmtree(tmp, ignore_errors=True)

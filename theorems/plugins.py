"""Claims from outside the package: plugin modules, entry points, and their papers folders.

A *plugin* is any module that registers claims with :func:`theorems.registry.register` when it is
imported. There are two ways to bring one in:

* an installed distribution names it in the entry-point group ``theorycheck.claims``
  (``[project.entry-points."theorycheck.claims"] mypaper = "mypaper.claims"``); the registry
  imports every such module on first use, after the built-in families;
* ``--plugin MODULE_OR_PATH`` on any command line (or :func:`load_plugin`): a dotted module name,
  or the path of a ``.py`` file or of a package folder.

Every plugin that was loaded is remembered (:func:`loaded_specs`) so that worker processes, local
or on a Dask cluster, import the same plugins again before they look a claim up.

**Papers folder.** A plugin keeps its own ``papers/`` records (same format as theorycheck's
``papers/``, same consistency check). It is, in this order: the module attribute
``THEORYCHECK_PAPERS`` (a path, relative to the module's file when relative), or a folder named
``papers`` beside the module's file (or its package's), or none (then its claims are reported as
having no record).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = [
    "ENTRY_POINT_GROUP",
    "Plugin",
    "load_plugin",
    "load_plugins",
    "load_entry_points",
    "loaded_specs",
    "plugins",
    "papers_dir_for_claim",
]

ENTRY_POINT_GROUP = "theorycheck.claims"


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin: how it was named, the module, the claims it registered, its papers."""

    spec: str
    module: str
    claim_ids: tuple[str, ...]
    papers_dir: Path | None


_LOADED: dict[str, Plugin] = {}  # spec -> Plugin, in load order


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".py") or "/" in spec or "\\" in spec or Path(spec).is_dir()


def _package_name(path: Path) -> tuple[str, Path] | None:
    """For a file or folder inside a package: (its dotted name, the folder above the top package)."""
    parts = [path.stem] if path.is_file() else []
    folder = path.parent if path.is_file() else path
    if path.is_file() and not (folder / "__init__.py").is_file():
        return None
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if path.is_file() and path.name == "__init__.py":
        parts.pop()
    return ".".join(parts), folder


def _import_path(path: Path) -> ModuleType:
    """Import a .py file or a package folder. A file inside a package is imported under its
    dotted name (the folder above the package goes on sys.path), so that ``--plugin pkg/claims.py``
    and ``import pkg.claims`` are one module; a loose file gets a name derived from its stem."""
    path = path.resolve()
    if not path.exists():
        raise FileNotFoundError(f"plugin {str(path)!r} is neither a module name nor an existing path")
    if path.is_dir() and not (path / "__init__.py").is_file():
        raise ValueError(f"plugin folder {path} is not a package (no __init__.py)")
    if path.is_file() and path.suffix != ".py":
        raise ValueError(f"plugin file {path} is not a .py file")
    packaged = _package_name(path)
    if packaged is not None:
        name, top = packaged
        if str(top) not in sys.path:
            sys.path.insert(0, str(top))
        return importlib.import_module(name)
    name = f"theorycheck_plugin_{path.stem}"
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path:
        return existing
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import plugin from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _papers_dir(module: ModuleType) -> Path | None:
    declared = getattr(module, "THEORYCHECK_PAPERS", None)
    here = Path(module.__file__).resolve().parent if getattr(module, "__file__", None) else None
    if declared is not None:
        path = Path(declared)
        if not path.is_absolute() and here is not None:
            path = here / path
        if not path.is_dir():
            raise FileNotFoundError(f"plugin {module.__name__}: THEORYCHECK_PAPERS {str(path)!r} is not a folder")
        return path.resolve()
    if here is not None:
        for folder in (here, here.parent):
            if (folder / "papers").is_dir():
                return (folder / "papers").resolve()
    return None


def load_plugin(spec: str) -> Plugin:
    """Import one plugin (module name or path) once; returns what it registered."""
    from theorems import registry

    if not isinstance(spec, str) or not spec.strip():
        raise TypeError(f"a plugin is a module name or a path (str), got {spec!r}")
    spec = spec.strip()
    key = str(Path(spec).resolve()) if _looks_like_path(spec) else spec
    if key in _LOADED:
        return _LOADED[key]
    registry.all_claims()  # built-ins and entry points first, so a plugin's ids are its own
    before = set(registry._REGISTRY)
    module = _import_path(Path(spec)) if _looks_like_path(spec) else importlib.import_module(spec)
    new = tuple(sorted(set(registry._REGISTRY) - before))
    # a module imported earlier (e.g. by a test) registered its claims then: find them by origin
    if not new:
        new = tuple(sorted(cid for cid, mod in registry._ORIGIN.items()
                           if mod == module.__name__ or mod.startswith(module.__name__ + ".")))
    plugin = Plugin(spec=key, module=module.__name__, claim_ids=new, papers_dir=_papers_dir(module))
    _LOADED[key] = plugin
    return plugin


def load_plugins(specs) -> list[Plugin]:
    """Load every plugin spec in order (the worker-side counterpart of ``--plugin``)."""
    return [load_plugin(s) for s in (specs or ())]


def load_entry_points() -> list[Plugin]:
    """Import every module named in the ``theorycheck.claims`` entry-point group."""
    loaded = []
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        loaded.append(load_plugin(ep.value.split(":", 1)[0]))
    return loaded


def loaded_specs() -> list[str]:
    """The specs of every plugin loaded so far, in load order (passed on to worker processes)."""
    return list(_LOADED)


def plugins() -> list[Plugin]:
    return list(_LOADED.values())


def papers_dir_for_claim(claim_id: str) -> Path | None:
    """The papers folder that must hold this claim's record: theorycheck's own for built-in
    claims, the plugin's for a plugin's, None for a claim registered in-process."""
    from theorems import registry
    from theorems.records import PAPERS_DIR

    module = registry.origin(claim_id)
    if module.startswith("theorems."):
        return PAPERS_DIR
    for plugin in _LOADED.values():
        if claim_id in plugin.claim_ids:
            return plugin.papers_dir
    return None

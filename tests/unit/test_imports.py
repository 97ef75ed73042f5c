"""Hadron's import graph: no cycles, the layering of docs/ARCHITECTURE.md, clean imports.

The graph is read from the source with :mod:`ast`: every ``import`` and ``from … import``
under ``hadron/``, at module level and inside functions alike, except those in an
``if TYPE_CHECKING:`` block (they never run). ``from package import name`` counts as an import of
the submodule ``package.name`` when that submodule exists, else of ``package``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from hadron._pure import HOT_MODULES

ROOT = Path(__file__).resolve().parents[2] / "hadron"

# -- the graph ----------------------------------------------------------------------------------


def _modules() -> dict[str, Path]:
    # module name → file, for every .py under hadron/
    mods: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        mods[name] = path
    return mods


MODULES = _modules()


def _owner(name: str) -> str | None:
    # The hadron module that ``name`` is or lives in (a class or function imported by name)
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    # Every import statement that can run: TYPE_CHECKING blocks skipped (their else branch kept)
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for node in child.orelse:
                yield from _imports(ast.Module(body=[node], type_ignores=[]))
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        else:
            yield from _imports(child)


def _targets(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            owner = _owner(alias.name)
            if owner:
                yield owner
        return
    base = node.module or ""
    if node.level:  # relative: resolved against the importing module's package
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        parts = package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    for alias in node.names:
        full = f"{base}.{alias.name}"
        owner = full if full in MODULES else _owner(base)
        if owner:
            yield owner


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _imports(tree):
            for target in _targets(name, path, node):
                if target != name:
                    graph[name].add(target)
    return graph


GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's strongly connected components; every component of two or more modules is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(MODULES):
            if v not in index:
                strong(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _path_within(component: list[str]) -> list[str]:
    # One concrete loop through a component, for the failure message: a → b → … → a
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(GRAPH.get(v, ())):
                if w == start:
                    loop = [v]
                    while loop[-1] != start:
                        loop.append(parents[loop[-1]])
                    return [start, *reversed(loop[:-1]), v, start] if v != start else [start, start]
                if w in members and w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    return component


def test_no_import_cycle() -> None:
    cycles = _cycles(GRAPH)
    lines = [f"  {len(c)} modules: {', '.join(c)}\n    e.g. {' → '.join(_path_within(c))}" for c in cycles]
    assert not cycles, "import cycles under hadron/ (TYPE_CHECKING imports excluded):\n" + "\n".join(lines)


# -- the layers (docs/ARCHITECTURE.md, "Layers") -----------------------------------------------

SEAM_MODULES = frozenset(
    {"hadron.venues", "hadron.venues.base", "hadron.venues.feedstats", "hadron.venues.account_script"}
)
"""What the core may import of ``hadron.venues``: the registry, the capability protocols and the
types they hand out."""

VENUE_PACKAGES = tuple(f"hadron.venues.{path.parent.name}" for path in sorted((ROOT / "venues").glob("*/__init__.py")))
"""Every package under ``hadron/venues/``: one per venue, and ``_template``, the skeleton of a new one."""


def _venue_package(module: str) -> str | None:
    return next((p for p in VENUE_PACKAGES if module == p or module.startswith(p + ".")), None)


LAYER_OF_MODULE: dict[str, str] = {
    "hadron.errors": "errors",
    "hadron._version": "build",
    "hadron._nocython": "build",
    "hadron._pure": "build",
    "hadron._cbuild": "build",
    "hadron.accel": "build",
    "hadron.config": "support",
    "hadron.logs": "support",
    "hadron.metrics": "support",
    "hadron.extras": "support",
    **dict.fromkeys(SEAM_MODULES, "seam"),
    "hadron": "entry",
    "hadron.__main__": "entry",
    "hadron.api": "entry",
}
"""Single modules and their layer; the rest go by package (:data:`LAYER_OF_PACKAGE`)."""

LAYER_OF_PACKAGE: dict[str, str] = {
    "model": "model",
    "book": "book",
    "demo": "support",
    "arb": "core",
    "match": "core",
    "paper": "core",
    "exec": "core",
    "store": "core",
    "bus": "core",
    "app": "app",
    "bench": "bench",
    "cli": "entry",
    "api": "entry",
}
"""``hadron.<package>`` → layer (``hadron.venues`` is split below: seam, infrastructure, venues)."""


def layer_of(module: str) -> str | None:
    """Return the layer of a hadron module (``None``: not in any layer, itself a failure)."""
    if module in LAYER_OF_MODULE:
        return LAYER_OF_MODULE[module]
    if _venue_package(module):
        return "venue"
    top = module.split(".")[1]
    if top == "venues":
        return "venue_infra"
    return LAYER_OF_PACKAGE.get(top)


_BELOW_SEAM = {"errors", "build", "model", "book", "support"}

ALLOWED: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "build": frozenset({"errors", "build"}),
    "model": frozenset({"errors", "build", "model"}),
    "book": frozenset({"errors", "build", "model", "book"}),
    "support": frozenset({"errors", "build", "model", "book", "support"}),
    "seam": frozenset({*_BELOW_SEAM, "seam"}),
    "core": frozenset({*_BELOW_SEAM, "seam", "core"}),
    "app": frozenset({*_BELOW_SEAM, "seam", "core", "app"}),
    "bench": frozenset({*_BELOW_SEAM, "seam", "core", "app", "bench"}),
    "entry": frozenset({*_BELOW_SEAM, "seam", "core", "app", "bench", "entry"}),
    "venue_infra": frozenset({*_BELOW_SEAM, "seam", "venue_infra"}),
    "venue": frozenset({*_BELOW_SEAM, "seam", "venue_infra", "venue"}),
}
"""Layer → the layers its modules may import. One exception by package: a venue package may also
import ``hadron.store`` (recorder, dead letters), the only core package it may use."""

RULES: dict[str, str] = {
    "errors": "hadron.errors imports nothing of hadron",
    "build": "the build helpers and shims import only hadron.errors",
    "model": "hadron.model imports nothing of hadron but hadron.errors (and the build shims)",
    "book": "hadron.book imports only errors, model and the build helpers",
    "support": "config, logs, metrics and extras import only errors, build, model and book",
    "seam": "the venue seam (hadron.venues.base) imports nothing above book but itself",
    "core": "the core (arb, match, paper, exec, store, bus) reaches venues only through hadron.venues.base, "
    "never a venue package, the venue infrastructure, app, bench or the entry points",
    "app": "hadron.app reaches venues only through hadron.venues.base, never a venue package, "
    "bench or the entry points",
    "bench": "hadron.bench never imports a venue package or the entry points",
    "entry": "the entry points (cli, api) reach venues only through hadron.venues.base",
    "venue_infra": "the shared venue infrastructure imports only the seam and what is below it",
    "venue": "a venue package imports model, book, store, the seam and the venue infrastructure, "
    "never app, bench, the entry points or another venue package",
}


def _violation(importer: str, imported: str) -> str | None:
    source, target = layer_of(importer), layer_of(imported)
    if source is None or target is None:
        return None  # reported by test_every_module_has_a_layer
    if source == "venue" and target == "venue" and _venue_package(importer) != _venue_package(imported):
        return RULES["venue"]
    allowed = ALLOWED[source]
    if target in allowed:
        return None
    if source == "venue" and target == "core" and imported.split(".")[1] == "store":
        return None
    return RULES[source]


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in MODULES if layer_of(m) is None)
    assert not missing, "modules in no layer (add them to layer_of and docs/ARCHITECTURE.md): " + ", ".join(missing)


def test_layering() -> None:
    violations = [
        f"  {importer} imports {imported}: {rule}"
        for importer in sorted(GRAPH)
        for imported in sorted(GRAPH[importer])
        if (rule := _violation(importer, imported)) is not None
    ]
    assert not violations, "layering violations (docs/ARCHITECTURE.md, Layers):\n" + "\n".join(violations)


def test_layer_table_is_acyclic() -> None:
    # The table itself allows no loop between two different layers
    loops = [(a, b) for a, allowed in ALLOWED.items() for b in allowed if a < b and a in ALLOWED[b]]
    assert not loops, f"layers allowed to import each other: {loops}"


# -- clean imports ------------------------------------------------------------------------------

PURE_MODULES = sorted(
    name
    for name, path in MODULES.items()
    if name not in HOT_MODULES and not path.with_suffix(".pxd").exists() and not name.endswith("__main__")
)
"""Modules never compiled (no ``.pxd`` beside them, not in ``HOT_MODULES``): they can be imported
afresh in one process."""

_IMPORT_EACH = """
import importlib, json, sys, traceback
pure = set(json.loads(sys.argv[1]))
for module in json.loads(sys.argv[2]):  # the compiled ones: loaded once, first
    importlib.import_module(module)
failures = {}
for module in sorted(pure):
    for name in [n for n in sys.modules if n in pure]:
        del sys.modules[name]
    try:
        importlib.import_module(module)
    except BaseException:
        failures[module] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def test_pure_modules_import_alone() -> None:
    # Each pure module imported in a fresh state, no other pure module loaded before it: an import
    # that works only in some order (a hidden cycle, a missing import) fails here. One child
    # process for them all; compiled modules stay loaded (an extension loads once a process).
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _IMPORT_EACH,
            json.dumps(PURE_MODULES),
            json.dumps(sorted(m for m in MODULES if m in HOT_MODULES or MODULES[m].with_suffix(".pxd").exists())),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    failures: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    report = "\n".join(f"  {module}:\n{text}" for module, text in failures.items())
    assert not failures, "modules that do not import on their own:\n" + report

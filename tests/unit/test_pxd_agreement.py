"""Every ``.pxd`` beside a hot module agrees with its ``.py``: the same class attributes, of
compatible types, and the same ``cpdef``/``cdef`` function and method parameters.

A compiled class has exactly the attributes its ``.pxd`` declares: one the ``.py`` sets but the
``.pxd`` lacks fails only in the compiled build (``AttributeError``), and a declared type the
``.py`` does not keep (an ``int`` attribute declared ``bint``) silently changes values there.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import hadron

PACKAGE = Path(hadron.__file__).parent
PXDS = sorted(PACKAGE.rglob("*.pxd"))

C_TYPES = {
    "long long": "int",
    "unsigned long long": "int",
    "long": "int",
    "unsigned long": "int",
    "int": "int",
    "unsigned int": "int",
    "short": "int",
    "Py_ssize_t": "int",
    "size_t": "int",
    "bint": "bool",
    "double": "float",
    "float": "float",
}
"""Cython's C types → the Python type the ``.py`` must annotate (or assign) for them."""

PYTHON_TYPES = {"str", "bytes", "list", "dict", "tuple", "set", "frozenset", "int", "float", "bool"}
_METHOD = re.compile(r"^c(?:p)?def\s+(?:inline\s+)?(?P<head>[^(]*?)\b(?P<name>\w+)\s*\((?P<args>.*)\)")
_CLASS = re.compile(r"^cdef\s+class\s+(?P<name>\w+)\s*(?:\((?P<base>\w+)\))?\s*:")
_ATTRIBUTE = re.compile(r"^cdef\s+(?:(?:public|readonly)\s+)?(?P<decl>[^(]+)$")


@dataclass
class PxdClass:
    name: str
    base: str | None
    attributes: dict[str, str] = field(default_factory=dict)  # name → Python type ("object": any)
    methods: dict[str, list[str]] = field(default_factory=dict)  # name → parameter names


@dataclass
class Pxd:
    path: Path
    classes: dict[str, PxdClass] = field(default_factory=dict)
    functions: dict[str, list[str]] = field(default_factory=dict)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    # (indent, line) with comments dropped and lines continued inside brackets joined
    out: list[tuple[int, str]] = []
    pending = ""
    indent = 0
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not pending:
            indent = len(line) - len(line.lstrip())
        pending = f"{pending} {line.strip()}" if pending else line.strip()
        if pending.count("(") == pending.count(")") and pending.count("[") == pending.count("]"):
            out.append((indent, pending))
            pending = ""
    return out


def _python_type(c_type: str, classes: set[str]) -> str:
    c_type = " ".join(c_type.replace("const ", "").split())
    if c_type in C_TYPES:
        return C_TYPES[c_type]
    if c_type in PYTHON_TYPES or c_type in classes:
        return c_type
    return "object"


def _parameters(args: str) -> list[str]:
    names = []
    for arg in args.split(","):
        arg = arg.split("=", 1)[0].strip()
        if arg:
            names.append(re.split(r"[\s*]+", arg)[-1])
    return names


def parse_pxd(path: Path, classes: set[str]) -> Pxd:
    """The classes (attributes, methods) and module functions a ``.pxd`` declares."""
    pxd = Pxd(path)
    current: PxdClass | None = None
    for indent, line in _logical_lines(path.read_text()):
        if indent == 0:
            current = None
        if line.startswith(("@", "cimport", "from ")):
            continue
        match = _CLASS.match(line)
        if match:
            current = pxd.classes[match["name"]] = PxdClass(match["name"], match["base"])
            continue
        match = _METHOD.match(line)
        if match:
            params = _parameters(match["args"])
            if current is not None:
                current.methods[match["name"]] = params
            else:
                pxd.functions[match["name"]] = params
            continue
        match = _ATTRIBUTE.match(line)
        if match and current is not None:
            first, *more = (part.strip() for part in match["decl"].split(","))
            c_type, _, name = first.rpartition(" ")
            for each in (name, *more):
                current.attributes[each.split("[", 1)[0]] = _python_type(c_type, classes)
    return pxd


def _annotation_type(node: ast.expr | None) -> str | None:
    # The outer Python type of an annotation ("object" for a union with None or any other form
    # the check does not judge: None when unknown)
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        node = ast.parse(node.value, mode="eval").body
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.BinOp):  # X | None
        parts = [node.left, node.right]
        names = [_annotation_type(p) for p in parts if not (isinstance(p, ast.Constant) and p.value is None)]
        return names[0] + "|None" if len(names) == 1 and names[0] else "object"
    return "object"


def _value_type(node: ast.expr) -> str | None:
    # The type of a literal assigned in the .py (None: not a literal)
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    if isinstance(node, ast.Constant) and node.value is not None:
        return type(node.value).__name__
    for kind, name in ((ast.Dict, "dict"), (ast.List, "list"), (ast.Tuple, "tuple"), (ast.Set, "set")):
        if isinstance(node, kind):
            return name
    return None


@dataclass
class PyClass:
    name: str
    attributes: dict[str, str | None] = field(default_factory=dict)  # name → type (None: unknown)
    methods: dict[str, list[str]] = field(default_factory=dict)


def _self_assignments(method: ast.FunctionDef) -> list[tuple[str, str | None]]:
    # (attribute, its type) for every ``self.x = …`` / ``self.x: T = …`` in ``method``; the type
    # is the annotation's, or a literal's assigned in __init__ (None: unknown)
    out: list[tuple[str, str | None]] = []
    targets: list[ast.expr]
    for node in ast.walk(method):
        if isinstance(node, ast.AnnAssign):
            targets, annotation, value = [node.target], node.annotation, node.value
        elif isinstance(node, ast.Assign):
            targets, annotation, value = node.targets, None, node.value
        else:
            continue
        for target in targets:
            for each in target.elts if isinstance(target, ast.Tuple) else [target]:
                if not (
                    isinstance(each, ast.Attribute) and isinstance(each.value, ast.Name) and each.value.id == "self"
                ):
                    continue
                known = _annotation_type(annotation)
                if known is None and method.name == "__init__" and value is not None and each is target:
                    known = _value_type(value)
                out.append((each.attr, known))
    return out


def _is_slots(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets)


def parse_py_class(node: ast.ClassDef) -> PyClass:
    """Every instance attribute a class's methods set (``self.x = …``, ``self.x: T = …``), its
    class-body annotations and ``__slots__``, and its methods' parameters."""
    cls = PyClass(node.name)
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            cls.attributes[item.target.id] = _annotation_type(item.annotation)
        if _is_slots(item) and isinstance(item, ast.Assign) and isinstance(item.value, ast.Tuple):
            for element in item.value.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    cls.attributes.setdefault(element.value, None)
        if isinstance(item, ast.FunctionDef):
            cls.methods[item.name] = [a.arg for a in (*item.args.posonlyargs, *item.args.args)]
            for attr, known in _self_assignments(item):
                if cls.attributes.get(attr) is None:
                    cls.attributes[attr] = known
    return cls


def _compatible(declared: str, python: str | None) -> bool:
    if declared == "object" or python is None or python == "object":
        return True
    optional = python.endswith("|None")
    python = python.removesuffix("|None")
    if declared in ("int", "float", "bool") and optional:
        return False  # a C value cannot hold None
    if declared == "float" and python == "int":
        return True
    return declared == python


def _all_pxds() -> dict[Path, Pxd]:
    names = {m.group(1) for path in PXDS for m in re.finditer(r"^cdef\s+class\s+(\w+)", path.read_text(), re.M)}
    return {path: parse_pxd(path, names) for path in PXDS}


PARSED = _all_pxds()
CLASSES = {name: cls for pxd in PARSED.values() for name, cls in pxd.classes.items()}


def _declared(name: str) -> dict[str, str]:
    # A pxd class's attributes with its bases'
    out: dict[str, str] = {}
    cls: PxdClass | None = CLASSES[name]
    while cls is not None:
        out = {**cls.attributes, **out}
        cls = CLASSES.get(cls.base) if cls.base else None
    return out


def _module(path: Path) -> ast.Module:
    return ast.parse(path.with_suffix(".py").read_text())


def test_every_hot_module_has_its_pxd_parsed() -> None:
    assert PXDS, "no .pxd under hadron/"
    assert any(pxd.classes for pxd in PARSED.values())
    assert "ManagedBook" in CLASSES and "apply_delta" in CLASSES["BookManager"].methods


@pytest.mark.parametrize("path", PXDS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pxd_classes_agree_with_the_py(path: Path) -> None:
    pxd = PARSED[path]
    module = _module(path)
    py_classes = {node.name: parse_py_class(node) for node in module.body if isinstance(node, ast.ClassDef)}
    problems: list[str] = []
    for name, declared_cls in pxd.classes.items():
        py = py_classes.get(name)
        if py is None:
            problems.append(f"{name}: declared in the .pxd, no such class in the .py")
            continue
        declared = _declared(name)
        for attr, c_type in declared_cls.attributes.items():
            if attr not in py.attributes:
                problems.append(f"{name}.{attr}: declared in the .pxd, never set in the .py")
            elif not _compatible(c_type, py.attributes[attr]):
                problems.append(f"{name}.{attr}: .pxd type {c_type}, .py type {py.attributes[attr]}")
        for attr in py.attributes:
            if attr not in declared:
                problems.append(f"{name}.{attr}: set in the .py (annotated or in __slots__), not in the .pxd")
        for method, params in declared_cls.methods.items():
            if method not in py.methods:
                problems.append(f"{name}.{method}: declared in the .pxd, no such method in the .py")
            elif params != py.methods[method]:
                problems.append(f"{name}.{method}: .pxd parameters {params}, .py {py.methods[method]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PXDS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pxd_functions_agree_with_the_py(path: Path) -> None:
    module = _module(path)
    functions = {
        node.name: [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        for node in module.body
        if isinstance(node, ast.FunctionDef)
    }
    problems = []
    for name, params in PARSED[path].functions.items():
        if name not in functions:
            problems.append(f"{name}: declared in the .pxd, no such function in the .py")
        elif params != functions[name]:
            problems.append(f"{name}: .pxd parameters {params}, .py {functions[name]}")
    assert not problems, "\n".join(problems)


def test_the_checks_catch_drift(tmp_path: Path) -> None:
    pxd_file = tmp_path / "m.pxd"
    pxd_file.write_text(
        "cimport cython\n\ncdef class A(B):\n    cdef public long long n, m\n    cdef readonly bint flag\n"
        "    cdef long long _lat[16]\n    @cython.locals(i=Py_ssize_t)\n"
        "    cpdef int f(self, long long price,\n                object source=*) except -1\n\n"
        "cdef Py_ssize_t g(const unsigned char* p, Py_ssize_t n) noexcept\n"
    )
    parsed = parse_pxd(pxd_file, {"A", "B"})
    assert parsed.classes["A"].base == "B"
    assert parsed.classes["A"].attributes == {"n": "int", "m": "int", "flag": "bool", "_lat": "int"}
    assert parsed.classes["A"].methods == {"f": ["self", "price", "source"]}
    assert parsed.functions == {"g": ["p", "n"]}
    source = "class A:\n    def __init__(self) -> None:\n        self.n = 0\n        self.flag: bool = False\n"
    py = parse_py_class(next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)))
    assert py.attributes == {"n": "int", "flag": "bool"}
    assert _compatible("int", "int") and _compatible("object", "str") and _compatible("bool", "bool")
    assert not _compatible("bool", "int") and not _compatible("int", "int|None")
    assert _python_type("long long", set()) == "int" and _python_type("Py_ssize_t", set()) == "int"
    assert _parameters("self, long long price, object change, object source=*") == [
        "self",
        "price",
        "change",
        "source",
    ]

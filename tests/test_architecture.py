"""The layout rules of the four packages, checked on their source: layers only look down, no import
cycles, routes leave auditing and database queries to the services, and no module grows past 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("certsvc", "signing", "verify", "keys")
LIBRARIES = ("signing", "verify", "keys")
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            out[_module_name(path)] = path
    return out


SOURCES = _sources()


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports, anywhere in it (function-local imports too), except
    under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    skip: set[int] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node):
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".")
                if path.name != "__init__.py":
                    pkg = pkg[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*pkg, base] if base else pkg)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            # the longest prefix that is one of our modules: ``from certsvc import audit`` is certsvc.audit
            parts = name.split(".")
            for k in range(len(parts), 0, -1):
                candidate = ".".join(parts[:k])
                if candidate in SOURCES:
                    if candidate != module:
                        found.add(candidate)
                    break
    return found


GRAPH = {m: _imports(m, p) for m, p in SOURCES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_package_init(module: str) -> bool:
    return SOURCES[module].name == "__init__.py"


def test_there_are_modules_to_check() -> None:
    assert {"certsvc.app", "signing.pipeline", "verify.verifier", "keys.config"} <= set(SOURCES)


def test_no_import_cycles() -> None:
    # a package's __init__ re-exporting its modules is not a cycle of logic
    graph = {m: {d for d in deps if not _is_package_init(d)} for m, deps in GRAPH.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("library", LIBRARIES)
def test_libraries_never_import_the_service(library: str) -> None:
    offenders = {m: sorted(d for d in deps if d.split(".")[0] == "certsvc") for m, deps in GRAPH.items()}
    assert {m: d for m, d in offenders.items() if m.split(".")[0] == library and d} == {}


def test_routes_leave_audit_records_to_the_services() -> None:
    routes = {m: deps for m, deps in GRAPH.items() if m.startswith("certsvc.api.routes.")}
    assert routes, "no route modules found"
    assert {m for m, deps in routes.items() if "certsvc.audit" in deps} == set()


ROUTES = sorted(m for m in SOURCES if m.startswith("certsvc.api.routes."))
QUERY_BUILDERS = {"select", "delete", "update", "insert", "func", "text", "exists", "and_", "or_"}


def _queries(path: Path) -> list[str]:
    """Where a module builds or runs a database query: query builders imported from sqlmodel or
    sqlalchemy, and ``.exec(...)`` / ``.execute(...)`` calls."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("sqlmodel", "sqlalchemy"):
            found += [f"line {node.lineno}: imports {a.name}" for a in node.names if a.name in QUERY_BUILDERS]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("exec", "execute")
        ):
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return found


@pytest.mark.parametrize("route", ROUTES)
def test_routes_leave_database_queries_to_the_services(route: str) -> None:
    assert _queries(SOURCES[route]) == []


def test_the_query_finder_finds_queries(tmp_path: Path) -> None:
    path = tmp_path / "route.py"
    path.write_text("from sqlmodel import Session, select\n\ndef f(s):\n    return s.exec(select(1))\n")
    assert _queries(path) == ["line 1: imports select", "line 4: calls .exec()"]


def test_no_module_is_over_500_lines() -> None:
    long = {m: n for m, p in SOURCES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}

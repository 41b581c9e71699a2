"""The shape of the source tree: no module over 450 lines, no import circle among modules.

Modules are the `*.py` files of the packages under `libs/*/src` and `services/*/src`; tests and
`bench/` are not. A circle counts only imports that run when a module is imported: those inside
functions (deferred on purpose) and under `if TYPE_CHECKING:` (never run) do not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
MAX_LINES = 450


def source_roots(repo: Path) -> list[Path]:
    return sorted([*repo.glob("libs/*/src"), *repo.glob("services/*/src")])


def modules(roots: list[Path]) -> dict[str, Path]:
    """Dotted module name → file, for every `*.py` below the roots (a package by its name)."""
    found: dict[str, Path] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts:
                found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _eager_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements among `nodes` that run when their module is imported."""
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue  # deferred on purpose: runs when called
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _eager_imports(node.orelse)  # its body never runs
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _eager_imports(ast.iter_child_nodes(node))


def import_graph(found: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules among `found` it imports when it is imported."""
    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _eager_imports(tree.body):
            if isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in found)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                for alias in node.names:
                    submodule = f"{target}.{alias.name}"
                    if submodule in found:
                        graph[name].add(submodule)
                    elif target in found:
                        graph[name].add(target)
        graph[name].discard(name)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components of more than one module, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def a_circle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle through the component's first module: `[a, b, …, a]`."""
    start, members = component[0], set(component)
    came_from = {start: start}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if w not in came_from:
                    came_from[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"no circle through {start}")


def circles(found: dict[str, Path]) -> list[list[str]]:
    graph = import_graph(found)
    return [a_circle(graph, c) for c in strongly_connected(graph)]


# -- the repository ------------------------------------------------------------------------------


def test_no_module_is_over_450_lines() -> None:
    lengths = {
        path.relative_to(REPO).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in modules(source_roots(REPO)).values()
    }
    over = {path: n for path, n in lengths.items() if n > MAX_LINES}
    offenders = sorted(f"{path}: {n} lines" for path, n in over.items())
    assert not offenders, f"modules over {MAX_LINES} lines: {offenders}"


def test_no_import_circle() -> None:
    found = circles(modules(source_roots(REPO)))
    assert not found, "import circles: " + "; ".join(" -> ".join(c) for c in found)


# -- the checks themselves -----------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return modules([root / "src"])


def test_a_circle_is_named(tmp_path: Path) -> None:
    found = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import thing\n",
            "pkg/b.py": "from pkg import c\nthing = 1\n",
            "pkg/c.py": "try:\n    import pkg.a\nexcept ImportError:\n    pass\n",
            "pkg/d.py": "from . import a\n",
        },
    )
    assert circles(found) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_deferred_and_type_only_imports_make_no_circle(tmp_path: Path) -> None:
    found = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": (
                "import typing\n"
                "if typing.TYPE_CHECKING:\n    from .b import x\n"
                "else:\n    from . import c\n"
            ),
            "pkg/b.py": "def f():\n    from .a import y\nx = lambda: __import__('pkg.a')\n",
            "pkg/c.py": "",
            "pkg/sub/__init__.py": "from ..a import z\n",
        },
    )
    assert circles(found) == []
    graph = import_graph(found)
    assert graph["pkg.a"] == {"pkg.c"}
    assert graph["pkg.b"] == set()
    assert graph["pkg.sub"] == {"pkg.a"}

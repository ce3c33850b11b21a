"""The package's architecture, checked by reading every ``poolcli`` module with ``ast``.

DESIGN.md's layer table, top to bottom: errors -> shared names (``spec``) -> pooling ->
images -> batch -> cli. A module imports only its own layer and the layers above it, so
each layer can be read, tested and loaded without the ones below it (``poolcli --help``
must start without NumPy or Pillow). These tests enforce that every module is placed in
a layer and imports nothing below it (``if TYPE_CHECKING:`` imports included); that the
runtime imports have no cycles; that only the command line (``poolcli.cli``) imports
click; and that no module grows past 400 lines. The facade (``poolcli/__init__.py``)
and ``poolcli.__main__`` may import anything, and no layered module may import them.

The checker's functions take a package root and module-name prefix, so the self-tests
at the end run them on a small fake package with known faults.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "poolcli"
PREFIX = "poolcli"
#: Layers ranked from the top (0); each entry names a subpackage or module by its path
#: under the prefix, and covers everything under it.
LAYERS = (
    ("errors", "enums", "lazy", "version"), ("spec",), ("pooling",), ("images",), ("batch",),
    ("cli", "launch"),
)  # fmt: skip
FACADE = ("", "__main__")  # "" is the package itself
CLICK_HOME = "cli"
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    """One module imported by another (``target`` is absolute; it may be outside)."""

    module: str
    target: str
    line: int
    type_checking: bool  # inside an ``if TYPE_CHECKING:`` block
    #: A name exported lazily (``lazy_exports``): imported on first use, not at import.
    lazy: bool = False

    def __str__(self) -> str:
        guard = " (under TYPE_CHECKING)" if self.type_checking else ""
        guard += " (a lazy export)" if self.lazy else ""
        return f"{self.module}:{self.line} imports {self.target}{guard}"


@dataclass(frozen=True)
class Package:
    prefix: str
    modules: dict[str, Path] = field(repr=False)
    imports: list[Import] = field(repr=False)

    def internal(self) -> list[Import]:
        return [imp for imp in self.imports if within(imp.target, self.prefix)]


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def dotted(prefix: str, part: str) -> str:
    return f"{prefix}.{part}" if part else prefix


def find_modules(root: Path, prefix: str) -> dict[str, Path]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((prefix, *parts))] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def import_nodes(node: ast.AST, guarded: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement under ``node`` (in functions too), and whether it is
    guarded by ``if TYPE_CHECKING:`` (its ``else:`` runs, so it is not guarded)."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, guarded
    elif isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.body:
            yield from import_nodes(child, True)
        for child in node.orelse:
            yield from import_nodes(child, guarded)
    else:
        for child in ast.iter_child_nodes(node):
            yield from import_nodes(child, guarded)


def _from_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def imported_modules(node: ast.stmt, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The absolute names of the modules an import statement imports: ``from pkg import
    name`` imports ``pkg.name`` if that is a module, else ``pkg``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    base = _from_base(node, module, is_package)
    names = [f"{base}.{alias.name}" for alias in node.names]
    return [name if name in known else base for name in names]


def scan(root: Path, prefix: str) -> Package:
    modules = find_modules(root, prefix)
    imports = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node, guarded in import_nodes(tree):
            for target in imported_modules(node, module, is_package, set(modules)):
                imports.append(Import(module, target, node.lineno, guarded))
        for line, home in lazy_homes(tree):
            base = module if is_package else module.rpartition(".")[0]
            target = _resolve(home, base)
            imports.append(Import(module, target, line, type_checking=False, lazy=True))
    return Package(prefix, modules, imports)


def lazy_homes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """The modules named in ``lazy_exports(__name__, {name: ".module"})`` calls."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports"):
            continue
        homes = node.args[1] if len(node.args) > 1 else None
        if isinstance(homes, ast.Dict):
            for value in homes.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    yield value.lineno, value.value


def _resolve(home: str, package: str) -> str:
    """``.engine`` relative to ``package`` (``..x`` one level up), as an absolute name."""
    level = len(home) - len(home.lstrip("."))
    parts = package.split(".")
    parts = parts[: len(parts) - (level - 1)] if level else []
    rest = home.lstrip(".")
    return ".".join([*parts, rest] if rest else parts)


def is_facade(name: str, prefix: str, facade: tuple[str, ...]) -> bool:
    return name in {dotted(prefix, part) for part in facade}


def rank_of(name: str, prefix: str, layers: tuple[tuple[str, ...], ...]) -> int | None:
    for rank, parts in enumerate(layers):
        if any(within(name, dotted(prefix, part)) for part in parts):
            return rank
    return None


def unplaced_modules(package: Package, layers, facade) -> list[str]:
    prefix = package.prefix
    return [
        name
        for name in package.modules
        if not is_facade(name, prefix, facade) and rank_of(name, prefix, layers) is None
    ]


def layer_violations(package: Package, layers, facade) -> list[str]:
    """Imports of a lower layer, of the facade or of an unplaced module (imports made by
    unplaced modules are left to :func:`unplaced_modules`)."""
    prefix, problems = package.prefix, []
    for imp in package.internal():
        source = rank_of(imp.module, prefix, layers)
        if source is None or is_facade(imp.module, prefix, facade):
            continue
        target = rank_of(imp.target, prefix, layers)
        if is_facade(imp.target, prefix, facade):
            problems.append(f"{imp}: the facade is for users, not for layers")
        elif imp.target not in package.modules:
            problems.append(f"{imp}: no such module")
        elif target is None:
            problems.append(f"{imp}: an unplaced module")
        elif target > source:
            problems.append(f"{imp}: layer {source} imports layer {target}, below it")
    return problems


def runtime_graph(package: Package) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in package.modules}
    for imp in package.internal():
        if not imp.type_checking and not imp.lazy and imp.target in graph:
            graph[imp.module].add(imp.target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the graph's strongly connected components, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start, members = component[0], set(component)
    parents: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in sorted(graph[node] & members):
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return [*reversed(path), start]
            if succ not in parents:
                parents[succ] = node
                queue.append(succ)
    message = f"no cycle through {start}"
    raise ValueError(message)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle path per non-trivial component and per self-importing module."""
    return [
        cycle_path(graph, component)
        for component in strongly_connected(graph)
        if len(component) > 1 or component[0] in graph[component[0]]
    ]


def describe_cycles(package: Package) -> list[str]:
    graph, problems = runtime_graph(package), []
    for cycle in find_cycles(graph):
        members = set(cycle)
        edges = [
            f"    {imp}"
            for imp in package.internal()
            if not imp.type_checking and imp.module in members and imp.target in members
        ]
        problems.append(" -> ".join(cycle) + f" ({len(members)} modules; their imports:)")
        problems.extend(edges)
    return problems


def click_violations(package: Package, home: str) -> list[str]:
    allowed = dotted(package.prefix, home)
    return [
        str(imp)
        for imp in package.imports
        if within(imp.target, "click") and not within(imp.module, allowed)
    ]


def long_modules(package: Package, limit: int) -> list[str]:
    lengths = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in package.modules.items()
    }
    return [f"{name}: {count} lines" for name, count in lengths.items() if count > limit]


def _report(headline: str, problems: list[str]) -> str:
    return "\n".join([headline, *problems])


@pytest.fixture(scope="module")
def poolcli_package() -> Package:
    return scan(ROOT, PREFIX)


def test_every_module_is_placed_in_a_layer(poolcli_package):
    unplaced = unplaced_modules(poolcli_package, LAYERS, FACADE)
    assert not unplaced, _report("unplaced modules (add them to LAYERS):", unplaced)


def test_modules_import_only_their_own_layer_and_those_above(poolcli_package):
    problems = layer_violations(poolcli_package, LAYERS, FACADE)
    assert not problems, _report("layer violations:", problems)


def test_runtime_imports_have_no_cycles(poolcli_package):
    problems = describe_cycles(poolcli_package)
    assert not problems, _report("import cycles:", problems)


def test_only_the_command_line_imports_click(poolcli_package):
    problems = click_violations(poolcli_package, CLICK_HOME)
    assert not problems, _report(f"click outside {PREFIX}.{CLICK_HOME}:", problems)


def test_modules_are_small(poolcli_package):
    problems = long_modules(poolcli_package, MAX_LINES)
    assert not problems, _report(f"modules over {MAX_LINES} lines:", problems)


# The checker itself, on a fake package with one fault of each kind.
FAKE = {
    "__init__.py": "from .top import run\n",
    "base.py": """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from .top import run
    """,
    "top.py": """
        import click
        from fake.mid import b, thing
        from . import base
        from .gone import x
    """,
    "mid/__init__.py": "from . import a\nthing = 1\n",
    "mid/a.py": """
        from .b import helper
        def f():
            from click import echo
    """,
    "mid/b.py": """
        import typing
        if typing.TYPE_CHECKING:
            from .deep.c import C
        else:
            import os
        def helper():
            from . import a
    """,
    "mid/deep/__init__.py": "",
    "mid/deep/c.py": "from ..b import helper\nfrom ... import base\n",
    "stray.py": "import fake.stray\n",
}
FAKE_LAYERS = (("base",), ("mid",), ("top",))


@pytest.fixture
def fake(tmp_path) -> Package:
    for name, source in FAKE.items():
        path = tmp_path / "fake" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return scan(tmp_path / "fake", "fake")


def test_checker_resolves_every_kind_of_import(fake):
    found = {(imp.module, imp.target, imp.type_checking) for imp in fake.imports}
    assert found == {
        ("fake", "fake.top", False),
        ("fake.base", "typing", False),
        ("fake.base", "fake.top", True),
        ("fake.top", "click", False),
        ("fake.top", "fake.mid.b", False),
        ("fake.top", "fake.mid", False),
        ("fake.top", "fake.base", False),
        ("fake.top", "fake.gone", False),
        ("fake.mid", "fake.mid.a", False),
        ("fake.mid.a", "fake.mid.b", False),
        ("fake.mid.a", "click", False),
        ("fake.mid.b", "typing", False),
        ("fake.mid.b", "fake.mid.deep.c", True),
        ("fake.mid.b", "os", False),
        ("fake.mid.b", "fake.mid.a", False),
        ("fake.mid.deep.c", "fake.mid.b", False),
        ("fake.mid.deep.c", "fake.base", False),
        ("fake.stray", "fake.stray", False),
    }


def test_checker_finds_cycles_but_not_type_checking_ones(fake):
    graph = runtime_graph(fake)
    assert find_cycles(graph) == [["fake.mid.a", "fake.mid.b", "fake.mid.a"], ["fake.stray"] * 2]
    assert find_cycles({"x": {"y"}, "y": {"z"}, "z": {"x", "y"}}) == [["x", "y", "z", "x"]]


def test_checker_finds_layer_and_click_faults(fake):
    assert unplaced_modules(fake, FAKE_LAYERS, FACADE) == ["fake.stray"]
    assert layer_violations(fake, FAKE_LAYERS, FACADE) == [
        "fake.base:3 imports fake.top (under TYPE_CHECKING): layer 0 imports layer 2, below it",
        "fake.top:4 imports fake.gone: no such module",
    ]
    assert click_violations(fake, "top") == ["fake.mid.a:3 imports click"]
    assert long_modules(fake, 6) == ["fake.mid.b: 7 lines"]

"""The project's import structure, read from the source with `ast`.

Every `import` and `from ... import` statement counts, wherever it is (module level, inside a
function, under `if TYPE_CHECKING:`): a deferred import is still a dependency. The rules:

- no cycle among the project's modules;
- `verify` (the verifier) imports none of `agent`, `benchmarks`, `constraints`: they build on it,
  and the top-level `sqlwitness_cli` module assembles the command line from all of them;
- no module imports a private (leading-underscore) name from another project module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILT_ON_VERIFY = {"agent", "benchmarks", "constraints"}


@dataclass(frozen=True)
class Import:
    """One imported name: `module` is the project module the statement depends on; `name` is the
    name taken from it by `from module import name` (None for `import module`)."""

    importer: str
    module: str
    name: str | None
    line: int


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """The project's modules by dotted name: the top-level modules and every module of the
    top-level packages (a package is its `__init__`)."""
    found = {path.stem: path for path in sorted(root.glob("*.py"))}
    for init in sorted(root.glob("*/__init__.py")):
        for path in sorted(init.parent.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _absolute(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name of a `from` statement, relative ones resolved."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(importer: str, source: str, modules: set[str], *, is_package: bool = False) -> Iterator[Import]:
    """The imports of one module's source that name project modules (`modules`)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield Import(importer, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            source_module = _absolute(importer, is_package, node)
            for alias in node.names:
                submodule = f"{source_module}.{alias.name}"
                if submodule in modules:  # `from package import module`
                    yield Import(importer, submodule, None, node.lineno)
                elif source_module in modules:
                    yield Import(importer, source_module, alias.name, node.lineno)


def project_imports(root: Path = ROOT) -> list[Import]:
    """Every import between the project's modules."""
    files = module_files(root)
    names = set(files)
    return [
        imp
        for name, path in files.items()
        for imp in imports_of(name, path.read_text(encoding="utf-8"), names, is_package=path.stem == "__init__")
        if imp.module != name
    ]


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one, each as a chain that starts and
    ends at the same node (`[a, b, a]`), found by Tarjan's algorithm and a shortest walk back."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles: list[list[str]] = []
    for component in components:
        start = min(component)
        if len(component) == 1 and start not in graph.get(start, ()):
            continue
        cycles.append(_shortest_cycle(graph, start, component))
    return sorted(cycles)


def _shortest_cycle(graph: Mapping[str, set[str]], start: str, within: set[str]) -> list[str]:
    """The shortest chain from `start` back to itself through nodes of `within` (breadth-first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for succ in sorted(graph.get(node, ())):
                if succ not in within:
                    continue
                if succ == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [*reversed(chain), start]
                if succ not in previous:
                    previous[succ] = node
                    following.append(succ)
        frontier = following
    raise ValueError(f"{start} is on no cycle within {sorted(within)}")


def dependency_graph(imports: list[Import]) -> dict[str, set[str]]:
    """Each importing module and the modules it imports."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, set()).add(imp.module)
    return graph


def private_imports(imports: list[Import]) -> list[Import]:
    """`from other_module import _name`: a private name used outside its module."""
    return [imp for imp in imports if imp.name is not None and imp.name.startswith("_") and not imp.name.startswith("__")]


def upward_imports(imports: list[Import]) -> list[Import]:
    """Imports by a `verify` module of a module of a package built on `verify`."""
    return [
        imp
        for imp in imports
        if imp.importer.split(".")[0] == "verify" and imp.module.split(".")[0] in BUILT_ON_VERIFY
    ]


def describe(imp: Import) -> str:
    """One line naming an import and where it is."""
    return f"{imp.importer} (line {imp.line}) imports {imp.module}{'.' + imp.name if imp.name else ''}"


# --------------------------------------------------------------------------------------------
# the analysis itself


def test_cycle_finder_reports_each_cycle_as_a_chain() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"g"}, "g": {"f"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"], ["f", "g", "f"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_cycle_finder_picks_the_shortest_way_back() -> None:
    graph = {"a": {"b", "x"}, "b": {"c"}, "c": {"a"}, "x": {"a"}}
    assert find_cycles(graph) == [["a", "x", "a"]]


def test_imports_are_found_anywhere_and_resolved() -> None:
    source = (
        "import verify.check\n"
        "from verify import schema, check_pair\n"
        "from .models import _private, Public\n"
        "def f():\n"
        "    from agent.tools import _helper\n"
        "import json\n"
    )
    modules = {"verify", "verify.check", "verify.schema", "constraints.models", "agent.tools"}
    found = {(i.module, i.name) for i in imports_of("constraints.mine", source, modules)}
    assert found == {
        ("verify.check", None),
        ("verify.schema", None),
        ("verify", "check_pair"),
        ("constraints.models", "_private"),
        ("constraints.models", "Public"),
        ("agent.tools", "_helper"),
    }
    assert sorted(i.name for i in private_imports(list(imports_of("constraints.mine", source, modules)))) == [
        "_helper",
        "_private",
    ]


def test_relative_imports_of_a_package_resolve_inside_it() -> None:
    found = list(imports_of("constraints", "from .apply import apply_constraints\n", {"constraints.apply"},
                            is_package=True))
    assert [(i.module, i.name) for i in found] == [("constraints.apply", "apply_constraints")]


def test_the_rules_catch_violations_in_a_small_project(tmp_path: Path) -> None:
    sources = {
        "verify/__init__.py": "",
        "verify/a.py": "from verify.b import _x, y\n",
        "verify/b.py": "_x = y = 1\ndef f():\n    import verify.a\n",
        "verify/c.py": "from agent import tools\n",
        "agent/__init__.py": "",
        "agent/tools.py": "from verify.a import y\n",
        "cli.py": "import agent.tools\nimport verify.c\n",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    imports = project_imports(tmp_path)
    assert find_cycles(dependency_graph(imports)) == [["verify.a", "verify.b", "verify.a"]]
    assert [describe(i) for i in upward_imports(imports)] == ["verify.c (line 1) imports agent.tools"]
    assert [describe(i) for i in private_imports(imports)] == ["verify.a (line 1) imports verify.b._x"]


# --------------------------------------------------------------------------------------------
# the rules, on the project


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return project_imports()


def test_every_module_is_found() -> None:
    files = module_files()
    assert {"verify", "verify.cli", "constraints.pair", "benchmarks.cli", "agent.cli", "sqlwitness_cli"} <= set(files)
    assert {name.split(".")[0] for name in files} >= {"verify", "sqlwitness_cli"} | BUILT_ON_VERIFY


def test_no_import_cycles(imports: list[Import]) -> None:
    cycles = find_cycles(dependency_graph(imports))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_verify_does_not_import_the_packages_built_on_it(imports: list[Import]) -> None:
    upward = [describe(imp) for imp in upward_imports(imports)]
    assert not upward, "\n".join(upward)


def test_no_private_names_imported_across_modules(imports: list[Import]) -> None:
    found = [describe(imp) for imp in private_imports(imports)]
    assert not found, "\n".join(found)


def test_the_readme_shows_what_verify_rules_prints():
    """The README's copy of the stages and rules is the code's, so it cannot go stale."""
    from verify.cli import rules_text

    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- verify rules -->\n```\n", 1)[1].split("\n```\n<!-- /verify rules -->", 1)[0]
    assert block == rules_text()

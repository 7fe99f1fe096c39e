"""The package's modules depend on each other in one direction only: no import cycle,
not even through an import hidden inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "troubleshooter"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str) -> set[str]:
    """The package's modules that ``name`` imports when it runs: at the top, inside functions,
    anywhere but under ``if TYPE_CHECKING``. An import of an enclosing package is left out:
    Python loads a module's packages before the module itself in any case."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text("utf-8"), str(path)))
    return {
        target
        for target in found
        if target in MODULES and target != name and not name.startswith(f"{target}.")
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of names (first name repeated at the end), or None."""
    done: set[str] = set()

    def walk(name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return [*trail[trail.index(name) :], name]
        if name in done:
            return None
        for target in sorted(graph[name]):
            if cycle := walk(target, [*trail, name]):
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        if cycle := walk(name, []):
            return cycle
    return None


def test_no_import_cycle_in_the_package():
    graph = {name: imports_of(name) for name in MODULES}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    """The check above can fail: the wizard once imported the flowchart inside a function
    while the flowchart imported the wizard at its top."""
    graph = {"wizard": {"flowchart"}, "flowchart": {"shared", "wizard"}, "shared": set()}
    assert find_cycle(graph) == ["flowchart", "wizard", "flowchart"]
    assert find_cycle({"wizard": {"shared"}, "flowchart": {"shared"}, "shared": set()}) is None


def test_a_function_level_import_counts():
    assert "troubleshooter.sphinxext" in imports_of("troubleshooter")  # setup() imports it late

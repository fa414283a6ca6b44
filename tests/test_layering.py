"""The package layering: no import cycle between project modules, no upward import.

The packages stack ``streams`` → ``emulator`` → ``firmware`` → ``l1emu`` (the CLI); a module may
import from its own package or one below it. Every ``import``/``from … import`` in a file counts,
including those inside functions (a lazy import is still a dependency); only ``if TYPE_CHECKING:``
blocks are ignored. Relative imports are resolved; ``from pkg import name`` depends on ``pkg.name`` when
that is a module, else on ``pkg``. Importing ``a.b`` is an edge to ``a.b`` only, not to the package
``a`` whose ``__init__`` Python also runs (the registration functions in ``emulator/algorithms/__init__.py``
import the algorithm modules below them by design).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS: tuple[str, ...] = ("streams", "emulator", "firmware", "l1emu")


@dataclass(frozen=True)
class Import:
    """One import statement: the importing file and line, the imported project module."""

    path: Path
    line: int
    module: str


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import under ``node``, skipping the body (not the ``else``) of ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            found.append(child)
        elif isinstance(child, ast.If) and _is_type_checking(child):
            for sub in child.orelse:
                found.extend(_walk(ast.Module(body=[sub], type_ignores=[])))
        else:
            found.extend(_walk(child))
    return found


def module_graph(root: Path, packages: tuple[str, ...] = LAYERS) -> tuple[dict[str, Path], dict[str, list[Import]]]:
    """Files by module name, and each module's imports of project modules (resolved to known modules)."""
    files: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            files[_module_name(root, path)] = path
    imports: dict[str, list[Import]] = {name: [] for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from pkg import sub`` imports the submodule when there is one
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            for target in targets:
                resolved = _resolve(target, files)
                if resolved is not None and resolved != name:
                    imports[name].append(Import(path, node.lineno, resolved))
    return files, imports


def _resolve(target: str, files: dict[str, Path]) -> str | None:
    parts = target.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in files:
            return candidate
        parts.pop()
    return None


def upward_imports(root: Path, packages: tuple[str, ...] = LAYERS) -> list[str]:
    """``file:line imports module`` for every import of a package above the importer's."""
    _, imports = module_graph(root, packages)
    found: list[str] = []
    for name, edges in imports.items():
        own = packages.index(name.split(".")[0])
        for edge in edges:
            if packages.index(edge.module.split(".")[0]) > own:
                found.append(f"{edge.path.relative_to(root)}:{edge.line} imports {edge.module} (upward)")
    return found


def import_cycles(root: Path, packages: tuple[str, ...] = LAYERS) -> list[list[str]]:
    """Each strongly connected set of modules (more than one), as one cycle through it, listed by file."""
    files, imports = module_graph(root, packages)
    graph = {name: sorted({edge.module for edge in edges}) for name, edges in imports.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def strongconnect(start: str) -> None:  # iterative Tarjan
        nonlocal counter
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if i < len(graph[node]):
                work.append((node, i + 1))
                nxt = graph[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])

    for name in graph:
        if name not in index:
            strongconnect(name)

    cycles: list[list[str]] = []
    for component in components:
        members = set(component)
        first = min(component)
        # shortest path back to ``first`` inside the component (BFS)
        previous: dict[str, str] = {}
        frontier = [first]
        done = False
        while frontier and not done:
            following: list[str] = []
            for node in frontier:
                for nxt in graph[node]:
                    if nxt not in members:
                        continue
                    if nxt == first:
                        previous[first] = node
                        done = True
                        break
                    if nxt not in previous:
                        previous[nxt] = node
                        following.append(nxt)
                if done:
                    break
            frontier = following
        path = [first]
        node = previous[first]
        while node != first:
            path.append(node)
            node = previous[node]
        path.append(first)
        path.reverse()
        cycles.append([str(files[m].relative_to(root)) for m in path])
    return sorted(cycles)


def test_no_upward_imports() -> None:
    found = upward_imports(ROOT)
    assert not found, "upward imports:\n" + "\n".join(found)


def test_no_import_cycles() -> None:
    found = import_cycles(ROOT)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    _write(
        tmp_path,
        {
            "streams/__init__.py": "",
            "streams/a.py": "def f():\n    from emulator import b\n",  # upward, lazy
            "streams/ok.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import emulator.b\n",
            "emulator/__init__.py": "",
            "emulator/b.py": "from . import c\n",
            "emulator/c.py": "from emulator.d import x\n",
            "emulator/d.py": "import emulator.b\nx = 1\n",
            "firmware/__init__.py": "",
            "l1emu/__init__.py": "",
        },
    )
    return tmp_path


def test_checker_finds_an_upward_import(synthetic: Path) -> None:
    assert upward_imports(synthetic) == ["streams/a.py:2 imports emulator.b (upward)"]


def test_checker_finds_a_cycle(synthetic: Path) -> None:
    assert import_cycles(synthetic) == [["emulator/b.py", "emulator/c.py", "emulator/d.py", "emulator/b.py"]]

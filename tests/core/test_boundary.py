"""The core never needs Qt: every core module imports where PySide6 cannot be imported at all."""

from __future__ import annotations

import ast
import itertools
import pkgutil
import subprocess
import sys
from pathlib import Path

import seeing_assistant
import seeing_assistant.core


def test_every_core_module_imports_without_qt() -> None:
    core = seeing_assistant.core.__path__
    names = sorted(f"seeing_assistant.core.{module.name}" for module in pkgutil.iter_modules(core))
    assert "seeing_assistant.core.session" in names and len(names) >= 15
    probe = ("import sys\nsys.modules['PySide6'] = None  # any 'import PySide6...' now raises ImportError\n"
             "import importlib\n"
             f"for name in {names!r}:\n    importlib.import_module(name)\n"
             "print(sorted(name for name, module in sys.modules.items() if name.startswith('PySide6') and module))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def _imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The project's modules that ``module`` imports anywhere in its file (at the top, in functions, for typing)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every module of the app and the project's modules it imports."""
    root = Path(seeing_assistant.__file__).parent
    modules: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    known = set(modules)
    return {name: _imports_of(path, name, known) for name, path in modules.items()}


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = import_graph()
    assert "seeing_assistant.core.engine" in graph["seeing_assistant.core.factories"]
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for child in sorted(graph[name]):
            if state.get(child) == 1:
                circles.append([*path[path.index(child):], child])
            elif child not in state:
                visit(child, [*path, child])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # A package's __init__ that names its own modules is how a package is read, not a circle between two designs.
    circles = [c for c in circles if not any(a.startswith(b + ".") or b.startswith(a + ".")
                                             for a, b in itertools.pairwise(c))]
    assert circles == []

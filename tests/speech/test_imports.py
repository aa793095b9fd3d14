"""No import circle in the speech package: every import read from the source, at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import seeing_assistant.speech

PACKAGE = "seeing_assistant.speech"
FOLDER = Path(seeing_assistant.speech.__file__).parent


def imports_of(path: Path) -> set[str]:
    """The speech modules ``path`` imports anywhere in its body (``__init__`` for the package itself)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name == PACKAGE:
                found.add("__init__")
            elif name.startswith(PACKAGE + ".") and (FOLDER / f"{name.split('.')[2]}.py").exists():
                found.add(name.split(".")[2])
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle found by a depth-first walk, each as the path that closes it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        for imported in sorted(graph.get(module, set())):
            if imported in path:
                found.append([*path[path.index(imported):], imported])
            elif imported not in done:
                walk(imported, [*path, imported])
        done.add(module)

    for module in sorted(graph):
        walk(module, [module])
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    # The check itself can fail: the old shape, a base class that imports its own drivers, is a circle.
    assert circles({"synthesizer": {"espeak_ng"}, "espeak_ng": {"synthesizer"}}) == [
        ["espeak_ng", "synthesizer", "espeak_ng"]]


def test_no_module_of_the_speech_package_imports_its_way_back_to_itself() -> None:
    graph = {path.stem: imports_of(path) - {path.stem} for path in FOLDER.glob("*.py")}
    assert "espeak_ng" in graph["drivers"] and "synthesizer" in graph["espeak_ng"]  # the graph was read
    assert not {"espeak_ng", "pyttsx3_engine", "silence"} & graph["synthesizer"]  # the base knows no driver
    assert circles(graph) == []

"""The core never needs Qt: every core module imports where PySide6 cannot be imported at all."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

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

"""Import a function's handler module the way Lambda does: by file, with the template's environment."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def load_handler_module(function: str) -> ModuleType:
    """Fresh import of functions/<function>/app.py (module-level setup reads the environment)."""
    name = f"detour_function_{function}"
    sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS / function / "app.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

"""Import a function's handler module the way Lambda does: by file, with the template's environment."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest

from detour.runtime.aws import forget_clients

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


class _CurrentStdout:
    """Powertools binds its log handler to sys.stdout at import; pytest swaps sys.stdout per test
    phase. Writing through to whatever sys.stdout is now lets capsys see the JSON logs."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def load_handler_module(function: str) -> ModuleType:
    """Fresh import of functions/<function>/app.py (module-level setup reads the environment)."""
    name = f"detour_function_{function}"
    sys.modules.pop(name, None)
    spec = importlib.util.spec_from_file_location(name, FUNCTIONS / function / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no handler at functions/{function}/app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_function(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A cold start of functions/<name>: its service name set, a fresh AWS client, logs capturable.

    Set the function's own environment variables with monkeypatch before calling this.
    """
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", name)
    forget_clients()  # the clients are made against this test's endpoint
    logging.Logger.manager.loggerDict.pop(name, None)  # Powertools would reuse an earlier import's logger
    module = load_handler_module(name)
    for handler in logging.getLogger(name).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_CurrentStdout())  # type: ignore[arg-type]
    return module

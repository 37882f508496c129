"""Run a Detour function's handler in this process, the way Lambda would: the module imported once
(a cold start) with the function's environment, then invoked with an event and a context.

Used by the rehearsal and by `detour invoke`, where no container runtime is needed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools and our handlers read."""

    function_name: str = "detour-local"
    memory_limit_in_mb: int = 256
    timeout_s: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_s - (time.monotonic() - self.started)) * 1000)


# One function runs at a time in this process: its variables are process-wide while it runs.
_RUNNING = threading.RLock()


@contextlib.contextmanager
def exclusive(timeout_s: float) -> Iterator[bool]:
    """Hold the runtime (no other function runs meanwhile) if it frees up within `timeout_s`;
    yields whether it was had. For callers that must not wait forever on a running function."""
    acquired = _RUNNING.acquire(timeout=timeout_s)
    try:
        yield acquired
    finally:
        if acquired:
            _RUNNING.release()


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Set these variables, and afterwards put back exactly what they replaced.

    Only the given keys are touched (never a clear-and-restore of the whole environment), so threads
    building AWS clients meanwhile always see the emulator's endpoint and credentials.
    """
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class InProcessFunction:
    """One function: `functions/<directory>/app.py`, with the environment its template gives it."""

    def __init__(
        self,
        directory: str,
        variables: dict[str, str],
        *,
        function_name: str | None = None,
        handler: str = "lambda_handler",
        output: IO[str] | None = None,
        root: Path = ROOT,
    ) -> None:
        self.directory = directory
        self.function_name = function_name or f"detour-{directory}"
        self.variables = {
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            **variables,
        }
        self._handler_name = handler
        self._output = output  # where the function's logs and metrics go (Lambda: CloudWatch Logs)
        self._path = root / "functions" / directory / "app.py"
        self._module: ModuleType | None = None

    def invoke(self, event: dict[str, Any], *, request_id: str | None = None) -> Any:
        """Run the handler on `event` (one function at a time in this process). `request_id`:
        the context's aws_request_id, as Lambda keeps it for the retries of an asynchronous event."""
        with self._runtime():
            module = self._module or self._cold_start()
            context = LambdaContext(function_name=self.function_name)
            if request_id is not None:
                context.aws_request_id = request_id
            return getattr(module, self._handler_name)(event, context)

    def _cold_start(self) -> ModuleType:
        layer = str(ROOT / "layers" / "common")
        if layer not in sys.path:
            sys.path.insert(0, layer)
        # A cold start: Powertools reuses a logger an earlier import configured, with its stream.
        logging.Logger.manager.loggerDict.pop(self.variables.get("POWERTOOLS_SERVICE_NAME", ""), None)
        name = f"detour_function_{self.directory}"
        spec = importlib.util.spec_from_file_location(name, self._path)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"no handler at {self._path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        self._module = module
        return module

    @contextlib.contextmanager
    def _runtime(self) -> Iterator[None]:
        with _RUNNING, environment(self.variables), contextlib.ExitStack() as stack:
            if self._output is not None:
                stack.enter_context(contextlib.redirect_stdout(self._output))
            yield

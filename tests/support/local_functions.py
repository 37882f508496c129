"""Handlers written for a test, run by the local runtime exactly as the stack's functions are:
`functions/<name>/app.py` under a temporary root, imported on first use, run with its environment."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

from detour_cli.local.lambda_runtime import InProcessFunction


def handler_function(root: Path, source: str, variables: dict[str, str] | None = None) -> InProcessFunction:
    """A function whose app.py is `source` (it defines lambda_handler), under a unique name."""
    directory = f"test_{uuid.uuid4().hex[:10]}"  # the runtime keys imported modules by directory
    folder = root / "functions" / directory
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(textwrap.dedent(source))
    return InProcessFunction(directory, variables or {}, function_name=f"detour-{directory}", root=root)

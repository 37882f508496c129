"""Opt-in X-Ray tracing for a handler: the X-Ray SDK costs ~0.5 s of cold start, so only when the
stack turns it on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def traced(handler: Callable[..., Any], enabled: bool) -> Callable[..., Any]:
    """X-Ray tracing only when the stack turns it on: the X-Ray SDK costs ~0.5 s of cold start."""
    if not enabled:
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - deliberately lazy, see docstring

    return Tracer().capture_lambda_handler(handler)

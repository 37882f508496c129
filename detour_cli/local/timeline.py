"""The rehearsal's live timeline: each line stamped with the seconds since the start; while waiting,
a progress line on a terminal (and nothing extra in CI logs)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO

SPINNER = "|/-\\"


class Timeline:
    def __init__(self, out: IO[str] = sys.stdout, record: list[str] | None = None) -> None:
        self._out = out
        self._started = time.monotonic()
        self._tty = out.isatty()
        self.lines = record if record is not None else []

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def say(self, text: str, indent: int = 0) -> None:
        line = f"[{self.elapsed():6.1f}s] {' ' * indent}{text}"
        self.lines.append(line)
        self._out.write(("\r\033[K" if self._tty else "") + line + "\n")
        self._out.flush()

    def detail(self, text: str) -> None:
        self.say(text, indent=2)

    def wait_for(self, what: str, done: Callable[[], bool], timeout_s: float, poll_s: float = 0.1) -> None:
        """Block until `done()`; a spinner with the elapsed time on a terminal."""
        deadline = time.monotonic() + timeout_s
        begun = time.monotonic()
        tick = 0
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {timeout_s:.0f} s waiting for {what}")
            if self._tty:
                spin = SPINNER[tick % len(SPINNER)]
                self._out.write(f"\r\033[K[{self.elapsed():6.1f}s]   {spin} {what} ({time.monotonic() - begun:.1f} s)")
                self._out.flush()
            tick += 1
            time.sleep(poll_s)

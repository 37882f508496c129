"""What the operator verbs share about output: exit codes, colour only on a terminal, times."""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO

from detour_cli.stack_outputs import DetourError

EXIT_OK = 0
EXIT_PROBLEM = 1  # the verb worked and found something wrong (failing over, unhealthy, ...)
EXIT_ERROR = 2  # usage error, missing stack or output, AWS error

EXIT_CODES_HELP = "Exit codes: 0 ok; 1 {problem}; 2 usage error, missing stack or output, or AWS error."


def paragraphs(*texts: str, width: int = 79) -> str:
    """An --help epilog: each paragraph wrapped on its own (argparse would run them together)."""
    return "\n\n".join(textwrap.fill(text, width) for text in texts)


ANSI = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}


class Style:
    """ANSI colour only when the stream is a terminal and NO_COLOR (no-color.org) is unset."""

    def __init__(self, stream: IO[str]) -> None:
        isatty = getattr(stream, "isatty", lambda: False)
        self.enabled = bool(isatty()) and not os.environ.get("NO_COLOR")

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names:
            return text
        codes = ";".join(ANSI[name] for name in names)
        return f"\033[{codes}m{text}\033[0m"


def utc_text(moment: datetime | None) -> str:
    """A time for people: UTC, to the second."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_reporting_errors(prog: str, verb: Callable[[], int]) -> int:
    """Run a verb; a DetourError or an AWS error becomes one clear line on stderr and exit code 2."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        return verb()
    except DetourError as error:
        print(f"{prog}: {error}", file=sys.stderr)
    except ClientError as error:
        details = error.response.get("Error", {})
        print(f"{prog}: AWS error: {details.get('Code', '?')}: {details.get('Message', error)}", file=sys.stderr)
    except BotoCoreError as error:
        print(f"{prog}: AWS error: {error}", file=sys.stderr)
    except Exception as error:  # a crash must not read as exit 1, "problem found"
        print(f"{prog}: unexpected error: {type(error).__name__}: {error}", file=sys.stderr)
    return EXIT_ERROR


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(text: str) -> str:
    """Alarm text without control characters: no terminal escape codes, and valid in XML."""
    return _CONTROL.sub("", text)

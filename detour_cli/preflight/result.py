"""One check's verdict: pass, warn or fail (info for the cost), a title, what was found, and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"  # nothing to judge: the cost
    ERROR = "error"  # the check could not be made (AWS refused): exit 2


@dataclass(frozen=True, slots=True)
class Result:
    check: str  # a stable id for scripts: hosted-zone, certificate, cloudfront, primary, probe, ...
    status: Status
    title: str  # one line: what was found
    detail: tuple[str, ...] = ()  # more lines: what was looked at
    fix: str = ""  # for warn and fail: exactly what to do, commands included
    data: dict[str, Any] | None = None  # figures for scripts (--format json), e.g. the cost's items

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": str(self.status),
            "title": self.title,
            "detail": list(self.detail),
            "fix": self.fix or None,
            **({"data": self.data} if self.data is not None else {}),
        }


def passed(check: str, title: str, *detail: str) -> Result:
    return Result(check, Status.PASS, title, tuple(detail))


def warned(check: str, title: str, fix: str, *detail: str) -> Result:
    return Result(check, Status.WARN, title, tuple(detail), fix)


def failed(check: str, title: str, fix: str, *detail: str) -> Result:
    return Result(check, Status.FAIL, title, tuple(detail), fix)

"""Function configuration, read once from the environment the template sets."""

from __future__ import annotations

import os
from dataclasses import dataclass


class MissingSetting(RuntimeError):
    """An environment variable the template always sets is absent: the function runs outside it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What every Detour function is given. A function reads its own extra settings with `required`."""

    table_name: str
    alarm_prefix: str  # "<hub stack>/": every site alarm of this hub is named <hub>/<site stack>/primary-health
    tracing: bool

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            table_name=required("TABLE_NAME"),
            alarm_prefix=required("ALARM_PREFIX"),
            tracing=os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").lower() != "true",
        )


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSetting(
            f"environment variable {name} is not set; deploy with template.yaml, or pass it to "
            "`sam local invoke --env-vars` (see events/env.json)"
        )
    return value

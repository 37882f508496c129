"""GetHealthCheckStatus, answered from the local checkers.

The emulator answers every health check with one fixed "Success" observation, so a function that
reads which check failed (detour.signals.states: how many checker regions report failure) would
read a stopped primary as passing. While `reported_by` is in effect, the emulator's answer for a
check the rehearsal probes is each local checker's last status report instead, as Route 53 keeps
one per checker region; any other check keeps the emulator's answer. The emulator runs in this
process (moto's threaded server), so this replaces the one response method, and puts it back after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

Observations = Callable[[str], list[dict[str, Any]] | None]  # health check id -> its observations, None: not ours


@contextlib.contextmanager
def reported_by(observations: Observations) -> Iterator[None]:
    from moto.core.responses import ActionResult  # noqa: PLC0415 - only local runs have moto loaded
    from moto.route53.responses import Route53  # noqa: PLC0415

    emulators = Route53.get_health_check_status

    def get_health_check_status(self: Route53) -> ActionResult:
        check_id = self._get_param("HealthCheckId")
        found = observations(check_id)
        if found is None:
            return emulators(self)
        self.backend.get_health_check(check_id)  # NoSuchHealthCheck, as Route 53 answers for an unknown id
        return ActionResult({"HealthCheckObservations": found})

    Route53.get_health_check_status = get_health_check_status  # type: ignore[method-assign]
    try:
        yield
    finally:
        Route53.get_health_check_status = emulators  # type: ignore[method-assign]

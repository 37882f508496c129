"""Route 53's alarm-backed (CLOUDWATCH_METRIC) and calculated (CALCULATED) health checks, played
locally for one site: the emulator keeps them (EmulatedStack.health_checks) but never evaluates them.

Rules (Route 53 documentation):
- an alarm-backed check is healthy while its alarm is OK and unhealthy while it is in ALARM; while
  the alarm is INSUFFICIENT_DATA it follows InsufficientDataHealthStatus: Healthy, Unhealthy, or
  LastKnownStatus, the status it had when the alarm last had data (healthy for a check that never
  had any);
- a calculated check is healthy while at least HealthThreshold of its children are healthy (0:
  always healthy; more than its children: never).

The endpoint check's status is not played here: it comes from the local checkers (route53.py), as
`endpoint(check_id)`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from detour_cli.local.emulated_stack import EmulatedHealthCheck
from detour_cli.local.metric_alarm import ALARM, INSUFFICIENT_DATA, OK

HEALTHY, UNHEALTHY, LAST_KNOWN = "Healthy", "Unhealthy", "LastKnownStatus"


def metric_check_healthy(alarm_state: str, insufficient_data: str, last_known: bool | None) -> bool:
    """A CLOUDWATCH_METRIC check's status from its alarm's state. `last_known`: its status when the
    alarm last had data (None: never)."""
    if alarm_state == OK:
        return True
    if alarm_state == ALARM:
        return False
    if insufficient_data == HEALTHY:
        return True
    if insufficient_data == UNHEALTHY:
        return False
    return True if last_known is None else last_known  # LastKnownStatus (Route 53's default)


def calculated_healthy(children: Sequence[bool], health_threshold: int) -> bool:
    """A CALCULATED check: healthy while at least `health_threshold` children are."""
    return sum(1 for healthy in children if healthy) >= health_threshold


@dataclass(frozen=True, slots=True)
class CheckStatus:
    """One check's status as Route 53 would report it, with what it was worked out from."""

    check: EmulatedHealthCheck
    healthy: bool
    because: str  # "alarm ALARM", "alarm INSUFFICIENT_DATA, InsufficientDataHealthStatus Healthy", "1 of 2 ..."


class SiteChecks:
    """A site's health checks: the alarm-backed ones follow their alarms (`refresh` reads them from the
    emulator), the calculated one its children, the endpoint one `endpoint`. Read from any thread."""

    def __init__(self, checks: Iterable[EmulatedHealthCheck], endpoint: Callable[[str], bool | None]) -> None:
        self.checks = {check.health_check_id: check for check in checks}
        self._endpoint = endpoint
        self._alarm_states: dict[str, str] = {}  # alarm name -> state, as last read
        self._last_known: dict[str, bool] = {}  # alarm-backed check id -> its status when its alarm last had data
        self._lock = threading.Lock()

    def by_logical_id(self, logical_id: str) -> EmulatedHealthCheck | None:
        return next((c for c in self.checks.values() if c.logical_id == logical_id), None)

    @property
    def alarm_names(self) -> list[str]:
        return sorted({c.alarm_name for c in self.checks.values() if c.type == "CLOUDWATCH_METRIC"})

    def refresh(self, cloudwatch: Any) -> None:
        """Read the alarms behind the alarm-backed checks (one DescribeAlarms), as Route 53 follows them."""
        names = self.alarm_names
        if not names:
            return
        found = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
        self.alarms_are({alarm["AlarmName"]: str(alarm["StateValue"]) for alarm in found})

    def alarms_are(self, states: Mapping[str, str]) -> None:
        """The alarms' states now (an alarm not given: INSUFFICIENT_DATA, as a missing alarm is to Route 53)."""
        with self._lock:
            self._alarm_states = dict(states)
            for check in self.checks.values():
                if check.type == "CLOUDWATCH_METRIC" and self._alarm_states.get(check.alarm_name) in (OK, ALARM):
                    self._last_known[check.health_check_id] = self._alarm_states[check.alarm_name] == OK

    def status(self, check_id: str) -> CheckStatus | None:
        """The check's status, or None for a check this site does not have (or an endpoint not yet probed)."""
        check = self.checks.get(check_id)
        if check is None:
            return None
        if check.type == "CLOUDWATCH_METRIC":
            with self._lock:
                state = self._alarm_states.get(check.alarm_name, INSUFFICIENT_DATA)
                last_known = self._last_known.get(check_id)
            insufficient = check.insufficient_data_health_status or LAST_KNOWN
            healthy = metric_check_healthy(state, insufficient, last_known)
            because = f"alarm {state}"
            if state == INSUFFICIENT_DATA:
                because += f", InsufficientDataHealthStatus {insufficient}"
            return CheckStatus(check, healthy, because)
        if check.type == "CALCULATED":
            children = [self.healthy(child) for child in check.children]
            known = [True if healthy is None else healthy for healthy in children]  # a new check: healthy
            threshold = check.health_threshold or 0
            healthy = calculated_healthy(known, threshold)
            return CheckStatus(check, healthy, f"{sum(known)} of {len(known)} children healthy, needs {threshold}")
        endpoint = self._endpoint(check_id)
        if endpoint is None:
            return None
        return CheckStatus(check, endpoint, "the endpoint's checkers")

    def healthy(self, check_id: str) -> bool | None:
        status = self.status(check_id)
        return None if status is None else status.healthy

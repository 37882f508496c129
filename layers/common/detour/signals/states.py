"""Each of a site's checks, read now: the endpoint probe from Route 53's checkers, each signal from
its CloudWatch alarm. Two requests whatever the site's history: GetHealthCheckStatus and one
DescribeAlarms for every signal alarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from detour.incidents.sites import RegisteredSite, SignalKind
from detour.incidents.transition import format_time, parse_time

ENDPOINT = "endpoint"  # the kind of the endpoint probe, beside SignalKind's
ENDPOINT_NAME = "endpoint probe"
HEALTHY_SHARE = 0.18  # Route 53: an endpoint is healthy when more than 18 % of its checkers say so
DETAIL_LIMIT = 300  # an alarm's reason can be long; Slack and the page show the start
ALARM_NAMES_PER_CALL = 100  # DescribeAlarms' limit


class SignalsUnreadable(RuntimeError):
    """Route 53 or CloudWatch could not be read (after the client's retries); nothing was recorded."""


@dataclass(frozen=True, slots=True)
class SignalState:
    """One check's state. `healthy` None: unknown (no data, not found, or LastKnownStatus)."""

    name: str
    kind: str  # ENDPOINT or a SignalKind value
    healthy: bool | None
    detail: str
    alarm_name: str = ""

    def to_value(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "healthy": self.healthy,
            "detail": self.detail,
            "alarm_name": self.alarm_name,
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> SignalState:
        healthy = value.get("healthy")
        return cls(
            name=str(value["name"]),
            kind=str(value["kind"]),
            healthy=None if healthy is None else bool(healthy),
            detail=str(value.get("detail", "")),
            alarm_name=str(value.get("alarm_name", "")),
        )

    @property
    def label(self) -> str:
        return {ENDPOINT: "endpoint probe", SignalKind.ERROR_RATE.value: "5xx rate"}.get(self.kind, self.name)

    @property
    def verdict(self) -> str:
        return {True: "healthy", False: "failing", None: "unknown"}[self.healthy]


@dataclass(frozen=True, slots=True)
class SignalReading:
    """All of a site's checks, read at one moment."""

    read_at: datetime
    states: tuple[SignalState, ...]
    note: str = ""  # instead of states: why they were not read (see causes.FRESH_FOR)

    @property
    def failing(self) -> tuple[SignalState, ...]:
        return tuple(state for state in self.states if state.healthy is False)

    def summary(self) -> str:
        """One line for Slack and the logs: what was failing, and why."""
        if self.note:
            return self.note
        failing = self.failing
        if not failing:
            return (
                f"no check was failing when Detour read them at {format_time(self.read_at)} "
                "(a drill or planned maintenance inverts the probe; or it was already recovering)"
            )
        return "; ".join(f"{state.label}: {state.detail}" for state in failing)

    def public_summary(self) -> str:
        """The same for the public page: a named alarm's own reason (its metric, its values) is the
        operator's business, so it is named only; the probe's and the 5xx rate's are Detour's."""
        if self.note or not self.failing:
            return self.summary()
        return "; ".join(
            f"{state.label}: {state.detail}" if state.kind != SignalKind.ALARM.value else state.label
            for state in self.failing
        )

    def to_value(self) -> dict[str, Any]:
        value = {"read_at": format_time(self.read_at), "states": [state.to_value() for state in self.states]}
        return value | ({"note": self.note} if self.note else {})

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> SignalReading:
        return cls(
            read_at=parse_time(str(value["read_at"])),
            states=tuple(SignalState.from_value(state) for state in value.get("states") or []),
            note=str(value.get("note", "")),
        )


def read_signals(site: RegisteredSite, route53: Any, cloudwatch: Any, now: datetime) -> SignalReading:
    """Read every check of `site`, or raise SignalsUnreadable naming what could not be read."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto3 loads it anyway

    try:
        states = [endpoint_state(route53, site.endpoint_check)]
    except (BotoCoreError, ClientError) as error:
        raise SignalsUnreadable(f"Route 53 health check {site.endpoint_check}: {error}") from error
    if site.signals:
        names = [signal.alarm_name for signal in site.signals]
        try:
            alarms = describe_alarms(cloudwatch, names)
        except (BotoCoreError, ClientError) as error:
            raise SignalsUnreadable(f"CloudWatch alarms {', '.join(names)}: {error}") from error
        states.extend(alarm_state(s.name, s.kind.value, s.alarm_name, alarms, site) for s in site.signals)
    return SignalReading(read_at=now, states=tuple(states))


def endpoint_state(route53: Any, check_id: str) -> SignalState:
    observations = route53.get_health_check_status(HealthCheckId=check_id).get("HealthCheckObservations") or []
    reports = [str((o.get("StatusReport") or {}).get("Status", "")) for o in observations]
    failures = [report for report in reports if report.startswith("Failure")]
    total = len(reports)
    if total == 0:
        return SignalState(ENDPOINT_NAME, ENDPOINT, None, "no checker has reported yet")
    healthy = (total - len(failures)) / total > HEALTHY_SHARE
    if failures:
        detail = f"failing from {len(failures)} of {total} checker regions ({_short(failures[0])})"
    else:
        detail = f"passing from all {total} checker regions"
    return SignalState(ENDPOINT_NAME, ENDPOINT, healthy, detail)


def describe_alarms(cloudwatch: Any, names: list[str]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(names), ALARM_NAMES_PER_CALL):
        page = cloudwatch.describe_alarms(AlarmNames=names[start : start + ALARM_NAMES_PER_CALL])
        found.update({alarm["AlarmName"]: alarm for alarm in page.get("MetricAlarms", [])})
    return found


def alarm_state(
    name: str, kind: str, alarm_name: str, alarms: Mapping[str, Mapping[str, Any]], site: RegisteredSite
) -> SignalState:
    alarm = alarms.get(alarm_name)
    if alarm is None:
        return SignalState(name, kind, None, f"alarm {alarm_name} not found in us-east-1", alarm_name)
    state = str(alarm.get("StateValue", ""))
    reason = str(alarm.get("StateReason", ""))
    if state == "OK":
        healthy: bool | None = True
    elif state == "ALARM":
        healthy = False
    else:  # INSUFFICIENT_DATA: Route 53 follows the site's SignalInsufficientData
        healthy = {"Healthy": True, "Unhealthy": False}.get(site.signal_insufficient_data)
    return SignalState(name, kind, healthy, _short(f"{state}: {reason}" if reason else state), alarm_name)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"

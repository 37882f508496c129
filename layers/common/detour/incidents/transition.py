"""A health-check alarm's state change: the one fact every Detour function acts on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import quote

CONSOLE = "https://{region}.console.aws.amazon.com"


class AlarmState(StrEnum):
    ALARM = "ALARM"
    OK = "OK"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True, slots=True)
class Transition:
    """One CloudWatch alarm transition for one protected site.

    `site_id` keys every record Detour keeps for the site. The parser sets it to `health_check_id`
    (the alarm's `HealthCheckId` dimension); `alarm_for_site` replaces it by the registered site's
    id, which outlives its health checks (ADR 0002).
    """

    site_id: str
    alarm_name: str
    alarm_arn: str
    alarm_description: str
    account_id: str
    region: str
    new_state: AlarmState
    old_state: AlarmState
    reason: str
    changed_at: datetime
    # Set by the function that records it: an operator's planned-maintenance notice was active.
    # Not part of CloudWatch's message; the first record of the transition keeps it.
    planned: bool = False
    health_check_id: str = ""  # the check the alarm watches: the endpoint's, or the calculated one

    @property
    def key(self) -> str:
        """Unique per transition, whatever SNS does: the alarm and the moment it changed state."""
        return transition_key(self.changed_at, self.alarm_name)

    @property
    def alarm_console_url(self) -> str:
        base = CONSOLE.format(region=self.region)
        return f"{base}/cloudwatch/home?region={self.region}#alarmsV2:alarm/{quote(self.alarm_name, safe='')}"

    @property
    def health_check_console_url(self) -> str:
        # Route 53 is a global service; its console lives in us-east-1.
        base = CONSOLE.format(region="us-east-1")
        return f"{base}/route53/healthchecks/home#/details/{quote(self.health_check_id or self.site_id, safe='')}"


def transition_key(changed_at: datetime, alarm_name: str) -> str:
    """A transition's key: also how an outage's opening ALARM is found from its window's start."""
    return f"{format_time(changed_at)}#{alarm_name}"


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`: sortable as text, so usable in sort keys."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse CloudWatch's `2015-06-03T17:43:27.123+0000` (or any ISO 8601 with an offset)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return moment.astimezone(UTC)

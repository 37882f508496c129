"""Forcing Detour's 5xx-rate signal through its data, for `detour drill --signal "5xx rate"`.

Route 53 follows an alarm-backed health check's metric data, not the alarm's state (Route 53
Developer Guide, "How Amazon Route 53 determines whether a health check is healthy", "Health checks
that monitor CloudWatch alarms": "Because Route 53 health checks monitor CloudWatch data streams
instead of the state of CloudWatch alarms, you can't force the status of a health check to change
by using the CloudWatch SetAlarmState API operation."). So the drill makes the data breach: it
publishes 100 % into the signal's own metric, as Detour's error_rate function publishes it,

    Detour   TargetErrorRate   Site=<site stack name>   Percent   Timestamp = the minute's start   60 s resolution

for the minute the drill starts in and each following minute while it waits (a minute missed by a
long poll is published late, so the minutes stay consecutive), and stops when told. Stopping is the
whole restore: the alarm takes each minute's Maximum, so a minute at 100 % stays at 100 % whatever
is published for it later, and the site recovers once the error_rate function's own values for the
minutes after the last forced one come in: as soon as the ALB's data for them is in (a minute or so
after each), or, for a minute without traffic, once it has settled (SETTLE_MINUTES).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from detour.signals.error_rate import DATA_PER_PUT, METRIC_NAME, NAMESPACE, PERIOD_S, SITE_DIMENSION

FORCED_PERCENT = 100.0  # the highest rate error_rate publishes: above any threshold but 100
MINUTE = timedelta(seconds=PERIOD_S)


def clock() -> datetime:
    """Now, for the minutes published (the tests put a faster one in its place)."""
    return datetime.now(UTC)


def minute_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


class RatePublisher:
    """Publishes FORCED_PERCENT for the current minute and every minute after it, one datapoint a
    minute, each time `publish_due` is called, until `stop`."""

    def __init__(self, cloudwatch: Any, site_stack: str, now: Callable[[], datetime] | None = None) -> None:
        self.cloudwatch, self.site_stack = cloudwatch, site_stack
        self._now = now or clock
        self.published: list[datetime] = []  # the minutes' starts, oldest first
        self.stopped = False

    @property
    def dimensions(self) -> list[dict[str, str]]:
        return [{"Name": SITE_DIMENSION, "Value": self.site_stack}]

    def publish_due(self) -> list[datetime]:
        """Publish the minutes not yet published, up to the current one; the minutes published now."""
        if self.stopped:
            return []
        current = minute_of(self._now())
        start = self.published[-1] + MINUTE if self.published else current
        due = []
        while start <= current:
            due.append(start)
            start += MINUTE
        for first in range(0, len(due), DATA_PER_PUT):
            batch = due[first : first + DATA_PER_PUT]
            self.cloudwatch.put_metric_data(
                Namespace=NAMESPACE,
                MetricData=[
                    {
                        "MetricName": METRIC_NAME,
                        "Dimensions": self.dimensions,
                        "Timestamp": minute,
                        "Value": FORCED_PERCENT,
                        "Unit": "Percent",
                        "StorageResolution": PERIOD_S,
                    }
                    for minute in batch
                ],
            )
            self.published += batch
        return due

    def stop(self) -> None:
        """Publish nothing more (there is nothing to undo: see the module's docstring)."""
        self.stopped = True

"""An Application Load Balancer's CloudWatch metrics, played from the requests the rehearsal's
visitors make to the local primary (which stands in for the ALB and its one target group).

What the ALB publishes per minute, with Sum as the statistic that counts (ADR 0002):

    AWS/ApplicationELB   RequestCount, HTTPCode_Target_5XX_Count   TargetGroup + LoadBalancer   60 s
                         RequestCount                              LoadBalancer                 60 s

The error_rate function reads the balancer's RequestCount and the group's HTTPCode_Target_5XX_Count
(and HTTPCode_ELB_5XX_Count, below), not the group's RequestCount, published all the same as the ALB
does. The balancer has this one target group, so its RequestCount is the group's. As the ALB does, a minute
without requests publishes nothing, and HTTPCode_Target_5XX_Count is published only when a target
answered 5xx; HTTPCode_ELB_5XX_Count (the balancer's own 502/503/504) never is: the local primary
answers every request itself. Each request is counted in the minute the caller says
(`counting`), not the clock's: the rehearsal back-dates its minutes, so that a run of ALB minutes
takes seconds. Route 53's own probes (their User-Agent says so) are not counted: on AWS they pass
through the ALB and are a few requests a minute; here they would make the back-dated minutes depend
on how long the rehearsal takes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

NAMESPACE = "AWS/ApplicationELB"
REQUESTS = "RequestCount"
TARGET_5XX = "HTTPCode_Target_5XX_Count"
ROUTE53_USER_AGENT = "Amazon-Route53-Health-Check-Service"


@dataclass
class MinuteCounts:
    requests: int = 0
    target_5xx: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.target_5xx / self.requests if self.requests else 0.0


class AlbMetrics:
    """The ALB's per-minute counts for one target group, and their publication to the emulator."""

    def __init__(self, target_group: str, load_balancer: str) -> None:
        self.target_group = target_group
        self.load_balancer = load_balancer
        self.minutes: dict[datetime, MinuteCounts] = {}
        self._minute: datetime | None = None
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> list[dict[str, str]]:
        return [
            {"Name": "TargetGroup", "Value": self.target_group},
            {"Name": "LoadBalancer", "Value": self.load_balancer},
        ]

    @property
    def balancer_dimensions(self) -> list[dict[str, str]]:
        return [{"Name": "LoadBalancer", "Value": self.load_balancer}]

    @contextlib.contextmanager
    def counting(self, minute: datetime) -> Iterator[MinuteCounts]:
        """Count the requests answered meanwhile in `minute` (its start)."""
        with self._lock:
            self._minute = minute
            counts = self.minutes.setdefault(minute, MinuteCounts())
        try:
            yield counts
        finally:
            with self._lock:
                self._minute = None

    def observe(self, status: int, user_agent: str = "") -> None:
        """One request the target answered (the primary calls this for each)."""
        if user_agent.startswith(ROUTE53_USER_AGENT):
            return
        with self._lock:
            if self._minute is None:
                return
            counts = self.minutes[self._minute]
            counts.requests += 1
            if 500 <= status <= 599:
                counts.target_5xx += 1

    def publish(self, minute: datetime, cloudwatch: Any) -> MinuteCounts:
        """PutMetricData for the minute, timestamped at its start, as the ALB publishes it."""
        counts = self.minutes.get(minute, MinuteCounts())
        data = [
            {
                "MetricName": name,
                "Dimensions": dimensions,
                "Timestamp": minute,
                "Value": float(value),
                "Unit": "Count",
            }
            for name, dimensions, value in (
                (REQUESTS, self.dimensions, counts.requests),
                (TARGET_5XX, self.dimensions, counts.target_5xx),
                (REQUESTS, self.balancer_dimensions, counts.requests),
            )
            if value
        ]
        if data:
            cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)
        return counts

"""A site's target 5xx rate, published as a metric an alarm-backed Route 53 check can use (ADR 0002).

A Route 53 `CLOUDWATCH_METRIC` check needs an alarm on one standard-resolution metric with a simple
statistic; an alarm on metric math (5xx / requests) cannot back it. So every minute, for every
registered site with the signal on, this reads the ALB's per-minute sums

    AWS/ApplicationELB   HTTPCode_Target_5XX_Count, RequestCount   TargetGroup + LoadBalancer   Sum, 60 s

for the last few finished minutes, in one GetMetricData call (two queries a site, 500 a call), and
publishes the rate of each of those minutes:

    Detour   TargetErrorRate   Site=<site stack name>   Percent   Timestamp = the minute, 60 s resolution

The rate of a minute is 100 x 5xx / requests; 0 when the minute had fewer than the site's
`min_requests` requests (no data at all included); at most 100. A minute is published again on each
of the next runs, with what has arrived by then; the site's alarm takes the Maximum of the minute.

One site's failure holds up no other: a site whose configuration cannot be queried, or whose query
or publication fails, is reported in `failed`; the rest are published.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from detour.incidents.sites import ErrorRate, RegisteredSite

NAMESPACE = "Detour"
METRIC_NAME = "TargetErrorRate"
SITE_DIMENSION = "Site"
ALB_NAMESPACE = "AWS/ApplicationELB"
REQUESTS = "RequestCount"
ERRORS = "HTTPCode_Target_5XX_Count"
PERIOD_S = 60
WINDOW_MINUTES = 5  # each run republishes the last five finished minutes, with the data arrived since
QUERIES_PER_CALL = 500  # GetMetricData's limit
SITES_PER_READ = QUERIES_PER_CALL // 2  # two queries a site
DATA_PER_PUT = 1000  # PutMetricData's limit of metric data per request
SITES_PER_PUT = DATA_PER_PUT // WINDOW_MINUTES

# The dimension values as the ALB's metrics carry them, the last part of each ARN (what the site
# template's ErrorRateTargetGroup and ErrorRateLoadBalancer accept).
TARGET_GROUP = re.compile(r"targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}")
LOAD_BALANCER = re.compile(r"app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}")
# CloudWatch's answers to a request it refuses as malformed: one site's value can cause them, so a
# batch refused this way is asked again site by site. Any other error (access, throttling after
# retries, an outage) fails the whole batch: asking again per site would fail the same way.
REFUSED_AS_MALFORMED = {"InvalidParameterValue", "InvalidParameterCombination", "MissingParameter", "ValidationError"}

T = TypeVar("T")


class ErrorRateFailed(RuntimeError):
    """The rate of one or more sites was not published (the others were); the text names them."""


@dataclass(frozen=True, slots=True)
class Minute:
    """One finished minute of a site: what the ALB counted, and the rate published for it."""

    start: datetime
    requests: float
    errors: float
    rate: float  # percent


@dataclass(frozen=True, slots=True)
class Watched:
    """A registered site with the 5xx-rate signal on (`error_rate` set)."""

    site: RegisteredSite
    config: ErrorRate

    @property
    def name(self) -> str:
        """The site's Site dimension: its stack's name (what its alarm names too)."""
        return self.site.stack_name

    def dimensions(self) -> list[dict[str, str]]:
        return [
            {"Name": "TargetGroup", "Value": self.config.target_group},
            {"Name": "LoadBalancer", "Value": self.config.load_balancer},
        ]


@dataclass
class Publication:
    """What one run did: each site's minutes as published, or why the site failed."""

    published: dict[str, list[Minute]] = field(default_factory=dict)  # site stack -> its minutes
    failed: dict[str, str] = field(default_factory=dict)  # site stack -> "<domain>: <error>"
    not_watched: int = 0  # registered sites without the signal

    def failure_summary(self) -> str:
        total = len(self.failed) + len(self.published)
        return f"the target 5xx rate of {len(self.failed)} of {total} sites was not published: " + "; ".join(
            f"{name} ({reason})" for name, reason in sorted(self.failed.items(), key=lambda failure: failure[0])
        )


# ---------------------------------------------------------------- the computation


def finished_minutes(now: datetime, count: int = WINDOW_MINUTES) -> list[datetime]:
    """The starts of the last `count` minutes that ended at or before `now` (UTC), oldest first."""
    current = now.astimezone(UTC).replace(second=0, microsecond=0)
    return [current - timedelta(minutes=back) for back in range(count, 0, -1)]


def minute_rates(
    requests: Mapping[datetime, float],
    errors: Mapping[datetime, float],
    minutes: Sequence[datetime],
    min_requests: int,
) -> list[Minute]:
    """The rate of each minute from the two per-minute sums (keyed by the minute's start, UTC).

    A minute without requests, or with fewer than `min_requests`, is 0 %: too little traffic says
    nothing about the target. The ALB publishes no 5xx count for a minute without any: 0. 5xx can
    exceed requests in a minute (a request is counted when it arrives, its 5xx when it is answered,
    so a backlog of slow failures lands in a later, quieter minute): that minute is 100 %.
    """
    rates = []
    for minute in minutes:
        count = max(float(requests.get(minute, 0.0)), 0.0)
        failed = max(float(errors.get(minute, 0.0)), 0.0)
        rate = 0.0 if count <= 0 or count < min_requests else min(100.0, 100.0 * failed / count)
        rates.append(Minute(start=minute, requests=count, errors=failed, rate=round(rate, 3)))
    return rates


def config_problem(config: ErrorRate) -> str | None:
    """Why the site's settings cannot be queried, or None. Checked before any request, so that one
    site's value never makes CloudWatch refuse the batch it would share with the others."""
    if not TARGET_GROUP.fullmatch(config.target_group):
        return (
            f"target group {config.target_group!r:.80} is not a TargetGroup dimension value (targetgroup/<name>/<id>)"
        )
    if not LOAD_BALANCER.fullmatch(config.load_balancer):
        return (
            f"load balancer {config.load_balancer!r:.80} is not an Application Load Balancer's LoadBalancer "
            "dimension value (app/<name>/<id>)"
        )
    if config.min_requests < 0:
        return f"min_requests {config.min_requests} is negative"
    return None


# ---------------------------------------------------------------- reading and publishing


def publish_error_rates(sites: Iterable[RegisteredSite], now: datetime, cloudwatch: Any) -> Publication:
    """Read, compute and publish the rate of the last finished minutes of every site with the signal
    on. `cloudwatch`: a boto3 CloudWatch client. Never raises for one site: see `failed`."""
    outcome = Publication()
    watched: list[Watched] = []
    for site in sites:
        if site.error_rate is None:
            outcome.not_watched += 1
            continue
        problem = config_problem(site.error_rate)
        if problem is None:
            watched.append(Watched(site, site.error_rate))
        else:
            outcome.failed[site.stack_name] = f"{site.domain}: {problem}"
    minutes = finished_minutes(now)

    rates: dict[str, tuple[Watched, list[Minute]]] = {}
    for batch in _chunks(watched, SITES_PER_READ):
        for one, series in _each_or_alone(batch, lambda b: _read(cloudwatch, b, minutes), outcome).items():
            requests, errors = series
            rates[one.name] = (one, minute_rates(requests, errors, minutes, one.config.min_requests))

    publishable = [one for one, _ in rates.values()]
    for batch in _chunks(publishable, SITES_PER_PUT):
        done = _each_or_alone(batch, lambda b: _put(cloudwatch, [(one, rates[one.name][1]) for one in b]), outcome)
        for one in done:
            outcome.published[one.name] = rates[one.name][1]
    return outcome


Series = tuple[dict[datetime, float], dict[datetime, float]]  # requests, 5xx: minute -> sum


def _read(cloudwatch: Any, batch: Sequence[Watched], minutes: Sequence[datetime]) -> dict[Watched, Series]:
    """One GetMetricData call (its pages) for the batch: each site's per-minute sums."""
    queries: list[dict[str, Any]] = []
    for index, one in enumerate(batch):
        for suffix, metric in (("requests", REQUESTS), ("errors", ERRORS)):
            queries.append(
                {
                    "Id": f"s{index}_{suffix}",
                    "MetricStat": {
                        "Metric": {"Namespace": ALB_NAMESPACE, "MetricName": metric, "Dimensions": one.dimensions()},
                        "Period": PERIOD_S,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
            )
    arguments: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": minutes[0],
        "EndTime": minutes[-1] + timedelta(seconds=PERIOD_S),
        "ScanBy": "TimestampAscending",
    }
    found: dict[str, dict[datetime, float]] = {str(query["Id"]): {} for query in queries}
    refused: dict[str, str] = {}
    while True:
        page = cloudwatch.get_metric_data(**arguments)
        for result in page.get("MetricDataResults", []):
            values = found.setdefault(result["Id"], {})
            for timestamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                values[_minute(timestamp)] = values.get(_minute(timestamp), 0.0) + float(value)
            if result.get("StatusCode") in ("InternalError", "Forbidden"):
                messages = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
                refused[result["Id"]] = f"{result['StatusCode']}{': ' + messages if messages else ''}"
        token = page.get("NextToken")
        if not token:
            break
        arguments["NextToken"] = token

    series: dict[Watched, Series] = {}
    failures: dict[Watched, str] = {}
    for index, one in enumerate(batch):
        problems = [refused[f"s{index}_{s}"] for s in ("requests", "errors") if f"s{index}_{s}" in refused]
        if problems:
            failures[one] = f"GetMetricData answered {problems[0]}"
        else:
            series[one] = (found[f"s{index}_requests"], found[f"s{index}_errors"])
    if failures:
        raise _SitesFailed(failures, series)
    return series


def _put(cloudwatch: Any, rates: Sequence[tuple[Watched, list[Minute]]]) -> dict[Watched, None]:
    data = [
        {
            "MetricName": METRIC_NAME,
            "Dimensions": [{"Name": SITE_DIMENSION, "Value": one.name}],
            "Timestamp": minute.start,
            "Value": minute.rate,
            "Unit": "Percent",
            "StorageResolution": 60,
        }
        for one, minutes in rates
        for minute in minutes
    ]
    for start in range(0, len(data), DATA_PER_PUT):
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start : start + DATA_PER_PUT])
    return {one: None for one, _ in rates}


class _SitesFailed(Exception):
    """Some sites of a batch failed on their own (the others' results are in `done`)."""

    def __init__(self, failures: dict[Watched, str], done: Mapping[Watched, Any]) -> None:
        super().__init__("; ".join(failures.values()))
        self.failures = failures
        self.done = done


def _each_or_alone(
    batch: Sequence[Watched], call: Callable[[Sequence[Watched]], dict[Watched, T]], outcome: Publication
) -> dict[Watched, T]:
    """`call` on the whole batch; if CloudWatch refuses it as malformed, on each site alone, so that
    one site's value fails only that site. Failed sites go to `outcome.failed`."""
    try:
        return call(batch)
    except _SitesFailed as partial:
        for one, reason in partial.failures.items():
            outcome.failed[one.name] = f"{one.site.domain}: {reason}"
        return dict(partial.done)
    except ClientError as error:
        if len(batch) > 1 and _code(error) in REFUSED_AS_MALFORMED:
            done: dict[Watched, T] = {}
            for one in batch:
                done |= _each_or_alone([one], call, outcome)
            return done
        for one in batch:
            outcome.failed[one.name] = f"{one.site.domain}: {_describe(error)}"
        return {}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _describe(error: ClientError) -> str:
    details = error.response.get("Error", {})
    operation = getattr(error, "operation_name", "CloudWatch")
    return f"{operation} failed: {details.get('Code', 'error')}: {details.get('Message', '')}".rstrip(": ")


def _minute(timestamp: datetime) -> datetime:
    return timestamp.astimezone(UTC).replace(second=0, microsecond=0)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

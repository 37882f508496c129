"""A site's 5xx rate, published as a metric an alarm-backed Route 53 check can use (ADR 0002).

A Route 53 `CLOUDWATCH_METRIC` check needs an alarm on one standard-resolution metric with a simple
statistic; an alarm on metric math (5xx / requests) cannot back it. So every minute, for every
registered site with the signal on, this reads the ALB's per-minute sums (Sum, 60 s)

    AWS/ApplicationELB   HTTPCode_Target_5XX_Count             TargetGroup + LoadBalancer
                         HTTPCode_ELB_5XX_Count, RequestCount  LoadBalancer

for the last `READ_MINUTES` finished minutes, in one GetMetricData call (three queries a site, up to
500 a call), and publishes a value for each of the last `WINDOW_MINUTES` of them:

    Detour   TargetErrorRate   Site=<site stack name>   Percent   Timestamp = the minute, 60 s resolution

The rate of a minute is what visitors got: 100 x (the target group's 5xx + the balancer's own 5xx) /
the balancer's requests (or those 5xx, if more: see `minute_rates`); 0 when the minute had fewer than
the site's `min_requests` requests; at most 100. The value published for a minute is its rate, or,
in the `HOLD_MINUTES` after a failing run (the site's `minutes` minutes in a row above its
`threshold_percent`: what its alarm fails on), that run's lowest rate if higher (`hold`). A minute
whose balancer RequestCount has not arrived yet is not published until it settles (`SETTLE_MINUTES`);
a minute with data is published again on each of the next runs, with what has arrived by then; the
site's alarm takes the Maximum of the minute.

One site's failure holds up no other: a site whose configuration cannot be queried, or whose query
or publication fails, is reported in `failed`; the rest are published. A site whose balancer had no
requests at all in the minutes read (a wrong or outdated dimension value reads as no data) is
reported in `no_requests`, and published as any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from detour.incidents.items import error_code
from detour.incidents.sites import ErrorRate, RegisteredSite

NAMESPACE = "Detour"
METRIC_NAME = "TargetErrorRate"
SITE_DIMENSION = "Site"
ALB_NAMESPACE = "AWS/ApplicationELB"
REQUESTS = "RequestCount"
TARGET_5XX = "HTTPCode_Target_5XX_Count"  # what the target group's targets answered 5xx (TargetGroup + LoadBalancer)
ELB_5XX = "HTTPCode_ELB_5XX_Count"  # the balancer's own 502/503/504: dead or timing-out targets (LoadBalancer only)
PERIOD_S = 60
WINDOW_MINUTES = 5  # each run republishes the last five finished minutes, with the data arrived since
# A minute whose balancer RequestCount has no datapoint yet is published (as 0 %) only once it ended at least
# this many minutes before the run. The ALB's data for a minute arrives about a minute after it ends, so the
# newest minutes usually have none yet; published as 0 % they would be the alarm's newest datapoints, and an
# alarm that needs all its minutes above the threshold would not fire (or would flap). Left unpublished, the
# alarm evaluates the datapoints it has. After 3 minutes a minute without data is taken as a minute without
# traffic (the ALB publishes nothing then). Below WINDOW_MINUTES, so that each minute is published by some run.
SETTLE_MINUTES = 3
# After a failing run (ErrorRateMinutes minutes in a row above ErrorRatePercent: what the site's alarm fails
# over on), the next HOLD_MINUTES minutes are published at least at that run's lowest rate. Without it the
# signal flapped: once the site has failed over, visitors no longer reach the balancer, whose traffic is then
# mostly Route 53's own probes of /health (200), so the next minute read about 0 %, the alarm went OK at once,
# the site failed back, the visitors got their 5xx again and it failed over again, every ~6 minutes, each time
# a new incident (Slack thread, failover window). With the hold it stays failed over for 10 minutes after the
# last failing minute (a circuit breaker's open state), then fails back; if the errors are still there, it
# fails over again ErrorRateMinutes later. Ten: long enough that a site with lasting errors opens a new incident
# about every 20 minutes (with the defaults) rather than every 6, short enough that a fixed site is back soon.
HOLD_MINUTES = 10
MAX_RUN_MINUTES = 10  # ErrorRateMinutes' largest value (sites/site.yaml): the longest failing run
# Minutes read: the window, the HOLD_MINUTES before its oldest minute, and the run before each of those.
# GetMetricData is priced per metric requested, not per datapoint: the longer read costs nothing more.
READ_MINUTES = WINDOW_MINUTES + HOLD_MINUTES + MAX_RUN_MINUTES - 1  # 24
# Each site's queries: (Id suffix, metric, by target group (TargetGroup + LoadBalancer) or by balancer
# (LoadBalancer)). Whether the site's TargetGroup and LoadBalancer name its ALB is `detour preflight`'s check.
QUERIES = (
    ("requests", REQUESTS, False),
    ("target_5xx", TARGET_5XX, True),
    ("elb_5xx", ELB_5XX, False),
)
QUERIES_PER_CALL = 500  # GetMetricData's limit
SITES_PER_READ = QUERIES_PER_CALL // len(QUERIES)  # 166
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
    """One finished minute of a site: what the ALB counted, its rate, and the value published for it."""

    start: datetime
    requests: float  # the balancer's RequestCount
    target_5xx: float  # the target group's HTTPCode_Target_5XX_Count
    elb_5xx: float  # the balancer's HTTPCode_ELB_5XX_Count
    rate: float  # percent: the minute's own
    reported: bool = True  # the balancer's RequestCount has a datapoint for it
    held: float = 0.0  # the hold's value when above `rate` (percent), else 0: see `hold`
    held_by: datetime | None = None  # the last minute of the failing run that holds it, when `held`

    @property
    def errors(self) -> float:
        """The 5xx visitors got: the targets' and the balancer's own."""
        return self.target_5xx + self.elb_5xx

    @property
    def value(self) -> float:
        """What is published for the minute: its rate, or the hold's value if higher."""
        return max(self.rate, self.held)


@dataclass(frozen=True, slots=True)
class Sums:
    """A site's per-minute sums as read, keyed by the minute's start (UTC); a minute absent had no datapoint."""

    requests: Mapping[datetime, float]  # RequestCount, LoadBalancer
    target_5xx: Mapping[datetime, float]  # HTTPCode_Target_5XX_Count, TargetGroup + LoadBalancer
    elb_5xx: Mapping[datetime, float]  # HTTPCode_ELB_5XX_Count, LoadBalancer


@dataclass(frozen=True, slots=True)
class NoRequests:
    """A site whose balancer had no RequestCount datapoint in any minute read: why, and what to check."""

    site: str  # the site stack
    domain: str
    target_group: str
    load_balancer: str
    check: str


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
        """The target group's metrics: TargetGroup + LoadBalancer."""
        return [
            {"Name": "TargetGroup", "Value": self.config.target_group},
            {"Name": "LoadBalancer", "Value": self.config.load_balancer},
        ]

    def balancer_dimensions(self) -> list[dict[str, str]]:
        """The balancer's metrics, all of its target groups (and requests refused before one): LoadBalancer."""
        return [{"Name": "LoadBalancer", "Value": self.config.load_balancer}]


@dataclass
class Publication:
    """What one run did: each site's minutes as published, or why the site failed."""

    published: dict[str, list[Minute]] = field(default_factory=dict)  # site stack -> its minutes published
    waiting: dict[str, list[datetime]] = field(default_factory=dict)  # site stack -> minutes without data yet
    no_requests: dict[str, NoRequests] = field(default_factory=dict)  # site stack -> its balancer had no requests
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


def settled(minute: datetime, now: datetime) -> bool:
    """Whether the minute (its start) ended SETTLE_MINUTES or more before the minute of `now`: data for it
    that has not arrived by then is taken as none (no traffic)."""
    current = now.astimezone(UTC).replace(second=0, microsecond=0)
    return minute + timedelta(minutes=1 + SETTLE_MINUTES) <= current


def minute_rates(sums: Sums, minutes: Sequence[datetime], min_requests: int) -> list[Minute]:
    """The rate of each minute from the ALB's per-minute sums: what visitors got.

    The numerator is every 5xx a visitor got: the target group's targets' (HTTPCode_Target_5XX_Count)
    and the balancer's own (HTTPCode_ELB_5XX_Count: 502, 503, 504 when targets are dead or time out;
    a hard outage has only these). The denominator is the balancer's RequestCount, the requests its
    nodes routed to a target, those whose target then failed (502) or timed out (504) included (ADR
    0002: verify): the balancer's 5xx are requests of the same balancer, so the rate stays a share of
    its traffic. The target group's own RequestCount would not do: a 503 for a group without registered
    targets never reaches a target, and the balancer's 5xx cannot be split by target group. With several
    target groups on the balancer, the rate is of all of its traffic: this group's 5xx are diluted by the
    others' requests, and the others' dead targets count too.

    A request refused before a target was chosen (a 503 for a target group without registered
    targets) may be in the balancer's 5xx and not in its RequestCount, and a request is counted when it
    arrives and its 5xx when it is answered (a backlog of slow failures lands in a later, quieter
    minute): so the denominator is the larger of the requests and the 5xx. The rate is at most 100 %,
    and a minute of 5xx without requests (every request refused) is 100 %, not 0 %.

    A minute with fewer than `min_requests` of those (no data included) is 0 %: too little traffic says
    nothing about the site. The ALB publishes nothing for a count with nothing to count: no datapoint
    is 0. `reported` says whether the balancer's RequestCount had a datapoint for the minute.
    """
    rates = []
    for minute in minutes:
        count = max(float(sums.requests.get(minute, 0.0)), 0.0)
        target = max(float(sums.target_5xx.get(minute, 0.0)), 0.0)
        balancer = max(float(sums.elb_5xx.get(minute, 0.0)), 0.0)
        seen = max(count, target + balancer)
        rate = 0.0 if seen <= 0 or seen < min_requests else 100.0 * (target + balancer) / seen
        rates.append(
            Minute(
                start=minute,
                requests=count,
                target_5xx=target,
                elb_5xx=balancer,
                rate=round(rate, 3),
                reported=minute in sums.requests,
            )
        )
    return rates


def counted(minute: Minute, now: datetime) -> bool:
    """Whether a run at `now` takes the minute as read: its balancer RequestCount has arrived, or it has
    settled (no data by then: no traffic, 0 %)."""
    return minute.reported or settled(minute.start, now)


def to_publish(minutes: Sequence[Minute], now: datetime) -> list[Minute]:
    """The minutes a run at `now` publishes: those whose balancer RequestCount has arrived, and the
    settled ones (no data by then: no traffic, 0 %). The others wait for a later run."""
    return [minute for minute in minutes if counted(minute, now)]


def failing_runs(minutes: Sequence[Minute], now: datetime, config: ErrorRate) -> dict[int, float]:
    """The failing runs of consecutive `minutes` (oldest first): the index of each minute that ends
    `config.minutes` counted minutes in a row above `config.threshold_percent` (what the site's alarm
    fails on), and that run's lowest rate. The minutes' own rates: a held value never makes a run."""
    length = config.minutes
    found: dict[int, float] = {}
    for end in range(length - 1, len(minutes)):
        run = minutes[end - length + 1 : end + 1]
        if all(counted(minute, now) and minute.rate > config.threshold_percent for minute in run):
            found[end] = min(minute.rate for minute in run)
    return found


def hold(minutes: Sequence[Minute], now: datetime, config: ErrorRate) -> list[Minute]:
    """Each of the consecutive `minutes` (oldest first), with the hold: in the HOLD_MINUTES minutes after
    a failing run (`failing_runs`), a minute is published at least at that run's lowest rate (above the
    threshold), the highest such value if several runs hold it. So once the alarm has failed the site
    over, the minutes that follow read failing for HOLD_MINUTES minutes whatever their own rate (visitors
    gone to the maintenance page leave the balancer with Route 53's probes, 200s), and the alarm goes OK
    on the first minute after them whose own rate is not above the threshold. A single minute (or any
    shorter run) above the threshold holds nothing, so it fails nothing over either."""
    runs = failing_runs(minutes, now, config)
    held = []
    for index, minute in enumerate(minutes):
        holding = [(value, end) for end, value in runs.items() if index - HOLD_MINUTES <= end < index]
        value, end = max(holding, default=(0.0, -1))
        held.append(replace(minute, held=value, held_by=minutes[end].start) if value > minute.rate else minute)
    return held


def no_requests(watched: Watched, minutes: Sequence[Minute]) -> NoRequests | None:
    """Why the site's balancer had no requests in any minute read, and what to check; None if it had some.

    A well-formed value that names no ALB with data (a typo, a recreated ALB) reads as no data: the rate
    would be 0 % forever, and the signal could never fail over. (A TargetGroup that is not the balancer's
    reads as no target 5xx: `detour preflight` checks both values against the ALB, before a deploy and
    for a deployed site.)"""
    config = watched.config
    if any(minute.reported for minute in minutes):
        return None
    refused = sum(minute.elb_5xx for minute in minutes)
    return NoRequests(
        site=watched.name,
        domain=watched.site.domain,
        target_group=config.target_group,
        load_balancer=config.load_balancer,
        check=(
            f"no RequestCount for LoadBalancer {config.load_balancer} in the {len(minutes)} minutes read: check "
            "that the site's ErrorRateLoadBalancer is its ALB's current dimension value (the end of its ARN, after "
            "'loadbalancer/'; a recreated ALB has a new one), that the ALB is in us-east-1, and that it has "
            "traffic (`detour preflight --site` checks the values against the ALB); "
            + (
                f"it answered {refused:g} requests with 5xx of its own meanwhile: it may be refusing every "
                "request before choosing a target (a target group without registered targets)"
                if refused
                else "until then its minutes read 0 %"
            )
        ),
    )


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
    if not 1 <= config.minutes <= MAX_RUN_MINUTES:
        return f"minutes {config.minutes} is not 1 to {MAX_RUN_MINUTES} (the site template's ErrorRateMinutes)"
    return None


# ---------------------------------------------------------------- reading and publishing


def publish_error_rates(sites: Iterable[RegisteredSite], now: datetime, cloudwatch: Any) -> Publication:
    """Read, compute and publish the last finished minutes of every site with the signal on (those
    whose data has arrived or that have settled: `to_publish`), each at its rate or held (`hold`).
    `now`: the scheduled event's time. `cloudwatch`: a boto3 CloudWatch client. Never raises for one
    site: see `failed`."""
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
    minutes = finished_minutes(now, READ_MINUTES)

    rates: dict[str, tuple[Watched, list[Minute]]] = {}
    for batch in _chunks(watched, SITES_PER_READ):
        for one, sums in _each_or_alone(batch, lambda b: _read(cloudwatch, b, minutes), outcome).items():
            read = minute_rates(sums, minutes, one.config.min_requests)
            window = hold(read, now, one.config)[-WINDOW_MINUTES:]
            publishing = to_publish(window, now)
            rates[one.name] = (one, publishing)
            if len(publishing) < len(window):
                going = {minute.start for minute in publishing}
                outcome.waiting[one.name] = [minute.start for minute in window if minute.start not in going]
            quiet = no_requests(one, read)
            if quiet is not None:
                outcome.no_requests[one.name] = quiet

    publishable = [one for one, publishing in rates.values() if publishing]
    for batch in _chunks(publishable, SITES_PER_PUT):
        done = _each_or_alone(batch, lambda b: _put(cloudwatch, [(one, rates[one.name][1]) for one in b]), outcome)
        for one in done:
            outcome.published[one.name] = rates[one.name][1]
    return outcome


def _read(cloudwatch: Any, batch: Sequence[Watched], minutes: Sequence[datetime]) -> dict[Watched, Sums]:
    """One GetMetricData call (its pages) for the batch: each site's per-minute sums."""
    queries: list[dict[str, Any]] = []
    for index, one in enumerate(batch):
        for suffix, metric, by_group in QUERIES:
            dimensions = one.dimensions() if by_group else one.balancer_dimensions()
            queries.append(
                {
                    "Id": f"s{index}_{suffix}",
                    "MetricStat": {
                        "Metric": {"Namespace": ALB_NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
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

    series: dict[Watched, Sums] = {}
    failures: dict[Watched, str] = {}
    for index, one in enumerate(batch):
        ids = {suffix: f"s{index}_{suffix}" for suffix, _, _ in QUERIES}
        problems = [refused[query] for query in ids.values() if query in refused]
        if problems:
            failures[one] = f"GetMetricData answered {problems[0]}"
        else:
            series[one] = Sums(
                requests=found[ids["requests"]],
                target_5xx=found[ids["target_5xx"]],
                elb_5xx=found[ids["elb_5xx"]],
            )
    if failures:
        raise _SitesFailed(failures, series)
    return series


def _put(cloudwatch: Any, rates: Sequence[tuple[Watched, list[Minute]]]) -> dict[Watched, None]:
    data = [
        {
            "MetricName": METRIC_NAME,
            "Dimensions": [{"Name": SITE_DIMENSION, "Value": one.name}],
            "Timestamp": minute.start,
            "Value": minute.value,
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
        if len(batch) > 1 and error_code(error) in REFUSED_AS_MALFORMED:
            done: dict[Watched, T] = {}
            for one in batch:
                done |= _each_or_alone([one], call, outcome)
            return done
        for one in batch:
            outcome.failed[one.name] = f"{one.site.domain}: {_describe(error)}"
        return {}


def _describe(error: ClientError) -> str:
    details = error.response.get("Error", {})
    operation = getattr(error, "operation_name", "CloudWatch")
    return f"{operation} failed: {details.get('Code', 'error')}: {details.get('Message', '')}".rstrip(": ")


def _minute(timestamp: datetime) -> datetime:
    return timestamp.astimezone(UTC).replace(second=0, microsecond=0)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

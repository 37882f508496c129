"""`detour demo`: an outage of one site among several, rehearsed on loopback. No AWS account, no
Docker, no network.

An embedded AWS (moto's server) gets the hub (template.yaml) deployed into it, then one stack per
site (sites/site.yaml), each with its own local primary; the sites' custom resources register them
with the hub through site_setup, run in-process. A local Slack and a local edge per site (playing
its CloudFront distribution, which reads the site's prefix of the hub's bucket) stand in for the
rest. Route 53's health checkers and failover answers, and CloudWatch's alarms, are played by code
that follows their rules. The functions' handlers run in-process on the exact SNS event CloudWatch
would send. One site's primary goes down; mid-outage an operator posts an update with `/detour`
from the local Slack: a correctly signed request to slack_commands served as its Function URL
(payload 2.0), whose work and follow-ups run through a local Lambda Invoke API. That site is behind
an ALB (played by its primary) with Detour's 5xx-rate signal on, so it then fails over a second time,
its health path answering 200 all along while visitors get 5xx: the ALB's metrics, error_rate run by
its schedule, the error-rate alarm and Route 53's alarm-backed and calculated checks are played in
back-dated minutes, and "5xx rate" must be the cause Slack, the page and status.json give. The other
site must stay untouched (its page objects, Slack channel, failover windows and history), which is
checked.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import re
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import boto3

from detour.incidents.items import encode
from detour.incidents.sites import SiteRegistry
from detour.incidents.store import IncidentStore
from detour.incidents.transition import format_time
from detour.runtime.aws import dynamodb_client
from detour.signals.error_rate import HOLD_MINUTES, WINDOW_MINUTES
from detour_cli.local.alb_metrics import AlbMetrics, MinuteCounts
from detour_cli.local.cloudwatch import HealthAlarm
from detour_cli.local.edge import LocalEdge, policy_headers
from detour_cli.local.emulated_stack import ACCOUNT, EmulatedStack, delete_stack
from detour_cli.local.fake_slack import CHANNEL
from detour_cli.local.function_url import FunctionUrl
from detour_cli.local.lambda_runtime import InProcessFunction
from detour_cli.local.lambda_service import LocalLambda
from detour_cli.local.metric_alarm import Evaluation, MetricAlarm
from detour_cli.local.primary import LocalPrimary
from detour_cli.local.route53 import HealthCheck, HealthCheckConfig, Prober, answer
from detour_cli.local.route53_status import reported_by
from detour_cli.local.sandbox import DOMAIN, ZONE, LocalSandbox, local_sandbox
from detour_cli.local.signal_checks import SiteChecks
from detour_cli.local.slack_requests import SIGNING_SECRET, SlackAnswer
from detour_cli.local.timeline import Timeline
from detour_cli.local.visitors import Visits, browse

OPERATOR = "U0DETOUROPS"  # the Slack user on the stack's SlackUpdaters allow-list
UPDATE_STAGE = "identified"
UPDATE_MESSAGE = "The primary's database ran out of disk; we are moving it. Back within 15 minutes."
UPDATE_BUDGET_S = 10.0  # an update reaches the page within 10 seconds
RETRY_DELAY_S = 1.0  # between retries of a failed asynchronous invocation (Lambda: 1, then 2 minutes)
SHOP_CHANNEL = "C0SHOP0001"
# The 5xx-rate act: a site behind an ALB (played locally: its DNS name resolves to the local primary,
# which stands in for its one target group) with Detour's 5xx-rate signal on.
ALB_ZONE = "Z35SXDOTRQ7X7K"  # us-east-1 Application Load Balancers' CanonicalHostedZoneId
ERROR_RATE_PERCENT = 10  # ErrorRatePercent: a minute above this breaches
ERROR_RATE_MINUTES = 2  # ErrorRateMinutes: for this many minutes in a row
VISITORS_PER_MINUTE = 50  # page requests a played minute (ErrorRateMinRequests is 20)
FAILING_PERCENT = 30  # of the pages answered 500 while the health path stays 200
BACKDATED_MINUTES = 20  # the first played ALB minute starts this long before the rehearsal


@dataclass(frozen=True)
class SiteSpec:
    """A site to deploy: stack detour-site-<name>. `channel` empty: the hub secret's channel."""

    name: str
    domain: str
    site_name: str = ""
    channel: str = ""
    outage: bool = False  # its primary goes down in the story
    retry_after: str = ""  # RetryAfterSeconds; empty: the site template's default (120)
    error_rate: bool = False  # behind an ALB, with the 5xx-rate signal on; a second outage: 5xx, /health green

    @property
    def load_balancer_name(self) -> str:
        """The ALB's DNS name, as AWS names one (PrimaryTarget)."""
        return f"{self.name}-alb-1234567890.us-east-1.elb.amazonaws.com"

    @property
    def target_group(self) -> str:
        return f"targetgroup/{self.name}-web/73e2d6bc24d8a067"

    @property
    def load_balancer(self) -> str:
        return f"app/{self.name}-alb/50dc6c495c0c9188"

    @property
    def slack_channel(self) -> str:
        return self.channel or CHANNEL


SHOP = SiteSpec(
    "shop",
    "shop.detour.test",
    site_name="Example Shop",
    channel=SHOP_CHANNEL,
    outage=True,
    retry_after="300",
    error_rate=True,
)
DOCS = SiteSpec("docs", "docs.detour.test")
SINGLE = SiteSpec("www", DOMAIN, outage=True)  # today's single-site story


def sites_for(count: int) -> tuple[SiteSpec, ...]:
    return (SHOP, DOCS) if count == 2 else (SINGLE,)


@dataclass
class Options:
    interval_s: float = 1.0  # Route 53: 10 or 30
    alarm_period_s: float = 2.0  # CloudWatch: 60
    threshold: int = 3
    out: Path = field(default_factory=lambda: Path("rehearsal-output") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S"))
    keep_running: bool = False
    timeout_s: float = 120.0
    sites: int = 2
    remove_site: bool = False  # at the end, delete the site that had the outage, and check what stays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="detour demo", description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, choices=(1, 2), default=2, help="1: today's single-site story")
    parser.add_argument("--interval", type=float, default=1.0, help="health-check interval, s (AWS: 10 or 30)")
    parser.add_argument("--threshold", type=int, default=3, help="health-check failure threshold (1-10)")
    parser.add_argument("--alarm-period", type=float, default=2.0, help="alarm period, s (AWS: 60)")
    parser.add_argument("--real-timing", action="store_true", help="AWS's own timing: 10 s interval, 60 s period")
    parser.add_argument(
        "--remove-site", action="store_true", help="at the end, delete the site stack that had the outage"
    )
    parser.add_argument("--out", type=Path, help="artifacts folder (default: rehearsal-output/<time>)")
    parser.add_argument("--keep-running", action="store_true", help="leave everything up; stop/start the primary")
    args = parser.parse_args(argv)
    options = Options(
        interval_s=10.0 if args.real_timing else args.interval,
        alarm_period_s=60.0 if args.real_timing else args.alarm_period,
        threshold=args.threshold,
        keep_running=args.keep_running,
        timeout_s=600.0 if args.real_timing else 120.0,
        sites=args.sites,
        remove_site=args.remove_site,
    )
    if args.out:
        options.out = args.out
    # Powertools warns when an invocation emits no metric (an acknowledgement, a duplicate): not news.
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    try:
        return 0 if Rehearsal(options).run() else 1
    except KeyboardInterrupt:
        print("detour demo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # set-up failed: say what, without a traceback, and exit non-zero
        print(f"detour demo: could not set up the rehearsal: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


@dataclass
class Site:
    """One site in the rehearsal: its primary, its stack, and what plays Route 53, CloudWatch and
    CloudFront for it."""

    spec: SiteSpec
    primary: LocalPrimary
    stack: EmulatedStack | None = None
    check: HealthCheck | None = None
    alarm: HealthAlarm | None = None
    prober: Prober | None = None
    edge: LocalEdge | None = None
    checks: SiteChecks | None = None  # Route 53's status of each of its checks
    alb: AlbMetrics | None = None  # the 5xx-rate signal's site: its ALB's metrics
    error_alarm: MetricAlarm | None = None  # and the alarm on its rate
    rounds: list[bool] = field(default_factory=list)  # every round's endpoint verdict (its HealthCheckStatus)
    baseline: dict[str, Any] = field(default_factory=dict)  # what a bystander must still have at the end

    @property
    def domain(self) -> str:
        return self.spec.domain

    @property
    def error_alarm_name(self) -> str:
        return self.error_alarm.alarm_name if self.error_alarm else "the error-rate alarm"

    @property
    def deployed(self) -> EmulatedStack:
        if self.stack is None:
            raise RuntimeError(f"site {self.domain} is not deployed")
        return self.stack

    @property
    def site_id(self) -> str:
        return self.deployed.physical_id("HealthCheck")

    @property
    def alarm_name(self) -> str:
        return self.deployed.physical_id("HealthAlarm")

    @property
    def watched_check_id(self) -> str:
        """What the failover records and HealthAlarm watch: the calculated check when the site has signals."""
        failover = self.deployed.health_checks.get("FailoverCheck")
        return failover.health_check_id if failover is not None else self.site_id

    @property
    def route53(self) -> SiteChecks:
        if self.checks is None:
            raise RuntimeError(f"site {self.domain} has no health checks played")
        return self.checks

    @property
    def page(self) -> LocalEdge:
        if self.edge is None:
            raise RuntimeError(f"site {self.domain} has no edge")
        return self.edge

    @property
    def health(self) -> HealthCheck:
        if self.check is None:
            raise RuntimeError(f"site {self.domain} has no health check")
        return self.check

    def stop_playing(self) -> None:
        """Stop its checkers and its alarm (before its stack is deleted, or at the end)."""
        for part in (self.prober, self.alarm):
            if part is not None:
                part.stop()
        self.prober = self.alarm = None


@dataclass(frozen=True)
class PlayedMinute:
    """One back-dated minute of the 5xx-rate act: what the visitors got, what the ALB published, the
    values error_rate published in its run for the minute after (oldest first), the alarm's evaluation."""

    minute: datetime
    visits: Visits
    counts: MinuteCounts
    rates: tuple[float, ...]
    evaluation: Evaluation

    @property
    def published(self) -> float | None:
        """The value error_rate published for this minute (its newest, as its data is there at once)."""
        return self.rates[-1] if self.rates and self.counts.requests else None


class Rehearsal:
    def __init__(self, options: Options, out: IO[str] | None = None) -> None:
        self.options = options
        self.timeline = Timeline(out or sys.stdout)
        self.failures: list[str] = []
        self.delivered: dict[str, list[str]] = {}  # alarm name -> the states delivered to the handlers, in order
        self.functions: dict[str, InProcessFunction] = {}
        self.logs: list[IO[str]] = []
        self.update_seconds: float | None = None  # from the slash command to status.json showing the update
        self.sites = [Site(spec, LocalPrimary()) for spec in sites_for(options.sites)]
        self.removed: list[str] = []  # what deleting a site stack deleted
        self._dead_reported = 0

    @property
    def failing(self) -> Site:
        return next(site for site in self.sites if site.spec.outage)

    @property
    def bystanders(self) -> list[Site]:
        return [site for site in self.sites if not site.spec.outage]

    def run(self) -> bool:
        options = self.options
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "logs").mkdir(exist_ok=True)
        say = self.timeline.say
        if len(self.sites) == 1:
            say("Detour rehearsal: a whole outage on loopback (no AWS account, no Docker)")
        else:
            outages = (
                f"two outages of {self.failing.domain} (its primary down; then 5xx behind a green health check)"
                if self.failing.spec.error_rate
                else f"an outage of {self.failing.domain}"
            )
            say(
                f"Detour rehearsal: one hub, {len(self.sites)} sites, {outages} while "
                f"{', '.join(s.domain for s in self.bystanders)} stays up, on loopback (no AWS account, no Docker)"
            )
        primaries = "primary" if len(self.sites) == 1 else "primaries"
        say(f"starting the embedded AWS, the local {primaries} and Slack; deploying the hub (template.yaml) ...")
        with contextlib.ExitStack() as running:
            self._set_up(running)
            try:
                self._play()
            except (TimeoutError, AssertionError) as error:
                self.failures.append(str(error))
                say(f"FAILED: {error}")
            except Exception as error:  # unexpected: reported, and the artifacts are still written
                self.failures.append(f"{type(error).__name__}: {error}")
                say(f"FAILED: {type(error).__name__}: {error}")
            self._settle_background()
            self._write_artifacts()
            if options.keep_running and not self.failures:
                self._keep_running()
        say(f"artifacts: {options.out}")
        if self.failures:
            say(f"the rehearsal FAILED: {'; '.join(self.failures)}")
        return not self.failures

    def _set_up(self, running: contextlib.ExitStack) -> None:
        """The primaries, the hub with its first custom resource, each site's stack, edge, checkers
        and alarm; each stopped again, in reverse order, when `running` closes."""
        for site in self.sites:
            site.primary.start()
            running.callback(site.primary.stop)
        own_channels = tuple(s.spec.channel for s in self.sites if s.spec.channel)
        overrides = {"SlackUpdaters": OPERATOR}
        if own_channels:  # /detour is taken in the sites' own channels too
            overrides["SlackCommandChannels"] = ",".join(own_channels)
        sandbox = running.enter_context(local_sandbox(overrides, channels=(CHANNEL, *own_channels)))
        self.sandbox, self.slack, self.stack = sandbox, sandbox.slack, sandbox.stack
        running.enter_context(reported_by(self._status_reports))  # GetHealthCheckStatus: the local checkers
        running.callback(self._close_function_logs)
        self._report_hub(sandbox)
        self._serve_functions(running)
        self.stack.create_pending(self._service_token)
        for logical_id, answer_ in self.stack.answers.items():
            self.timeline.say(
                f"{logical_id} custom resource (site_setup, in-process): {answer_['Status']} "
                f"({_data(answer_)}: no site is registered yet)"
            )
        self.route53 = boto3.client("route53")  # clients are made here, once: boto3 sessions are not thread-safe
        self.cloudwatch = boto3.client("cloudwatch")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.minute = now - timedelta(minutes=BACKDATED_MINUTES)  # the next ALB minute to play, back-dated
        for site in self.sites:
            self._deploy_site(site)
        for site in self.sites:
            self._play_site(site, running)
        for site in self.bystanders:
            site.baseline = self._observe(site)

    def _deploy_site(self, site: Site) -> None:
        t, spec = self.timeline, site.spec
        parameters = (
            self.sandbox.site_parameters(spec.domain, site.primary.port)
            | {
                "HealthCheckFailureThreshold": str(self.options.threshold),
                "SiteName": spec.site_name,
                "SlackChannel": spec.channel,
            }
            | ({"RetryAfterSeconds": spec.retry_after} if spec.retry_after else {})
            | (_error_rate_parameters(spec) if spec.error_rate else {})
        )
        started = time.monotonic()
        site.stack = stack = self.sandbox.add_site(spec.name, parameters, self._service_token)
        took = time.monotonic() - started
        named = f', "{spec.site_name}"' if spec.site_name else ""
        where = f"its own Slack channel #{spec.channel}" if spec.channel else f"the hub's Slack channel #{CHANNEL}"
        t.say(
            f"deployed sites/site.yaml as stack {stack.name!r} in {took:.1f} s: {spec.domain}{named}, {where}; "
            f"{len(stack.created)} resources created, {len(stack.emulated)} played locally"
        )
        for line in stack.created:
            t.detail(line)
        registered = SiteRegistry(self.stack.physical_id("IncidentsTable"), dynamodb_client()).require(site.site_id)
        t.detail(
            f"registered with the hub: site {registered.site_id}, alarm {registered.alarm_name}, "
            f"page under s3://{self.stack.physical_id('PageBucket')}/{registered.page_prefix}"
        )

    def _play_site(self, site: Site, running: contextlib.ExitStack) -> None:
        """The site's distribution (the local edge), its checkers, its alarm, and its signals if any."""
        options, say, stack, spec = self.options, self.timeline.say, site.deployed, site.spec
        site.edge = self._start_edge(stack)
        running.callback(site.edge.stop)
        site.alarm = HealthAlarm(site.alarm_name, options.alarm_period_s, self._deliver)
        self.delivered.setdefault(site.alarm_name, [])
        config = stack.resolver.resource("HealthCheck") or {}
        resolve = {spec.load_balancer_name: "127.0.0.1"} if spec.error_rate else None
        site.check = check = HealthCheck(
            HealthCheckConfig.from_template(config["HealthCheckConfig"], interval_s=options.interval_s, resolve=resolve)
        )
        site.checks = SiteChecks(
            stack.health_checks.values(), lambda check_id: check.healthy if check_id == site.site_id else None
        )
        site.checks.refresh(self.cloudwatch)
        alarm, watched = site.alarm, site.watched_check_id

        def on_round(healthy: bool) -> None:
            site.rounds.append(healthy)
            alarm.observe(site.route53.healthy(watched) is not False)  # the endpoint's, or the calculated check's

        site.alarm.start()
        site.prober = Prober(site.check, on_round=on_round)
        site.prober.start()
        running.callback(site.stop_playing)
        cfg = site.check.config
        where = f"{cfg.address}:{cfg.port}{cfg.path}"
        if resolve:
            where = f"{cfg.host}:{cfg.port}{cfg.path} (the ALB's name resolves to {cfg.address} here)"
        say(
            f"{site.domain}: health check {site.site_id}: {len(cfg.regions)} checkers "
            f"({', '.join(cfg.regions)}) probe {cfg.protocol} {where} "
            f"every {cfg.interval_s:g} s, threshold {cfg.failure_threshold}; alarm period {alarm.period_s:g} s"
        )
        if watched != site.site_id:
            failover = site.route53.checks[watched]
            say(
                f"{site.domain}: the failover records and {site.alarm_name} watch calculated check {watched}: "
                f"healthy while {failover.health_threshold} of its {len(failover.children)} children are "
                f"(the endpoint check and the 5xx-rate check)"
            )
        if spec.error_rate:
            self._play_signals(site)

    def _play_signals(self, site: Site) -> None:
        """The 5xx-rate signal: the ALB's metrics from the visitors' requests, and the alarm on the rate,
        new (INSUFFICIENT_DATA) until a first minute of traffic is published and evaluated."""
        say, spec, stack = self.timeline.say, site.spec, site.deployed
        site.alb = alb = AlbMetrics(spec.target_group, spec.load_balancer)
        site.primary.on_request = alb.observe
        site.error_alarm = MetricAlarm(stack.physical_id("ErrorRateAlarm"), self.cloudwatch)
        site.error_alarm.created()
        check = site.route53.by_logical_id("ErrorRateCheck")
        described = site.error_alarm.describe()
        say(
            f"{site.domain}: failover signal '5xx rate': alarm {site.error_alarm.alarm_name} "
            f"({described['Statistic']} of {described['Namespace']}/{described['MetricName']} > "
            f"{described['Threshold']:g} % for {described['DatapointsToAlarm']} of {described['EvaluationPeriods']} "
            f"minutes) backs CLOUDWATCH_METRIC check {check.health_check_id if check else '?'} "
            f"(InsufficientDataHealthStatus {check.insufficient_data_health_status if check else '?'})"
        )
        say(
            f"{site.domain}: its ALB {spec.load_balancer} is played by the local primary (its one target group "
            f"{spec.target_group}): each visitor request it answers is counted as RequestCount, each 5xx as "
            f"HTTPCode_Target_5XX_Count, per minute. Those minutes are back-dated ({BACKDATED_MINUTES} minutes ago "
            f"onwards, each played in well under a second) so that CloudWatch's minutes take seconds here"
        )
        self._show_minute(site, self._play_minute(site))

    def _play_minute(self, site: Site) -> PlayedMinute:
        """One back-dated minute of the 5xx-rate signal: the visitors' requests, the ALB's metrics for
        them, error_rate run by its schedule for the minute after, the alarm evaluated then, and Route 53
        following it. Printed by `_show_minute`, or summed up by the caller."""
        alb, alarm = site.alb, site.error_alarm
        if alb is None or alarm is None:
            raise RuntimeError(f"{site.domain} has no 5xx-rate signal to play")
        minute, self.minute = self.minute, self.minute + timedelta(minutes=1)
        with alb.counting(minute):
            visits = browse("127.0.0.1", site.primary.port, site.domain, VISITORS_PER_MINUTE)
        counts = alb.publish(minute, self.cloudwatch)
        ends = minute + timedelta(minutes=1)
        result = self._function("ErrorRateFunction").invoke(self._scheduled_event(ends))
        rates = tuple(result.get("rates", {}).get(site.deployed.name, []))
        evaluation = alarm.evaluate_at(ends)
        site.route53.refresh(self.cloudwatch)
        return PlayedMinute(minute, visits, counts, rates, evaluation)

    def _show_minute(self, site: Site, played: PlayedMinute) -> None:
        t, evaluation = self.timeline, played.evaluation
        t.detail(f"minute {played.minute:%H:%M} UTC: {_visits(played.visits)}; the ALB publishes {_alb(played.counts)}")
        listed = ", ".join(f"{r:g}" for r in played.rates)
        which = f"the {WINDOW_MINUTES} minutes to {played.minute:%H:%M}"
        if len(played.rates) < WINDOW_MINUTES:  # the others have no data yet, and have not settled
            which = f"{len(played.rates)} of {which} (the others: no data yet)"
        t.detail(
            f"  error_rate (scheduled event, time {played.minute + timedelta(minutes=1):%H:%M:%S}Z): "
            f"Detour/TargetErrorRate Site={site.deployed.name}, {which}: {listed} %"
        )
        values = ", ".join("no data" if v is None else f"{v:g} %" for _, v in evaluation.periods)
        alarm_name = site.error_alarm_name
        if evaluation.changed:
            t.detail(f"  alarm {alarm_name} on [{values}]: {evaluation.old_state} -> {evaluation.new_state}")
            t.detail(f"    {evaluation.reason}")
        else:
            t.detail(f"  alarm {alarm_name} on [{values}]: stays {evaluation.new_state}")

    def _show_held(self, site: Site, held: list[PlayedMinute]) -> None:
        """The clean minutes the alarm stayed in ALARM on (the hold), in one line: their count, visits and
        the values error_rate published for them."""
        if not held:
            return
        requests = {p.visits.requests for p in held}
        failed = sum(p.visits.failed for p in held)
        visits = (
            f"{held[0].visits.requests} visitor page requests each"
            if len(requests) == 1
            else f"{sum(p.visits.requests for p in held)} visitor page requests"
        )
        values = [p.published for p in held]
        own = sorted({f"{p.counts.percent:g}" for p in held})
        states = sorted({p.evaluation.new_state for p in held})
        alarm = site.error_alarm_name
        self.timeline.detail(
            f"{len(held)} clean minutes, {held[0].minute:%H:%M}-{held[-1].minute:%H:%M} UTC: {visits}, {failed} "
            f"answered 5xx; error_rate publishes them at {', '.join('-' if v is None else f'{v:g}' for v in values)} "
            f"%, held at the failing minutes' rate for HOLD_MINUTES ({HOLD_MINUTES}) though their own is "
            f"{'/'.join(own)} %; alarm {alarm} stays {'/'.join(states)}"
        )

    def _scheduled_event(self, at: datetime) -> dict[str, Any]:
        """What EventBridge sends error_rate for the minute `at` (its rule: the hub's ErrorRateFunction schedule)."""
        rule = next(
            (
                logical_id
                for logical_id, resource in self.stack.template["Resources"].items()
                if resource["Type"] == "AWS::Events::Rule" and "ErrorRateFunction" in json.dumps(resource)
            ),
            "ErrorRateFunctionEveryMinute",
        )
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{self.stack.name}-{rule}"],
            "detail": {},
        }

    def _service_token(self, token: str, event: dict[str, Any]) -> None:
        """CloudFormation sends a custom resource's request to its ServiceToken: one of the hub's functions."""
        for logical_id in self.stack.functions():
            if self.stack.resolver.attributes.get((logical_id, "Arn")) == token:
                self._function(logical_id).invoke(event)
                return
        raise LookupError(f"no function of the hub has the ARN {token}")

    def _serve_functions(self, running: contextlib.ExitStack) -> None:
        """Lambda's Invoke API for every function (the functions reach it via AWS_ENDPOINT_URL_LAMBDA)
        and slack_commands' Function URL; the signing secret in the stack's Slack secret."""
        stack = self.stack
        self.lambda_service = running.enter_context(LocalLambda(retry_delay_s=RETRY_DELAY_S))
        retries = self._retry_attempts()
        for logical_id in stack.functions():
            self.lambda_service.add(self._function(logical_id), max_retries=retries.get(logical_id))
        secrets = boto3.client("secretsmanager")
        secret_id = stack.physical_id("SlackSecret")
        secret = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
        secrets.put_secret_value(
            SecretId=secret_id, SecretString=json.dumps(secret | {"signing_secret": SIGNING_SECRET})
        )
        self.command_url = running.enter_context(FunctionUrl(self._function("SlackCommandsFunction")))
        stack.resolver.know("SlackCommandsFunctionUrl", self.command_url.url, FunctionUrl=self.command_url.url)
        self.timeline.say(
            f"local Lambda Invoke API at {self.lambda_service.url} (AWS_ENDPOINT_URL_LAMBDA of the functions); "
            f"slack_commands' Function URL at {self.command_url.url} (plays https://{self.command_url.domain_name}/)"
        )

    def _retry_attempts(self) -> dict[str, int]:
        """MaximumRetryAttempts of the template's EventInvokeConfigs, by function logical id."""
        found = {}
        for resource in self.stack.template["Resources"].values():
            props = resource.get("Properties", {})
            name = props.get("FunctionName")
            if resource["Type"] == "AWS::Lambda::EventInvokeConfig" and isinstance(name, dict) and "Ref" in name:
                found[name["Ref"]] = int(props.get("MaximumRetryAttempts", 2))
        return found

    def _close_function_logs(self) -> None:
        for log in self.logs:
            log.close()

    # -- the story ----------------------------------------------------------------------------------

    def _play(self) -> None:
        t = self.timeline
        t.wait_for(
            "the checkers' first rounds", lambda: all(s.health.healthy is True for s in self.sites), self._wait_s()
        )
        for site in self.sites:
            t.say(f"{site.domain}: primary healthy ({self._checkers(site)}); DNS {self._dns(site)}")
            self._snapshot(site, "1-healthy")
        site = self.failing
        self._act(
            site, "the primary stops answering", site.primary.stop, healthy=False, alarm="ALARM", step="2-failing-over"
        )
        self._post_update(site)
        self._act(site, "the primary comes back", site.primary.start, healthy=True, alarm="OK", step="3-recovered")
        if site.spec.error_rate:
            self._act_error_rate(site)
        for bystander in self.bystanders:
            self._check_untouched(bystander)
        if self.options.remove_site:
            self._remove(site)

    def _post_update(self, site: Site) -> None:
        """An operator posts an update from Slack: signed slash command -> Function URL -> the work,
        queued on slack_commands itself -> refresh_page and notify_slack, queued in turn."""
        t = self.timeline
        text = f"update {UPDATE_STAGE} {UPDATE_MESSAGE}"
        if len(self.sites) > 1:  # which site: any name the registry knows it by
            text = f"{site.domain} {text}"
        t.say(f"<@{OPERATOR}> in Slack #{site.spec.slack_channel}: /detour {text}")
        started = time.monotonic()
        answer_ = self.slack.slash_command(
            self.command_url.url, text=text, user_id=OPERATOR, channel_id=site.spec.slack_channel
        )
        t.detail(
            f"signed request -> slack_commands' Function URL (form body delivered base64, payload 2.0): "
            f"HTTP {answer_.status} in {answer_.seconds * 1000:.0f} ms{_acknowledged(answer_)}"
        )
        if answer_.status != 200:
            raise AssertionError(f"the slash command was answered HTTP {answer_.status}")
        if not answer_.in_time:
            raise AssertionError(f"the acknowledgement took {answer_.seconds:.1f} s: Slack gives up after 3 s")
        t.wait_for(
            "status.json on the edge to show the update", lambda: _update_shown(site.page), UPDATE_BUDGET_S, poll_s=0.05
        )
        took = time.monotonic() - started
        status = json.loads(site.page.get("/status.json").body)
        t.detail(
            f"status.json on {site.domain}'s edge shows it {took:.2f} s after the request "
            f"(budget {UPDATE_BUDGET_S:g} s); stage {status.get('stage')!r}, timeline newest first:"
        )
        for update in status.get("updates", []):
            t.detail(f"  {update['posted_at']}  [{update['stage']}] {update.get('message', '')}")
        self.lambda_service.wait_idle(self.options.timeout_s)
        self._check_background()
        answers = self.slack.responses_to(answer_.response_url)
        if not answers:
            raise AssertionError("slack_commands did not answer through response_url")
        for response in answers:
            t.detail(f"{'ephemeral' if response.ephemeral else 'in-channel'} answer to <@{OPERATOR}>: {response.text}")
        root = self._roots(site)[-1]
        replies = [r for r in self.slack.replies(root) if f"<@{OPERATOR}>" in r.text]
        if not replies:
            raise AssertionError("the update was not replied in the incident's Slack thread")
        t.detail(f"thread reply: {replies[-1].text}")
        self.update_seconds = took
        self._snapshot(site, "2b-update-posted")

    def _settle_background(self) -> None:
        """Let the queued invocations finish (their retries included), then report what failed."""
        try:
            self.lambda_service.wait_idle(self.options.timeout_s)
        except TimeoutError as error:
            self.failures.append(str(error))
            self.timeline.say(f"FAILED: {error}")
        self._check_background()

    def _check_background(self) -> None:
        """Asynchronous invocations that failed every attempt fail the rehearsal, as a dead letter would page."""
        for dead in self.lambda_service.dead_letters[self._dead_reported :]:
            error = dead.result or {}
            message = (
                f"{dead.function_name} (asynchronous) raised {error.get('errorType')}: {error.get('errorMessage')}"
            )
            self.failures.append(f"{message}, {dead.attempts} attempts, dead-lettered")
            self.timeline.detail(f"FAILED {message}")
        self._dead_reported = len(self.lambda_service.dead_letters)

    def _act(self, site: Site, what: str, change: Callable[[], None], *, healthy: bool, alarm: str, step: str) -> None:
        """Change the primary, then follow the consequences: checkers, DNS, alarm, Slack, page, window."""
        t = self.timeline
        delivered_before = len(self.delivered[site.alarm_name])
        t.say(f"{site.domain}: {what}")
        change()
        verdict = "healthy again" if healthy else "down"
        t.wait_for(
            f"the checkers to agree {site.domain}'s primary is {verdict}",
            lambda: site.health.healthy is healthy,
            self._wait_s(),
        )
        state = "healthy" if healthy else "unhealthy"
        t.say(f"{site.domain}: health check {state} ({self._checkers(site)}); DNS {self._dns(site)}")
        self._wait_for_delivery(site, alarm, delivered_before)
        self._show_incident(site, resolved=healthy)
        self._snapshot(site, step)

    def _act_error_rate(self, site: Site) -> None:
        """Visitors get 5xx while the health path stays 200: the 5xx-rate signal fails the site over
        through its calculated check, with "5xx rate" as the cause; then the primary heals. Loud if
        the endpoint probe ever said unhealthy, or the cause or the recovery is not as it should be."""
        t = self.timeline
        rounds_from = len(site.rounds)
        started = time.monotonic()
        delivered_before = len(self.delivered[site.alarm_name])
        t.say(
            f"{site.domain}: the primary's pages start failing ({FAILING_PERCENT} % answer 500: its database is out "
            f"of connections) while {site.primary.health_path} still answers 200"
        )
        site.primary.failing_percent = FAILING_PERCENT
        t.detail(
            "each minute below is a CloudWatch minute, back-dated and played in a fraction of a second; "
            f"the alarm wants {ERROR_RATE_MINUTES} minutes above {ERROR_RATE_PERCENT} % in a row"
        )
        self._minutes_until(site, "ALARM")
        moved = self._dns(site)
        t.say(f"{site.domain}: {self._signal_checks(site)}; DNS {moved}")
        self._wait_for_delivery(site, "ALARM", delivered_before)
        self._show_incident(site, resolved=False)
        failing = self._show_cause(site, resolved=False)
        self._snapshot(site, "4-5xx-failing-over")

        delivered_before = len(self.delivered[site.alarm_name])
        t.say(f"{site.domain}: the primary heals: its pages answer 200 again")
        t.detail(
            f"error_rate holds the failing rate for {HOLD_MINUTES} minutes after the failing ones: on AWS the "
            "visitors are on the page by now, and the ALB's few requests left (Route 53's probes, 200) would read "
            "0 % and fail the site straight back onto its errors"
        )
        site.primary.failing_percent = 0
        healed_at = self.minute
        self._minutes_until(site, "OK")
        clean = int((self.minute - healed_at).total_seconds() // 60)
        t.say(f"{site.domain}: {self._signal_checks(site)}; DNS {self._dns(site)}")
        self._wait_for_delivery(site, "OK", delivered_before)
        self._show_incident(site, resolved=True)
        resolved = self._show_cause(site, resolved=True)
        self._snapshot(site, "5-5xx-recovered")

        rounds = site.rounds[rounds_from:]
        problems = []
        if not rounds or not all(rounds):
            problems.append(f"the endpoint probe said unhealthy in {rounds.count(False)} of {len(rounds)} rounds")
        if "[SECONDARY]" not in moved:
            problems.append(f"DNS did not move to the page ({moved})")
        if failing["failed_checks"] != ["5xx rate"]:
            problems.append(f"status.json failed_checks was {failing['failed_checks']}, not ['5xx rate']")
        if not failing["slack"].startswith("5xx rate"):
            problems.append(f"Slack's root message gave the cause as {failing['slack']!r}")
        if not failing["page"].startswith("Failed over on: 5xx rate"):
            problems.append(f"the page's technical details said {failing['page']!r}")
        if resolved["state"] != "resolved" or not resolved["slack"].startswith("5xx rate"):
            problems.append(f"the recovery left status.json {resolved['state']!r}, Slack's cause {resolved['slack']!r}")
        if clean != HOLD_MINUTES + 1:
            problems.append(
                f"the error-rate alarm went OK on clean minute {clean}, not {HOLD_MINUTES + 1} "
                f"(after the hold of {HOLD_MINUTES})"
            )
        if problems:
            raise AssertionError(f"{site.domain}'s 5xx-rate outage: {'; '.join(problems)}")
        t.detail(
            f"checked: the endpoint probe said healthy in all {len(rounds)} rounds of the act, yet the 5xx rate "
            f"failed {site.domain} over and it recovered after the {HOLD_MINUTES}-minute hold, its cause "
            f'"5xx rate" in Slack, on the page and in status.json ({time.monotonic() - started:.1f} s)'
        )

    def _minutes_until(self, site: Site, state: str) -> None:
        """Play back-dated minutes until the error-rate alarm is in `state`. To ALARM: each minute in
        full, a few more than the alarm's periods at most. To OK, once the errors have stopped: the clean
        minutes the hold keeps the alarm in ALARM on, in one line, then in full the one that turns it."""
        if state == "ALARM":
            limit = ERROR_RATE_MINUTES + 2
            for _ in range(limit):
                played = self._play_minute(site)
                self._show_minute(site, played)
                if played.evaluation.new_state == state:
                    return
        else:
            limit = HOLD_MINUTES + ERROR_RATE_MINUTES + 2
            held: list[PlayedMinute] = []
            for _ in range(limit):
                played = self._play_minute(site)
                if played.evaluation.new_state == state:
                    self._show_held(site, held)
                    self._show_minute(site, played)
                    return
                held.append(played)
            self._show_held(site, held)
        alarm = site.error_alarm_name
        raise AssertionError(f"{alarm} did not go {state} within {limit} minutes")

    def _show_cause(self, site: Site, *, resolved: bool) -> dict[str, Any]:
        """Why it failed over, where people read it: Slack's root message, the page's technical
        details, status.json's failed_checks."""
        status = json.loads(site.page.get("/status.json").body)
        page = _cause_on_page(site.page.get("/").body)
        root = self._roots(site)[-1]
        slack = html.unescape(_why_in_slack(root.blocks))  # Slack shows its escapes as the characters
        failed = status.get("failed_checks")
        if resolved:  # the same words as when it failed over, still there: only their start
            self.timeline.detail(
                f"Slack's resolved root message still says why it failed over ({_gist(slack)}), the page too "
                f"({_gist(page)}); status.json failed_checks {failed}"
            )
        else:
            self.timeline.detail(f"Slack's root message, *Why it failed over*: {slack or '(none)'}")
            self.timeline.detail(
                f"page's technical details: {page or '(no cause)'}; status.json failed_checks {failed}"
            )
        return {
            "state": status.get("state"),
            "failed_checks": status.get("failed_checks"),
            "slack": slack,
            "page": page,
        }

    def _wait_s(self) -> float:
        """Long enough for the checkers to reach a verdict, with room for a slow machine."""
        return self.options.interval_s * (self.options.threshold + 2) + 10

    def _wait_for_delivery(self, site: Site, state: str, after: int) -> None:
        """Until the site's alarm has gone to `state` and SNS delivered it, counting from delivery
        `after` (taken before the change began, so a quick delivery is not missed)."""
        self.timeline.wait_for(
            f"{site.alarm_name} to go {state} (period {self.options.alarm_period_s:g} s) and SNS to deliver",
            lambda: state in self.delivered[site.alarm_name][after:],
            2 * self.options.alarm_period_s + self.options.timeout_s,
        )

    def _deliver(self, event: dict[str, Any]) -> None:
        """SNS -> Lambda, for every subscription whose filter policy accepts the message."""
        message = json.loads(event["Records"][0]["Sns"]["Message"])
        self.timeline.say(
            f"alarm {message['AlarmName']}: {message['OldStateValue']} -> {message['NewStateValue']}; "
            f"SNS message {event['Records'][0]['Sns']['MessageId'][:8]}… delivered in-process to:"
        )
        for function, filter_policy in self._subscribers():
            if not _accepts(filter_policy, message):
                self.timeline.detail(f"{function.directory}: filtered out by its subscription's filter policy")
                continue
            try:
                result = function.invoke(event)
                self.timeline.detail(f"{function.directory}: {_summary(result)}")
            except Exception as error:
                self.failures.append(f"{function.directory} raised {type(error).__name__}: {error}")
                self.timeline.detail(f"{function.directory}: FAILED {type(error).__name__}: {error}")
        self.delivered.setdefault(message["AlarmName"], []).append(message["NewStateValue"])

    def _roots(self, site: Site) -> list[Any]:
        return [m for m in self.slack.roots() if m.channel == site.spec.slack_channel]

    def _show_incident(self, site: Site, resolved: bool) -> None:
        t = self.timeline
        roots = self._roots(site)
        if not roots:
            raise AssertionError(f"no Slack message was posted in #{site.spec.slack_channel}")
        root = roots[-1]
        t.detail(f"Slack #{root.channel}: {root.text}")
        for reply in self.slack.replies(root):
            t.detail(f"  thread reply: {reply.text}")
        page = site.page.get("/")
        status = json.loads(site.page.get("/status.json").body)
        distribution = site.deployed.resolver.attributes[("Distribution", "DomainName")]
        t.detail(
            f"page {site.page.url} (plays https://{distribution}/, origin sites/{site.site_id}/): "
            f"HTTP {page.status}, Retry-After {page.headers.get('retry-after')}, "
            f'title "{_title(page.body)}"; status.json state {status.get("state")!r}'
        )
        windows = self._windows(site)
        if not windows:
            raise AssertionError("no failover window was recorded")
        latest = windows[0]
        if resolved:
            if latest["ended_at"] is None:
                raise AssertionError("the failover window is still open after OK")
            t.detail(
                f"failover window closed: {latest['started_at']} -> {latest['ended_at']} ({latest['duration_s']} s)"
            )
            if not root.edits:
                raise AssertionError("the Slack message was not updated to resolved")
        else:
            t.detail(f"failover window opened at {latest['started_at']}")

    # -- the sites that must not be touched -----------------------------------------------------------

    def _observe(self, site: Site) -> dict[str, Any]:
        """Everything of a site that another site's outage must leave exactly as it is."""
        bucket = self.stack.physical_id("PageBucket")
        listed = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=f"sites/{site.site_id}/")
        return {
            "objects": sorted((v["Key"], v["VersionId"], v["ETag"]) for v in listed.get("Versions", [])),
            "delete_markers": len(listed.get("DeleteMarkers", [])),
            "items": self._history(site),
            "registry": self._registry().get(site.site_id),
            "messages": [m.ts for m in self.slack.messages if m.channel == site.spec.slack_channel],
            "deliveries": list(self.delivered.get(site.alarm_name, [])),
            "page": site.page.get("/").body,
        }

    def _check_untouched(self, site: Site) -> None:
        """The bystander's page objects, Slack channel, windows, history and registration are what
        they were before the other site's outage; its primary served all along. Loud if not."""
        t, now, before = self.timeline, self._observe(site), site.baseline
        t.say(f"{site.domain} while {self.failing.domain} was out: untouched? (checked against before the outage)")
        changed = [name for name in before if now[name] != before[name]]
        unhealthy = sum(1 for healthy in site.rounds if not healthy)
        objects = ", ".join(
            f"{key.rsplit('/', 1)[-1]} version {version[:8]}… etag {etag}" for key, version, etag in now["objects"]
        )
        keys = {key for key, _, _ in now["objects"]}
        if len(keys) != len(now["objects"]):  # versioned: more than one version of a key is a second publish
            changed.append("republished page objects")
        same = (
            "CHANGED"
            if {"objects", "delete_markers", "republished page objects"} & set(changed)
            else ("one version each: unchanged since its first publish")
        )
        t.detail(f"page objects under sites/{site.site_id}/: {objects}: {same}")
        t.detail(
            f"edge {site.page.url}: the same page as before ({'yes' if 'page' not in changed else 'NO'}); "
            f"DNS {self._dns(site)}"
        )
        t.detail(
            f"health check: healthy in {len(site.rounds) - unhealthy} of {len(site.rounds)} rounds; "
            f"alarm {site.alarm_name}: {site.alarm.state if site.alarm else '?'}, "
            f"{len(now['deliveries'])} notification(s) delivered"
        )
        channel_news = len(now["messages"]) - len(before["messages"])
        t.detail(f"Slack #{site.spec.slack_channel}: {channel_news} new message(s)")
        windows = self._windows(site)
        t.detail(
            f"failover windows: {len(windows)}; items under SITE#{site.site_id}: {len(now['items'])} "
            f"(before: {len(before['items'])}); registry item {'unchanged' if 'registry' not in changed else 'CHANGED'}"
        )
        if unhealthy:
            changed.append(f"{unhealthy} unhealthy health-check rounds")
        if windows:
            changed.append("failover windows")
        if changed:
            raise AssertionError(f"{site.domain} was touched by {self.failing.domain}'s outage: {', '.join(changed)}")
        t.detail(f"checked: {site.domain} untouched")

    # -- removing a site -----------------------------------------------------------------------------

    def _remove(self, site: Site) -> None:
        """Delete the site's stack as CloudFormation would, then check: its page objects and registry
        item are gone, its history stays, and the other sites are as they were."""
        t = self.timeline
        site.stop_playing()
        history = self._history(site)
        windows = self._windows(site)
        t.say(f"removing {site.domain}: deleting stack {site.deployed.name} (reverse order of creation)")
        started = time.monotonic()
        self.removed = delete_stack(site.deployed, self._service_token)
        for line in self.removed:
            t.detail(line)
        bucket = self.stack.physical_id("PageBucket")
        listed = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=f"sites/{site.site_id}/")
        left = len(listed.get("Versions", [])) + len(listed.get("DeleteMarkers", []))
        registered = self._registry().get(site.site_id)
        kept = self._history(site)
        records = [r for r in self._records() if r["Name"].rstrip(".") == site.domain]
        t.detail(
            f"deleted in {time.monotonic() - started:.1f} s; registry item: "
            f"{'gone' if registered is None else 'STILL THERE'}; object versions left under sites/{site.site_id}/: "
            f"{left}; DNS records for {site.domain}: {len(records)}"
        )
        t.detail(
            f"history kept: {len(self._windows(site))} failover window(s), {len(kept)} of {len(history)} items "
            f"under SITE#{site.site_id}"
        )
        problems = []
        if registered is not None:
            problems.append("its registry item is still there")
        if left:
            problems.append(f"{left} object versions are left under its prefix")
        if records:
            problems.append(f"{len(records)} DNS records are left")
        if kept != history or len(self._windows(site)) != len(windows):
            problems.append("its history changed")
        for other in self.bystanders:
            if self._registry().get(other.site_id) != other.baseline["registry"]:
                problems.append(f"{other.domain}'s registration changed")
        if problems:
            raise AssertionError(f"removing {site.domain}: {'; '.join(problems)}")
        t.detail(f"checked: {site.domain} removed, its history kept, the other sites as they were")

    # -- the parts ----------------------------------------------------------------------------------

    def _report_hub(self, sandbox: LocalSandbox) -> None:
        say, stack = self.timeline.say, sandbox.stack
        say(f"embedded AWS (moto server) at {sandbox.endpoint}; hosted zone {ZONE} stands in for yours")
        say(
            f"deployed template.yaml as hub stack {stack.name!r} in {sandbox.seconds_to_deploy:.1f} s: "
            f"{len(stack.created)} resources created, {len(stack.emulated)} played locally (see deployment.txt); "
            f"{len(stack.exports())} exports for the sites"
        )
        say(f"local Slack at {sandbox.slack.url} (bot-token mode); the hub's Slack secret now holds its token")

    def _start_edge(self, stack: EmulatedStack) -> LocalEdge:
        headers_policy = self.stack.resolver.resource("PageHeadersPolicy")
        if headers_policy is None:  # it has no Condition in template.yaml: only a changed template gets here
            raise RuntimeError("template.yaml's PageHeadersPolicy is left out; the local edge needs its headers")
        distribution = stack.resolver.resource("Distribution") or {}
        (origin,) = distribution["DistributionConfig"]["Origins"]
        edge = LocalEdge(
            bucket=self.stack.physical_id("PageBucket"),
            origin_path=origin.get("OriginPath", ""),
            policy_headers=policy_headers(headers_policy["ResponseHeadersPolicyConfig"]),
        )
        edge.start()
        domain = stack.resolver.attributes[("Distribution", "DomainName")]
        path = origin.get("OriginPath")
        self.timeline.say(f"local edge at {edge.url} plays {stack.name}'s distribution {domain} (origin path {path})")
        return edge

    def _function(self, logical_id: str) -> InProcessFunction:
        """One in-process function per template function, its logs in logs/<function>.jsonl."""
        if logical_id not in self.functions:
            directory = self.stack.functions()[logical_id]
            log = (self.options.out / "logs" / f"{directory}.jsonl").open("a")
            self.logs.append(log)
            self.functions[logical_id] = InProcessFunction(
                directory,
                self.stack.function_environment(logical_id) | {"AWS_ENDPOINT_URL_LAMBDA": self.lambda_service.url},
                function_name=f"{self.stack.name}-{logical_id}",
                output=log,
            )
        return self.functions[logical_id]

    def _subscribers(self) -> list[tuple[InProcessFunction, dict[str, Any]]]:
        """The template's Lambda subscriptions to the alarm topic, with their filter policies."""
        topic = self.stack.physical_id("AlarmTopic")
        found = []
        for logical_id, resource in self.stack.template["Resources"].items():
            endpoint = resource.get("Properties", {}).get("Endpoint", {})
            if resource["Type"] != "AWS::SNS::Subscription" or "Fn::GetAtt" not in endpoint:
                continue
            props = self.stack.resolver.resource(logical_id) or {}
            if props.get("TopicArn") == topic:
                found.append((self._function(endpoint["Fn::GetAtt"][0]), props.get("FilterPolicy", {})))
        return found

    def _registry(self) -> SiteRegistry:
        return SiteRegistry(self.stack.physical_id("IncidentsTable"), dynamodb_client())

    def _checkers(self, site: Site) -> str:
        views = site.health.observations()
        said = f"{sum(1 for healthy in views.values() if healthy)}/{len(views)} checkers say healthy"
        if site.watched_check_id == site.site_id:
            return said
        return f"{said}; {self._calculated(site)}"

    def _signal_checks(self, site: Site) -> str:
        """Route 53's view of the site's checks: the 5xx-rate check, the endpoint check, the calculated one."""
        signal = site.route53.by_logical_id("ErrorRateCheck")
        status = site.route53.status(signal.health_check_id) if signal else None
        said = f"{'healthy' if status.healthy else 'unhealthy'} ({status.because})" if status else "unknown"
        views = site.health.observations()
        endpoint = "healthy" if site.health.healthy else "UNHEALTHY"
        return (
            f"5xx-rate check {said}; endpoint check {endpoint} "
            f"({sum(1 for healthy in views.values() if healthy)}/{len(views)} checkers say healthy); "
            f"{self._calculated(site)}"
        )

    def _calculated(self, site: Site) -> str:
        status = site.route53.status(site.watched_check_id)
        if status is None:
            return "calculated check: unknown"
        return f"calculated check {'healthy' if status.healthy else 'unhealthy'}: {status.because}"

    def _records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.route53.list_resource_record_sets(HostedZoneId=self.sandbox.zone_id)[
            "ResourceRecordSets"
        ]
        return records

    def _status_reports(self, check_id: str) -> list[dict[str, Any]] | None:
        """GetHealthCheckStatus's observations of an endpoint check played here (None: another check)."""
        for site in self.sites:
            if site.stack is not None and site.check is not None and site.site_id == check_id:
                return site.check.status_reports()
        return None

    def _healthy(self, check_id: str) -> bool:
        """Route 53's status of any health check of the sites played (endpoint, alarm-backed or calculated)."""
        for site in self.sites:
            if site.checks is not None and check_id in site.checks.checks:
                return site.checks.healthy(check_id) is not False
        raise LookupError(f"health check {check_id} belongs to no site played here")

    def _dns(self, site: Site) -> str:
        found = answer(self._records(), site.domain, "A", self._healthy)
        target = f"alias {found.values[0]}" if found.alias else f"{', '.join(found.values)} (TTL {found.ttl})"
        return f"{site.domain} A -> {target} [{found.failover}]"

    def _windows(self, site: Site) -> list[dict[str, Any]]:
        store = IncidentStore(self.stack.physical_id("IncidentsTable"), dynamodb_client())
        return [
            {
                "started_at": format_time(w.started_at),
                "ended_at": format_time(w.ended_at) if w.ended_at else None,
                "duration_s": w.duration_s,
                "reason": w.reason,
            }
            for w in store.windows(site.site_id)
        ]

    def _history(self, site: Site) -> list[str]:
        """The sort keys of every item the table holds under the site (SITE#<id>)."""
        client, keys = dynamodb_client(), []
        arguments: dict[str, Any] = {
            "TableName": self.stack.physical_id("IncidentsTable"),
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": encode({":pk": f"SITE#{site.site_id}"}),
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        while True:
            page = client.query(**arguments)
            keys += [item["sk"]["S"] for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(keys)
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _snapshot(self, site: Site, step: str) -> None:
        folder = self.options.out / "page" / site.spec.name
        folder.mkdir(parents=True, exist_ok=True)
        page = site.page.get("/")
        (folder / f"{step}.html").write_bytes(page.body)
        (folder / f"{step}.status.json").write_bytes(site.page.get("/status.json").body)
        (folder / f"{step}.headers.json").write_text(json.dumps({"status": page.status, **page.headers}, indent=2))

    def _write_artifacts(self) -> None:
        out = self.options.out
        slack = [
            {
                "channel": m.channel,
                "ts": m.ts,
                "thread_ts": m.thread_ts,
                "text": m.text,
                "blocks": m.blocks,
                "edits": m.edits,
            }
            for m in self.slack.messages
        ]
        (out / "slack.json").write_text(json.dumps(slack, indent=2, ensure_ascii=False))
        windows = {site.domain: self._windows(site) for site in self.sites if site.stack is not None}
        (out / "windows.json").write_text(json.dumps(windows, indent=2))
        (out / "timeline.txt").write_text("\n".join(self.timeline.lines) + "\n")
        stacks = [("hub", self.stack)] + [(s.domain, s.stack) for s in self.sites if s.stack is not None]
        text = ""
        for what, stack in stacks:
            text += (
                f"Stack {stack.name} ({what}). Created in the emulator:\n  "
                + "\n  ".join(stack.created)
                + "\n\nNot created; played locally or not emulated:\n  "
                + "\n  ".join(stack.emulated or ["(nothing)"])
                + "\n\n"
            )
        if self.removed:
            text += "Deleted (the site removed at the end):\n  " + "\n  ".join(self.removed) + "\n"
        (out / "deployment.txt").write_text(text)

    def _keep_running(self) -> None:
        t, site = self.timeline, self.failing
        pages = "  ".join(f"{s.domain}: {s.page.url}" for s in self.sites if s.edge is not None)
        t.say(f"still running. Pages: {pages}  Slack: {self.slack.url}")
        t.say(f"type 'stop' or 'start' for {site.domain}'s primary, 'quit' (or Ctrl-C) to end")
        try:
            for line in sys.stdin:
                command = line.strip().lower()
                if command == "stop":
                    site.primary.stop()
                    t.say("primary stopped")
                elif command == "start":
                    site.primary.start()
                    t.say("primary started")
                elif command in ("quit", "exit"):
                    break
        except KeyboardInterrupt:
            pass


def _error_rate_parameters(spec: SiteSpec) -> dict[str, str]:
    """A primary behind an ALB, with Detour's 5xx-rate signal on: sites/site.yaml's parameters."""
    return {
        "PrimaryKind": "LoadBalancer",
        "PrimaryTarget": spec.load_balancer_name,
        "PrimaryHostedZoneId": ALB_ZONE,
        "ErrorRateSignal": "On",
        "ErrorRateTargetGroup": spec.target_group,
        "ErrorRateLoadBalancer": spec.load_balancer,
        "ErrorRatePercent": str(ERROR_RATE_PERCENT),
        "ErrorRateMinutes": str(ERROR_RATE_MINUTES),
    }


def _visits(visits: Visits) -> str:
    codes = ", ".join(f"{n} x {status or 'no answer'}" for status, n in sorted(visits.statuses.items()))
    return (
        f"{visits.requests} visitor page requests, {visits.failed} answered 5xx ({visits.percent_failed:.1f} %): "
        f"{codes}"
    )


def _alb(counts: MinuteCounts) -> str:
    if not counts.requests:
        return "nothing (no requests)"
    errors = f"HTTPCode_Target_5XX_Count {counts.target_5xx}" if counts.target_5xx else "no HTTPCode_Target_5XX_Count"
    return f"RequestCount {counts.requests}, {errors}"


def _accepts(policy: dict[str, Any], message: dict[str, Any]) -> bool:
    """SNS body filter policies as the template writes them: every key must match one listed value,
    an exact string or a {"prefix": ...}."""

    def matches(value: Any, rule: Any) -> bool:
        if isinstance(rule, dict):
            return isinstance(value, str) and "prefix" in rule and value.startswith(rule["prefix"])
        return bool(value == rule)

    return all(any(matches(message.get(key), rule) for rule in rules) for key, rules in policy.items())


def _update_shown(edge: LocalEdge) -> bool:
    status = json.loads(edge.get("/status.json").body)
    return any(update.get("message") == UPDATE_MESSAGE for update in status.get("updates") or [])


def _gist(text: str) -> str:
    """The start of a cause, up to its second colon: "5xx rate: ALARM: …"."""
    parts = text.split(": ", 2)
    return ": ".join(parts[:2]) + (": …" if len(parts) > 2 else "") if text else "none"


def _why_in_slack(blocks: list[dict[str, Any]]) -> str:
    """The text of a message's "Why it failed over" section (notify_slack's), or ""."""
    for block in blocks:
        text = str((block.get("text") or {}).get("text", ""))
        if text.startswith("*Why it failed over*"):
            return text.split("\n", 1)[-1]
    return ""


def _cause_on_page(page: bytes) -> str:
    """The page's `<p id="cause">` (its technical details), or ""."""
    found = re.search(r'<p id="cause"[^>]*>(.*?)</p>', page.decode("utf-8", "replace"), re.S)
    return " ".join(html.unescape(found.group(1)).split()) if found else ""


def _data(answer: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in answer.get("Data", {}).items())


def _acknowledged(answer: SlackAnswer) -> str:
    """What Slack shows the person at once: the acknowledgement's text."""
    try:
        text = answer.json().get("text")
    except (ValueError, AttributeError):
        text = answer.text
    return f', acknowledged "{text}"' if text else ""


def _summary(result: Any) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("site_id",))
    return str(result)


class _Title(HTMLParser):
    """The page's <title>: it names the state the page is in (the sections for others are hidden)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.text = False, ""

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.inside = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data


def _title(html: bytes) -> str:
    parser = _Title()
    parser.feed(html.decode("utf-8", "replace"))
    return " ".join(parser.text.split())


if __name__ == "__main__":
    raise SystemExit(main())

"""`detour drill`: rehearse a failover on the real deployment, measure it, and put everything back.

Sets the endpoint health check's Inverted flag (never Disabled, which forces healthy), or with
--signal "5xx rate" makes Detour's 5xx-rate signal breach through its data (100 % published into
Detour/TargetErrorRate each minute: Route 53 follows an alarm's data, not its state, so SetAlarmState
could not move it), waits for the zone's own name servers to answer the maintenance distribution,
fetches the page over HTTPS at that address (503, Retry-After, the page itself), waits for
status.json to show the incident and for the failover window to open, then restores the flag or
stops publishing (always: also on errors, timeouts and Ctrl-C) and waits for the primary to answer
again and the window to close. The times go to the terminal and to a JSON and a Markdown file, with
the budget beside them. An operator's own alarm as --signal is refused: nothing can force it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TextIO, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from detour.incidents.notices import NoticeBoard, SiteNotice
from detour.incidents.sites import ErrorRate, RegisteredSite, Signal, SignalKind
from detour.incidents.store import IncidentStore
from detour.incidents.transition import format_time, parse_time
from detour.incidents.windows import FailoverWindow
from detour.signals.causes import CauseLog
from detour.signals.error_rate import METRIC_NAME, NAMESPACE, SETTLE_MINUTES, SITE_DIMENSION
from detour.signals.states import SignalReading
from detour.slack.threads import ThreadStore
from detour_cli import authoritative_dns as adns
from detour_cli import forced_rate, page_probe
from detour_cli.output import EXIT_ERROR, EXIT_OK, EXIT_PROBLEM, Style, paragraphs, run_reporting_errors, utc_text
from detour_cli.sites import add_site_argument, checks_count, failover_rule, resolve_site
from detour_cli.stack_outputs import DetourError, add_stack_arguments, session_for
from detour_cli.status import _name_servers, _primary_addresses
from detour_cli.window_log import LoggedWindow, current_window

RECORD_TTL_S = 60  # template.yaml's failover records (and an ELB alias) carry TTL 60
ALARM_DELAY_S = 180  # the alarm and its SNS message come one to three minutes after the outage
# A forced 5xx rate: after its Minutes breaching minutes, the metric's delay, CloudWatch's evaluation, Route 53's
# evaluation of the alarm's data and the one-minute HealthCheckStatus alarm (the window, the page, Slack).
SIGNAL_DELAY_S = 180
# Publishing stopped: error_rate publishes the next minute once the ALB's data for it is in (about a minute after
# it), or, without traffic, once settled (SETTLE_MINUTES); then CloudWatch's and Route 53's evaluation.
RECOVERY_S = (1 + SETTLE_MINUTES + 1) * 60
RECOVERY_TEXT = (
    "within a few minutes (2-3 once the ALB's data for the next minute is in; up to about "
    f"{RECOVERY_S // 60} on a site without traffic, whose minutes error_rate publishes only once settled, "
    f"{SETTLE_MINUTES} min)"
)
DNS_TIMEOUT_S = 600  # --dns-timeout's default; a forced 5xx rate waits at least its budget + DNS_MARGIN_S
DNS_MARGIN_S = 180
RESTORE_ATTEMPTS = 3
RESTORE_RETRY_S = 1.0
CLOCK_SKEW = timedelta(minutes=5)  # between this machine and AWS, when telling this incident from older ones
ERROR_RATE_NAMES = ("5xx rate", "5xx-rate", "5xx", "error-rate", "error rate")  # what --signal may call it
T = TypeVar("T")

EPILOG = paragraphs(
    "Exit codes: 0 the drill passed; 1 a check failed, timed out or was interrupted (the flag was restored, or "
    "the publishing stopped), or the site was not in a state to drill (nothing changed); 2 usage error (an alarm "
    "of your own as --signal included), not confirmed, missing stack or output, AWS error, or the restore itself "
    "failed (the message says what to run by hand).",
    "Without a terminal the drill needs --yes. Colour and the progress spinner only on a terminal.",
    "--signal '5xx rate' (or 'error-rate', the signal's name or its alarm's name) drills Detour's own 5xx-rate "
    "signal (ADR 0002) instead of the endpoint probe. Route 53 follows an alarm-backed check's metric data, not "
    "the alarm's state (Route 53 Developer Guide: 'you can't force the status of a health check to change by "
    "using the CloudWatch SetAlarmState API operation'), so the drill makes the data breach: it publishes 100% "
    f"(PutMetricData: namespace {NAMESPACE}, metric {METRIC_NAME}, dimension {SITE_DIMENSION}=<site stack>, unit "
    "Percent, StorageResolution 60) for the current minute and each following minute while it waits, and stops "
    "publishing when it ends, always (also on errors, timeouts and Ctrl-C). That is the restore: the error_rate "
    f"function's own values take over, and the site recovers {RECOVERY_TEXT} (the minutes already at 100% stay "
    "so: the alarm takes each minute's Maximum). It needs cloudwatch:PutMetricData on namespace Detour. The "
    f"budget is ErrorRateMinutes x 60 s + {SIGNAL_DELAY_S} s; --dns-timeout defaults to at least that + "
    f"{DNS_MARGIN_S} s.",
    "An alarm of your own as --signal is refused (exit 2) and left alone: nothing a drill can publish or set "
    "moves its health check. Make its metric breach in a staging setup, drill the endpoint (no --signal), or "
    "drill the 5xx rate. An unknown NAME is a usage error (exit 2) that lists the site's signals.",
    "A site that fails over only when several of its checks fail (SignalsToFailOver 2 or more) is not drilled: "
    "neither the inverted probe nor one forced signal alone moves it.",
    "Test and diagnostic options: --nameserver/--resolver (or DETOUR_NAMESERVERS/DETOUR_RESOLVER) as for "
    "`detour status`; --https-port (or DETOUR_DRILL_PORT) fetches the page from another port than 443; "
    "--ca-file trusts that CA for the page's certificate; --insecure skips certificate verification; "
    "--poll-interval and the timeouts keep test runs short.",
)


DRILL_NOTICE = "A failover drill is under way: the site will be back within minutes."


class DrillFailed(Exception):
    """A check failed or a wait timed out: exit 1, after the flag is restored."""


@dataclass(frozen=True, slots=True)
class Target:
    """The site under drill: from the hub stack, the registry and the site's stack."""

    stack: str  # the hub
    domain: str
    site_name: str
    check_id: str
    table: str
    distribution: str
    interval_s: int
    threshold: int
    servers: list[adns.NameServer]
    primary: tuple[str, ...]
    maintenance: tuple[str, ...]
    lookup: adns.NameLookup
    site_stack: str = ""
    site_id: str = ""  # the key of the site's records; empty: check_id (a site from before ADR 0002)
    signal: Signal | None = None  # --signal: the 5xx-rate signal forced instead of inverting the endpoint check
    error_rate: ErrorRate | None = None  # its settings (threshold_percent, minutes)
    failover_check: str = ""  # what the failover records watch; empty: check_id
    needed: int = 1  # SignalsToFailOver
    checks: int = 1  # the endpoint probe and each signal
    rule: str = ""
    alarm_name: str = ""  # the site's alarm (HealthAlarm): its transitions key the windows' causes

    @property
    def minutes(self) -> int:
        """ErrorRateMinutes: how many consecutive minutes above the threshold the 5xx rate needs."""
        return self.error_rate.minutes if self.error_rate is not None else 1

    @property
    def budget_s(self) -> int:
        """The failover's: HealthCheckInterval x HealthCheckFailureThreshold for the probe (the DNS switch);
        for a forced 5xx rate its minutes, then SIGNAL_DELAY_S (the DNS switch, the page and the window)."""
        if self.signal is None:
            return self.interval_s * self.threshold
        return self.minutes * 60 + SIGNAL_DELAY_S

    @property
    def later_budget_s(self) -> int:
        """The page's incident, the window and Slack: the probe's alarm comes 1-3 min after the switch."""
        return self.budget_s + ALARM_DELAY_S if self.signal is None else self.budget_s

    @property
    def failback_budget_s(self) -> int:
        return self.budget_s if self.signal is None else RECOVERY_S

    @property
    def record_id(self) -> str:
        """The site's id: what its notice, windows and thread are kept under (never a health check id)."""
        return self.site_id or self.check_id

    @property
    def undo(self) -> str:
        """What the drill does to end the forced failover, for its messages."""
        return "restoring the flag" if self.signal is None else "stopping the 100 % publication"

    @property
    def undone(self) -> str:
        return "the flag is restored" if self.signal is None else "publishing has stopped"


def signal_label(signal: Signal) -> str:
    return "5xx rate" if signal.kind is SignalKind.ERROR_RATE else signal.name


def find_signal(site: RegisteredSite, name: str) -> Signal:
    """The signal --signal names: its name, its alarm's name, or "5xx rate"/"error-rate" for Detour's own."""
    wanted = " ".join(name.split()).lower()
    matches = [
        signal
        for signal in site.signals
        if wanted in {signal.name.lower(), signal.alarm_name.lower()}
        or (signal.kind is SignalKind.ERROR_RATE and wanted in ERROR_RATE_NAMES)
    ]
    if len(matches) == 1:
        return matches[0]
    if not site.signals:
        raise DetourError(
            f"site {site.domain} has no failover signals (SignalAlarm1..3 and ErrorRateSignal in its site stack "
            f"are unset), so there is no signal {name!r} to force; drill it without --signal"
        )
    listed = "; ".join(
        f"{signal_label(signal)} ({signal.kind.value}, alarm {signal.alarm_name})" for signal in site.signals
    )
    problem = "names several signals" if matches else "is not one of its signals"
    raise DetourError(f"--signal {name!r} {problem} of site {site.domain}; its signals: {listed}")


ROUTE53_GUIDE = (
    'AWS\'s Route 53 Developer Guide ("How Amazon Route 53 determines whether a health check is healthy", '
    '"Health checks that monitor CloudWatch alarms"): "Because Route 53 health checks monitor CloudWatch data '
    "streams instead of the state of CloudWatch alarms, you can't force the status of a health check to change "
    'by using the CloudWatch SetAlarmState API operation."'
)


def alarm_signal_refusal(site: RegisteredSite, signal: Signal) -> str:
    """Why an operator's alarm cannot be drilled, and what to do instead."""
    has_rate = any(s.kind is SignalKind.ERROR_RATE for s in site.signals)
    rate = (
        "drill Detour's 5xx-rate signal: detour drill --signal '5xx rate' (it publishes into its own metric)"
        if has_rate
        else "drill a 5xx-rate signal: turn on ErrorRateSignal in the site stack, then detour drill --signal '5xx rate'"
    )
    return "\n".join(
        [
            f"not drilling signal {signal_label(signal)}: it is an alarm of your own ({signal.alarm_name}), and a "
            "drill cannot force it.",
            "  Route 53 follows the alarm's metric data, not its state: setting the alarm to ALARM "
            "(SetAlarmState) does not move its health check, so the site would never fail over. " + ROUTE53_GUIDE,
            "  Instead:",
            "  - make the alarm's metric itself breach, in a staging setup (the failure it watches for);",
            "  - drill the endpoint: detour drill (without --signal) inverts the endpoint health check;",
            f"  - {rate}.",
            f"  Nothing was changed: alarm {signal.alarm_name} is left as it is.",
        ]
    )


@dataclass
class Timeline:
    """What the drill measured; seconds from the inversion (or, for the failback, from the restore)."""

    result: str = "not started"
    reason: str = ""
    started_at: datetime | None = None
    restored_at: datetime | None = None
    finished_at: datetime | None = None
    dns_switch_s: float | None = None
    page_served_s: float | None = None
    page_incident_s: float | None = None
    window_open_s: float | None = None
    slack_s: float | None = None
    failback_dns_s: float | None = None
    window_closed_s: float | None = None
    window_started_at: datetime | None = None
    window_ended_at: datetime | None = None
    answered: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    cause: SignalReading | None = None  # what the functions recorded as the window's cause
    published: list[datetime] = field(default_factory=list)  # a forced 5xx rate: the minutes published at 100 %

    @property
    def window_duration_s(self) -> float | None:
        if self.window_started_at and self.window_ended_at:
            return (self.window_ended_at - self.window_started_at).total_seconds()
        return None


class Progress:
    """A spinner on a terminal while waiting; nothing elsewhere."""

    def __init__(self, stream: IO[str]) -> None:
        isatty = getattr(stream, "isatty", lambda: False)
        self.stream, self.enabled, self.dirty = stream, bool(isatty()), False
        self._spinner = itertools.cycle("|/-\\")

    def tick(self) -> None:
        if self.enabled:
            self.stream.write(f"\r{next(self._spinner)} ")
            self.stream.flush()
            self.dirty = True

    def clear(self) -> None:
        if self.dirty:
            self.stream.write("\r  \r")
            self.stream.flush()
            self.dirty = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="detour drill",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    add_site_argument(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and exit; change nothing")
    parser.add_argument(
        "--signal",
        metavar="NAME",
        help="force the site's 5xx-rate signal instead of inverting the endpoint check ('5xx rate'/'error-rate', "
        "its name or its alarm's name): 100%% is published into its metric each minute while the drill waits, and "
        "no more once it ends (always); an alarm of your own is refused (Route 53 follows its data, not its state)",
    )
    parser.add_argument(
        "--as-outage",
        action="store_true",
        help="drill without a planned-maintenance notice: Slack pages as for a real outage, and the window "
        "counts against availability",
    )
    parser.add_argument(
        "--report-dir", default=".", type=Path, help="where to write the JSON and Markdown report (default: .)"
    )
    parser.add_argument(
        "--dns-timeout",
        type=float,
        help=f"seconds to wait for DNS to switch ({DNS_TIMEOUT_S}; with --signal at least the 5xx rate's budget "
        f"+ {DNS_MARGIN_S})",
    )
    parser.add_argument(
        "--page-timeout", type=float, default=600, help="seconds to wait for the page and the window to show it (600)"
    )
    parser.add_argument(
        "--failback-timeout", type=float, default=900, help="seconds to wait for the primary and the window close (900)"
    )
    parser.add_argument("--poll-interval", type=float, default=5, help="seconds between polls (5)")
    parser.add_argument("--nameserver", action="append", metavar="HOST[:PORT]", help="ask this name server instead")
    parser.add_argument("--resolver", metavar="HOST[:PORT]", help="resolve other names through this server")
    parser.add_argument(
        "--https-port",
        type=int,
        default=os.environ.get("DETOUR_DRILL_PORT") or "443",  # a string: argparse converts it, or says why not
        help="port of the page (default 443, or DETOUR_DRILL_PORT); for tests",
    )
    parser.add_argument("--ca-file", help="trust this CA file for the page's certificate (tests)")
    parser.add_argument("--insecure", action="store_true", help="do not verify the page's certificate (diagnostics)")
    args = parser.parse_args(argv)
    return run_reporting_errors(parser.prog, lambda: run(args, sys.stdout, sys.stderr, sys.stdin))


def run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: IO[str]) -> int:
    session = session_for(args)
    route53, dynamodb, cloudwatch = session.client("route53"), session.client("dynamodb"), session.client("cloudwatch")
    target = load_target(args, session, route53)
    args.dns_timeout = dns_timeout(target, args.dns_timeout)
    style = Style(out)
    print(plan(target, args), file=out)
    if args.dry_run:
        print("\n--dry-run: nothing was changed.", file=out)
        return EXIT_OK
    refusal = preflight(target, route53, dynamodb, cloudwatch)
    if refusal:
        print(style("\nNot drilling: ", "red", "bold") + refusal + " Nothing was changed.", file=out)
        return EXIT_PROBLEM
    if not confirmed(args, target, out, err, stdin):
        return EXIT_ERROR
    drill = Drill(target, args, route53=route53, dynamodb=dynamodb, cloudwatch=cloudwatch, out=out, err=err)
    with _signals_interrupt():  # a closed terminal or a cancelled job restores the flag like Ctrl-C
        code = drill.run()
    written = write_report(drill.timeline, target, args)
    print(render(drill.timeline, target, style), file=out)
    print(f"\nReport: {written[0]} and {written[1]}", file=out)
    return code


def dns_timeout(target: Target, given: float | None) -> float:
    """--dns-timeout, or its default: DNS_TIMEOUT_S, and for a forced 5xx rate at least its budget + DNS_MARGIN_S
    (ErrorRateMinutes 10 needs 780 s)."""
    if given is not None:
        return given
    return float(DNS_TIMEOUT_S if target.signal is None else max(DNS_TIMEOUT_S, target.budget_s + DNS_MARGIN_S))


def load_target(args: argparse.Namespace, session: Any, route53: Any) -> Target:
    site = resolve_site(args, session)
    signal = find_signal(site.site, args.signal) if getattr(args, "signal", None) else None
    if signal is not None and signal.kind is not SignalKind.ERROR_RATE:
        raise DetourError(alarm_signal_refusal(site.site, signal))
    if signal is not None and site.site.error_rate is None:
        raise DetourError(
            f"site {site.domain} has signal {signal_label(signal)} but no 5xx-rate settings (ErrorRate) in its "
            "registry item: redeploy its site stack, then drill it"
        )
    check_id, stack = site.endpoint_check, site.stack  # Route 53's calls: the endpoint check; records: site_id
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    interval = int(stack.parameters.get("HealthCheckInterval") or config.get("RequestInterval", 30))
    threshold = int(stack.parameters.get("HealthCheckFailureThreshold") or config.get("FailureThreshold", 3))
    resolver = args.resolver or os.environ.get("DETOUR_RESOLVER")
    lookup = adns.NameLookup(adns.parse_host_port(resolver) if resolver else None)
    distribution = site.output("DistributionDomainName")
    return Target(
        stack=site.hub.name,
        domain=site.domain,
        site_name=site.site_name,
        check_id=check_id,
        table=site.table,
        distribution=distribution,
        interval_s=interval,
        threshold=threshold,
        servers=_name_servers(route53, site.parameter("HostedZoneId"), args.nameserver, lookup),
        primary=_primary_addresses(site.parameter("PrimaryKind"), site.parameter("PrimaryTarget"), lookup),
        maintenance=lookup.addresses(distribution),
        lookup=lookup,
        site_stack=stack.name,
        site_id=site.site_id,
        signal=signal,
        error_rate=site.site.error_rate if signal is not None else None,
        failover_check=site.failover_check,
        needed=max(1, site.site.signals_to_fail_over),
        checks=checks_count(site.site),
        rule=failover_rule(site.site),
        alarm_name=site.alarm_name,
    )


def plan(target: Target, args: argparse.Namespace) -> str:
    signal = target.signal
    if signal is None:
        force = [f"  1. set Inverted on health check {target.check_id} (visitors get the maintenance page)"]
        restore = "  5. restore the flag (always, also on errors, timeouts and Ctrl-C), wait for the primary and "
        budget = [
            f"Budget: DNS switch about {target.interval_s} s x {target.threshold} = {target.budget_s} s "
            f"(HealthCheckInterval x HealthCheckFailureThreshold), resolvers then wait out the {RECORD_TTL_S} s TTL; "
            f"the alarm, the page and Slack follow 1-3 min later."
        ]
    else:
        force, restore, budget = _signal_plan(target, signal, args)
    rule = [f"Rule: the site {target.rule} (SignalsToFailOver {target.needed})."] if target.checks > 1 else []
    return "\n".join(
        [
            f"Drill of {target.domain} (site stack {target.site_stack}, hub {target.stack}): "
            "a real failover to the maintenance page and back.",
            "  0. "
            + (
                "no planned-maintenance notice (--as-outage): Slack pages as for an outage; the window counts"
                if args.as_outage
                else "post a planned-maintenance notice (until the drill ends): Slack pages no one; not downtime"
            ),
            *force,
            f"  2. wait for the zone's name servers ({', '.join(s.name for s in target.servers)}) to answer "
            f"{target.distribution} instead of {', '.join(target.primary) or target.domain}",
            f"  3. fetch https://{target.domain}/ from that address: 503, Retry-After, the page",
            "  4. wait for status.json to show the incident and the failover window to open",
            restore + "the window to close",
            *rule,
            *budget,
            f"Timeouts: DNS {args.dns_timeout:g} s, page and window {args.page_timeout:g} s, "
            f"failback {args.failback_timeout:g} s. Visitors see the maintenance page for the whole drill.",
        ]
    )


def _signal_plan(target: Target, signal: Signal, args: argparse.Namespace) -> tuple[list[str], str, list[str]]:
    """Steps 1 and 5 and the budget of a forced 5xx rate: what is published, for how long, and its undoing."""
    minutes = target.minutes
    threshold = f"{target.error_rate.threshold_percent:g} %" if target.error_rate is not None else "its threshold"
    longest = args.dns_timeout + 2 * args.page_timeout
    force = [
        f"  1. force signal {signal_label(signal)} ({signal.kind.value}) through its data, which is what Route 53 "
        "follows (not the alarm's state): publish",
        f"       PutMetricData  Namespace {NAMESPACE}  MetricName {METRIC_NAME}  Dimensions "
        f"{SITE_DIMENSION}={target.site_stack}  Value {forced_rate.FORCED_PERCENT:g}  Unit Percent  "
        "StorageResolution 60",
        "     one datapoint for the current minute, then one for each following minute while steps 2-4 wait "
        f"(at most {longest:g} s: the DNS timeout and twice the page timeout); after {minutes} such minute"
        f"{'s' if minutes != 1 else ''} (ErrorRateMinutes, each above ErrorRatePercent {threshold}) the data "
        f"breaches alarm {signal.alarm_name}, so its health check {signal.health_check_id}, which follows that data, "
        f"and the failover check {target.failover_check} turn unhealthy (visitors get the maintenance page). Needs "
        f"cloudwatch:PutMetricData on namespace {NAMESPACE}; the alarm itself is not touched.",
    ]
    restore = (
        "  5. stop publishing (always, also on errors, timeouts and Ctrl-C): that is the restore. Detour's error_rate "
        f"function's own values for the minutes after take over, and the alarm and Route 53 recover {RECOVERY_TEXT}; "
        "the minutes already published stay at 100 % (the alarm takes each minute's Maximum, so publishing 0 would "
        "not undo them). Then wait for the primary and "
    )
    budget = [
        f"Budget: failover (DNS, page, window) about {minutes} min x 60 s + {SIGNAL_DELAY_S} s = {target.budget_s} s "
        f"({minutes} breaching minute{'s' if minutes != 1 else ''}, then the metric's delay, CloudWatch's "
        "evaluation, Route 53's evaluation of the alarm's data and the one-minute HealthCheckStatus alarm); "
        f"resolvers then wait out the {RECORD_TTL_S} s TTL. Failback within about {RECOVERY_S} s after publishing "
        "stops, the window's close 1-3 min later."
    ]
    return force, restore, budget


def preflight(target: Target, route53: Any, dynamodb: Any, cloudwatch: Any = None) -> str:
    """Why the site is not in a state to drill, or "" when it is (each check asked only if those before pass)."""
    checks: tuple[Callable[[], str], ...] = (
        lambda: _rule_refusal(target),
        lambda: _checks_refusal(target, route53),
        lambda: _signal_refusal(target, target.signal, cloudwatch) if target.signal is not None else "",
        lambda: _state_refusal(target, dynamodb),
    )
    return next((refusal for refusal in (check() for check in checks) if refusal), "")


def _rule_refusal(target: Target) -> str:
    if target.needed <= 1:
        return ""
    alone = "inverting the endpoint check" if target.signal is None else "forcing one signal"
    return (
        f"the site {target.rule} (SignalsToFailOver {target.needed}): {alone} alone cannot move it to the "
        "maintenance page."
    )


def _checks_refusal(target: Target, route53: Any) -> str:
    config = route53.get_health_check(HealthCheckId=target.check_id)["HealthCheck"]["HealthCheckConfig"]
    if config.get("Inverted"):
        return "the health check is already Inverted (planned maintenance or another drill in progress)."
    if config.get("Disabled"):
        return "the health check is Disabled: Route 53 treats the primary as healthy whatever the flag says."
    failover = target.failover_check
    if failover and failover != target.check_id:
        watched = route53.get_health_check(HealthCheckId=failover)["HealthCheck"]["HealthCheckConfig"]
        if watched.get("Inverted") or watched.get("Disabled"):
            flag = "Inverted" if watched.get("Inverted") else "Disabled"
            why = " (planned maintenance in progress?)" if flag == "Inverted" else ""
            return (
                f"the failover check {failover} (what the records watch) is {flag}{why}: a drill would prove nothing."
            )
    return ""


def _state_refusal(target: Target, dynamodb: Any) -> str:
    verdict = _dns(target)
    if verdict.serving != adns.PRIMARY:
        return f"DNS does not answer the primary now ({verdict.serving}: {', '.join(verdict.addresses) or 'none'})."
    if current_window(dynamodb, target.table, target.record_id):
        return "a failover window is open: the site is failing over already."
    if NoticeBoard(target.table, dynamodb).current(target.record_id, datetime.now(UTC)) is not None:
        return "a notice is up for the site (planned maintenance?): end it with `detour maintenance off` first."
    return ""


def _signal_refusal(target: Target, signal: Signal, cloudwatch: Any) -> str:
    """Why publishing 100 % would not fail the site over, or not safely come back; "" when it would."""
    alarms = cloudwatch.describe_alarms(AlarmNames=[signal.alarm_name]).get("MetricAlarms", [])
    if not alarms:
        return f"alarm {signal.alarm_name} (signal {signal_label(signal)}) does not exist in this region."
    alarm, name = alarms[0], signal.alarm_name
    watched = (alarm.get("Namespace"), alarm.get("MetricName"), alarm.get("Dimensions"))
    published = (NAMESPACE, METRIC_NAME, [{"Name": SITE_DIMENSION, "Value": target.site_stack}])
    if watched != published:
        dimensions = ",".join(f"{d.get('Name')}={d.get('Value')}" for d in alarm.get("Dimensions") or [])
        return (
            f"alarm {name} watches {alarm.get('Namespace')}/{alarm.get('MetricName')} {dimensions}, not "
            f"{NAMESPACE}/{METRIC_NAME} {SITE_DIMENSION}={target.site_stack}: what the drill would publish could "
            "not move it."
        )
    threshold, comparison = float(alarm.get("Threshold", 0)), str(alarm.get("ComparisonOperator", ""))
    breaching = {
        "GreaterThanThreshold": threshold < forced_rate.FORCED_PERCENT,
        "GreaterThanOrEqualToThreshold": threshold <= forced_rate.FORCED_PERCENT,
    }.get(comparison, False)
    if not breaching:
        return (
            f"alarm {name} ({comparison} {threshold:g}) is not breached by a rate of "
            f"{forced_rate.FORCED_PERCENT:g} %, the most there is: the signal cannot fail the site over."
        )
    if alarm.get("StateValue") == "ALARM":
        return f"signal {signal_label(signal)} is already failing (alarm {name} is in ALARM)."
    if alarm.get("StateValue") == "INSUFFICIENT_DATA":
        return (
            f"alarm {name} is INSUFFICIENT_DATA: it has no recent datapoint of the site's rate (Detour's error_rate "
            "function is not publishing it, or the site is so quiet that its settled minutes are too old for the "
            "alarm), so once the drill stops publishing nothing would bring the alarm back to OK, and with "
            "SignalInsufficientData LastKnownStatus the site would stay on the maintenance page. Check the function "
            "first (its log, the error-rate dead-letter alarm)."
        )
    return ""


def confirmed(args: argparse.Namespace, target: Target, out: TextIO, err: TextIO, stdin: IO[str]) -> bool:
    if args.yes:
        return True
    try:
        terminal = bool(stdin.isatty())
    except (AttributeError, OSError, ValueError):
        terminal = False
    if not terminal:
        print("detour drill: no terminal to confirm on; pass --yes to run the drill unattended", file=err)
        return False
    out.write(f"\nType the domain ({target.domain}) to start the drill: ")
    out.flush()
    answer = stdin.readline().strip()
    if answer != target.domain:
        print("Not confirmed: nothing was changed.", file=out)
        return False
    return True


class Drill:
    def __init__(
        self,
        target: Target,
        args: argparse.Namespace,
        *,
        route53: Any,
        dynamodb: Any,
        out: TextIO,
        err: TextIO,
        cloudwatch: Any = None,
    ) -> None:
        self.target, self.args, self.route53, self.dynamodb = target, args, route53, dynamodb
        self.cloudwatch = cloudwatch
        # a forced 5xx rate: 100 % published each minute while the drill waits (ends with the restore)
        self.publisher = (
            forced_rate.RatePublisher(cloudwatch, target.site_stack, forced_rate.clock)
            if target.signal is not None
            else None
        )
        self.out, self.err, self.style = out, err, Style(out)
        self.progress = Progress(err)
        self.timeline = Timeline()
        self.context = page_probe.tls_context(ca_file=args.ca_file, insecure=args.insecure)
        self.touched = False
        self.board = NoticeBoard(target.table, dynamodb)
        self.notice_posted = False
        self._t0 = 0.0

    # -- the sequence -------------------------------------------------------------------------------

    def run(self) -> int:
        """The drill, then (whatever happened) the planned notice taken down again."""
        code = EXIT_ERROR
        try:
            code = self._sequence()
        finally:
            if self.notice_posted and not self._clear_notice():
                code = EXIT_ERROR
        return code

    def _sequence(self) -> int:
        line = self.timeline
        code, interrupted, restored = EXIT_OK, False, True
        try:
            try:
                self.fail_over()
                line.result = "passed"
            except (DrillFailed, page_probe.CertificateError) as error:
                line.result, line.reason, code = "failed", str(error), EXIT_PROBLEM
                self.say(self.style(f"FAILED: {error}. {self.target.undo.capitalize()}.", "red", "bold"))
            except KeyboardInterrupt as signal_name:
                line.result, code = "interrupted", EXIT_PROBLEM
                line.reason = f"interrupted ({str(signal_name) or 'Ctrl-C'})"
                interrupted = True
                self.say(self.style(f"{line.reason[:1].upper()}{line.reason[1:]}: {self.target.undo}.", "red", "bold"))
        finally:  # an AWS error or a bug propagates, but only after this
            self.progress.clear()
            if self.touched:
                restored = self.restore()
        if not restored:
            line.result = "restore failed"
            return EXIT_ERROR
        if interrupted:
            self.say(f"Interrupted: {self.target.undone}; not waiting for the failback.")
            return code
        try:
            self.fail_back()
        except DrillFailed as error:
            line.notes.append(str(error))
            if line.result == "passed":
                line.result, line.reason, code = "failed", str(error), EXIT_PROBLEM
        except KeyboardInterrupt as signal_name:
            line.notes.append(f"interrupted while waiting for the failback ({self.target.undone} already)")
            line.result, code = "interrupted", EXIT_PROBLEM
            line.reason = f"interrupted ({str(signal_name) or 'Ctrl-C'}) while waiting for the failback"
        finally:
            self.progress.clear()
            line.finished_at = datetime.now(UTC)
        with contextlib.suppress(BotoCoreError, ClientError):  # Slack may have answered late; the times stand
            self._read_slack()
        with contextlib.suppress(BotoCoreError, ClientError):  # the cause too; it changes no measurement
            self._read_cause()
        return code

    def fail_over(self) -> None:
        line, target = self.timeline, self.target
        line.started_at = datetime.now(UTC)
        self._t0 = time.monotonic()
        if not self.args.as_outage:
            # A drill is announced work: Slack says planned maintenance (no one paged) and the window is
            # not counted against availability. Kept until the drill ends: a late ALARM stays planned.
            until = line.started_at + timedelta(
                seconds=self.args.dns_timeout + self.args.page_timeout + self.args.failback_timeout
            )
            notice = SiteNotice(DRILL_NOTICE, planned=True, until=until, since=line.started_at)
            self.board.post(target.record_id, notice)
            self.notice_posted = True
            self.say("Posted a planned-maintenance notice for the drill (--as-outage drills without one).")
        self.touched = True
        if target.signal is None:
            self.route53.update_health_check(HealthCheckId=target.check_id, Inverted=True)
            self.say(f"Inverted health check {target.check_id}: failover is forced.")
        else:
            self._publish()

        verdict = self.wait("DNS to answer the maintenance distribution", self.args.dns_timeout, self._switched)
        line.dns_switch_s, line.answered = self.elapsed(), verdict.addresses
        self.say(f"DNS answers the maintenance page ({', '.join(verdict.addresses)}) after {_s(line.dns_switch_s)}.")

        page = self.wait("the page to answer over HTTPS", self.args.page_timeout, lambda: self._fetch("/"))
        problems = self._page_problems(page)
        if problems:
            raise DrillFailed(f"the page at {page.address} is wrong: {'; '.join(problems)}")
        line.page_served_s = self.elapsed()
        self.say(
            f"https://{target.domain}/ at {page.address}: {page.status}, Retry-After {page.headers['retry-after']}, "
            f'"{page.title}" after {_s(line.page_served_s)}.'
        )

        self.wait(
            "status.json to show the incident and the failover window to open", self.args.page_timeout, self._incident
        )
        self.say(
            f"The page shows the incident after {_s(line.page_incident_s)}; "
            f"the failover window opened (observed after {_s(line.window_open_s)})."
        )
        with contextlib.suppress(BotoCoreError, ClientError):  # read again at the end if it fails (or is late)
            self._read_cause()
        if line.cause is not None:
            self.say(f"Recorded cause: {line.cause.summary()}")

    # -- a forced 5xx rate ----------------------------------------------------------------------------

    def _publish(self) -> None:
        """Publish 100 % for each minute not yet published, up to the current one (at each poll)."""
        if self.publisher is None or self.publisher.stopped:
            return
        minutes = self.publisher.publish_due()
        if not minutes:
            return
        self.timeline.published = list(self.publisher.published)
        count, needed = len(self.publisher.published), self.target.minutes
        which = ", ".join(f"{minute:%H:%M}" for minute in minutes)
        progress = f"{count} of the {needed} the alarm needs" if count <= needed else f"{count}, held for steps 2-4"
        self.say(
            f"Published {forced_rate.FORCED_PERCENT:g} % to {NAMESPACE}/{METRIC_NAME} {SITE_DIMENSION}="
            f"{self.target.site_stack} for minute{'s' if len(minutes) != 1 else ''} {which} UTC ({progress})."
        )

    def _clear_notice(self) -> bool:
        """A planned notice left behind would mark the next real outage planned: say so loudly."""
        try:
            self.board.clear(self.target.record_id)
        except Exception as error:  # whatever it was, the operator must remove the notice by hand
            key = f'{{"pk": {{"S": "SITE#{self.target.record_id}"}}, "sk": {{"S": "NOTICE"}}}}'
            message = (
                f"!!! COULD NOT REMOVE the drill's planned-maintenance notice ({type(error).__name__}: {error}). "
                f"Until it is gone, a real outage is logged as planned and pages no one. Run this now:\n"
                f"    aws dynamodb delete-item --table-name {self.target.table} --key '{key}'"
            )
            print(self.style(message, "red", "bold"), file=self.err)
            return False
        self.say("Removed the drill's planned-maintenance notice.")
        return True

    def restore(self) -> bool:
        """Inverted=False, verified, retried (or, for a forced 5xx rate, no more publishing): True when restored."""
        with _ignoring_interrupts():
            if self.publisher is not None:
                return self._stop_publishing(self.publisher)
            return self._restore(self.target.check_id)

    def _stop_publishing(self, publisher: forced_rate.RatePublisher) -> bool:
        """The whole restore of a forced 5xx rate: nothing to call, nothing that can fail. Publishing 0 for the
        minutes at 100 % would not undo them (the alarm takes each minute's Maximum), so it is not done."""
        publisher.stop()
        line = self.timeline
        line.published = list(publisher.published)
        line.restored_at = datetime.now(UTC)
        self._t0 = time.monotonic()
        last = f"; the last was {publisher.published[-1]:%H:%M} UTC" if publisher.published else ""
        self.say(
            self.style(
                f"Restored: stopped publishing to {NAMESPACE}/{METRIC_NAME} "
                f"({len(publisher.published)} minute{'s' if len(publisher.published) != 1 else ''} at "
                f"{forced_rate.FORCED_PERCENT:g} %{last}).",
                "green",
                "bold",
            )
            + " Detour's error_rate function's own values for the minutes after take over: the alarm and Route 53 "
            f"recover {RECOVERY_TEXT}. The minutes published stay at 100 %: the alarm takes each minute's Maximum."
        )
        return True

    def _restore(self, check_id: str) -> bool:
        for attempt in range(1, RESTORE_ATTEMPTS + 1):
            problems = []
            try:
                self.route53.update_health_check(HealthCheckId=check_id, Inverted=False)
            except Exception as error:  # whatever went wrong, the operator must hear how to fix it
                problems.append(f"{type(error).__name__}: {error}")
            try:  # the flag as Route 53 has it now: the update may have failed because it was never set
                config = self.route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
                if not config.get("Inverted"):
                    self.timeline.restored_at = datetime.now(UTC)
                    self._t0 = time.monotonic()
                    self.say(self.style(f"Restored: health check {check_id} is no longer Inverted.", "green", "bold"))
                    return True
                problems.append("Route 53 still reports Inverted")
            except Exception as error:  # as above
                problems.append(f"{type(error).__name__}: {error}")
            self.say(f"Restoring the flag failed (attempt {attempt} of {RESTORE_ATTEMPTS}): {'; '.join(problems)}")
            if attempt < RESTORE_ATTEMPTS:
                time.sleep(RESTORE_RETRY_S)
        profile = f" --profile {self.args.profile}" if self.args.profile else ""
        message = (
            f"!!! COULD NOT RESTORE health check {check_id}: it is still Inverted and visitors stay on the "
            f"maintenance page. Run this now:\n"
            f"    aws route53 update-health-check --health-check-id {check_id} --no-inverted{profile}"
        )
        print(self.style(message, "red", "bold"), file=self.err)
        self.timeline.reason = (self.timeline.reason + "; " if self.timeline.reason else "") + "restore failed"
        return False

    def fail_back(self) -> None:
        line = self.timeline
        self.wait("DNS to answer the primary again", self.args.failback_timeout, self._primary_again)
        line.failback_dns_s = self.elapsed()
        self.say(f"DNS answers the primary again after {_s(line.failback_dns_s)}.")
        if line.window_started_at is None:
            return
        window = self.wait("the failover window to close", self.args.failback_timeout, self._window_closed)
        line.window_closed_s, line.window_ended_at = self.elapsed(), window.ended_at
        self.say(f"The failover window closed (observed after {_s(line.window_closed_s)}).")

    # -- the checks ---------------------------------------------------------------------------------

    def _switched(self) -> adns.Verdict | None:
        return _every_server_says(self.target, adns.MAINTENANCE)

    def _primary_again(self) -> adns.Verdict | None:
        return _every_server_says(self.target, adns.PRIMARY)

    def _fetch(self, path: str) -> page_probe.PageResponse | None:
        """The first answered address that responds; None while none does (CloudFront may be slow to)."""
        for address in self.timeline.answered:
            try:
                return page_probe.fetch(
                    address, self.target.domain, path, port=self.args.https_port, context=self.context
                )
            except page_probe.CertificateError:
                raise
            except OSError as error:
                self.timeline.notes.append(f"{address}:{self.args.https_port}{path}: {error}")
        return None

    def _page_problems(self, page: page_probe.PageResponse) -> list[str]:
        problems = []
        if page.status != 503:
            problems.append(f"status {page.status}, not 503")
        if not page.headers.get("retry-after"):
            problems.append("no Retry-After header")
        if self.target.site_name.lower() not in page.title.lower():
            problems.append(f'the title "{page.title}" does not name {self.target.site_name}')
        return problems

    def _incident(self) -> bool | None:
        line = self.timeline
        if line.page_incident_s is None:
            status = self._fetch("/status.json")
            if status is not None and status.status == 200 and self._shows_this_incident(_json(status.body)):
                page = self._fetch("/")
                if page is not None and "temporarily unavailable" in page.title.lower():
                    line.page_incident_s = self.elapsed()
        if line.window_open_s is None:
            window = current_window(self.dynamodb, self.target.table, self.target.record_id)
            if window is not None:
                line.window_open_s, line.window_started_at = self.elapsed(), window.started_at
                self._read_slack()
        return True if line.page_incident_s is not None and line.window_open_s is not None else None

    def _shows_this_incident(self, status: dict[str, Any]) -> bool:
        """state unavailable since about the inversion: not a page published before any alarm (no start),
        nor one left from an older incident."""
        if status.get("state") != "unavailable" or not isinstance(status.get("started_at"), str):
            return False
        try:
            since = parse_time(status["started_at"])
        except ValueError:
            return False
        return self.timeline.started_at is not None and since >= self.timeline.started_at - CLOCK_SKEW

    def _window_closed(self) -> LoggedWindow | None:
        started = self.timeline.window_started_at
        if started is None:
            return None
        window = IncidentStore(self.target.table, self.dynamodb).window_before(self.target.record_id, started)
        return window if window is not None and window.started_at == started and not window.is_open else None

    def _read_slack(self) -> None:
        """When Slack announced the incident: its thread's ts (Slack's ts is epoch seconds)."""
        line = self.timeline
        if line.window_started_at is None or line.started_at is None:
            return
        window = FailoverWindow(self.target.record_id, line.window_started_at)
        thread = ThreadStore(self.target.table, self.dynamodb).thread_of(window)
        if thread is not None and thread.ts:
            line.slack_s = float(thread.ts) - line.started_at.timestamp()

    def _read_cause(self) -> None:
        """What the functions recorded as the outage's cause (the forced signal, if it worked)."""
        line = self.timeline
        if line.window_started_at is None or line.cause is not None:
            return
        log = CauseLog(self.target.table, self.dynamodb)
        line.cause = log.get(self.target.record_id, _transition_key(line.window_started_at, self.target))

    # -- helpers ------------------------------------------------------------------------------------

    def wait(self, what: str, timeout: float, check: Callable[[], T | None]) -> T:
        deadline = time.monotonic() + timeout
        while True:
            self._publish()  # a forced 5xx rate: each new minute gets its 100 %
            found = check()
            if found is not None:
                self.progress.clear()
                return found
            if time.monotonic() >= deadline:
                self.progress.clear()
                raise DrillFailed(f"timed out after {timeout:g} s waiting for {what}")
            self.progress.tick()
            time.sleep(self.args.poll_interval)

    def elapsed(self) -> float:
        return round(time.monotonic() - self._t0, 3)

    def say(self, text: str) -> None:
        self.progress.clear()
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        print(f"[{stamp}] {text}", file=self.out, flush=True)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt while the drill runs, so they restore the flag too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {signum: signal.signal(signum, interrupt) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    """A second Ctrl-C (or SIGTERM) must not cut the restore short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _every_server_says(target: Target, serving: str) -> adns.Verdict | None:
    """The verdict when every name server that answered says `serving`, judged one by one: CloudFront
    may give each server other edge addresses, so their answers need not be equal, only all the page."""
    answers = [adns.ask(server, target.domain) for server in target.servers]
    each = [adns.judge([a], target.primary, target.maintenance, target.lookup.reverse) for a in answers if a.addresses]
    if not each or any(verdict.serving != serving for verdict in each):
        return None
    return adns.Verdict(serving, each[0].addresses, len({v.addresses for v in each}) > 1, answers, each[0].matched_by)


def _dns(target: Target) -> adns.Verdict:
    answers = [adns.ask(server, target.domain) for server in target.servers]
    return adns.judge(answers, target.primary, target.maintenance, target.lookup.reverse)


def _transition_key(started_at: datetime, target: Target) -> str:
    """The key of the ALARM that opened a window: its start and the site's alarm (Transition.key)."""
    return f"{format_time(started_at)}#{target.alarm_name}"


def _json(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


# -- the report ---------------------------------------------------------------------------------------


def measurements(line: Timeline, target: Target) -> list[dict[str, Any]]:
    """Each measured step with its budget (None where there is none)."""
    budget, later = target.budget_s, target.later_budget_s
    failback = target.failback_budget_s
    steps = [
        ("DNS switch", "dns_switch_s", line.dns_switch_s, budget),
        ("page served (503)", "page_served_s", line.page_served_s, budget),
        ("page shows the incident", "page_incident_s", line.page_incident_s, later),
        ("window open", "window_open_s", line.window_open_s, later),
        ("Slack", "slack_s", line.slack_s, later),
        ("failback (DNS primary)", "failback_dns_s", line.failback_dns_s, failback),
        ("window closed", "window_closed_s", line.window_closed_s, failback + ALARM_DELAY_S),
        ("window duration", "window_duration_s", line.window_duration_s, None),
    ]
    rows = [
        {"step": step, "key": key, "measured_s": measured, "budget_s": limit} for step, key, measured, limit in steps
    ]
    if line.slack_s is None and line.window_started_at is not None:
        rows[4]["note"] = "not announced"
    return rows


def as_json(line: Timeline, target: Target) -> dict[str, Any]:
    rows = measurements(line, target)

    def moment(value: datetime | None) -> str | None:
        return format_time(value) if value else None

    return {
        "stack": target.stack,
        "site_stack": target.site_stack,
        "domain": target.domain,
        "site_id": target.record_id,
        "health_check_id": target.check_id,
        "forced": _forced_json(target, line),
        "result": line.result,
        "reason": line.reason,
        "started_at": moment(line.started_at),
        "restored_at": moment(line.restored_at),
        "finished_at": moment(line.finished_at),
        "budget": _budget_json(target),
        "measured": {row["key"]: row["measured_s"] for row in rows},
        "slack": _slack_state(line),
        "window": {"started_at": moment(line.window_started_at), "ended_at": moment(line.window_ended_at)},
        "answered": list(line.answered),
        "cause": line.cause.summary() if line.cause else None,
        "notes": line.notes[-20:],
    }


def _budget_json(target: Target) -> dict[str, Any]:
    budget = {
        "health_check_interval_s": target.interval_s,
        "failure_threshold": target.threshold,
        "dns_switch_s": target.budget_s,
        "record_ttl_s": RECORD_TTL_S,
        "alarm_delay_s": ALARM_DELAY_S,
    }
    if target.signal is not None:  # the probe's settings move nothing here
        budget |= {"error_rate_minutes": target.minutes, "signal_delay_s": SIGNAL_DELAY_S, "failback_s": RECOVERY_S}
    return budget


def _forced_json(target: Target, line: Timeline) -> dict[str, Any]:
    signal = target.signal
    if signal is None:
        return {"how": "inverted", "health_check_id": target.check_id, "signal": None}
    return {
        "how": "metric data",
        "health_check_id": signal.health_check_id,
        "signal": {"name": signal.name, "label": signal_label(signal), "kind": signal.kind.value},
        "alarm_name": signal.alarm_name,
        "published": {
            "namespace": NAMESPACE,
            "metric_name": METRIC_NAME,
            "dimensions": {SITE_DIMENSION: target.site_stack},
            "value": forced_rate.FORCED_PERCENT,
            "unit": "Percent",
            "minutes": [format_time(minute) for minute in line.published],
        },
    }


def _slack_state(line: Timeline) -> str | None:
    """None when no window was seen: nothing Slack could have announced."""
    if line.slack_s is not None:
        return "announced"
    return "not announced" if line.window_started_at is not None else None


def as_markdown(line: Timeline, target: Target) -> str:
    lines = [
        f"# Failover drill of {target.domain}",
        "",
        f"- Site stack: `{target.site_stack}` (hub `{target.stack}`), health check `{target.check_id}`",
        f"- Result: **{line.result}**" + (f" ({line.reason})" if line.reason else ""),
        *_forced_markdown(line, target),
        _budget_markdown(target),
        "",
        "| Step | Measured | Budget |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {step} | {measured} | {budget} |" for step, measured, budget in _rows(line, target)]
    start = "the inversion" if target.signal is None else "the first minute published"
    lines += ["", f"Failback and window close are measured from the restore; the rest from {start}."]
    return "\n".join(lines) + "\n"


def _forced_markdown(line: Timeline, target: Target) -> list[str]:
    moments = f"{utc_text(line.started_at)}, restored at {utc_text(line.restored_at)}"
    if target.signal is None:
        lines = [f"- Inverted at {moments}"]
    else:
        signal = target.signal
        lines = [
            f"- Forced signal {signal_label(signal)} ({signal.kind.value}) through its data: "
            f"{forced_rate.FORCED_PERCENT:g} % published to `{NAMESPACE}/{METRIC_NAME}` "
            f"`{SITE_DIMENSION}={target.site_stack}` for {_published_text(line.published)} (alarm "
            f"`{signal.alarm_name}`); from {utc_text(line.started_at)}, stopped at {utc_text(line.restored_at)}"
        ]
    if line.cause is not None:
        lines.append(f"- Recorded cause: {line.cause.summary()}")
    return lines


def _budget_markdown(target: Target) -> str:
    if target.signal is None:
        return (
            f"- Budget: {target.interval_s} s x {target.threshold} = {target.budget_s} s for DNS "
            f"(then up to {RECORD_TTL_S} s TTL in resolvers); alarm, page and Slack up to {ALARM_DELAY_S} s later"
        )
    return (
        f"- Budget: {target.minutes} min x 60 s + {SIGNAL_DELAY_S} s = {target.budget_s} s for the failover (DNS, "
        f"page, window; then up to {RECORD_TTL_S} s TTL in resolvers); failback {RECOVERY_S} s after publishing "
        f"stopped, the window's close up to {ALARM_DELAY_S} s later"
    )


def _published_text(minutes: list[datetime]) -> str:
    if not minutes:
        return "no minute"
    if len(minutes) == 1:
        return f"1 minute ({minutes[0]:%H:%M} UTC)"
    return f"{len(minutes)} minutes ({minutes[0]:%H:%M}-{minutes[-1]:%H:%M} UTC)"


def _rows(line: Timeline, target: Target) -> list[tuple[str, str, str]]:
    rows = []
    for row in measurements(line, target):
        measured = row.get("note") or _s(row["measured_s"])
        budget = "-" if row["budget_s"] is None else f"{row['budget_s']} s"
        if row["budget_s"] is not None and row["measured_s"] is not None and row["measured_s"] > row["budget_s"]:
            measured += " (over budget)"
        rows.append((row["step"], measured, budget))
    return rows


def render(line: Timeline, target: Target, style: Style) -> str:
    colour = "green" if line.result == "passed" else "red"
    verdict = style(f"Drill {line.result.upper()}", colour, "bold") + (f": {line.reason}" if line.reason else "")
    lines = ["", verdict]
    if target.signal is not None:
        lines.append(
            f"Forced signal {signal_label(target.signal)}: {forced_rate.FORCED_PERCENT:g} % published to "
            f"{NAMESPACE}/{METRIC_NAME} {SITE_DIMENSION}={target.site_stack} for {_published_text(line.published)} "
            f"(alarm {target.signal.alarm_name})"
        )
    if line.cause is not None:
        lines.append(f"Recorded cause: {line.cause.summary()}")
    lines += ["", f"{'Step':<26} {'Measured':<22} Budget"]
    lines += [f"{step:<26} {measured:<22} {budget}" for step, measured, budget in _rows(line, target)]
    return "\n".join(lines)


def write_report(line: Timeline, target: Target, args: argparse.Namespace) -> tuple[Path, Path]:
    folder: Path = args.report_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (line.started_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    json_path, markdown_path = folder / f"detour-drill-{stamp}.json", folder / f"detour-drill-{stamp}.md"
    json_path.write_text(json.dumps(as_json(line, target), indent=2) + "\n", encoding="utf-8")
    markdown_path.write_text(as_markdown(line, target), encoding="utf-8")
    return json_path, markdown_path

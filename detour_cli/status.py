"""`detour status`: is the site on its primary or on the maintenance page, and why.

Reads the hub stack's outputs, the site registry and the site stack's outputs and parameters, then
asks Route 53 for the health check's checkers and flags, CloudWatch for the alarm, the hosted
zone's own name servers for the domain's A answer, and the incidents table for an open failover
window and the current incident's timeline. With several sites and no --site: one line per site.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from detour.incidents.items import IncidentStoreError
from detour.incidents.notices import NoticeBoard, NoticeError
from detour.incidents.operator_updates import read_context
from detour.incidents.sites import RegisteredSite
from detour.incidents.store import IncidentStore
from detour.incidents.transition import format_time
from detour.incidents.updates import Timeline, UpdateLog
from detour.signals.causes import CauseLog, OutageCauses
from detour.signals.states import ENDPOINT, SignalReading, SignalState, read_signals
from detour.slack.message import human_duration
from detour_cli import authoritative_dns as adns
from detour_cli.output import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PROBLEM,
    Style,
    paragraphs,
    printable,
    run_reporting_errors,
    utc_text,
)
from detour_cli.sites import Deployment, SiteView, add_site_argument, checks_count, failover_rule, read_deployment
from detour_cli.stack_outputs import DetourError, add_stack_arguments, session_for
from detour_cli.update import timeline_table
from detour_cli.window_log import LoggedWindow, current_window

HEALTHY_SHARE = 0.18  # Route 53: healthy while more than 18% of checkers say so
INVERTED_WARNING = "  !!! INVERTED: failover is forced (a drill or planned maintenance); un-invert it to fail back"
EPILOG = paragraphs(
    EXIT_CODES_HELP.format(
        problem="a problem found: DNS answers the maintenance page or neither, the health check is unhealthy, "
        "Inverted, Disabled or without observations, a signal is failing, the failover check is Inverted or "
        "Disabled, the alarm is in ALARM, or a failover window is open"
    ),
    "Signals (ADR 0002): a site with failover signals lists each of its checks (the endpoint probe from Route "
    "53's checkers, each signal from its CloudWatch alarm: healthy, failing or unknown), the rule (how many "
    "failing checks fail it over), and the calculated failover check the records watch. While a failover window "
    "is open, `why:` is the cause recorded when the outage began.",
    "Sites: --site picks one (its domain, health check id, site name or site stack). Without --site, a "
    "deployment with one site shows that site; with several, one line per site (healthy, on the page or "
    "unknown, and since when), exit 1 if any site has a problem (one on its page does), 2 if a site could "
    "not be read.",
    "Name servers: by default the zone's own (its delegation set), resolved through this machine's resolver. "
    "--nameserver HOST[:PORT] (repeatable) or DETOUR_NAMESERVERS=HOST[:PORT],... asks those instead; --resolver "
    "HOST[:PORT] or DETOUR_RESOLVER resolves the other names (the name servers, the distribution, a load "
    "balancer) through that server. Both are for tests and split-horizon setups.",
    "Colour only on a terminal, and never with NO_COLOR set.",
)


@dataclass(frozen=True, slots=True)
class Observation:
    region: str
    ip: str
    status: str

    @property
    def healthy(self) -> bool:
        return self.status.startswith("Success")


@dataclass(frozen=True, slots=True)
class HealthCheckState:
    id: str
    inverted: bool
    disabled: bool
    observations: tuple[Observation, ...]

    @property
    def healthy_checkers(self) -> int:
        return sum(o.healthy for o in self.observations)

    @property
    def checkers_say_healthy(self) -> bool:
        return bool(self.observations) and self.healthy_checkers / len(self.observations) > HEALTHY_SHARE

    @property
    def healthy(self) -> bool:
        """What Route 53 acts on: Disabled is always healthy; Inverted turns the checkers' verdict over."""
        if self.disabled:
            return True
        return self.checkers_say_healthy != self.inverted

    def problems(self) -> list[str]:
        if not self.observations:
            return ["the health check has no observations yet"]
        if self.disabled:  # always healthy to Route 53: the site is unprotected
            return ["the health check is Disabled: Route 53 treats the primary as healthy and never fails over"]
        if self.inverted and self.checkers_say_healthy:
            return ["the health check is Inverted: failover is forced (a drill or planned maintenance)"]
        if self.inverted:
            return ["the checkers see the primary unhealthy, but the check is Inverted: Route 53 sends traffic to it"]
        return [] if self.healthy else ["the health check is unhealthy"]


@dataclass(frozen=True, slots=True)
class AlarmState:
    name: str
    state: str
    since: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class FailoverCheckState:
    """The calculated check in front of the endpoint check (a site with signals): what the failover
    records and the alarm watch. Route 53 gives no checker status for a calculated check: its flags
    and children only."""

    id: str
    inverted: bool
    disabled: bool
    health_threshold: int | None
    children: tuple[str, ...]

    def problems(self, endpoint_check: str) -> list[str]:
        found = []
        if self.disabled:
            found.append(
                f"the failover check {self.id} is Disabled: Route 53 treats it as healthy and never fails over"
            )
        if self.inverted:
            found.append(
                f"the failover check {self.id} is Inverted: failover is forced whatever the checks say "
                "(planned maintenance or a drill)"
            )
        if self.children and endpoint_check not in self.children:
            found.append(f"the failover check {self.id} does not watch the endpoint check {endpoint_check}")
        return found


@dataclass(frozen=True, slots=True)
class Signals:
    """Each of the site's checks as read now, and the rule that turns them into a failover."""

    reading: SignalReading
    needed: int  # SignalsToFailOver: how many failing checks fail the site over
    insufficient_data: str  # SignalInsufficientData
    rule: str  # in words
    has_signals: bool
    failover: FailoverCheckState | None = None  # only when it is not the endpoint check itself

    @property
    def checks(self) -> int:
        return len(self.reading.states)

    def effective(self, health: HealthCheckState) -> list[bool | None]:
        """Each check as Route 53 counts it: the endpoint as its flags turn it (Inverted, Disabled)."""
        return [
            (health.healthy if health.observations else None) if state.kind == ENDPOINT else state.healthy
            for state in self.reading.states
        ]

    def verdict(self, health: HealthCheckState) -> bool | None:
        """True: Route 53 fails over now; False: it stays on the primary; None: it rests on unknown checks.
        The rule over the checks, then the failover check's own flags (Disabled: never; Inverted: turned over)."""
        states = self.effective(health)
        failing, unknown = states.count(False), states.count(None)
        by_rule = True if failing >= self.needed else (None if failing + unknown >= self.needed else False)
        if self.failover is None:
            return by_rule
        if self.failover.disabled:
            return False
        return by_rule if not self.failover.inverted or by_rule is None else not by_rule

    def failing_signals(self) -> tuple[SignalState, ...]:
        return tuple(state for state in self.reading.failing if state.kind != ENDPOINT)


@dataclass(frozen=True, slots=True)
class Status:
    stack: str  # the hub
    site_stack: str
    region: str
    domain: str
    health: HealthCheckState
    alarm: AlarmState
    dns: adns.Verdict
    primary_addresses: tuple[str, ...]
    maintenance_addresses: tuple[str, ...]
    distribution: str
    window: LoggedWindow | None
    timeline: Timeline  # what the page says of the current incident, newest first
    now: datetime
    signals: Signals | None = None
    cause: SignalReading | None = None  # the open window's recorded cause

    def problems(self) -> list[str]:
        found = self.health.problems()
        if self.signals is not None:
            # the state alone: the Signals section (and JSON's signals) has the alarm's whole reason
            found += [
                f"signal {state.label} is failing ({state.detail.split(':', 1)[0]})"
                for state in self.signals.failing_signals()
            ]
            if self.signals.failover is not None:
                found += self.signals.failover.problems(self.health.id)
        if self.alarm.state == "ALARM":
            found.append(f"alarm {self.alarm.name} is in ALARM")
        if self.dns.serving == adns.MAINTENANCE:
            found.append("DNS answers the maintenance page")
        elif self.dns.serving == adns.UNKNOWN:
            found.append("DNS answers neither the primary nor the maintenance page (or gave no answer)")
        if self.window is not None:
            found.append(f"a failover window is open since {utc_text(self.window.started_at)}")
        return found


TIMELINE_SHOWN = 3  # the newest updates status shows; `detour update --list` shows them all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="detour status",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    add_site_argument(parser)
    parser.add_argument("--format", choices=["text", "json"], default="text", help="json for scripts")
    parser.add_argument(
        "--nameserver", action="append", metavar="HOST[:PORT]", help="ask this server instead of the zone's own"
    )
    parser.add_argument("--resolver", metavar="HOST[:PORT]", help="resolve other names through this server")
    args = parser.parse_args(argv)
    return run_reporting_errors(parser.prog, lambda: _run(args, sys.stdout))


def _run(args: argparse.Namespace, out: TextIO) -> int:
    session = session_for(args)
    deployment = read_deployment(args, session)
    if args.site is None and len(deployment.sites) > 1:
        return _run_overview(args, session, deployment, out)
    status = gather_site(deployment.choose(args.site), args, session)
    if args.format == "json":
        print(json.dumps(as_json(status), indent=2), file=out)
    else:
        print(render(status, Style(out)), file=out)
    return EXIT_PROBLEM if status.problems() else EXIT_OK


def gather(args: argparse.Namespace) -> Status:
    """The status of the site --site names (or of the only site)."""
    session = session_for(args)
    return gather_site(read_deployment(args, session).choose(getattr(args, "site", None)), args, session)


def gather_site(site: SiteView, args: argparse.Namespace, session: Any) -> Status:
    # Route 53 is asked about the endpoint check; every record in the table is keyed by the site's id.
    site_id, domain = site.site_id, site.domain
    resolver = args.resolver or os.environ.get("DETOUR_RESOLVER")
    lookup = adns.NameLookup(adns.parse_host_port(resolver) if resolver else None)

    route53, cloudwatch = session.client("route53"), session.client("cloudwatch")
    health = _health_check(route53, site.endpoint_check)
    signals = _signals(site.site, route53, cloudwatch)
    alarm = _alarm(cloudwatch, site.alarm_name)
    servers = _name_servers(route53, site.parameter("HostedZoneId"), args.nameserver, lookup)
    primary = _primary_addresses(site.parameter("PrimaryKind"), site.parameter("PrimaryTarget"), lookup)
    distribution = site.output("DistributionDomainName")
    maintenance = lookup.addresses(distribution)
    answers = [adns.ask(server, domain) for server in servers]
    dynamodb, table = session.client("dynamodb"), site.table
    window = current_window(dynamodb, table, site_id)
    cause = OutageCauses(CauseLog(table, dynamodb), site.site).reading(window.started_at) if window else None
    context = read_context(
        site_id,
        store=IncidentStore(table, dynamodb),
        log=UpdateLog(table, dynamodb),
        notices=NoticeBoard(table, dynamodb),
        now=datetime.now(UTC),
        limit=TIMELINE_SHOWN,
    )
    return Status(
        stack=site.hub.name,
        site_stack=site.stack.name,
        region=args.region,
        domain=domain,
        health=health,
        alarm=alarm,
        dns=adns.judge(answers, primary, maintenance, lookup.reverse),
        primary_addresses=primary,
        maintenance_addresses=maintenance,
        distribution=distribution,
        window=window,
        timeline=context.timeline,
        now=datetime.now(UTC),
        signals=signals,
        cause=cause,
    )


def _signals(site: RegisteredSite, route53: Any, cloudwatch: Any) -> Signals:
    """The site's checks now (one GetHealthCheckStatus, one DescribeAlarms), and its calculated check."""
    failover = None
    if site.failover_check != site.endpoint_check:
        config = route53.get_health_check(HealthCheckId=site.failover_check)["HealthCheck"]["HealthCheckConfig"]
        threshold = config.get("HealthThreshold")
        failover = FailoverCheckState(
            site.failover_check,
            bool(config.get("Inverted")),
            bool(config.get("Disabled")),
            None if threshold is None else int(threshold),
            tuple(config.get("ChildHealthChecks") or ()),
        )
    return Signals(
        reading=read_signals(site, route53, cloudwatch, datetime.now(UTC)),
        needed=max(1, site.signals_to_fail_over),
        insufficient_data=site.signal_insufficient_data,
        rule=failover_rule(site),
        has_signals=checks_count(site) > 1,
        failover=failover,
    )


def _health_check(route53: Any, check_id: str) -> HealthCheckState:
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    observed = route53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
    observations = tuple(
        sorted(
            (Observation(o.get("Region", "?"), o.get("IPAddress", "?"), o["StatusReport"]["Status"]) for o in observed),
            key=lambda o: o.region,
        )
    )
    return HealthCheckState(check_id, bool(config.get("Inverted")), bool(config.get("Disabled")), observations)


def _alarm(cloudwatch: Any, name: str) -> AlarmState:
    alarms = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    if not alarms:
        raise DetourError(f"alarm {name} (the site's registered alarm) does not exist in this region")
    alarm = alarms[0]
    # StateTransitionedTimestamp is when the state last changed; StateUpdatedTimestamp moves on other updates too
    since = alarm.get("StateTransitionedTimestamp") or alarm["StateUpdatedTimestamp"]
    return AlarmState(name, alarm["StateValue"], since, printable(alarm.get("StateReason", "")))


def _name_servers(
    route53: Any, zone_id: str, override: list[str] | None, lookup: adns.NameLookup
) -> list[adns.NameServer]:
    given = override or [s for s in os.environ.get("DETOUR_NAMESERVERS", "").split(",") if s.strip()]
    if given:
        return [adns.NameServer(text, *adns.parse_host_port(text)) for text in given]
    names = route53.get_hosted_zone(Id=zone_id).get("DelegationSet", {}).get("NameServers", [])
    if not names:
        raise DetourError(f"hosted zone {zone_id} lists no name servers (a private zone?)")
    servers = []
    for name in names:
        addresses = lookup.addresses(name)
        if addresses:
            servers.append(adns.NameServer(name, addresses[0]))
    if not servers:
        raise DetourError(f"none of the zone's name servers resolves ({', '.join(names)}): is this machine online?")
    return servers


def _primary_addresses(kind: str, target: str, lookup: adns.NameLookup) -> tuple[str, ...]:
    """An Elastic IP is itself; a load balancer is whatever its name resolves to now."""
    return (target,) if kind == "IPv4" else lookup.addresses(target)


# -- output ------------------------------------------------------------------------------------------


def as_json(status: Status) -> dict[str, Any]:
    health, alarm, window = status.health, status.alarm, status.window
    return {
        "stack": status.stack,
        "site_stack": status.site_stack,
        "region": status.region,
        "domain": status.domain,
        "checked_at": format_time(status.now),
        "health_check": {
            "id": health.id,
            "healthy": health.healthy,
            "inverted": health.inverted,
            "disabled": health.disabled,
            "healthy_checkers": health.healthy_checkers,
            "checkers": len(health.observations),
            "observations": [
                {"region": o.region, "ip": o.ip, "status": o.status, "healthy": o.healthy} for o in health.observations
            ],
        },
        "alarm": {"name": alarm.name, "state": alarm.state, "since": format_time(alarm.since), "reason": alarm.reason},
        "dns": {
            "serving": status.dns.serving,
            "matched_by": status.dns.matched_by,
            "addresses": list(status.dns.addresses),
            "servers_disagree": status.dns.disagreeing,
            "answers": [
                {
                    "server": a.server.name,
                    "address": f"{a.server.address}:{a.server.port}",
                    "addresses": list(a.addresses),
                    "error": a.error,
                }
                for a in status.dns.answers
            ],
            "primary_addresses": list(status.primary_addresses),
            "distribution": status.distribution,
            "maintenance_addresses": list(status.maintenance_addresses),
        },
        "signals": _signals_json(status),
        "rule": _rule_json(status),
        "failover_check": _failover_json(status),
        "open_window": None
        if window is None
        else {
            "started_at": format_time(window.started_at),
            "open_for_s": round((status.now - window.started_at).total_seconds(), 3),
            "reason": window.reason,
            "planned": window.planned,
            "cause": status.cause.summary() if status.cause else None,
            "cause_read_at": format_time(status.cause.read_at) if status.cause else None,
        },
        "timeline": {
            "stage": status.timeline.stage.value if status.timeline.stage else None,
            "updates": [
                {
                    "stage": u.stage.value,
                    "message": u.message,
                    "posted_at": format_time(u.posted_at),
                    "source": u.source.value,
                    "author": u.author,
                }
                for u in status.timeline.updates
            ],
            "earlier_updates": status.timeline.earlier,
        },
        "problems": status.problems(),
    }


def _signals_json(status: Status) -> list[dict[str, Any]]:
    if status.signals is None:
        return []
    return [
        {
            "name": state.name,
            "label": state.label,
            "kind": state.kind,
            "alarm_name": state.alarm_name or None,
            "healthy": state.healthy,
            "state": state.verdict,
            "detail": state.detail,
        }
        for state in status.signals.reading.states
    ]


def _rule_json(status: Status) -> dict[str, Any] | None:
    signals = status.signals
    if signals is None:
        return None
    effective = signals.effective(status.health)
    return {
        "text": signals.rule,
        "signals_to_fail_over": signals.needed,
        "checks": signals.checks,
        "signal_insufficient_data": signals.insufficient_data if signals.has_signals else None,
        "failing": effective.count(False),
        "unknown": effective.count(None),
        "fails_over": signals.verdict(status.health),
    }


def _failover_json(status: Status) -> dict[str, Any]:
    failover = status.signals.failover if status.signals else None
    if failover is None:
        return {"id": status.health.id, "is_endpoint_check": True}
    return {
        "id": failover.id,
        "is_endpoint_check": False,
        "inverted": failover.inverted,
        "disabled": failover.disabled,
        "health_threshold": failover.health_threshold,
        "children": list(failover.children),
    }


def _signal_lines(status: Status, style: Style) -> list[str]:
    """The Signals section: each check, the rule and what it says now, the calculated check."""
    signals = status.signals
    if signals is None or not signals.has_signals:
        return []
    verdict = signals.verdict(status.health)
    if verdict is None:
        now = style("rests on the unknown checks' last known status", "yellow")
    else:
        now = style("fail over", "red", "bold") if verdict else style("stay on the primary", "green")
    effective = signals.effective(status.health)
    lines = [
        "",
        f"Signals: {signals.rule} (SignalsToFailOver {signals.needed}, SignalInsufficientData "
        f"{signals.insufficient_data}); now {effective.count(False)} of {signals.checks} failing: {now}",
    ]
    states = signals.reading.states
    width = max(len(state.label) for state in states)
    kinds = max(len(state.kind) for state in states)
    colours = {"healthy": ("green",), "failing": ("red", "bold"), "unknown": ("yellow",)}
    for state in states:
        shown = style(f"{state.verdict:<7}", *colours[state.verdict])
        detail = printable(state.detail)
        if state.kind == ENDPOINT and status.health.inverted and not status.health.disabled:
            detail += " (Inverted: Route 53 counts it as " + ("healthy)" if status.health.healthy else "failing)")
        alarm = f" [{state.alarm_name}]" if state.alarm_name else ""
        lines.append(f"  {state.label:<{width}}  {state.kind:<{kinds}}  {shown}  {detail}{alarm}")
    failover = signals.failover
    if failover is not None:
        flags = [name for name, on in (("Inverted", failover.inverted), ("Disabled", failover.disabled)) if on]
        threshold = "?" if failover.health_threshold is None else str(failover.health_threshold)
        children = len(failover.children) or signals.checks
        flagged = ", " + ", ".join(flags) if flags else ""
        lines.append(
            f"  failover check {failover.id} (calculated: healthy while {threshold} of its {children} checks "
            f"are){flagged}: what the failover records and the alarm watch"
        )
        if failover.inverted and not failover.disabled:
            lines.append(
                style(
                    "  !!! failover check INVERTED: failover is forced (planned maintenance or a drill)", "red", "bold"
                )
            )
    return lines


def _timeline_lines(timeline: Timeline) -> list[str]:
    if not timeline.updates:
        return ["Incident timeline: nothing posted for a current incident (`detour update` posts)"]
    stage = timeline.stage.value if timeline.stage else "none"
    earlier = f", {timeline.earlier} earlier" if timeline.earlier else ""
    head = f"Incident timeline (what the page says): stage {stage}, newest first{earlier}"
    return [head, *(f"  {row}" for row in timeline_table(timeline.updates).splitlines())]


def render(status: Status, style: Style) -> str:
    health, alarm = status.health, status.alarm
    where = f"site stack {status.site_stack}, hub {status.stack}, {status.region}"
    lines = [style(f"Detour status of {status.domain}", "bold") + f" ({where})", ""]

    verdict = style("HEALTHY", "green") if health.healthy else style("UNHEALTHY", "red", "bold")
    overturned = ", turned over by Inverted" if health.inverted and not health.disabled else ""
    lines.append(
        f"Health check {health.id}: {verdict} ({health.healthy_checkers}/{len(health.observations)} checkers "
        f"see the primary healthy{overturned}; Route 53 needs more than 18%)"
    )
    if health.disabled:
        lines.append(style("  DISABLED: Route 53 treats it as healthy whatever the checkers see", "yellow", "bold"))
    if health.inverted:
        lines.append(style(INVERTED_WARNING, "red", "bold"))
    lines += [f"  {o.region:<16} {o.ip:<16} {o.status}" for o in health.observations]
    if not health.observations:
        lines.append("  no observations yet")
    lines += _signal_lines(status, style)

    colour = {"OK": "green", "ALARM": "red"}.get(alarm.state, "yellow")
    ago = human_duration((status.now - alarm.since).total_seconds())
    lines += ["", f"Alarm {alarm.name}: {style(alarm.state, colour)} since {utc_text(alarm.since)} ({ago} ago)"]
    if alarm.reason:
        lines.append(f"  {alarm.reason}")

    serving = status.dns.serving
    shown = {adns.PRIMARY: style("PRIMARY", "green"), adns.MAINTENANCE: style("MAINTENANCE PAGE", "red", "bold")}
    answer = ", ".join(status.dns.addresses) or "no answer"
    judged = shown.get(serving, style("UNKNOWN", "yellow"))
    if status.dns.matched_by.startswith("reverse"):
        judged += f" (recognised by {status.dns.matched_by})"
    lines += ["", f"DNS {status.domain} A (authoritative): {answer} -> {judged}"]
    for a in status.dns.answers:
        said = ", ".join(a.addresses) if a.addresses else f"({a.error})"
        where = f"{a.server.address}:{a.server.port}"
        lines.append(f"  {a.server.name if a.server.name == where else f'{a.server.name} [{where}]'}: {said}")
    if status.dns.disagreeing:
        lines.append(style("  the name servers disagree: a change is still propagating", "yellow"))
    lines.append(f"  primary is {', '.join(status.primary_addresses) or '(does not resolve)'}")
    lines.append(
        f"  maintenance page {status.distribution} is {', '.join(status.maintenance_addresses) or '(does not resolve)'}"
    )

    lines += ["", *_window_lines(status, style), "", *_timeline_lines(status.timeline)]

    problems = status.problems()
    lines.append("")
    if problems:
        lines.append(style("PROBLEM: ", "red", "bold") + "; ".join(problems))
    else:
        lines.append(style("OK: ", "green", "bold") + "the primary is healthy and DNS answers it")
    return "\n".join(lines)


def _window_lines(status: Status, style: Style) -> list[str]:
    if status.window is None:
        return ["Failover window: none open"]
    w = status.window
    kind = "planned maintenance" if w.planned else "unplanned"
    lasted = human_duration((status.now - w.started_at).total_seconds())
    lines = [style(f"Failover window OPEN since {utc_text(w.started_at)} ({lasted}, {kind})", "red")]
    if w.reason:
        lines.append(f"  {printable(w.reason)}")
    lines.append(f"  why: {cause_text(status.cause)}")
    return lines


def cause_text(cause: SignalReading | None) -> str:
    """A window's recorded cause in one line, or why there is none."""
    if cause is None:
        return "cause not recorded (an outage from before Detour recorded causes, or its alarm not yet handled)"
    return printable(cause.summary())


# -- several sites: one line each ---------------------------------------------------------------------

HEALTHY, ON_THE_PAGE, UNKNOWN = "healthy", "on the page", "unknown"


@dataclass(frozen=True, slots=True)
class SiteLine:
    """One site in the overview: its status, or why it could not be read."""

    site: SiteView
    status: Status | None
    error: str = ""

    @property
    def state(self) -> str:
        if self.status is None:
            return UNKNOWN
        return {adns.PRIMARY: HEALTHY, adns.MAINTENANCE: ON_THE_PAGE}.get(self.status.dns.serving, UNKNOWN)

    @property
    def since(self) -> datetime | None:
        """Since when: the open failover window's start, else the alarm's last change."""
        if self.status is None:
            return None
        return self.status.window.started_at if self.status.window else self.status.alarm.since

    def problems(self) -> list[str]:
        if self.status is None:
            return [f"could not be read: {self.error}"]
        return self.status.problems()

    def failing(self) -> list[str]:
        """The failing checks of a site with signals, shortly: `5xx rate`, `endpoint probe`."""
        signals = self.status.signals if self.status else None
        if signals is None or not signals.has_signals:
            return []
        return [state.label for state in signals.reading.failing]


def gather_all(deployment: Deployment, args: argparse.Namespace, session: Any) -> list[SiteLine]:
    lines = []
    for site in deployment.views():
        try:
            lines.append(SiteLine(site, gather_site(site, args, session)))
        except (DetourError, ClientError, BotoCoreError, IncidentStoreError, NoticeError) as error:
            # one site's trouble hides no other site
            lines.append(SiteLine(site, None, _error_text(error)))
    return lines


def _error_text(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"AWS error: {details.get('Code', '?')}: {details.get('Message', error)}"
    return str(error)


def _run_overview(args: argparse.Namespace, session: Any, deployment: Deployment, out: TextIO) -> int:
    lines = gather_all(deployment, args, session)
    now = datetime.now(UTC)
    if args.format == "json":
        print(json.dumps(overview_json(deployment, lines, args.region, now), indent=2), file=out)
    else:
        print(render_overview(deployment, lines, args.region, now, Style(out)), file=out)
    if any(line.status is None for line in lines):
        return EXIT_ERROR
    return EXIT_PROBLEM if any(line.problems() for line in lines) else EXIT_OK


def overview_json(deployment: Deployment, lines: list[SiteLine], region: str, now: datetime) -> dict[str, Any]:
    return {
        "stack": deployment.hub.name,
        "region": region,
        "checked_at": format_time(now),
        "sites": [
            {
                "domain": line.site.domain,
                "site_name": line.site.site_name,
                "site_id": line.site.site_id,
                "site_stack": line.site.site.stack_name,
                "state": line.state,
                "since": format_time(line.since) if line.since else None,
                "problems": line.problems(),
                "error": line.error or None,
                "status": as_json(line.status) if line.status else None,
            }
            for line in lines
        ],
    }


def render_overview(deployment: Deployment, lines: list[SiteLine], region: str, now: datetime, style: Style) -> str:
    colour = {HEALTHY: ("green",), ON_THE_PAGE: ("red", "bold")}
    width = max(len(line.site.domain) for line in lines)
    text = [
        style(f"Detour status of {len(lines)} sites", "bold") + f" (hub stack {deployment.hub.name}, {region})",
        "",
    ]
    for line in lines:
        state = style(f"{line.state:<11}", *colour.get(line.state, ("yellow",)))
        since = (
            f"since {utc_text(line.since)} ({human_duration((now - line.since).total_seconds())})" if line.since else ""
        )
        failing = line.failing()
        hint = f"  failing: {', '.join(failing)}" if failing else ""
        text.append(f"  {line.site.domain:<{width}}  {state}  {since}{hint}".rstrip())
        problems = line.problems()
        if problems:
            text.append(f"  {'':<{width}}  " + "; ".join(problems))
    on_page = [line.site.domain for line in lines if line.state == ON_THE_PAGE]
    troubled = [line.site.domain for line in lines if line.problems()]
    text.append("")
    if troubled:
        summary = f"{len(on_page)} of {len(lines)} sites on the maintenance page"
        text.append(
            style("PROBLEM: ", "red", "bold")
            + f"{summary}; problems at {', '.join(troubled)}. `detour status --site DOMAIN` says why."
        )
    else:
        text.append(style("OK: ", "green", "bold") + f"all {len(lines)} sites healthy and DNS answers their primaries")
    return "\n".join(text)

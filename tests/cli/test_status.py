"""`detour status` against moto's server and a local authoritative name server whose answer follows
the health check, as Route 53's does."""

from __future__ import annotations

import argparse
import json
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from detour.incidents.items import IncidentStoreError
from detour.incidents.transition import format_time
from detour.signals.causes import CauseLog
from detour.signals.states import SignalReading, SignalState
from detour_cli import status as status_verb
from detour_cli.authoritative_dns import NameLookup
from detour_cli.output import Style
from tests.cli.conftest import BALANCER, BALANCER_ADDRESSES, DISTRIBUTION_ADDRESSES
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.world import (
    ALARM,
    DISTRIBUTION,
    DOMAIN,
    ERROR_RATE_ALARM,
    OTHER_DOMAIN,
    SIGNAL_ALARM,
    SITE_STACK,
    STACK,
    World,
    add_signals,
    build_world,
    hub_template,
    stack_template,
)

ANSI_ESCAPE = "\033["
SITE_PARAMETERS = ("HubStackName", "DomainName", "HostedZoneId", "PrimaryKind", "PrimaryTarget", "SiteName")


def status(run: Any, server: AuthoritativeTestServer, *extra: str) -> tuple[int, str, str]:
    return run("status", "--nameserver", server.address, "--resolver", server.address, *extra)


def status_json(run: Any, server: AuthoritativeTestServer, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = status(run, server, "--format", "json", *extra)
    assert code != 2, err
    return code, json.loads(out)


def test_a_healthy_primary_is_reported_as_served_and_exits_0(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    code, report = status_json(run, dns_server)

    assert code == 0
    assert report["problems"] == []
    assert report["domain"] == DOMAIN
    assert report["dns"]["serving"] == "primary"
    assert report["dns"]["matched_by"] == "addresses"
    assert report["dns"]["addresses"] == [world.primary_target]
    assert report["dns"]["maintenance_addresses"] == DISTRIBUTION_ADDRESSES
    check = report["health_check"]
    assert (check["id"], check["healthy"], check["inverted"], check["disabled"]) == (world.check_id, True, False, False)
    assert check["checkers"] == len(check["observations"]) >= 1
    assert check["healthy_checkers"] == sum(o["healthy"] for o in check["observations"])
    assert report["alarm"]["name"] == ALARM
    assert report["alarm"]["state"] == "OK"
    assert report["open_window"] is None
    assert dns_server.queries >= 2  # the domain, asked of the name server, and the distribution, resolved


def test_inverting_the_check_moves_dns_to_the_maintenance_page_and_back(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    world.invert(True)
    code, report = status_json(run, dns_server)
    assert code == 1
    assert report["dns"]["serving"] == "maintenance"
    assert report["dns"]["addresses"] == DISTRIBUTION_ADDRESSES
    assert report["health_check"]["inverted"] is True
    assert report["health_check"]["healthy"] is False
    assert any("Inverted" in problem for problem in report["problems"])

    code, text, _ = status(run, dns_server)
    assert code == 1
    assert "!!! INVERTED" in text
    assert "-> MAINTENANCE PAGE" in text

    world.invert(False)
    code, report = status_json(run, dns_server)
    assert code == 0
    assert report["dns"]["serving"] == "primary"


def test_a_load_balancer_primary_is_recognised_by_the_addresses_its_name_resolves_to(
    run: Any, incidents_table: Any
) -> None:
    world = build_world(incidents_table.name, primary_kind="LoadBalancer", primary_target=BALANCER)
    names = {DISTRIBUTION: DISTRIBUTION_ADDRESSES, BALANCER: BALANCER_ADDRESSES}
    with AuthoritativeTestServer(world.zone_id, names) as server:
        code, report = status_json(run, server)
        assert (code, report["dns"]["serving"]) == (0, "primary")
        assert report["dns"]["primary_addresses"] == BALANCER_ADDRESSES

        world.invert(True)
        code, report = status_json(run, server)
        assert (code, report["dns"]["serving"]) == (1, "maintenance")


def test_an_answer_that_is_neither_primary_nor_page_is_unknown(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    # Someone edited the PRIMARY record by hand: it no longer points at the stack's PrimaryTarget.
    record = {
        "Name": DOMAIN,
        "Type": "A",
        "SetIdentifier": "detour-primary",
        "Failover": "PRIMARY",
        "HealthCheckId": world.check_id,
        "TTL": 60,
        "ResourceRecords": [{"Value": "192.0.2.99"}],
    }
    boto3.client("route53").change_resource_record_sets(
        HostedZoneId=world.zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]}
    )
    code, report = status_json(run, dns_server)
    assert code == 1
    assert report["dns"]["addresses"] == ["192.0.2.99"]
    assert report["dns"]["serving"] == "unknown"


@pytest.mark.parametrize(
    ("edge_name", "expected"),
    [("server-198-51-100-30.fra56.r.cloudfront.net", "maintenance"), ("mail.example.net", "unknown")],
)
def test_cloudfront_edges_the_resolver_did_not_list_are_recognised_by_reverse_dns(
    run: Any, world: World, edge_name: str, expected: str
) -> None:
    """Route 53 answered other edges of the distribution than this machine's resolver lists."""
    with AuthoritativeTestServer(
        world.zone_id,
        {DISTRIBUTION: DISTRIBUTION_ADDRESSES},
        alias_answers={DISTRIBUTION: ["198.51.100.30"]},
        pointers={"198.51.100.30": edge_name},
    ) as server:
        world.invert(True)
        code, report = status_json(run, server)
    assert code == 1
    assert report["dns"]["addresses"] == ["198.51.100.30"]
    assert report["dns"]["serving"] == expected
    assert (edge_name in report["dns"]["matched_by"]) is (expected == "maintenance")


def test_a_silent_name_server_is_reported_not_guessed(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        code, out, err = run(
            "status",
            "--nameserver",
            f"127.0.0.1:{silent.getsockname()[1]}",
            "--resolver",
            dns_server.address,
            "--format",
            "json",
        )
    report = json.loads(out)
    assert code == 1, err
    assert report["dns"]["serving"] == "unknown"
    assert report["dns"]["answers"][0]["addresses"] == []
    assert "no answer" in report["dns"]["answers"][0]["error"]


def test_name_servers_can_come_from_the_environment(
    run: Any, world: World, dns_server: AuthoritativeTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETOUR_NAMESERVERS", dns_server.address)
    monkeypatch.setenv("DETOUR_RESOLVER", dns_server.address)
    code, out, err = run("status", "--format", "json")
    report = json.loads(out)
    assert code == 0, err
    assert report["dns"]["answers"][0]["address"] == dns_server.address
    assert report["dns"]["serving"] == "primary"


def test_by_default_the_zones_own_name_servers_are_asked(world: World, dns_server: AuthoritativeTestServer) -> None:
    """Without an override, the servers are the zone's delegation set, resolved through the resolver."""
    delegation = boto3.client("route53").get_hosted_zone(Id=world.zone_id)["DelegationSet"]["NameServers"]
    names = {name: ["127.0.0.53"] for name in delegation}
    with AuthoritativeTestServer(world.zone_id, names) as resolver:
        lookup = NameLookup(("127.0.0.1", int(resolver.address.rsplit(":", 1)[1])))
        servers = status_verb._name_servers(boto3.client("route53"), world.zone_id, None, lookup)
    assert [s.name for s in servers] == delegation
    assert {(s.address, s.port) for s in servers} == {("127.0.0.53", 53)}


def test_an_alarm_in_alarm_and_an_open_window_are_problems(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=12)
    world.transition("ALARM", started, reason="Threshold Crossed: 3 datapoints were less than 1.0")
    boto3.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="primary down")

    code, report = status_json(run, dns_server)
    assert code == 1
    assert report["alarm"]["state"] == "ALARM"
    window = report["open_window"]
    assert window["started_at"].startswith(started.strftime("%Y-%m-%dT%H:%M:%S"))
    assert 11 * 60 < window["open_for_s"] < 14 * 60
    assert window["planned"] is False

    code, text, _ = status(run, dns_server)
    assert "Failover window OPEN since" in text
    assert "12 min" in text


def test_text_output_has_no_colour_off_a_terminal(run: Any, world: World, dns_server: AuthoritativeTestServer) -> None:
    code, text, _ = status(run, dns_server)
    assert code == 0
    assert ANSI_ESCAPE not in text
    assert f"DNS {DOMAIN} A (authoritative): {world.primary_target} -> PRIMARY" in text
    assert "OK: the primary is healthy and DNS answers it" in text


class Terminal:
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert ANSI_ESCAPE in Style(Terminal())("UNHEALTHY", "red")  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert Style(Terminal())("UNHEALTHY", "red") == "UNHEALTHY"  # type: ignore[arg-type]


def test_a_missing_hub_output_is_named_and_exits_2(run: Any, aws: str) -> None:
    boto3.client("cloudformation").create_stack(
        StackName="partial",
        TemplateBody=json.dumps(hub_template(outputs=("PageBucketName",))),
        Parameters=[{"ParameterKey": "IncidentsTableName", "ParameterValue": "t"}],
    )
    code, out, err = run("status", "--stack", "partial")
    assert code == 2
    assert out == ""
    assert "stack partial has no output IncidentsTableName: deploy template.yaml first" in err


def test_a_missing_site_stack_output_is_named_and_exits_2(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    cfn = boto3.client("cloudformation")
    cfn.update_stack(
        StackName=world.site_stack,
        TemplateBody=json.dumps(stack_template("IPv4", outputs=("HealthCheckId", "HealthAlarmName"))),
        Parameters=[{"ParameterKey": p, "UsePreviousValue": True} for p in SITE_PARAMETERS],
    )
    code, _out, err = status(run, dns_server)
    assert code == 2
    assert f"stack {world.site_stack} has no output DistributionDomainName" in err


def test_a_missing_stack_exits_2(run: Any, aws: str) -> None:
    code, _, err = run("status", "--stack", "nowhere")
    assert code == 2
    assert "no stack nowhere" in err


def test_an_unknown_profile_exits_2(run: Any, aws: str) -> None:
    code, _, err = run("status", "--profile", "no-such-profile")
    assert code == 2
    assert "no-such-profile" in err


def test_help_documents_exit_codes_and_the_name_server_override(run: Any) -> None:
    code, out, _ = run("status", "--help")
    assert code == 0
    assert "Exit codes: 0 ok; 1 a problem found" in " ".join(out.split())
    assert "--nameserver" in out
    assert "DETOUR_NAMESERVERS" in out
    assert run("status", "--format", "yaml")[0] == 2


def test_status_reads_the_stack_it_is_told(run: Any, world: World, dns_server: AuthoritativeTestServer) -> None:
    code, _, err = status(run, dns_server, "--stack", f"{STACK}-other")
    assert code == 2
    assert f"no stack {STACK}-other" in err


def health_check(
    healthy: int, total: int, inverted: bool = False, disabled: bool = False
) -> status_verb.HealthCheckState:
    observations = tuple(
        status_verb.Observation(f"r{i}", "1.2.3.4", "Success: 200" if i < healthy else "Failure: timeout")
        for i in range(total)
    )
    return status_verb.HealthCheckState("hc", inverted, disabled, observations)


def test_healthy_share_follows_route53s_18_percent_rule() -> None:
    def check(healthy: int, total: int, inverted: bool = False, disabled: bool = False) -> bool:
        return health_check(healthy, total, inverted, disabled).healthy

    assert check(1, 5)  # 20% > 18%
    assert not check(1, 6)  # 16.7%
    assert not check(3, 3, inverted=True)
    assert check(0, 3, inverted=True)
    assert check(0, 3, disabled=True)
    assert check(0, 3, inverted=True, disabled=True)


def test_gather_uses_only_the_stacks_outputs(world: World, dns_server: AuthoritativeTestServer) -> None:
    args = argparse.Namespace(
        stack=STACK, region="us-east-1", profile=None, nameserver=[dns_server.address], resolver=dns_server.address
    )
    gathered = status_verb.gather(args)
    assert gathered.health.id == world.check_id
    assert gathered.distribution == DISTRIBUTION
    assert (gathered.stack, gathered.site_stack) == (STACK, SITE_STACK)


def test_an_inverted_check_on_a_failing_primary_is_called_out() -> None:
    """Inverted turns 'down' into 'healthy': during a drill, a real outage sends visitors to the primary."""
    assert "Inverted: failover is forced" in " ".join(health_check(3, 3, inverted=True).problems())
    assert "Route 53 sends traffic to it" in " ".join(health_check(0, 3, inverted=True).problems())
    assert health_check(0, 3).problems() == ["the health check is unhealthy"]
    assert health_check(3, 3).problems() == []
    assert "never fails over" in " ".join(health_check(0, 3, disabled=True).problems())
    assert health_check(0, 0).problems() == ["the health check has no observations yet"]


def test_a_crash_is_exit_2_never_1(run: Any, world: Any) -> None:
    """Exit 1 means "a problem found"; an unexpected error must not look like one."""
    code, _, err = run("status", "--nameserver", "ns:not-a-port")
    assert code == 2
    assert "error" in err


def test_the_current_incidents_timeline_is_shown_newest_first(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    from detour.incidents.updates import Source, Stage, Update, UpdateLog  # noqa: PLC0415

    started = datetime.now(UTC) - timedelta(minutes=12)
    world.transition("ALARM", started)
    UpdateLog(world.table_name, boto3.client("dynamodb")).post(
        Update(
            world.check_id,
            Stage.IDENTIFIED,
            "Disk full; moving it.",
            started + timedelta(minutes=5),
            Source.SLACK,
            "U0ALICE",
            "slack:1.2.3",
        )
    )
    _, report = status_json(run, dns_server)
    assert report["timeline"]["stage"] == "identified"
    assert report["timeline"]["updates"][0]["message"] == "Disk full; moving it."
    assert report["timeline"]["updates"][1]["source"] == "alarm"
    _, text, _ = status(run, dns_server)
    assert "Incident timeline (what the page says): stage identified, newest first" in text
    assert re.search(r"identified\s+slack\s+U0ALICE\s+Disk full; moving it\.", text)


# -- several sites ------------------------------------------------------------------------------------


def test_with_several_sites_status_prints_one_line_each_and_exits_1_when_one_is_on_its_page(
    run: Any, world: World, other_site: World, dns_server: AuthoritativeTestServer
) -> None:
    code, out, err = status(run, dns_server)
    assert (code, err) == (0, "")
    assert "Detour status of 2 sites (hub stack detour, us-east-1)" in out
    assert re.search(rf"^  {re.escape(OTHER_DOMAIN)}\s+healthy\s+since ", out, re.MULTILINE)
    assert re.search(rf"^  {re.escape(DOMAIN)}\s+healthy\s+since ", out, re.MULTILINE)
    assert "OK: all 2 sites healthy" in out

    started = datetime.now(UTC) - timedelta(minutes=12)
    other_site.invert(True)
    other_site.transition("ALARM", started)
    code, out, _ = status(run, dns_server)
    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith(f"  {OTHER_DOMAIN}")]
    assert re.search(r"on the page\s+since .*\(12 min", line)
    assert re.search(rf"^  {re.escape(DOMAIN)}\s+healthy", out, re.MULTILINE)
    assert "PROBLEM: 1 of 2 sites on the maintenance page; problems at api.detour.test" in out

    code, report = status_json(run, dns_server)
    assert code == 1
    states = {site["domain"]: (site["state"], site["site_id"]) for site in report["sites"]}
    assert states == {DOMAIN: ("healthy", world.check_id), OTHER_DOMAIN: ("on the page", other_site.check_id)}
    [api] = [site for site in report["sites"] if site["domain"] == OTHER_DOMAIN]
    assert api["since"].startswith(started.strftime("%Y-%m-%dT%H:%M:%S"))
    assert api["status"]["dns"]["serving"] == "maintenance"
    assert any("Inverted" in problem for problem in api["problems"])


@pytest.mark.parametrize("name", [OTHER_DOMAIN, "API.detour.test.", "detour-site-api", "id"])
def test_site_chooses_one_site_by_domain_stack_or_id(
    run: Any, world: World, other_site: World, dns_server: AuthoritativeTestServer, name: str
) -> None:
    other_site.invert(True)
    code, report = status_json(run, dns_server, "--site", other_site.check_id if name == "id" else name)
    assert code == 1
    assert (report["domain"], report["site_stack"]) == (OTHER_DOMAIN, other_site.site_stack)
    assert report["health_check"]["id"] == other_site.check_id
    assert report["alarm"]["name"] == other_site.alarm
    assert report["dns"]["serving"] == "maintenance"

    code, report = status_json(run, dns_server, "--site", "www.detour.test")
    assert (code, report["domain"], report["dns"]["serving"]) == (0, DOMAIN, "primary")


def test_an_unknown_site_is_exit_2_and_the_sites_are_listed(
    run: Any, world: World, other_site: World, dns_server: AuthoritativeTestServer
) -> None:
    code, out, err = status(run, dns_server, "--site", "shop.detour.test")
    assert (code, out) == (2, "")
    assert "no site is called 'shop.detour.test'; the sites are: " in err
    assert f"api.detour.test ({other_site.check_id}), www.detour.test ({world.check_id})" in err


def test_a_site_that_cannot_be_read_is_unknown_and_exit_2_the_others_are_shown(
    run: Any, world: World, other_site: World, dns_server: AuthoritativeTestServer
) -> None:
    boto3.client("cloudformation").delete_stack(StackName=other_site.site_stack)
    code, out, _ = status(run, dns_server)
    assert code == 2
    assert re.search(rf"^  {re.escape(OTHER_DOMAIN)}\s+unknown", out, re.MULTILINE)
    assert f"could not be read: no stack {other_site.site_stack}" in out
    assert re.search(rf"^  {re.escape(DOMAIN)}\s+healthy", out, re.MULTILINE)


def test_a_hub_without_sites_says_how_to_add_one(run: Any, aws: str, incidents_table: Any) -> None:
    boto3.client("cloudformation").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(hub_template()),
        Parameters=[{"ParameterKey": "IncidentsTableName", "ParameterValue": incidents_table.name}],
    )
    code, _, err = run("status")
    assert code == 2
    assert "no site is registered yet" in err


def test_a_site_whose_incidents_cannot_be_read_is_unknown_and_the_others_are_shown(
    run: Any,
    world: World,
    other_site: World,
    dns_server: AuthoritativeTestServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = status_verb.gather_site

    def throttled(site: Any, args: argparse.Namespace, session: Any) -> Any:
        if site.domain == OTHER_DOMAIN:
            raise IncidentStoreError(
                "DynamoDB table detour-incidents: reading windows failed: ThrottlingException: slow"
            )
        return real(site, args, session)

    monkeypatch.setattr(status_verb, "gather_site", throttled)
    code, out, _ = status(run, dns_server)
    assert code == 2
    assert "could not be read: DynamoDB table detour-incidents: reading windows failed" in out
    assert re.search(rf"^  {re.escape(DOMAIN)}\s+healthy", out, re.MULTILINE)


# -- failover signals (ADR 0002) ----------------------------------------------------------------------

RATE_REASON = "Threshold Crossed: 3 datapoints [12.5 (29/11/26 10:02:00), 9.0, 7.1] were greater than 5.0."


def test_a_site_with_signals_lists_each_check_the_rule_and_the_failover_check(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    signalled = add_signals(world)
    code, text, _ = status(run, dns_server)
    assert code == 0, text
    assert (
        "Signals: fails over when any check fails (any of 3) (SignalsToFailOver 1, SignalInsufficientData "
        "LastKnownStatus); now 0 of 3 failing: stay on the primary"
    ) in text
    assert re.search(r"^  endpoint probe\s+endpoint\s+healthy\s+passing from all 1 checker regions$", text, re.M)
    assert re.search(rf"^  checkout-errors\s+alarm\s+healthy\s+OK.*\[{re.escape(SIGNAL_ALARM)}\]$", text, re.M)
    assert re.search(rf"^  5xx rate\s+error-rate\s+healthy\s+OK.*\[{re.escape(ERROR_RATE_ALARM)}\]$", text, re.M)
    assert (
        f"  failover check {signalled.failover_check} (calculated: healthy while 3 of its 3 checks are): what "
        "the failover records and the alarm watch"
    ) in text

    boto3.client("cloudwatch").set_alarm_state(AlarmName=ERROR_RATE_ALARM, StateValue="ALARM", StateReason=RATE_REASON)
    code, text, _ = status(run, dns_server)
    assert code == 1
    assert "now 1 of 3 failing: fail over" in text
    assert re.search(r"^  5xx rate\s+error-rate\s+failing\s+ALARM: Threshold Crossed: 3 datapoints", text, re.M)
    assert re.search(r"^  checkout-errors\s+alarm\s+healthy", text, re.M)
    assert "-> MAINTENANCE PAGE" in text  # the records watch the calculated check, which follows the alarm
    assert "PROBLEM: signal 5xx rate is failing (ALARM); DNS answers the maintenance page" in text
    assert f"Health check {world.check_id}: HEALTHY" in text  # the probe itself is fine

    code, report = status_json(run, dns_server)
    assert code == 1
    assert [(s["label"], s["kind"], s["state"], s["alarm_name"]) for s in report["signals"]] == [
        ("endpoint probe", "endpoint", "healthy", None),
        ("checkout-errors", "alarm", "healthy", SIGNAL_ALARM),
        ("5xx rate", "error-rate", "failing", ERROR_RATE_ALARM),
    ]
    assert report["signals"][2]["detail"].startswith("ALARM: Threshold Crossed")
    assert report["signals"][2]["name"] == "error-rate"
    assert report["rule"] == {
        "text": "fails over when any check fails (any of 3)",
        "signals_to_fail_over": 1,
        "checks": 3,
        "signal_insufficient_data": "LastKnownStatus",
        "failing": 1,
        "unknown": 0,
        "fails_over": True,
    }
    assert report["failover_check"] == {
        "id": signalled.failover_check,
        "is_endpoint_check": False,
        "inverted": False,
        "disabled": False,
        "health_threshold": 3,
        "children": [world.check_id, *(s.health_check_id for s in signalled.site.signals)],
    }
    assert report["dns"]["serving"] == "maintenance"


def test_two_of_three_needs_two_failing_checks(run: Any, world: World, dns_server: AuthoritativeTestServer) -> None:
    add_signals(world, signals_to_fail_over=2)
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=SIGNAL_ALARM, StateValue="ALARM", StateReason="checkout failing")
    code, text, _ = status(run, dns_server)
    assert "Signals: fails over when 2 of 3 checks fail (SignalsToFailOver 2," in text
    assert "now 1 of 3 failing: stay on the primary" in text
    assert "-> PRIMARY" in text
    assert code == 1  # a failing signal is a problem all the same

    cloudwatch.set_alarm_state(AlarmName=ERROR_RATE_ALARM, StateValue="ALARM", StateReason=RATE_REASON)
    _, report = status_json(run, dns_server)
    assert (report["rule"]["failing"], report["rule"]["fails_over"]) == (2, True)
    assert report["dns"]["serving"] == "maintenance"


def test_a_site_without_signals_shows_no_signals_section_but_json_has_the_probe(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    _, text, _ = status(run, dns_server)
    assert "Signals:" not in text
    _, report = status_json(run, dns_server)
    assert [s["kind"] for s in report["signals"]] == ["endpoint"]
    assert report["rule"]["text"] == "fails over when the endpoint probe fails"
    assert report["rule"]["signal_insufficient_data"] is None
    assert report["failover_check"] == {"id": world.check_id, "is_endpoint_check": True}


def test_a_replaced_endpoint_check_is_the_one_route_53_is_asked_about(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    """The site keeps its first check's id for its records; Route 53 calls use the endpoint check."""
    signalled = add_signals(world, replace_endpoint_check=True)
    assert signalled.endpoint_check != world.check_id
    started = datetime.now(UTC) - timedelta(minutes=3)
    world.transition("ALARM", started)  # keyed by the site's id, as the functions key it
    boto3.client("route53").update_health_check(HealthCheckId=signalled.endpoint_check, Inverted=True)
    code, report = status_json(run, dns_server)
    assert code == 1
    assert report["health_check"]["id"] == signalled.endpoint_check
    assert report["health_check"]["inverted"] is True
    assert report["open_window"]["started_at"] == format_time(started)
    assert report["failover_check"]["children"][0] == signalled.endpoint_check
    assert report["rule"]["failing"] == 1  # the probe, as Route 53 counts it: turned over by Inverted
    assert report["dns"]["serving"] == "maintenance"
    _, text, _ = status(run, dns_server)
    assert re.search(
        r"^  endpoint probe\s+endpoint\s+healthy\s+.*\(Inverted: Route 53 counts it as failing\)", text, re.M
    )


def test_an_open_window_shows_its_recorded_cause(run: Any, world: World, dns_server: AuthoritativeTestServer) -> None:
    add_signals(world)
    started = datetime.now(UTC) - timedelta(minutes=8)
    world.transition("ALARM", started)
    code, text, _ = status(run, dns_server)
    assert "  why: cause not recorded" in text
    assert status_json(run, dns_server)[1]["open_window"]["cause"] is None

    cause = SignalReading(
        read_at=started,
        states=(
            SignalState("endpoint probe", "endpoint", True, "passing from all 3 checker regions"),
            SignalState("error-rate", "error-rate", False, RATE_REASON, ERROR_RATE_ALARM),
        ),
    )
    CauseLog(world.table_name, boto3.client("dynamodb")).claim(world.check_id, f"{format_time(started)}#{ALARM}", cause)
    code, text, _ = status(run, dns_server)
    assert code == 1
    assert f"  why: 5xx rate: {RATE_REASON}" in text
    _, report = status_json(run, dns_server)
    assert report["open_window"]["cause"] == f"5xx rate: {RATE_REASON}"
    assert report["open_window"]["cause_read_at"] == format_time(started)


def test_the_overview_says_which_signal_is_failing(
    run: Any, world: World, other_site: World, dns_server: AuthoritativeTestServer
) -> None:
    add_signals(world)
    boto3.client("cloudwatch").set_alarm_state(AlarmName=ERROR_RATE_ALARM, StateValue="ALARM", StateReason=RATE_REASON)
    code, out, _ = status(run, dns_server)
    assert code == 1
    [line] = [line for line in out.splitlines() if line.startswith(f"  {DOMAIN}")]
    assert re.search(r"on the page\s+since .*  failing: 5xx rate$", line)
    [other] = [line for line in out.splitlines() if line.startswith(f"  {OTHER_DOMAIN}")]
    assert "failing" not in other


def test_an_inverted_failover_check_forces_failover_and_says_so(
    run: Any, world: World, dns_server: AuthoritativeTestServer
) -> None:
    """What planned maintenance does to a site with signals: the calculated check is inverted."""
    signalled = add_signals(world, signals_to_fail_over=2)
    boto3.client("route53").update_health_check(HealthCheckId=signalled.failover_check, Inverted=True)
    code, text, _ = status(run, dns_server)
    assert code == 1
    assert "now 0 of 3 failing: fail over" in text
    assert (
        f"  failover check {signalled.failover_check} (calculated: healthy while 2 of its 3 checks are), Inverted"
        in text
    )
    assert "  !!! failover check INVERTED: failover is forced (planned maintenance or a drill)" in text
    assert "-> MAINTENANCE PAGE" in text
    _, report = status_json(run, dns_server)
    assert report["rule"]["fails_over"] is True
    assert report["failover_check"]["inverted"] is True
    assert any("is Inverted: failover is forced whatever the checks say" in p for p in report["problems"])

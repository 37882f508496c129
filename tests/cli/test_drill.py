"""`detour drill` against moto's server, a local authoritative name server whose answer follows the
health check's Inverted flag, an HTTPS endpoint serving the page with a self-signed certificate for
the domain, and an alarm that opens and closes the window as the flag moves."""

from __future__ import annotations

import copy
import io
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from detour.incidents.notices import NoticeBoard
from detour.incidents.sites import SignalKind
from detour.incidents.transition import format_time
from detour_cli import drill as drill_verb
from detour_cli import forced_rate
from tests.cli.conftest import DISTRIBUTION_ADDRESSES
from tests.cli.dns_server import AuthoritativeTestServer, healthy
from tests.cli.drill_world import AlarmFollower, ErrorRateData, FastClock, PageServer, self_signed_certificate
from tests.cli.lambda_recorder import LambdaRecorder
from tests.cli.world import DISTRIBUTION, DOMAIN, ERROR_RATE_ALARM, SIGNAL_ALARM, SITE_STACK, World, add_signals

ANSI_ESCAPE = "\033["
FAST = ("--poll-interval", "0.05", "--dns-timeout", "10", "--page-timeout", "10", "--failback-timeout", "10")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path)


@pytest.fixture
def page_dns(world: World) -> Iterator[AuthoritativeTestServer]:
    """The distribution's name resolves to loopback, where the page server listens."""
    with AuthoritativeTestServer(world.zone_id, {DISTRIBUTION: ["127.0.0.1"]}) as server:
        yield server


@pytest.fixture
def page(world: World, certificate: tuple[Path, Path]) -> Iterator[PageServer]:
    with PageServer(world, *certificate) as server:
        yield server


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every UpdateHealthCheck the drill sends (its parameters), seen on the drill's own session."""
    seen: list[dict[str, Any]] = []
    real = drill_verb.session_for

    def recording(args: Any) -> Any:
        session = real(args)
        session.events.register(
            "provide-client-params.route53.UpdateHealthCheck", lambda params, **_: seen.append(dict(params))
        )
        return session

    monkeypatch.setattr(drill_verb, "session_for", recording)
    return seen


def inverted(world: World) -> bool:
    config = boto3.client("route53").get_health_check(HealthCheckId=world.check_id)["HealthCheck"]
    return bool(config["HealthCheckConfig"].get("Inverted"))


@dataclass
class Rig:
    """The drill's surroundings: the moto world, its name server, the page's HTTPS endpoint."""

    run: Any
    world: World
    dns: AuthoritativeTestServer
    page: PageServer
    certificate: tuple[Path, Path]
    reports: Path

    def drill(self, *extra: str, dns: AuthoritativeTestServer | None = None, page: PageServer | None = None,
              ca_file: Path | None = None) -> tuple[int, str, str]:  # fmt: skip
        dns, page = dns or self.dns, page or self.page
        return self.run(
            "drill", "--yes", "--nameserver", dns.address, "--resolver", dns.address,
            "--https-port", str(page.port), "--ca-file", str(ca_file or self.certificate[0]),
            "--report-dir", str(self.reports), *FAST, *extra,
        )  # fmt: skip

    def report(self) -> tuple[dict[str, Any], str]:
        (json_file,) = self.reports.glob("detour-drill-*.json")
        (markdown_file,) = self.reports.glob("detour-drill-*.md")
        assert json_file.stem == markdown_file.stem
        return json.loads(json_file.read_text()), markdown_file.read_text()

    @property
    def inverted(self) -> bool:
        return inverted(self.world)


@pytest.fixture
def rig(
    run: Any, page_dns: AuthoritativeTestServer, page: PageServer, certificate: tuple[Path, Path], tmp_path: Path
) -> Rig:
    return Rig(run, page.world, page_dns, page, certificate, tmp_path / "reports")


def test_a_full_drill_fails_over_checks_the_page_restores_and_reports(rig: Rig, calls: list[dict[str, Any]]) -> None:
    world, page = rig.world, rig.page
    with AlarmFollower(world, delay_s=0.3) as alarm:  # the alarm comes a little after DNS moved
        code, out, err = rig.drill()

    assert code == 0, out + err
    assert not rig.inverted
    assert calls == [
        {"HealthCheckId": world.check_id, "Inverted": True},
        {"HealthCheckId": world.check_id, "Inverted": False},
    ]  # the flag and nothing else: never Disabled
    assert alarm.seen == ["ALARM", "OK"]
    assert page.server_names
    assert set(page.server_names) == {DOMAIN}  # SNI on every connection
    assert set(page.hosts) == {DOMAIN}

    report, markdown = rig.report()
    assert (report["result"], report["reason"]) == ("passed", "")
    assert report["health_check_id"] == world.check_id
    assert report["budget"] == {
        "health_check_interval_s": 10,
        "failure_threshold": 3,
        "dns_switch_s": 30,
        "record_ttl_s": 60,
        "alarm_delay_s": 180,
    }
    measured = report["measured"]
    assert all(value is not None for value in measured.values()), measured
    in_order = [measured[key] for key in ("dns_switch_s", "page_served_s", "page_incident_s")]
    assert in_order == sorted(in_order)
    assert 0 <= measured["dns_switch_s"] < 10
    assert measured["page_incident_s"] >= 0.3  # the page before the alarm (no start yet) is not the incident
    assert measured["window_open_s"] >= 0.3
    assert 0 <= measured["window_open_s"] < 10
    assert 0 <= measured["slack_s"] < 10  # from the window's slack_ts, epoch seconds
    assert alarm.slack_ts is not None
    assert report["slack"] == "announced"
    assert 0 <= measured["failback_dns_s"] <= measured["window_closed_s"] < 10
    assert 0 < measured["window_duration_s"] < 20
    assert report["window"]["started_at"] is not None
    assert report["window"]["ended_at"] is not None
    assert report["answered"] == ["127.0.0.1"]
    assert report["started_at"] <= report["restored_at"] <= report["finished_at"]

    assert "# Failover drill of www.detour.test" in markdown
    assert "- Result: **passed**" in markdown
    assert f"| DNS switch | {measured['dns_switch_s']:.1f} s | 30 s |" in markdown
    assert "| page shows the incident | " in markdown
    assert "| 210 s |" in markdown  # 30 s + up to 3 min for the alarm
    assert "| Slack | " in markdown
    assert "not announced" not in markdown

    assert "Inverted health check" in out
    assert "DNS answers the maintenance page (127.0.0.1)" in out
    assert (
        'https://www.detour.test/ at 127.0.0.1: 503, Retry-After 120, "www.detour.test: temporarily unavailable"' in out
    )
    assert f"Restored: health check {world.check_id} is no longer Inverted." in out
    assert "DNS answers the primary again" in out
    assert "The failover window closed" in out
    assert "Drill PASSED" in out
    assert ANSI_ESCAPE not in out + err  # no colour off a terminal
    assert "\r" not in err  # and no spinner


def test_progress_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = drill_verb.Progress(stream)
        progress.tick()
        progress.clear()
    assert "|" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_without_a_slack_announcement_the_report_says_not_announced(rig: Rig) -> None:
    with AlarmFollower(rig.world, announce=False):
        code, out, err = rig.drill()
    assert code == 0, out + err
    report, markdown = rig.report()
    assert report["measured"]["slack_s"] is None
    assert report["slack"] == "not announced"
    assert "| Slack | not announced | 210 s |" in markdown


def test_a_late_slack_announcement_is_still_measured(rig: Rig) -> None:
    with AlarmFollower(rig.world, announce_late=True) as alarm:
        code, out, err = rig.drill()
    assert code == 0, out + err
    report, _ = rig.report()
    assert report["slack"] == "announced"
    assert alarm.slack_ts is not None
    assert report["measured"]["slack_s"] == pytest.approx(
        float(alarm.slack_ts) - _epoch(report["started_at"]), abs=0.01
    )
    assert report["measured"]["slack_s"] >= report["measured"]["window_open_s"]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_a_wrong_page_fails_the_drill_and_restores_the_flag(rig: Rig) -> None:
    with PageServer(rig.world, *rig.certificate, page_status=200) as healthy_looking, AlarmFollower(rig.world):
        code, out, err = rig.drill(page=healthy_looking)

    assert code == 1, out + err
    assert not rig.inverted
    report, _ = rig.report()
    assert report["result"] == "failed"
    assert "status 200, not 503" in report["reason"]
    assert "no Retry-After header" in report["reason"]
    assert report["measured"]["page_served_s"] is None
    assert report["measured"]["failback_dns_s"] is not None  # it still waited for the primary
    assert "Drill FAILED" in out
    assert f"Restored: health check {rig.world.check_id} is no longer Inverted." in out


def test_an_untrusted_certificate_fails_the_drill_and_restores_the_flag(rig: Rig, tmp_path: Path) -> None:
    other_ca, _ = self_signed_certificate(tmp_path, name="other.test")
    code, out, err = rig.drill(ca_file=other_ca)
    assert code == 1, out + err
    assert not rig.inverted
    assert "does not verify for www.detour.test" in rig.report()[0]["reason"]


def test_a_dns_switch_that_never_comes_times_out_and_restores_the_flag(rig: Rig) -> None:
    # A name server stuck on the primary, whatever the health check says.
    with AuthoritativeTestServer(rig.world.zone_id, {DOMAIN: [rig.world.primary_target]}) as stuck:
        code, out, err = rig.drill("--dns-timeout", "0.3", dns=stuck)

    assert code == 1, out + err
    assert not rig.inverted
    report, markdown = rig.report()
    assert report["result"] == "failed"
    assert report["reason"] == "timed out after 0.3 s waiting for DNS to answer the maintenance distribution"
    assert report["measured"]["dns_switch_s"] is None
    assert report["slack"] is None  # no window seen: nothing to announce
    assert "timed out after 0.3 s" in markdown
    assert "FAILED: timed out after 0.3 s waiting for DNS to answer the maintenance distribution. Restoring" in out
    assert out.index("FAILED: timed out") < out.index("Restored:")


def test_dns_counts_as_switched_only_when_every_name_server_answers_the_page(rig: Rig) -> None:
    """One of the zone's servers lags behind (stuck on the primary): the switch is not complete."""
    stuck = AuthoritativeTestServer(rig.world.zone_id, {DOMAIN: [rig.world.primary_target]})
    with stuck, AlarmFollower(rig.world):
        code, out, err = rig.run(
            "drill", "--yes", "--nameserver", rig.dns.address, "--nameserver", stuck.address,
            "--resolver", rig.dns.address, "--report-dir", str(rig.reports), *FAST, "--dns-timeout", "0.5",
        )  # fmt: skip
    assert code == 1, out + err
    assert not rig.inverted
    assert "waiting for DNS to answer the maintenance distribution" in rig.report()[0]["reason"]


def test_a_page_that_never_shows_the_incident_times_out(rig: Rig) -> None:
    """No alarm follows the flag: status.json never says unavailable and no window opens."""
    code, out, err = rig.drill("--page-timeout", "0.5")
    assert code == 1, out + err
    assert not rig.inverted
    report, _ = rig.report()
    assert "waiting for status.json to show the incident" in report["reason"]
    assert report["measured"]["page_served_s"] is not None
    assert report["measured"]["page_incident_s"] is None  # unavailable, but no incident started yet
    assert report["measured"]["window_open_s"] is None


def test_ctrl_c_mid_drill_restores_the_flag(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: drill_verb.Drill) -> None:
        assert inverted(rig.world)  # the drill is in the middle of its failover
        raise KeyboardInterrupt

    monkeypatch.setattr(drill_verb.Drill, "_incident", interrupted)
    code, out, err = rig.drill()

    assert code == 1, out + err
    assert not rig.inverted
    report, _ = rig.report()
    assert report["result"] == "interrupted"
    assert report["measured"]["page_served_s"] is not None
    assert report["measured"]["failback_dns_s"] is None  # Ctrl-C: restore, then stop waiting
    assert "Interrupted: the flag is restored" in out


def test_sigterm_mid_drill_restores_the_flag_like_ctrl_c(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    def terminated(self: drill_verb.Drill) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # a cancelled CI job; a closed terminal (SIGHUP) alike

    received: list[int] = []
    guard = signal.signal(signal.SIGTERM, lambda signum, _: received.append(signum))  # never kill pytest
    monkeypatch.setattr(drill_verb.Drill, "_incident", terminated)
    try:
        code, out, err = rig.drill("--page-timeout", "1")
        handler_after = signal.getsignal(signal.SIGTERM)
    finally:
        mine = signal.signal(signal.SIGTERM, guard)
    assert code == 1, out + err
    assert not rig.inverted
    assert (rig.report()[0]["result"], rig.report()[0]["reason"]) == ("interrupted", "interrupted (SIGTERM)")
    assert received == []  # the drill's own handler took it
    assert handler_after is mine  # and put the previous one back


def test_an_aws_error_mid_drill_still_restores_the_flag(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    def refused(self: drill_verb.Drill) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no dynamodb:Query"}}, "Query")

    monkeypatch.setattr(drill_verb.Drill, "_incident", refused)
    code, out, err = rig.drill()
    assert code == 2
    assert not rig.inverted
    assert "AccessDenied: no dynamodb:Query" in err
    assert "Restored:" in out


def test_a_refused_inversion_is_an_aws_error_and_nothing_is_left_inverted(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    real = drill_verb.session_for

    def read_only(args: Any) -> Any:
        session = real(args)

        def refuse(**_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no UpdateHealthCheck"}}, "Update")

        session.events.register("provide-client-params.route53.UpdateHealthCheck", refuse)
        return session

    monkeypatch.setattr(drill_verb, "session_for", read_only)
    monkeypatch.setattr(drill_verb, "RESTORE_RETRY_S", 0)
    code, out, err = rig.drill()
    assert code == 2
    assert "AccessDenied: no UpdateHealthCheck" in err
    assert "COULD NOT RESTORE" not in err  # it was never inverted: Route 53 says so
    assert f"Restored: health check {rig.world.check_id} is no longer Inverted." in out
    assert not rig.inverted


def test_a_failed_restore_says_what_to_run_and_exits_2(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    real = drill_verb.session_for

    def refusing_to_restore(args: Any) -> Any:
        session = real(args)

        def refuse(params: dict[str, Any], **_: Any) -> None:
            if params.get("Inverted") is False:
                raise RuntimeError("network down")

        session.events.register("provide-client-params.route53.UpdateHealthCheck", refuse)
        return session

    monkeypatch.setattr(drill_verb, "session_for", refusing_to_restore)
    monkeypatch.setattr(drill_verb, "RESTORE_RETRY_S", 0)
    try:
        code, out, err = rig.drill("--page-timeout", "0.2")
        assert code == 2, out + err
        assert rig.inverted  # really still inverted: the message must be believed
        assert "COULD NOT RESTORE" in err
        assert f"aws route53 update-health-check --health-check-id {rig.world.check_id} --no-inverted" in err
        assert out.count("Restoring the flag failed") == drill_verb.RESTORE_ATTEMPTS
        assert rig.report()[0]["result"] == "restore failed"
    finally:
        rig.world.invert(False)


def test_dry_run_prints_the_plan_and_touches_nothing(
    run: Any, world: World, page_dns: AuthoritativeTestServer, calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    code, out, err = run(
        "drill", "--dry-run", "--nameserver", page_dns.address, "--resolver", page_dns.address, "--report-dir",
        str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    assert calls == []
    assert not inverted(world)
    assert list(tmp_path.iterdir()) == []
    assert f"set Inverted on health check {world.check_id}" in out
    assert "Budget: DNS switch about 10 s x 3 = 30 s" in out
    assert "60 s TTL" in out
    assert "--dry-run: nothing was changed." in out


def test_with_several_sites_the_drill_needs_site_and_plans_for_that_one(
    run: Any, world: World, other_site: World, page_dns: AuthoritativeTestServer, calls: list[dict[str, Any]]
) -> None:
    dns = ("--nameserver", page_dns.address, "--resolver", page_dns.address)
    code, out, err = run("drill", "--dry-run", *dns)
    assert (code, out) == (2, "")
    assert f"say which: api.detour.test ({other_site.check_id}), www.detour.test ({world.check_id})" in err

    code, out, err = run("drill", "--dry-run", "--site", other_site.check_id, *dns)
    assert code == 0, err
    assert "Drill of api.detour.test (site stack detour-site-api, hub detour)" in out
    assert f"set Inverted on health check {other_site.check_id}" in out
    assert calls == []


def test_without_a_terminal_or_yes_it_refuses_and_exits_2(
    run: Any, world: World, page_dns: AuthoritativeTestServer, calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    code, _, err = run(
        "drill", "--nameserver", page_dns.address, "--resolver", page_dns.address, "--report-dir", str(tmp_path)
    )
    assert code == 2
    assert "pass --yes" in err
    assert calls == []
    assert not inverted(world)
    assert list(tmp_path.iterdir()) == []


def test_on_a_terminal_it_starts_only_when_the_domain_is_typed(
    world: World, page_dns: AuthoritativeTestServer, calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    import argparse  # noqa: PLC0415

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    args = argparse.Namespace(yes=False)
    target = drill_verb.load_target(
        argparse.Namespace(stack="detour", resolver=page_dns.address, nameserver=[page_dns.address]),
        boto3.Session(),
        boto3.client("route53"),
    )
    out, err = io.StringIO(), io.StringIO()
    assert not drill_verb.confirmed(args, target, out, err, Terminal("yes\n"))
    assert "Not confirmed: nothing was changed." in out.getvalue()
    assert drill_verb.confirmed(args, target, io.StringIO(), err, Terminal(f"{DOMAIN}\n"))
    assert calls == []


def test_an_already_inverted_check_is_not_drilled(
    run: Any, world: World, page_dns: AuthoritativeTestServer, calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    world.invert(True)
    code, out, _ = run(
        "drill", "--yes", "--nameserver", page_dns.address, "--resolver", page_dns.address, "--report-dir",
        str(tmp_path),
    )  # fmt: skip
    assert code == 1
    assert "Not drilling: the health check is already Inverted" in out
    assert calls == []
    assert inverted(world)  # left as the operator set it


def test_dns_not_on_the_primary_is_not_drilled(run: Any, world: World, calls: list[dict[str, Any]]) -> None:
    names = {DISTRIBUTION: DISTRIBUTION_ADDRESSES, DOMAIN: DISTRIBUTION_ADDRESSES}
    with AuthoritativeTestServer(world.zone_id, names) as server:
        code, out, _ = run("drill", "--yes", "--nameserver", server.address, "--resolver", server.address)
    assert code == 1
    assert "Not drilling: DNS does not answer the primary now (maintenance" in out
    assert calls == []


def test_help_documents_the_exit_codes_and_the_test_options(run: Any) -> None:
    code, out, _ = run("drill", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "Exit codes: 0 the drill passed; 1 a check failed" in text
    assert "the restore itself failed" in text
    for option in (
        "--yes",
        "--dry-run",
        "--report-dir",
        "--https-port",
        "DETOUR_DRILL_PORT",
        "--ca-file",
        "--insecure",
    ):
        assert option in text
    assert run("drill", "--poll-interval", "soon")[0] == 2


def test_the_page_port_can_come_from_the_environment(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(drill_verb, "run", lambda args, *_: seen.append(args.https_port) or 0)
    monkeypatch.setenv("DETOUR_DRILL_PORT", "8443")
    assert run("drill", "--yes")[0] == 0
    assert seen == [8443]
    monkeypatch.setenv("DETOUR_DRILL_PORT", "https")
    code, _, err = run("drill", "--yes")
    assert code == 2
    assert "--https-port" in err


def test_the_drill_is_a_detour_verb(run: Any) -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "drill" in out


def test_a_drill_is_planned_maintenance_unless_run_as_an_outage(rig: Rig) -> None:
    """By default nobody is paged and the window is not counted against availability."""
    board = NoticeBoard(rig.world.table_name, boto3.client("dynamodb"))
    with AlarmFollower(rig.world, delay_s=0.3):
        code, out, err = rig.drill()
    assert code == 0, out + err
    assert "Posted a planned-maintenance notice" in out
    assert board.current(rig.world.check_id, datetime.now(UTC)) is None  # taken down again
    (planned_window,) = rig.world.store.windows(rig.world.check_id)
    assert planned_window.planned is True

    for report in rig.reports.glob("*"):
        report.unlink()
    with AlarmFollower(rig.world, delay_s=0.3):
        code, out, err = rig.drill("--as-outage")
    assert code == 0, out + err
    assert "Posted a planned-maintenance notice" not in out
    assert rig.world.store.windows(rig.world.check_id)[0].planned is False


def test_a_failed_drill_still_takes_its_notice_down(rig: Rig) -> None:
    code, _, _ = rig.drill("--dns-timeout", "0.5")  # DNS never switches: no alarm follower either
    assert code == 1
    assert not rig.inverted
    assert (
        NoticeBoard(rig.world.table_name, boto3.client("dynamodb")).current(rig.world.check_id, datetime.now(UTC))
        is None
    )


def test_a_drill_refuses_to_start_during_planned_maintenance(rig: Rig, lambdas: LambdaRecorder) -> None:
    assert rig.run("maintenance", "on", "--message", "Upgrade.", "--yes")[0] == 0
    rig.world.invert(False)  # only the notice is up
    code, out, err = rig.drill()
    assert code == 1
    assert "a notice is up for the site" in out + err


# -- --signal: the 5xx-rate signal forced through its data (ADR 0002) ---------------------------------
#
# Route 53 follows an alarm-backed check's metric data, not the alarm's state: ErrorRateData makes the
# test world do the same for the 5xx rate (CloudWatch's evaluation of the data decides), so only the
# datapoints the drill publishes can fail the site over. Its minutes are a FastClock's, half a second each.

MINUTE = timedelta(minutes=1)


@pytest.fixture
def signalled(world: World) -> World:
    """The site with two signals (an operator's alarm and the 5xx rate: 3 minutes above 5 %); any failing
    check fails over."""
    return add_signals(world)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FastClock:
    """The minutes the drill publishes, and the world's, half a second each."""
    fast = FastClock(minute_s=0.5)
    monkeypatch.setattr(forced_rate, "clock", fast)
    return fast


@pytest.fixture
def rate_data(signalled: World, clock: FastClock) -> Iterator[ErrorRateData]:
    with ErrorRateData(signalled, clock) as data:
        yield data


@dataclass
class CloudWatchCalls:
    """What the drill sent CloudWatch on its own session: SetAlarmState and PutMetricData (each with the
    clock's time when sent; only those CloudWatch answered), and the clock's time when it stopped publishing."""

    set_alarm_state: list[dict[str, Any]]
    put_metric_data: list[tuple[datetime, dict[str, Any]]]
    stopped: list[datetime]

    def minutes(self) -> list[datetime]:
        return [d["Timestamp"] for _, params in self.put_metric_data for d in params["MetricData"]]


@pytest.fixture
def cloudwatch_calls(monkeypatch: pytest.MonkeyPatch) -> CloudWatchCalls:
    seen = CloudWatchCalls([], [], [])
    real = drill_verb.session_for
    sending: list[tuple[datetime, dict[str, Any]]] = []

    def answered(http_response: Any, **_: Any) -> None:
        if sending and http_response.status_code == 200:
            seen.put_metric_data.append(sending.pop())

    def recording(args: Any) -> Any:
        session = real(args)
        session.events.register(
            "provide-client-params.cloudwatch.SetAlarmState", lambda params, **_: seen.set_alarm_state.append(params)
        )
        session.events.register(
            "provide-client-params.cloudwatch.PutMetricData",
            lambda params, **_: sending.__setitem__(slice(None), [(forced_rate.clock(), copy.deepcopy(params))]),
        )
        session.events.register("after-call.cloudwatch.PutMetricData", answered)
        return session

    real_stop = forced_rate.RatePublisher.stop

    def stop(publisher: forced_rate.RatePublisher) -> None:
        seen.stopped.append(forced_rate.clock())
        real_stop(publisher)

    monkeypatch.setattr(drill_verb, "session_for", recording)
    monkeypatch.setattr(forced_rate.RatePublisher, "stop", stop)
    return seen


def alarm_state(name: str) -> tuple[str, str]:
    [alarm] = boto3.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm["StateValue"], alarm["StateReason"]


def published_then_stopped(data: ErrorRateData, calls: CloudWatchCalls) -> list[datetime]:
    """The minutes at 100 % as CloudWatch has them, checked against what the drill sent: consecutive, the
    site's metric and dimension, nothing sent after the drill stopped publishing, and, minutes later,
    no minute after the stop at 100 % (the error_rate function's 0 % took over). Returns the minutes."""
    assert calls.set_alarm_state == []  # the alarm is never touched
    clock = data.clock
    [stopped_at] = calls.stopped
    for sent_at, params in calls.put_metric_data:
        assert sent_at <= stopped_at
        assert params["Namespace"] == "Detour"
        for datum in params["MetricData"]:
            assert datum["MetricName"] == "TargetErrorRate"
            assert datum["Dimensions"] == [{"Name": "Site", "Value": SITE_STACK}]
            assert (datum["Value"], datum["Unit"], datum["StorageResolution"]) == (100.0, "Percent", 60)
    sent = calls.minutes()
    assert sent == [sent[0] + MINUTE * i for i in range(len(sent))]  # consecutive, each once
    clock.wait_minutes(3)
    data.evaluate()  # the error_rate function has published the minutes since
    maxima = data.maxima(clock.start - 10 * MINUTE, clock.minute() + MINUTE)
    forced = sorted(minute for minute, value in maxima.items() if value == 100.0)
    assert forced == sent
    assert forced[-1] <= stopped_at.replace(second=0, microsecond=0)
    later = [value for minute, value in maxima.items() if minute > forced[-1]]
    assert later
    assert set(later) == {0.0}  # no datapoint at 100 after the end
    return forced


def test_a_5xx_rate_drill_publishes_100_percent_fails_over_and_stops_publishing(
    rig: Rig, rate_data: ErrorRateData, calls: list[dict[str, Any]], cloudwatch_calls: CloudWatchCalls
) -> None:
    signalled = rate_data.world
    with AlarmFollower(signalled, delay_s=0.3) as alarm:
        code, out, err = rig.drill("--signal", "5xx rate")

    assert code == 0, out + err
    assert alarm.seen == ["ALARM", "OK"]
    assert calls == []  # the endpoint check is never touched
    assert not rig.inverted
    forced = published_then_stopped(rate_data, cloudwatch_calls)
    assert len(forced) >= 3  # DNS moved only once three minutes breached (ErrorRateMinutes)
    assert alarm_state(ERROR_RATE_ALARM)[0] == "OK"  # CloudWatch's own evaluation, on the function's data

    [error_rate] = [s for s in signalled.site.signals if s.alarm_name == ERROR_RATE_ALARM]
    text = " ".join(out.split())
    assert (
        "1. force signal 5xx rate (error-rate) through its data, which is what Route 53 follows (not the "
        "alarm's state): publish PutMetricData Namespace Detour MetricName TargetErrorRate Dimensions "
        f"Site={SITE_STACK} Value 100 Unit Percent StorageResolution 60 one datapoint for the current minute, then "
        "one for each following minute while steps 2-4 wait (at most 30 s: the DNS timeout and twice the page "
        "timeout); after 3 such minutes (ErrorRateMinutes, each above ErrorRatePercent 5 %) the data breaches "
        f"alarm {ERROR_RATE_ALARM}, so its health check {error_rate.health_check_id}, which follows that data, and "
        f"the failover check {signalled.failover_check} turn unhealthy (visitors get the maintenance page). Needs "
        "cloudwatch:PutMetricData on namespace Detour; the alarm itself is not touched."
    ) in text
    assert (
        "5. stop publishing (always, also on errors, timeouts and Ctrl-C): that is the restore. Detour's error_rate "
        "function's own values for the minutes after take over, and the alarm and Route 53 recover within a few "
        "minutes (2-3 once the ALB's data for the next minute is in; up to about 5 on a site without traffic, whose "
        "minutes error_rate publishes only once settled, 3 min); the minutes already published stay at 100 % (the "
        "alarm takes each minute's Maximum, so publishing 0 would not undo them). Then wait for the primary and the "
        "window to close"
    ) in text
    assert (
        "Budget: failover (DNS, page, window) about 3 min x 60 s + 180 s = 360 s (3 breaching minutes, then the "
        "metric's delay, CloudWatch's evaluation, Route 53's evaluation of the alarm's data and the one-minute "
        "HealthCheckStatus alarm)"
    ) in text
    assert "Failback within about 300 s after publishing stops, the window's close 1-3 min later." in text
    assert "Rule: the site fails over when any check fails (any of 3) (SignalsToFailOver 1)." in out
    assert "SetAlarmState" not in out
    first = f"for minute {forced[0]:%H:%M} UTC (1 of the 3 the alarm needs)"
    assert f"Published 100 % to Detour/TargetErrorRate Site={SITE_STACK} {first}" in out
    assert "DNS answers the maintenance page (127.0.0.1)" in out
    assert "Recorded cause: 5xx rate: ALARM: Threshold Crossed: 3 out of the last 3 datapoints [100.0" in out
    assert f"Restored: stopped publishing to Detour/TargetErrorRate ({len(forced)} minutes at 100 %; the last" in out
    assert "the alarm and Route 53 recover within a few minutes (2-3 once the ALB's data" in out
    assert "The minutes published stay at 100 %: the alarm takes each minute's Maximum." in out
    assert out.index("Restored: stopped publishing") < out.index("DNS answers the primary again")
    assert "The failover window closed" in out
    assert "Drill PASSED" in out

    report, markdown = rig.report()
    assert report["result"] == "passed"
    assert report["forced"] == {
        "how": "metric data",
        "health_check_id": error_rate.health_check_id,
        "signal": {"name": "error-rate", "label": "5xx rate", "kind": "error-rate"},
        "alarm_name": ERROR_RATE_ALARM,
        "published": {
            "namespace": "Detour",
            "metric_name": "TargetErrorRate",
            "dimensions": {"Site": SITE_STACK},
            "value": 100.0,
            "unit": "Percent",
            "minutes": [format_time(minute) for minute in forced],
        },
    }
    assert report["budget"]["dns_switch_s"] == 360
    assert (report["budget"]["error_rate_minutes"], report["budget"]["failback_s"]) == (3, 300)
    assert report["site_id"] == rig.world.check_id
    assert report["cause"].startswith("5xx rate: ALARM: Threshold Crossed:")
    assert all(value is not None for value in report["measured"].values()), report["measured"]
    assert (
        f"- Forced signal 5xx rate (error-rate) through its data: 100 % published to `Detour/TargetErrorRate` "
        f"`Site={SITE_STACK}` for {len(forced)} minutes ({forced[0]:%H:%M}-{forced[-1]:%H:%M} UTC)"
    ) in markdown
    assert "| DNS switch |" in markdown
    assert "| 360 s |" in markdown
    assert "the rest from the first minute published." in markdown


def test_the_test_world_fails_over_on_the_data_not_on_the_alarm_state(signalled: World) -> None:
    """What the drill tests rely on: as on AWS, SetAlarmState moves nothing; three minutes above 5 % do.
    (Its own world, on a clock of real minutes: the test publishes for the minutes it reads as now.)"""
    with ErrorRateData(signalled, FastClock(minute_s=60)) as data:
        boto3.client("cloudwatch").set_alarm_state(AlarmName=ERROR_RATE_ALARM, StateValue="ALARM", StateReason="forced")
        assert healthy(signalled.failover_check)
        assert alarm_state(ERROR_RATE_ALARM)[0] == "OK"  # CloudWatch's next evaluation, from the data
        now = data.clock.minute()
        for back in range(4):  # the current minute too, in case the next one begins meanwhile
            data.publish(now - back * MINUTE, 100.0)
        assert not healthy(signalled.failover_check)
        assert alarm_state(ERROR_RATE_ALARM)[0] == "ALARM"


@pytest.mark.parametrize("name", ["checkout-errors", SIGNAL_ALARM, "CHECKOUT-ERRORS"])
def test_an_alarm_of_the_operators_own_is_refused_and_left_alone(
    rig: Rig, signalled: World, calls: list[dict[str, Any]], cloudwatch_calls: CloudWatchCalls, name: str
) -> None:
    cloudwatch = boto3.client("cloudwatch")
    before = cloudwatch.describe_alarms(AlarmNames=[SIGNAL_ALARM])["MetricAlarms"]
    for extra in (("--dry-run",), ()):
        code, out, err = rig.drill(*extra, "--signal", name)
        assert (code, out) == (2, "")
    assert not rig.reports.exists() or list(rig.reports.iterdir()) == []
    text = " ".join(err.split())
    assert (
        f"not drilling signal checkout-errors: it is an alarm of your own ({SIGNAL_ALARM}), and a drill cannot "
        "force it. Route 53 follows the alarm's metric data, not its state: setting the alarm to ALARM "
        "(SetAlarmState) does not move its health check, so the site would never fail over."
    ) in text
    assert (
        '"Because Route 53 health checks monitor CloudWatch data streams instead of the state of CloudWatch '
        "alarms, you can't force the status of a health check to change by using the CloudWatch SetAlarmState "
        'API operation."'
    ) in text
    assert "make the alarm's metric itself breach, in a staging setup" in text
    assert "drill the endpoint: detour drill (without --signal)" in text
    assert "drill Detour's 5xx-rate signal: detour drill --signal '5xx rate'" in text
    assert f"Nothing was changed: alarm {SIGNAL_ALARM} is left as it is." in text
    assert cloudwatch.describe_alarms(AlarmNames=[SIGNAL_ALARM])["MetricAlarms"] == before  # state and config
    assert (cloudwatch_calls.set_alarm_state, cloudwatch_calls.put_metric_data, calls) == ([], [], [])
    board = NoticeBoard(signalled.table_name, boto3.client("dynamodb"))
    assert board.current(signalled.check_id, datetime.now(UTC)) is None


def test_without_a_5xx_rate_the_refusal_says_how_to_turn_it_on(
    run: Any, world: World, page_dns: AuthoritativeTestServer
) -> None:
    add_signals(world, (("checkout-errors", SignalKind.ALARM, SIGNAL_ALARM),))
    code, _, err = run("drill", "--yes", "--signal", "checkout-errors", "--nameserver", page_dns.address)
    assert code == 2
    assert "turn on ErrorRateSignal in the site stack, then detour drill --signal '5xx rate'" in " ".join(err.split())


def test_an_unknown_signal_is_a_usage_error_that_lists_the_sites_signals(
    run: Any, signalled: World, page_dns: AuthoritativeTestServer, cloudwatch_calls: CloudWatchCalls
) -> None:
    code, out, err = run("drill", "--yes", "--signal", "latency", "--nameserver", page_dns.address)
    assert (code, out) == (2, "")
    assert (
        "--signal 'latency' is not one of its signals of site www.detour.test; its signals: "
        f"checkout-errors (alarm, alarm {SIGNAL_ALARM}); 5xx rate (error-rate, alarm {ERROR_RATE_ALARM})"
    ) in err
    assert (cloudwatch_calls.set_alarm_state, cloudwatch_calls.put_metric_data) == ([], [])


def test_signal_on_a_site_without_signals_is_a_usage_error(
    run: Any, world: World, page_dns: AuthoritativeTestServer, calls: list[dict[str, Any]]
) -> None:
    code, out, err = run("drill", "--yes", "--signal", "5xx rate", "--nameserver", page_dns.address)
    assert (code, out) == (2, "")
    assert "site www.detour.test has no failover signals" in err
    assert "drill it without --signal" in err
    assert calls == []


def test_a_5xx_rate_drill_that_times_out_stops_publishing(
    rig: Rig, rate_data: ErrorRateData, clock: FastClock, cloudwatch_calls: CloudWatchCalls
) -> None:
    with AuthoritativeTestServer(rig.world.zone_id, {DOMAIN: [rig.world.primary_target]}) as stuck:
        code, out, err = rig.drill("--signal", "error-rate", "--dns-timeout", "1.5", dns=stuck)
    assert code == 1, out + err
    assert (
        "FAILED: timed out after 1.5 s waiting for DNS to answer the maintenance distribution. "
        "Stopping the 100 % publication."
    ) in out
    assert out.index("FAILED: timed out") < out.index("Restored: stopped publishing")
    assert len(published_then_stopped(rate_data, cloudwatch_calls)) >= 3
    assert rig.report()[0]["result"] == "failed"


def test_ctrl_c_mid_5xx_rate_drill_stops_publishing(
    rig: Rig, rate_data: ErrorRateData, cloudwatch_calls: CloudWatchCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    signalled = rate_data.world
    seen: list[bool] = []

    def interrupted(self: drill_verb.Drill) -> None:
        seen.append(healthy(signalled.failover_check))  # the drill is in the middle of its failover
        raise KeyboardInterrupt

    monkeypatch.setattr(drill_verb.Drill, "_incident", interrupted)
    code, out, err = rig.drill("--signal", "5xx rate")
    assert code == 1, out + err
    assert seen == [False]
    assert "Interrupted (Ctrl-C): stopping the 100 % publication." in out
    assert "Interrupted: publishing has stopped; not waiting for the failback." in out
    assert len(published_then_stopped(rate_data, cloudwatch_calls)) >= 3
    assert healthy(signalled.failover_check)  # the function's 0 % took over
    assert rig.report()[0]["result"] == "interrupted"


def test_ctrl_c_while_publishing_stops_publishing(
    rig: Rig,
    rate_data: ErrorRateData,
    clock: FastClock,
    cloudwatch_calls: CloudWatchCalls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C lands in the second PutMetricData (while botocore sends it): nothing is published after it."""
    real = drill_verb.session_for
    sent: list[int] = []

    def interrupting(args: Any) -> Any:
        session = real(args)

        def before(**_: Any) -> None:
            sent.append(1)
            if len(sent) == 2:
                raise KeyboardInterrupt

        session.events.register("before-call.cloudwatch.PutMetricData", before)
        return session

    monkeypatch.setattr(drill_verb, "session_for", interrupting)
    code, out, err = rig.drill("--signal", "5xx rate")
    assert code == 1, out + err
    assert len(sent) == 2
    assert "Interrupted (Ctrl-C): stopping the 100 % publication." in out
    assert "Restored: stopped publishing to Detour/TargetErrorRate (1 minute at 100 %; the last was" in out
    assert len(published_then_stopped(rate_data, cloudwatch_calls)) == 1


def test_an_aws_error_mid_5xx_rate_drill_still_stops_publishing(
    rig: Rig, rate_data: ErrorRateData, cloudwatch_calls: CloudWatchCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: drill_verb.Drill) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no dynamodb:Query"}}, "Query")

    monkeypatch.setattr(drill_verb.Drill, "_incident", refused)
    code, out, err = rig.drill("--signal", "5xx rate")
    assert code == 2
    assert "AccessDenied: no dynamodb:Query" in err
    assert "Restored: stopped publishing" in out
    assert len(published_then_stopped(rate_data, cloudwatch_calls)) >= 3


def test_a_refused_publication_is_an_aws_error_and_nothing_is_left_publishing(
    rig: Rig,
    rate_data: ErrorRateData,
    clock: FastClock,
    cloudwatch_calls: CloudWatchCalls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = drill_verb.session_for

    def denying(args: Any) -> Any:
        session = real(args)

        def deny(**_: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "no cloudwatch:PutMetricData"}}, "PutMetricData"
            )

        session.events.register("before-call.cloudwatch.PutMetricData", deny)
        return session

    monkeypatch.setattr(drill_verb, "session_for", denying)
    code, out, err = rig.drill("--signal", "5xx rate")
    assert code == 2
    assert "AWS error: AccessDenied: no cloudwatch:PutMetricData" in err
    assert "Restored: stopped publishing to Detour/TargetErrorRate (0 minutes at 100 %)." in out
    assert len(cloudwatch_calls.stopped) == 1
    clock.wait_minutes(3)
    rate_data.evaluate()
    assert set(rate_data.maxima(clock.start - 10 * MINUTE, clock.minute() + MINUTE).values()) == {0.0}


@pytest.mark.parametrize("extra", [(), ("--signal", "5xx rate")])
def test_a_site_that_needs_two_failing_checks_is_not_drilled(
    rig: Rig, calls: list[dict[str, Any]], cloudwatch_calls: CloudWatchCalls, extra: tuple[str, ...]
) -> None:
    add_signals(rig.world, signals_to_fail_over=2)
    code, out, _ = rig.drill(*extra)
    assert code == 1
    assert "Not drilling: the site fails over when 2 of 3 checks fail (SignalsToFailOver 2): " in out
    assert ("forcing one signal alone" if extra else "inverting the endpoint check alone") in out
    assert (calls, cloudwatch_calls.set_alarm_state, cloudwatch_calls.put_metric_data) == ([], [], [])


def test_a_5xx_rate_already_failing_is_not_drilled(
    rig: Rig, rate_data: ErrorRateData, clock: FastClock, cloudwatch_calls: CloudWatchCalls
) -> None:
    now = clock.minute()
    for back in range(4):  # a real 5xx outage: the last minutes above 5 % (the current one: a minute may begin)
        rate_data.publish(now - back * MINUTE, 40.0)
    assert rate_data.evaluate().new_state == "ALARM"
    code, out, _ = rig.drill("--signal", "5xx rate")
    assert code == 1
    assert f"Not drilling: signal 5xx rate is already failing (alarm {ERROR_RATE_ALARM} is in ALARM)." in out
    assert cloudwatch_calls.put_metric_data == []


def test_a_5xx_rate_without_data_is_not_drilled(rig: Rig, signalled: World, cloudwatch_calls: CloudWatchCalls) -> None:
    """No data: error_rate is not publishing, so nothing would bring the alarm back after the drill."""
    boto3.client("cloudwatch").set_alarm_state(
        AlarmName=ERROR_RATE_ALARM, StateValue="INSUFFICIENT_DATA", StateReason="Insufficient Data"
    )
    code, out, _ = rig.drill("--signal", "5xx rate")
    assert code == 1
    assert f"Not drilling: alarm {ERROR_RATE_ALARM} is INSUFFICIENT_DATA: it has no recent datapoint" in out
    assert "the site would stay on the maintenance page" in " ".join(out.split())
    assert cloudwatch_calls.put_metric_data == []


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"Threshold": 100.0}, "(GreaterThanThreshold 100) is not breached by a rate of 100 %, the most there is"),
        ({"MetricName": "Other"}, "watches Detour/Other Site=detour-site-www, not Detour/TargetErrorRate"),
        ({"Dimensions": [{"Name": "Site", "Value": "x"}]}, "watches Detour/TargetErrorRate Site=x, not"),
    ],
)
def test_a_5xx_rate_alarm_the_data_cannot_breach_is_not_drilled(
    rig: Rig, signalled: World, cloudwatch_calls: CloudWatchCalls, change: dict[str, Any], refusal: str
) -> None:
    cloudwatch = boto3.client("cloudwatch")
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[ERROR_RATE_ALARM])["MetricAlarms"]
    kept = ("AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods",
            "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData")  # fmt: skip
    cloudwatch.put_metric_alarm(**({k: alarm[k] for k in kept} | change))
    code, out, _ = rig.drill("--signal", "5xx rate")
    assert code == 1
    assert f"Not drilling: alarm {ERROR_RATE_ALARM} " in out
    assert refusal in out
    assert cloudwatch_calls.put_metric_data == []


def test_the_dns_timeout_covers_the_5xx_rates_minutes(
    run: Any, world: World, page_dns: AuthoritativeTestServer
) -> None:
    add_signals(world, error_rate_minutes=10, error_rate_percent=12.5)
    dns = ("--nameserver", page_dns.address, "--resolver", page_dns.address)
    code, out, err = run("drill", "--dry-run", "--signal", "5xx rate", *dns)
    assert code == 0, err
    text = " ".join(out.split())
    assert "after 10 such minutes (ErrorRateMinutes, each above ErrorRatePercent 12.5 %)" in text
    assert "Budget: failover (DNS, page, window) about 10 min x 60 s + 180 s = 780 s" in text
    assert "Timeouts: DNS 960 s, page and window 600 s, failback 900 s." in text
    assert "(at most 2160 s: the DNS timeout and twice the page timeout)" in text
    code, out, err = run("drill", "--dry-run", "--signal", "5xx rate", "--dns-timeout", "300", *dns)
    assert "Timeouts: DNS 300 s," in out
    code, out, err = run("drill", "--dry-run", *dns)
    assert "Timeouts: DNS 600 s," in out


def test_a_plain_drill_inverts_the_endpoint_check_not_the_sites_first_one(
    rig: Rig, world: World, calls: list[dict[str, Any]]
) -> None:
    """ADR 0002: after a replaced endpoint check the site keeps its id; the drill inverts the new check,
    through the calculated check the records watch, and reads the window under the site's id."""
    signalled = add_signals(world, replace_endpoint_check=True)
    with AlarmFollower(signalled, delay_s=0.2):
        code, out, err = rig.drill()
    assert code == 0, out + err
    assert calls == [
        {"HealthCheckId": signalled.endpoint_check, "Inverted": True},
        {"HealthCheckId": signalled.endpoint_check, "Inverted": False},
    ]
    report, _ = rig.report()
    assert (report["health_check_id"], report["site_id"]) == (signalled.endpoint_check, world.check_id)
    assert report["forced"] == {"how": "inverted", "health_check_id": signalled.endpoint_check, "signal": None}
    assert report["window"]["ended_at"] is not None
    assert report["cause"].startswith("endpoint probe: ") or report["cause"].startswith("no check was failing")


def test_help_documents_signal(run: Any) -> None:
    code, out, _ = run("drill", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "--signal NAME" in text
    assert "'5xx rate'" in text
    assert "100% is published into its metric each minute while the drill waits, and no more once it ends" in text
    assert "Route 53 follows an alarm-backed check's metric data, not the alarm's state" in text
    assert "PutMetricData: namespace Detour, metric TargetErrorRate, dimension Site=<site stack>" in text
    assert "stops publishing when it ends, always (also on errors, timeouts and Ctrl-C)" in text
    assert "It needs cloudwatch:PutMetricData on namespace Detour." in text
    assert "An alarm of your own as --signal is refused (exit 2) and left alone" in text
    assert "SetAlarmState API operation" in text
    assert "(verify)" not in text
    assert "sets it back to OK" not in text


def test_a_site_whose_failover_check_is_inverted_is_not_drilled(
    rig: Rig, signalled: World, cloudwatch_calls: CloudWatchCalls
) -> None:
    """Planned maintenance of a site with signals inverts its failover check: no drill on top of it."""
    boto3.client("route53").update_health_check(HealthCheckId=signalled.failover_check, Inverted=True)
    code, out, _ = rig.drill("--signal", "5xx rate")
    assert code == 1
    assert (
        f"Not drilling: the failover check {signalled.failover_check} (what the records watch) is Inverted "
        "(planned maintenance in progress?)"
    ) in out
    assert (cloudwatch_calls.set_alarm_state, cloudwatch_calls.put_metric_data) == ([], [])

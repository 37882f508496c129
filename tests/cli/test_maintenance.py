"""`detour maintenance on|off` against the stack in moto: the notice, the inverted check, and what the
functions then make of the transition (planned)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from detour.incidents.notices import NoticeBoard, SiteNotice, during_maintenance
from detour.incidents.posting import UpdateTargets
from detour.incidents.updates import Source, Stage, UpdateLog
from tests.cli.dns_server import healthy
from tests.cli.lambda_recorder import LambdaRecorder
from tests.cli.test_update import CALLER
from tests.cli.world import NOTIFY_SLACK, REFRESH_PAGE, World, add_signals
from tests.support.transitions import transition

pytestmark = pytest.mark.usefixtures("lambdas")  # refresh_page and notify_slack, invoked on loopback


def inverted(world: World) -> bool:
    check = boto3.client("route53").get_health_check(HealthCheckId=world.check_id)["HealthCheck"]
    return bool(check["HealthCheckConfig"].get("Inverted"))


def notice(world: World) -> Any:
    return NoticeBoard(world.table_name, boto3.client("dynamodb")).current(world.check_id, datetime.now(UTC))


def test_on_posts_a_planned_notice_then_inverts_the_check(world: World, run: Any) -> None:
    code, out, _ = run("maintenance", "on", "--message", "Database upgrade.", "--until", "2h", "--yes")
    assert code == 0
    assert inverted(world)
    posted = notice(world)
    assert (posted.message, posted.planned) == ("Database upgrade.", True)
    assert timedelta(hours=1, minutes=59) < posted.until - datetime.now(UTC) <= timedelta(hours=2)
    assert "Route 53 moves www.detour.test to the maintenance page in about 30 s" in " ".join(out.split())

    code, out, _ = run("maintenance", "off", "--yes")
    assert code == 0
    assert not inverted(world)
    assert notice(world) is None


def test_transitions_are_marked_planned_only_while_maintenance_is_on(world: World, run: Any) -> None:
    """What each function does with a transition before recording it."""
    board = NoticeBoard(world.table_name, boto3.client("dynamodb"))
    alarm = replace(transition("ALARM", 0, site=world.check_id), changed_at=datetime.now(UTC) + timedelta(minutes=2))
    assert during_maintenance(alarm, board).planned is False
    run("maintenance", "on", "--message", "Upgrade.", "--yes")  # the ALARM it causes comes after this
    assert during_maintenance(alarm, board).planned is True
    run("maintenance", "off", "--yes")
    assert during_maintenance(alarm, board).planned is False


def test_usage_errors_change_nothing(world: World, run: Any) -> None:
    assert run("maintenance", "on", "--yes")[0] == 2  # no message
    assert run("maintenance", "on", "--message", "x" * 501, "--yes")[0] == 2
    assert run("maintenance", "on", "--message", "m", "--until", "2026-01-01T00:00", "--yes")[0] == 2
    assert run("maintenance", "off", "--message", "m", "--yes")[0] == 2
    assert not inverted(world)
    assert notice(world) is None


def test_without_a_terminal_it_asks_for_yes(world: World, run: Any) -> None:
    code, _, err = run("maintenance", "on", "--message", "Upgrade.")
    assert code == 2
    assert "pass --yes" in err
    assert not inverted(world)


def test_a_failed_invert_takes_the_notice_back(world: World, run: Any, monkeypatch: Any) -> None:
    """A planned notice left behind would mark the next real outage planned."""
    from detour_cli import maintenance  # noqa: PLC0415

    real_session_for = maintenance.session_for

    class RefusingRoute53:
        def __init__(self, client: Any) -> None:
            self._client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

        def update_health_check(self, **kwargs: Any) -> Any:
            from botocore.exceptions import ClientError  # noqa: PLC0415

            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "UpdateHealthCheck")

    def session_for(args: Any) -> Any:
        session = real_session_for(args)
        client = session.client
        session.client = lambda name, **kw: (
            RefusingRoute53(client(name, **kw)) if name == "route53" else client(name, **kw)
        )
        return session

    monkeypatch.setattr(maintenance, "session_for", session_for)
    code, _, err = run("maintenance", "on", "--message", "Upgrade.", "--yes")
    assert code == 2
    assert "AccessDenied" in err
    assert notice(world) is None
    assert not inverted(world)


def test_an_until_too_soon_for_the_alarm_is_refused(world: World, run: Any) -> None:
    code, _, err = run("maintenance", "on", "--message", "Quick fix.", "--until", "1m", "--yes")
    assert code == 2
    assert "--until is too soon" in err
    assert notice(world) is None


def test_a_transition_from_before_maintenance_began_is_not_planned(world: World, run: Any) -> None:
    """An outage's ALARM redriven from a dead-letter queue after `on` stays what it was."""
    board = NoticeBoard(world.table_name, boto3.client("dynamodb"))
    run("maintenance", "on", "--message", "Upgrade.", "--yes")
    before = replace(transition("ALARM", 0, site=world.check_id), changed_at=datetime.now(UTC) - timedelta(hours=1))
    assert during_maintenance(before, board).planned is False


def people_updates(world: World) -> list[Any]:
    log = UpdateLog(world.table_name, boto3.client("dynamodb"))
    return [u for u in log.timeline(world.check_id, limit=50).updates if u.source is not Source.ALARM]


def test_on_and_off_post_in_progress_and_completed_to_the_timeline(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    code, out, _ = run("maintenance", "on", "--message", "Database upgrade.", "--until", "2h", "--yes")
    assert code == 0
    assert "timeline update posted (in_progress)" in out
    [started] = people_updates(world)
    assert (started.stage, started.message, started.source, started.author) == (
        Stage.IN_PROGRESS,
        "Database upgrade.",
        Source.CLI,
        CALLER,
    )
    assert lambdas.events(NOTIFY_SLACK) == [
        {"detour": "update-posted", "site_id": world.check_id, "update": started.key}
    ]
    assert lambdas.events(REFRESH_PAGE) == [{"detour": "refresh", "site_id": world.check_id, "reason": "update"}]

    code, out, _ = run("maintenance", "off", "--yes")
    assert code == 0
    assert "timeline update posted (completed)" in out
    ended, _ = people_updates(world)
    assert (ended.stage, ended.source, ended.author) == (Stage.COMPLETED, Source.CLI, CALLER)
    assert lambdas.events(NOTIFY_SLACK)[-1]["update"] == ended.key

    code, out, _ = run("maintenance", "off", "--yes")  # again: nothing was on, nothing posted
    assert code == 0
    assert "nothing was on" in out
    assert len(people_updates(world)) == 2
    assert len(lambdas.events(NOTIFY_SLACK)) == 2


def test_a_failed_invert_posts_nothing(world: World, run: Any, lambdas: LambdaRecorder, monkeypatch: Any) -> None:
    from detour.incidents import maintenance as planned_maintenance  # noqa: PLC0415

    class Refusing:
        def update_health_check(self, **kwargs: Any) -> Any:
            raise RuntimeError("refused")

    maintenance = _maintenance(world, route53=Refusing())
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError, match="refused"):
        planned_maintenance.start(
            maintenance, SiteNotice("Upgrade.", planned=True, since=now), author="U1", source=Source.SLACK, now=now
        )
    assert notice(world) is None
    assert people_updates(world) == []
    assert lambdas.invocations == []


def test_the_layer_does_the_same_for_slack(world: World, lambdas: LambdaRecorder) -> None:
    """/detour maintenance on|off: the same steps with Slack's author and source, the caller's clients."""
    from detour.incidents import maintenance as planned_maintenance  # noqa: PLC0415

    maintenance = _maintenance(world, route53=boto3.client("route53"))
    now = datetime.now(UTC)
    posted = planned_maintenance.start(
        maintenance,
        SiteNotice("Upgrade.", planned=True, since=now, until=now + timedelta(hours=1)),
        author="U0OPERATOR",
        source=Source.SLACK,
        now=now,
    )
    assert posted.new
    assert (posted.update.source, posted.update.author) == (Source.SLACK, "U0OPERATOR")
    assert inverted(world)
    assert notice(world).planned
    ended = planned_maintenance.end(maintenance, author="U0OPERATOR", source=Source.SLACK, now=datetime.now(UTC))
    assert ended.was_on
    assert ended.posted is not None
    assert ended.posted.update.stage is Stage.COMPLETED
    assert not inverted(world)
    assert notice(world) is None
    assert [u.stage for u in people_updates(world)] == [Stage.COMPLETED, Stage.IN_PROGRESS]


def test_maintenance_is_on_even_when_the_page_cannot_be_asked_and_it_says_so(
    world: World, run: Any, monkeypatch: Any
) -> None:
    with LambdaRecorder(refuse=True) as refusing:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", refusing.url)
        code, _, err = run("maintenance", "on", "--message", "Upgrade.", "--yes")
    assert code == 2
    assert "planned maintenance is on" in err
    assert "its timeline update is stored, but the page and Slack could not be asked" in err
    assert inverted(world)
    assert notice(world) is not None
    assert [u.stage for u in people_updates(world)] == [Stage.IN_PROGRESS]


def _maintenance(world: World, route53: Any) -> Any:
    from detour.incidents import maintenance as planned_maintenance  # noqa: PLC0415

    return planned_maintenance.Maintenance(
        site_id=world.check_id,
        table_name=world.table_name,
        targets=UpdateTargets(refresh_page=REFRESH_PAGE, notify_slack=NOTIFY_SLACK),
        dynamodb=boto3.client("dynamodb"),
        route53=route53,
        lambda_client=boto3.client("lambda"),
    )


def test_on_twice_within_a_minute_posts_one_update(world: World, run: Any, lambdas: LambdaRecorder) -> None:
    assert run("maintenance", "on", "--message", "Upgrade.", "--yes")[0] == 0
    code, out, _ = run("maintenance", "on", "--message", "Upgrade.", "--yes")
    assert code == 0
    assert "timeline update already posted at" in out
    assert [u.stage for u in people_updates(world)] == [Stage.IN_PROGRESS]


def test_on_during_an_outage_is_refused_and_changes_nothing(world: World, run: Any) -> None:
    world.transition("ALARM", datetime.now(UTC) - timedelta(minutes=4))
    code, _, err = run("maintenance", "on", "--message", "Upgrading the database.", "--yes")
    assert code == 2
    assert "an outage is open since" in err
    assert "send visitors back to it" in err
    assert not inverted(world)
    assert notice(world) is None


def test_with_several_sites_maintenance_is_for_the_site_named_and_no_other(
    world: World, other_site: World, run: Any, lambdas: LambdaRecorder
) -> None:
    code, _, err = run("maintenance", "on", "--message", "Upgrade.", "--yes")
    assert code == 2
    assert f"say which: api.detour.test ({other_site.check_id}), www.detour.test ({world.check_id})" in err
    assert not inverted(world)
    assert not inverted(other_site)

    code, out, _ = run("maintenance", "on", "--site", "detour-site-api", "--message", "Upgrade.", "--yes")
    assert code == 0
    assert "Planned maintenance of api.detour.test" in out
    assert inverted(other_site)
    assert not inverted(world)
    assert notice(other_site).planned
    assert notice(world) is None
    assert lambdas.events(REFRESH_PAGE) == [{"detour": "refresh", "site_id": other_site.check_id, "reason": "update"}]

    assert run("maintenance", "off", "--site", "api.detour.test", "--yes")[0] == 0
    assert not inverted(other_site)


def test_a_site_with_signals_inverts_its_failover_check_and_keys_its_notice_by_site(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    """ADR 0002: maintenance inverts what the failover records watch (the calculated check), so it fails
    over whatever SignalsToFailOver says; the notice and timeline stay under the site's id."""
    signalled = add_signals(world, replace_endpoint_check=True, signals_to_fail_over=2)
    route53 = boto3.client("route53")

    def flag(check_id: str) -> bool:
        return bool(route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]["Inverted"])

    code, out, _ = run("maintenance", "on", "--message", "Database upgrade.", "--yes")
    assert code == 0
    assert f"The failover check (calculated) {signalled.failover_check} will be inverted" in " ".join(out.split())
    assert flag(signalled.failover_check)
    assert not flag(signalled.endpoint_check)
    assert not flag(world.check_id)  # the site's first check: no longer what probes the primary
    assert not healthy(signalled.failover_check)  # 2 of 3 needed, none failing: moved all the same
    assert f"health check {signalled.failover_check} inverted" in out
    assert notice(world) is not None  # under SITE#<site id>
    assert lambdas.events(REFRESH_PAGE) == [{"detour": "refresh", "site_id": world.check_id, "reason": "update"}]

    code, out, _ = run("maintenance", "off", "--yes")
    assert code == 0
    assert not flag(signalled.failover_check)
    assert healthy(signalled.failover_check)
    assert notice(world) is None


def test_signals_added_during_maintenance_still_end_it_on_the_check_that_was_inverted(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    """Maintenance began on a site without signals (its endpoint check inverted); the site then got a
    calculated check in front. Ending it must not leave the endpoint check inverted, or the site would
    stay on its page while everyone is told maintenance is over."""
    code, _, _ = run("maintenance", "on", "--message", "Database upgrade.", "--yes")
    assert code == 0
    assert inverted(world)
    signalled = add_signals(world)  # the site's deploy with signals, during maintenance
    route53 = boto3.client("route53")

    code, _, _ = run("maintenance", "off", "--yes")
    assert code == 0
    for check_id in (world.check_id, signalled.failover_check):
        assert not route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]["Inverted"]
    assert notice(world) is None

"""`detour maintenance on|off` against the stack in moto: the notice, the inverted check, and what the
functions then make of the transition (planned)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from detour.site_notice import NoticeBoard, during_maintenance
from tests.cli.world import World
from tests.support.transitions import transition


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

"""What `/detour` asks for, and who may ask it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detour.incidents.maintenance import parse_until
from detour.incidents.updates import MAX_MESSAGE_CHARS, Stage
from detour.slack.commands import USAGE, Command, CommandError, Permissions, Verb, Verdict, parse_command
from detour.slack.request import SlackAsk

ALICE, MALLORY, CHANNEL = "U0ALICE", "U0MALLORY", "C0INCIDENT"


def ask(text: str, *, user: str = ALICE, channel: str = CHANNEL, kind: str = "command") -> SlackAsk:
    return SlackAsk(kind=kind, user_id=user, channel_id=channel, text=text, trigger_id="1.2.3", response_url="u")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Command(Verb.HELP)),
        ("help", Command(Verb.HELP)),
        ("status", Command(Verb.STATUS)),
        ("STATUS", Command(Verb.STATUS)),
        ("update Found the cause", Command(Verb.UPDATE, message="Found the cause")),
        (
            "update identified Found the cause",
            Command(Verb.UPDATE, "Found the cause", Stage.IDENTIFIED, unstaged="identified Found the cause"),
        ),
        (
            "update In-Progress swapping disks",
            Command(Verb.UPDATE, "swapping disks", Stage.IN_PROGRESS, unstaged="In-Progress swapping disks"),
        ),
        (
            "update identified\nline one\nline two",
            Command(Verb.UPDATE, "line one\nline two", Stage.IDENTIFIED, unstaged="identified\nline one\nline two"),
        ),
        ("update resolved", Command(Verb.UPDATE, message="resolved")),  # a stage word alone is the message
        ("update Identifying the cause", Command(Verb.UPDATE, message="Identifying the cause")),
        ("update Resolving DNS is slow", Command(Verb.UPDATE, message="Resolving DNS is slow")),
        ("update Complete outage in EU", Command(Verb.UPDATE, message="Complete outage in EU")),
        (
            "update  monitoring   spaced  out ",
            Command(Verb.UPDATE, "spaced  out", Stage.MONITORING, unstaged="monitoring   spaced  out"),
        ),
        ("maintenance on Upgrading the database", Command(Verb.MAINTENANCE_ON, "Upgrading the database")),
        ("maintenance on Upgrading until 2h", Command(Verb.MAINTENANCE_ON, "Upgrading", until="2h")),
        ("maintenance off", Command(Verb.MAINTENANCE_OFF)),
    ],
)
def test_commands_are_parsed(text: str, command: Command) -> None:
    assert parse_command(ask(text)) == command


def test_a_message_shortcut_posts_the_message_as_a_person_reads_it() -> None:
    text = "  Rolled back &amp; <@U0BOB> is watching <https://grafana.example/d/1|the dashboard>  "
    assert parse_command(ask(text, kind="shortcut")) == Command(
        Verb.UPDATE, message="Rolled back & @someone is watching the dashboard (https://grafana.example/d/1)"
    )


def test_the_500_characters_are_counted_as_read_not_as_slack_escapes_them() -> None:
    assert len(parse_command(ask("update " + "&amp;" * 500)).message) == 500


def test_a_stage_that_does_not_fit_the_incident_is_words() -> None:
    command = parse_command(ask("update Scheduled jobs are failing"))
    assert command.stage is Stage.SCHEDULED
    assert command.fitting((Stage.INVESTIGATING, Stage.RESOLVED)) == Command(
        Verb.UPDATE, message="Scheduled jobs are failing"
    )
    assert command.fitting((Stage.SCHEDULED,)) is command


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("update", "needs a message"),
        ("maintenance", "takes `on <message>"),
        ("maintenance off now", "takes `on <message>"),
        ("maintenance on", "needs a message"),
        ("deploy prod", "`deploy` is not a /detour command"),
        ("update resolvd all good now", "`resolvd` looks like the stage `resolved`"),
        ("update Monitorng the fix", "`Monitorng` looks like the stage `monitoring`"),
        ("update " + "x" * (MAX_MESSAGE_CHARS + 1), f"has {MAX_MESSAGE_CHARS + 1} characters"),
    ],
)
def test_mistakes_are_answered_with_what_to_do(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=says):
        parse_command(ask(text))


def test_the_usage_names_every_stage() -> None:
    assert all(stage.value in USAGE for stage in Stage)


def test_ten_thousand_characters_are_refused_not_truncated() -> None:
    with pytest.raises(CommandError, match="10007 characters"):
        parse_command(ask("update " + "é" * 10_007))


PERMISSIONS = Permissions.parse(f"{ALICE},S0ONCALL", "C0OTHER", default_channel=CHANNEL)


def test_an_allowed_user_may_change_things_in_an_allowed_channel() -> None:
    for channel in (CHANNEL, "C0OTHER"):
        assert (
            PERMISSIONS.verdict(ask("update x", channel=channel), parse_command(ask("update x")))[0] is Verdict.ALLOWED
        )


def test_status_is_open_to_the_channel_but_changes_are_not() -> None:
    status, update = parse_command(ask("status")), parse_command(ask("update x"))
    assert PERMISSIONS.verdict(ask("status", user=MALLORY), status)[0] is Verdict.ALLOWED
    only_users = Permissions.parse(ALICE, "", default_channel=CHANNEL)
    verdict, answer = only_users.verdict(ask("update x", user=MALLORY), update)
    assert verdict is Verdict.REFUSED
    assert "SlackUpdaters" in answer
    assert "Nothing changed" in answer


def test_another_channel_is_refused_even_for_status() -> None:
    verdict, answer = PERMISSIONS.verdict(ask("status", channel="C0RANDOM"), parse_command(ask("status")))
    assert verdict is Verdict.REFUSED
    assert "incident channel" in answer


def test_a_user_not_listed_is_looked_up_in_the_allowed_groups() -> None:
    update = parse_command(ask("update x"))
    assert PERMISSIONS.verdict(ask("update x", user=MALLORY), update)[0] is Verdict.ASK_GROUPS
    looked_up: list[str] = []

    def members(group: str) -> frozenset[str]:
        looked_up.append(group)
        return frozenset({"U0BOB"})

    assert PERMISSIONS.verdict_with_groups(ask("update x", user="U0BOB"), update, members)[0] is Verdict.ALLOWED
    assert PERMISSIONS.verdict_with_groups(ask("update x", user=MALLORY), update, members)[0] is Verdict.REFUSED
    assert looked_up == ["S0ONCALL", "S0ONCALL"]


def test_nobody_may_change_anything_by_default() -> None:
    nobody = Permissions.parse("", "", default_channel=CHANNEL)
    assert nobody.verdict(ask("update x"), parse_command(ask("update x")))[0] is Verdict.REFUSED


@pytest.mark.parametrize("updaters", ["alice", "U0ALICE,", "U0 ALICE", "<@U0ALICE>"])
def test_a_malformed_allow_list_is_a_clear_error(updaters: str) -> None:
    if updaters == "U0ALICE,":  # a trailing comma is harmless
        assert Permissions.parse(updaters, "").users == {"U0ALICE"}
        return
    with pytest.raises(ValueError, match="not Slack ids"):
        Permissions.parse(updaters, "")


@pytest.mark.parametrize(
    ("text", "hours"), [("2h", 2.0), ("+30m", 0.5), ("1.5d", 36.0), ("2026-11-22T04:30+00:00", None)]
)
def test_until_reads_what_operators_type(text: str, hours: float | None) -> None:
    now = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    expected = now + timedelta(hours=hours) if hours is not None else datetime(2026, 11, 22, 4, 30, tzinfo=UTC)
    assert parse_until(text, now) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [("tomorrow", "not 2h"), ("2026-11-22T04:30", "needs a UTC offset"), ("2026-11-20T04:30+00:00", "in the past")],
)
def test_until_refuses_what_it_cannot_read(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_until(text, datetime(2026, 11, 21, 2, 0, tzinfo=UTC))

"""What `/detour` asks for, and who may ask it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from detour.incidents.maintenance import parse_until
from detour.incidents.sites import RegisteredSite, SiteChoiceError
from detour.incidents.updates import MAX_MESSAGE_CHARS, Stage
from detour.slack.commands import (
    USAGE,
    Command,
    CommandError,
    Permissions,
    Verb,
    Verdict,
    parse_command,
    site_for,
    site_names,
)
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


# ------------------------------------------------------------------------------------ which site

SHOP = RegisteredSite(
    site_id="hc-shop",
    domain="shop.example.com",
    site_name="Shop",
    alarm_name="detour/detour-site-shop/primary-health",
    distribution_id="E1",
    page_url="https://d1.cloudfront.net/",
    stack_name="detour-site-shop",
    default_message="Back soon.",
    slack_channel="C0SHOP001",
)
API = replace(
    SHOP, site_id="hc-api", domain="api.example.com", site_name="API", stack_name="detour-site-api", slack_channel=""
)
DOCS = replace(
    SHOP,
    site_id="hc-docs",
    domain="docs.example.com",
    site_name="Docs",
    stack_name="detour-site-docs",
    slack_channel="",
)
NAMES = site_names([SHOP, API, DOCS])


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (
            "shop.example.com update identified Payment is back",
            Command(
                Verb.UPDATE,
                "Payment is back",
                Stage.IDENTIFIED,
                unstaged="identified Payment is back",
                site="shop.example.com",
            ),
        ),
        ("SHOP.Example.com. status", Command(Verb.STATUS, site="SHOP.Example.com.")),
        ("hc-api maintenance off", Command(Verb.MAINTENANCE_OFF, site="hc-api")),
        (
            "detour-site-docs maintenance on Reindexing until 1h",
            Command(Verb.MAINTENANCE_ON, "Reindexing", until="1h", site="detour-site-docs"),
        ),
        ("Shop update Back", Command(Verb.UPDATE, "Back", site="Shop")),
        ("api.example.com", Command(Verb.STATUS, site="api.example.com")),  # a site alone: its status
        ("api.example.com help", Command(Verb.HELP, site="api.example.com")),
        ("update shop.example.com is back", Command(Verb.UPDATE, "shop.example.com is back")),  # a verb first: words
    ],
)
def test_a_leading_site_word_is_the_site(text: str, command: Command) -> None:
    assert parse_command(ask(text), NAMES) == command


def test_a_word_that_is_neither_verb_nor_site_is_a_mistake() -> None:
    with pytest.raises(CommandError, match="`shopp` is not a /detour command, nor a site's name"):
        parse_command(ask("shopp update x"), NAMES)
    with pytest.raises(CommandError, match="not a /detour command"):
        parse_command(ask("shop.example.com"))  # no registered names: no site word


def test_a_site_word_keeps_the_stage_rules() -> None:
    command = parse_command(ask("shop.example.com update Scheduled jobs are failing"), NAMES)
    assert command.fitting((Stage.INVESTIGATING,)) == Command(
        Verb.UPDATE, message="Scheduled jobs are failing", site="shop.example.com"
    )


def test_the_site_word_picks_the_site_wherever_it_is_asked() -> None:
    command = parse_command(ask("api.example.com update x", channel="C0SHOP001"), NAMES)
    assert site_for(ask("", channel="C0SHOP001"), command, [SHOP, API, DOCS]) is API


def test_the_channel_picks_its_one_site() -> None:
    update = parse_command(ask("update x"))
    assert site_for(ask("update x", channel="C0SHOP001"), update, [SHOP, API, DOCS]) is SHOP


def test_a_site_without_a_channel_of_its_own_is_the_secret_channels() -> None:
    update = parse_command(ask("update x"))
    assert site_for(ask("update x", channel="C0HOME"), update, [SHOP, API], default_channel="C0HOME") is API
    # two sites there: that channel decides nothing
    with pytest.raises(SiteChoiceError, match="Detour protects 3 sites"):
        site_for(ask("update x", channel="C0HOME"), update, [SHOP, API, DOCS], default_channel="C0HOME")


def test_the_only_site_needs_no_naming() -> None:
    assert site_for(ask("update x", channel="C0ELSEWHERE"), parse_command(ask("update x")), [API]) is API


def test_ambiguity_lists_the_sites_and_how_to_name_one() -> None:
    update = parse_command(ask("maintenance off"))
    with pytest.raises(SiteChoiceError) as raised:
        site_for(ask("maintenance off", channel="C0WARROOM"), update, [API, DOCS, SHOP])
    said = str(raised.value)
    assert "Nothing changed" in said
    assert "`api.example.com` (hc-api), `docs.example.com` (hc-docs), `shop.example.com` (hc-shop)" in said
    assert "`/detour api.example.com maintenance off`" in said


def test_a_shortcut_cannot_name_a_site() -> None:
    shortcut = ask("Root cause found", kind="shortcut", channel="C0WARROOM")
    with pytest.raises(SiteChoiceError, match="The shortcut cannot name a site") as raised:
        site_for(shortcut, parse_command(shortcut, NAMES), [API, DOCS])
    assert "api.example.com" in str(raised.value)
    shortcut = ask("shop.example.com is back", kind="shortcut", channel="C0SHOP001")
    command = parse_command(shortcut, NAMES)
    assert command == Command(Verb.UPDATE, message="shop.example.com is back")  # the message, as it is
    assert site_for(shortcut, command, [SHOP, API, DOCS]) is SHOP


def test_status_among_several_sites_is_every_sites() -> None:
    status = parse_command(ask("status"))
    assert site_for(ask("status", channel="C0WARROOM"), status, [API, SHOP]) is None
    assert site_for(ask("status", channel="C0SHOP001"), status, [API, SHOP]) is SHOP


def test_no_site_registered_is_said() -> None:
    for text in ("status", "update x"):
        with pytest.raises(SiteChoiceError, match="no site is registered"):
            site_for(ask(text), parse_command(ask(text)), [])


def test_a_name_two_sites_share_asks_for_the_id() -> None:
    twin = replace(DOCS, site_id="hc-twin", site_name="Shop")
    command = parse_command(ask("shop update x"), site_names([SHOP, twin]))
    with pytest.raises(SiteChoiceError, match="names 2 sites; use a health check id"):
        site_for(ask("update x"), command, [SHOP, twin])


def test_every_sites_channel_is_allowed() -> None:
    permissions = Permissions.parse(ALICE, "C0WARROOM", default_channel=CHANNEL, site_channels=["C0SHOP001", ""])
    assert permissions.channels == {"C0WARROOM", CHANNEL, "C0SHOP001"}
    update = parse_command(ask("update x"))
    assert permissions.verdict(ask("update x", channel="C0SHOP001"), update)[0] is Verdict.ALLOWED
    assert permissions.verdict(ask("update x", channel="C0API0001"), update)[0] is Verdict.REFUSED
    # a registry value that is no channel id is left out, not fatal for every site's commands
    assert Permissions.parse(ALICE, "", site_channels=["#shop"]).channels == frozenset()

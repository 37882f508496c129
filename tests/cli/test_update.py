"""`detour update` against the stack in moto: what is stored, what refresh_page and notify_slack are
asked (Lambda's Invoke recorded on loopback), the rules shared with `/detour update`, and --list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from detour.incidents.notices import NoticeBoard, SiteNotice
from detour.incidents.operator_updates import IncidentContext, choose_stage, derived_update_id, joins
from detour.incidents.updates import UPDATE_ID_PATTERN, Source, Span, Stage, Timeline, Update, UpdateLog
from detour.incidents.windows import FailoverWindow
from tests.cli.lambda_recorder import LambdaRecorder
from tests.cli.world import NOTIFY_SLACK, REFRESH_PAGE, World

CALLER = "arn:aws:sts::123456789012:user/moto"  # moto's caller identity for any credentials


def timeline(world: World) -> list[Update]:
    return list(UpdateLog(world.table_name, boto3.client("dynamodb")).timeline(world.check_id, limit=100).updates)


def from_people(world: World) -> list[Update]:
    return [u for u in timeline(world) if u.source is not Source.ALARM]


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_an_update_is_stored_then_the_page_and_slack_are_asked_to_follow(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    world.transition("ALARM", datetime.now(UTC) - timedelta(minutes=5))
    code, out, err = run("update", "--stage", "identified", "Found it: a full disk. Back in 15 minutes.")
    assert (code, err) == (0, "")
    [update] = from_people(world)
    assert (update.stage, update.message, update.source, update.author) == (
        Stage.IDENTIFIED,
        "Found it: a full disk. Back in 15 minutes.",
        Source.CLI,
        CALLER,
    )
    assert lambdas.events(REFRESH_PAGE) == [{"detour": "refresh", "site_id": world.check_id, "reason": "update"}]
    assert lambdas.events(NOTIFY_SLACK) == [
        {"detour": "update-posted", "site_id": world.check_id, "update": update.key}
    ]
    assert {i.invocation_type for i in lambdas.invocations} == {"Event"}
    text = one_line(out)
    assert "stage identified:" in text
    assert "It belongs to the incident open since" in text
    assert "within seconds" in text
    assert "Slack thread" in text


def test_the_same_update_again_within_a_minute_is_harmless(world: World, run: Any, lambdas: LambdaRecorder) -> None:
    assert run("update", "We are looking into it.")[0] == 0
    code, out, _ = run("update", "We are looking into it.")
    assert code == 0
    assert "Already posted at" in out
    assert len(from_people(world)) == 1
    assert len(lambdas.events(NOTIFY_SLACK)) == 2  # asked to catch up: it replies to a key once


def test_the_same_update_across_a_minute_boundary_is_still_one(
    world: World, run: Any, lambdas: LambdaRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detour_cli import update  # noqa: PLC0415

    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    moments = iter([minute - timedelta(seconds=0.5), minute + timedelta(seconds=0.5)])
    monkeypatch.setattr(update, "_now", lambda: next(moments))
    assert run("update", "Looking into it.")[0] == 0
    code, out, _ = run("update", "Looking into it.")
    assert (code, "Already posted at" in out) == (0, True)
    assert len(from_people(world)) == 1


def test_a_different_message_or_stage_is_a_new_update(world: World, run: Any, lambdas: LambdaRecorder) -> None:
    run("update", "Looking into it.")
    run("update", "--stage", "identified", "Looking into it.")
    run("update", "--stage", "identified", "Found it.")
    assert [(u.stage, u.message) for u in from_people(world)] == [
        (Stage.IDENTIFIED, "Found it."),
        (Stage.IDENTIFIED, "Looking into it."),
        (Stage.INVESTIGATING, "Looking into it."),
    ]


def test_a_message_too_long_or_an_unknown_stage_is_refused_before_anything_happens(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    code, _, err = run("update", "x" * 501)
    assert code == 2
    assert "at most 500 characters, this one has 501" in err
    code, _, err = run("update", "--stage", "fixed", "Done.")
    assert code == 2
    assert "'fixed' is not a stage; the stages are investigating, identified, monitoring, resolved, scheduled, " in err
    assert run("update", "   ")[0] == 2
    assert run("update")[0] == 2
    assert run("update", "--list", "message")[0] == 2
    assert timeline(world) == []
    assert lambdas.invocations == []
    assert run("update", "x" * 500)[0] == 0  # the limit itself is fine


def test_the_stage_may_be_written_as_people_say_it(world: World, run: Any, lambdas: LambdaRecorder) -> None:
    assert run("update", "--stage", "In progress", "Upgrading.")[0] == 0
    assert from_people(world)[0].stage is Stage.IN_PROGRESS


def test_the_default_stage_is_the_incidents_current_one(world: World, run: Any, lambdas: LambdaRecorder) -> None:
    run("update", "Something is off.")  # no incident, no maintenance
    run("update", "--stage", "monitoring", "A fix is out.")
    code, out, _ = run("update", "Still watching.")
    assert code == 0
    assert "stage monitoring (the incident's current stage" in one_line(out)
    assert [u.stage for u in from_people(world)] == [Stage.MONITORING, Stage.MONITORING, Stage.INVESTIGATING]


def test_the_default_stage_during_an_outage_follows_the_alarms_entry(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    world.transition("ALARM", datetime.now(UTC) - timedelta(minutes=2))
    run("update", "Looking.")
    assert from_people(world)[0].stage is Stage.INVESTIGATING


def test_the_default_stage_during_planned_maintenance_is_in_progress(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    board = NoticeBoard(world.table_name, boto3.client("dynamodb"))
    now = datetime.now(UTC)
    board.post(world.check_id, SiteNotice("Upgrade.", planned=True, since=now - timedelta(minutes=1)))
    code, out, _ = run("update", "Half way there.")
    assert code == 0
    assert "stage in_progress (the default during planned maintenance" in one_line(out)
    assert "It belongs to the planned maintenance under way: the page shows it now" in one_line(out)


def test_an_update_before_any_incident_says_where_it_goes(world: World, run: Any, lambdas: LambdaRecorder) -> None:
    code, out, _ = run("update", "We know: the site is slow.")
    assert code == 0
    assert (
        "no incident open yet: the page shows it now and it joins the next incident if one opens within 30 "
        "minutes" in one_line(out)
    )


def test_list_shows_the_current_incident_and_all_shows_everything(
    world: World, run: Any, lambdas: LambdaRecorder
) -> None:
    now = datetime.now(UTC)
    log = UpdateLog(world.table_name, boto3.client("dynamodb"))
    world.outage(now - timedelta(days=2), now - timedelta(days=2) + timedelta(minutes=20))
    old = Update(
        site_id=world.check_id,
        stage=Stage.IDENTIFIED,
        message="Old news: a bad deploy.",
        posted_at=now - timedelta(days=2) + timedelta(minutes=5),
        source=Source.SLACK,
        author="U0OPERATOR",
        update_id="slack:old",
    )
    log.post(old)
    world.transition("ALARM", now - timedelta(minutes=3))
    run("update", "--stage", "identified", "Current: the database.")

    code, out, _ = run("update", "--list")
    assert code == 0
    assert "www.detour.test: incident open since" in one_line(out)
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("TIME (UTC)"))
    rows = lines[header + 1 :]
    assert len(rows) == 2  # newest first: the operator's update, then the alarm's entry
    assert "identified" in rows[0]
    assert "cli" in rows[0]
    assert CALLER in rows[0]
    assert "Current: the database." in rows[0]
    assert "investigating" in rows[1]
    assert "alarm" in rows[1]
    assert "Old news" not in out

    code, out, _ = run("update", "--list", "--all")
    assert code == 0
    assert "Every update of www.detour.test" in out
    for text in ("Current: the database.", "Old news: a bad deploy.", "U0OPERATOR", "slack"):
        assert text in out
    assert len(out.splitlines()) == 1 + 1 + 5  # header, column names, 3 alarm entries and 2 updates
    assert lambdas.events(REFRESH_PAGE) == [{"detour": "refresh", "site_id": world.check_id, "reason": "update"}]


def test_list_of_nothing(world: World, run: Any) -> None:
    code, out, _ = run("update", "--list")
    assert code == 0
    assert "no incident open; updates posted now are news for the next one" in one_line(out)
    assert "(no updates)" in out


def test_a_refused_invocation_says_the_update_is_stored(world: World, run: Any, monkeypatch: Any) -> None:
    with LambdaRecorder(refuse=True) as refusing:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", refusing.url)
        code, _, err = run("update", "Looking into it.")
    assert code == 2
    assert "the update is stored" in err
    assert "AccessDeniedException" in err
    assert len(from_people(world)) == 1


def test_a_hub_without_the_notify_slack_output_is_told_to_deploy(world: World, run: Any, monkeypatch: Any) -> None:
    from detour_cli import sites, stack_outputs  # noqa: PLC0415

    real = stack_outputs.read_stack

    def older_stack(cloudformation: Any, name: str) -> Any:
        stack = real(cloudformation, name)
        stack.outputs.pop("NotifySlackFunctionName", None)
        return stack

    monkeypatch.setattr(sites, "read_stack", older_stack)
    code, _, err = run("update", "Looking into it.")
    assert code == 2
    assert "has no output NotifySlackFunctionName: deploy template.yaml first" in err
    assert timeline(world) == []
    code, _, _ = run("update", "--list")  # reading needs no function
    assert code == 0


def test_a_missing_stack_is_an_error(world: World, run: Any) -> None:
    code, _, err = run("update", "--stack", "nope", "Looking.")
    assert code == 2
    assert "no stack nope" in err


def test_with_several_sites_an_update_goes_to_the_site_named(
    world: World, other_site: World, run: Any, lambdas: LambdaRecorder
) -> None:
    code, _, err = run("update", "Looking into it.")  # which site?
    assert code == 2
    assert "this deployment protects 2 sites; say which: api.detour.test" in err
    assert lambdas.invocations == []

    code, out, err = run("update", "--site", "api.detour.test", "Looking into it.")
    assert (code, err) == (0, "")
    assert "Posted to api.detour.test's timeline" in one_line(out)
    assert timeline(world) == []
    [update] = from_people(other_site)
    assert lambdas.events(REFRESH_PAGE) == [{"detour": "refresh", "site_id": other_site.check_id, "reason": "update"}]
    assert lambdas.events(NOTIFY_SLACK) == [
        {"detour": "update-posted", "site_id": other_site.check_id, "update": update.key}
    ]
    code, out, _ = run("update", "--list", "--site", other_site.check_id)
    assert code == 0
    assert "Looking into it." in out
    code, out, _ = run("update", "--list", "--site", "www.detour.test")
    assert (code, "Looking into it." in out) == (0, False)


# The rules shared with /detour update (detour.incidents.operator_updates), without AWS.

AT = datetime(2026, 11, 29, 18, 5, 12, tzinfo=UTC)


def test_the_id_is_the_same_within_the_minute_and_differs_in_anything_else() -> None:
    same = derived_update_id(Source.CLI, CALLER, Stage.IDENTIFIED, "Found it.", AT)
    assert same == derived_update_id(Source.CLI, CALLER, Stage.IDENTIFIED, "Found it.", AT + timedelta(seconds=47))
    assert UPDATE_ID_PATTERN.match(same)
    others = {
        derived_update_id(Source.SLACK, CALLER, Stage.IDENTIFIED, "Found it.", AT),
        derived_update_id(Source.CLI, "arn:aws:iam::1:user/b", Stage.IDENTIFIED, "Found it.", AT),
        derived_update_id(Source.CLI, CALLER, Stage.MONITORING, "Found it.", AT),
        derived_update_id(Source.CLI, CALLER, Stage.IDENTIFIED, "Found it!", AT),
        derived_update_id(Source.CLI, CALLER, Stage.IDENTIFIED, "Found it.", AT + timedelta(minutes=1)),
    }
    assert same not in others
    assert len(others) == 5


def test_which_incident_in_words() -> None:
    open_window = FailoverWindow(site_id="s", started_at=AT)
    closed = FailoverWindow(site_id="s", started_at=AT, ended_at=AT + timedelta(minutes=7))
    planned = FailoverWindow(site_id="s", started_at=AT, planned=True)
    assert joins(open_window) == "the incident open since 2026-11-29 18:05:12 UTC"
    assert joins(closed).startswith("the incident of 2026-11-29 18:05:12 UTC to 2026-11-29 18:12:12 UTC, over")
    assert joins(planned) == "the planned maintenance open since 2026-11-29 18:05:12 UTC"
    assert joins(None).startswith("no incident open yet: the page shows it now and it joins the next incident")
    assert joins(None, maintenance=True).startswith("the planned maintenance under way")


@pytest.mark.parametrize(
    ("newest", "maintenance", "expected"),
    [
        (None, False, Stage.INVESTIGATING),
        (None, True, Stage.IN_PROGRESS),
        (Stage.MONITORING, True, Stage.MONITORING),  # the timeline's own stage first
        (Stage.RESOLVED, False, Stage.INVESTIGATING),  # after a recovery: news, unless said `resolved`
        (Stage.COMPLETED, True, Stage.IN_PROGRESS),
    ],
)
def test_the_default_stage(newest: Stage | None, maintenance: bool, expected: Stage) -> None:
    updates = [Update("s", newest, "m", AT, Source.CLI, CALLER, "cli:x")] if newest is not None else []
    context = IncidentContext(
        site_id="s", now=AT, before=None, span=Span(since=AT), timeline=Timeline(updates), maintenance=maintenance
    )
    assert context.default_stage is expected
    assert choose_stage(None, context) is expected
    assert choose_stage("  ", context) is expected
    assert choose_stage("Identified", context) is Stage.IDENTIFIED

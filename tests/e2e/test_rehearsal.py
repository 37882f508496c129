"""`make demo`'s scenario, end to end, as CI runs it: the outage is played on loopback and its
outcome checked from the artifacts a person would look at."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from detour_cli.rehearsal import OPERATOR, UPDATE_BUDGET_S, UPDATE_MESSAGE, Options, Rehearsal


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> tuple[bool, Path, str]:
    out = tmp_path_factory.mktemp("rehearsal")
    printed = io.StringIO()
    succeeded = Rehearsal(Options(interval_s=0.5, alarm_period_s=1.0, out=out), out=printed).run()
    return succeeded, out, printed.getvalue()


def test_the_rehearsal_succeeds_and_tells_the_story_in_order(rehearsal: tuple[bool, Path, str]) -> None:
    succeeded, out, printed = rehearsal
    assert succeeded, printed
    story = [
        "deployed template.yaml as stack 'detour'",
        "PublishedPage custom resource (page_setup, in-process): SUCCESS",
        "A -> 127.0.0.1 (TTL 60) [PRIMARY]",
        "the primary stops answering",
        "[SECONDARY]",
        "OK -> ALARM",
        f"<@{OPERATOR}> in Slack: /detour update identified {UPDATE_MESSAGE}",
        "signed request -> slack_commands' Function URL (form body delivered base64, payload 2.0): HTTP 200",
        "status.json on the local edge shows it",
        f"[identified] {UPDATE_MESSAGE}",
        f"ephemeral answer to <@{OPERATOR}>: Posted to the www.detour.test maintenance page",
        f"thread reply: :memo: Posted to the www.detour.test maintenance page by <@{OPERATOR}> (Identified)",
        "the primary comes back",
        "health check healthy",
        "ALARM -> OK",
        "failover window closed",
    ]
    positions = [printed.index(step) for step in story]
    assert positions == sorted(positions)
    back = printed.index("health check healthy")
    assert "A -> 127.0.0.1 (TTL 60) [PRIMARY]" in printed[back : printed.index("\n", back)]  # DNS fails back
    assert (out / "timeline.txt").read_text().splitlines()[0].endswith("(no AWS account, no Docker)")


def test_slack_got_one_thread_resolved_with_the_duration(rehearsal: tuple[bool, Path, str]) -> None:
    _, out, _ = rehearsal
    messages = json.loads((out / "slack.json").read_text())
    (root,) = [m for m in messages if m["thread_ts"] is None]
    assert root["edits"][0]["text"] == ":rotating_light: www.detour.test is failing over to the maintenance page"
    assert root["text"].startswith(":white_check_mark: www.detour.test recovered after ")
    update, resolved = [m for m in messages if m["thread_ts"] == root["ts"]]
    assert update["text"] == (
        f":memo: Posted to the www.detour.test maintenance page by <@{OPERATOR}> (Identified): {UPDATE_MESSAGE}"
    )
    assert resolved["text"].startswith(":white_check_mark: Resolved: www.detour.test is back on its primary")


def test_the_update_posted_from_slack_reached_the_page_within_the_budget(rehearsal: tuple[bool, Path, str]) -> None:
    _, out, printed = rehearsal
    line = next(line for line in printed.splitlines() if "status.json on the local edge shows it" in line)
    seconds = float(line.split("shows it ")[1].split(" s after")[0])
    assert seconds <= UPDATE_BUDGET_S
    status = json.loads((out / "page" / "2b-update-posted.status.json").read_text())
    assert (status["state"], status["stage"]) == ("unavailable", "identified")
    assert status["updates"][0]["message"] == UPDATE_MESSAGE
    assert all("author" not in update and OPERATOR not in json.dumps(update) for update in status["updates"])
    assert UPDATE_MESSAGE.replace("'", "&#39;") in (out / "page" / "2b-update-posted.html").read_text()
    acknowledged = next(line for line in printed.splitlines() if "signed request ->" in line)
    milliseconds = float(acknowledged.split(" in ")[1].split(" ms")[0])
    assert milliseconds < 3000  # Slack's deadline for the acknowledgement


def test_the_page_went_from_unavailable_to_resolved_as_a_503(rehearsal: tuple[bool, Path, str]) -> None:
    _, out, _ = rehearsal
    during = json.loads((out / "page" / "2-failing-over.status.json").read_text())
    after = json.loads((out / "page" / "3-recovered.status.json").read_text())
    assert (during["state"], after["state"]) == ("unavailable", "resolved")
    assert after["resolved_at"] is not None
    headers = json.loads((out / "page" / "2-failing-over.headers.json").read_text())
    assert (headers["status"], headers["retry-after"], headers["cache-control"]) == (503, "120", "no-store")
    assert "<title>www.detour.test: service restored</title>" in (out / "page" / "3-recovered.html").read_text()


def test_the_failover_window_was_closed_with_its_duration(rehearsal: tuple[bool, Path, str]) -> None:
    _, out, _ = rehearsal
    (window,) = json.loads((out / "windows.json").read_text())
    assert window["ended_at"] is not None
    # the primary was down for at least threshold x interval plus the alarm period, twice over
    assert 1.0 < window["duration_s"] < 60


def test_the_deployment_says_what_is_real_and_what_is_emulated(rehearsal: tuple[bool, Path, str]) -> None:
    _, out, _ = rehearsal
    deployment = (out / "deployment.txt").read_text()
    assert "IncidentsTable (AWS::DynamoDB::Table) via CloudFormation" in deployment
    assert "Distribution (AWS::CloudFront::Distribution) via API" in deployment
    assert "LogWindowFunction (AWS::Lambda::Function): not deployed; its handler runs in-process" in deployment


def test_a_handler_that_raises_fails_the_rehearsal_and_so_does_a_dead_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detour_cli import rehearsal  # noqa: PLC0415
    from detour_cli.local.lambda_runtime import InProcessFunction  # noqa: PLC0415

    real_invoke = InProcessFunction.invoke

    def broken_refresh(self: InProcessFunction, event: dict, **kwargs: object) -> object:  # type: ignore[type-arg]
        if self.directory == "refresh_page" and "Records" in event:
            raise RuntimeError("S3 said no")
        if self.directory == "notify_slack" and "detour" in event:  # queued by the update: retried, then dead
            raise RuntimeError("Slack said no")
        return real_invoke(self, event, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(InProcessFunction, "invoke", broken_refresh)
    printed = io.StringIO()
    monkeypatch.setattr(rehearsal.sys, "stdout", printed)
    code = rehearsal.main(["--interval", "0.5", "--alarm-period", "1", "--out", str(tmp_path)])
    assert code == 1
    output = printed.getvalue()
    assert "refresh_page: FAILED RuntimeError: S3 said no" in output
    assert "the rehearsal FAILED: refresh_page raised RuntimeError: S3 said no" in output
    assert "notify_slack: FAILED" not in output  # the queued invocation fails apart from SNS deliveries
    dead = "detour-NotifySlackFunction (asynchronous) raised RuntimeError: Slack said no, 3 attempts, dead-lettered"
    assert dead in output
    assert "the update was not replied in the incident's Slack thread" in output
    assert (tmp_path / "timeline.txt").exists()  # the artifacts are written all the same

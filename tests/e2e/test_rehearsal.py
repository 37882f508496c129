"""`make demo`'s scenario, end to end, as CI runs it: the outage is played on loopback and its
outcome checked from the artifacts a person would look at."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from detour_cli.rehearsal import Options, Rehearsal


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
    (reply,) = [m for m in messages if m["thread_ts"] == root["ts"]]
    assert reply["text"].startswith(":white_check_mark: Resolved: www.detour.test is back on its primary")


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


def test_a_handler_that_raises_fails_the_rehearsal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from detour_cli import rehearsal  # noqa: PLC0415
    from detour_cli.local.lambda_runtime import InProcessFunction  # noqa: PLC0415

    real_invoke = InProcessFunction.invoke

    def broken_refresh(self: InProcessFunction, event: dict) -> object:  # type: ignore[type-arg]
        if self.directory == "refresh_page" and "Records" in event:
            raise RuntimeError("S3 said no")
        return real_invoke(self, event)

    monkeypatch.setattr(InProcessFunction, "invoke", broken_refresh)
    printed = io.StringIO()
    monkeypatch.setattr(rehearsal.sys, "stdout", printed)
    code = rehearsal.main(["--interval", "0.5", "--alarm-period", "1", "--out", str(tmp_path)])
    assert code == 1
    output = printed.getvalue()
    assert "refresh_page: FAILED RuntimeError: S3 said no" in output
    assert "the rehearsal FAILED: refresh_page raised RuntimeError: S3 said no" in output
    assert (tmp_path / "timeline.txt").exists()  # the artifacts are written all the same

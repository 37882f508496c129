"""`detour invoke`: a function's environment resolved from a stack through CloudFormation, and the
handler run in-process with an event file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from detour.incidents.sites import RegisteredSite
from detour_cli.invoke import _for_site, environment_from_stack, for_site, main, site_ids
from detour_cli.local.sandbox import local_sandbox
from detour_cli.template import load, transform
from tests.support.sites import register_site

ROOT = Path(__file__).resolve().parents[2]


def test_the_environment_comes_from_the_stacks_resources_and_parameters() -> None:
    template = transform(load(ROOT / "template.yaml"))
    with local_sandbox() as sandbox:
        session = boto3.Session(region_name="us-east-1")
        variables = environment_from_stack(template, "LogWindowFunction", "detour", session, sandbox.endpoint)
        assert variables["TABLE_NAME"] == sandbox.stack.physical_id("IncidentsTable")
        assert variables["ALARM_PREFIX"] == "detour/"
        assert variables["POWERTOOLS_SERVICE_NAME"] == "log_window"
        # the emulator's CloudFormation did not make the secret: say what is missing
        missing = r"stack detour does not resolve SLACK_SECRET_ARN; pass them with --env NAME=VALUE"
        with pytest.raises(SystemExit, match=missing):
            environment_from_stack(template, "NotifySlackFunction", "detour", session, sandbox.endpoint)


def test_invoke_local_runs_the_handler_and_reports_its_result(capsys: pytest.CaptureFixture[str]) -> None:
    """The local hub has one site: the event is rewritten for it (its alarm, its health check)."""
    assert main(["log_window", str(ROOT / "events" / "alarm.json"), "--local"]) == 0
    captured = capsys.readouterr()
    out = captured.out  # the function's JSON log lines, then its result, pretty-printed
    result = json.loads(out[out.rindex("{\n") :])
    assert result["state"] == "ALARM"
    assert result["open_window_since"] == "2026-11-21T02:14:27.123Z"
    assert "the event is for site www.detour.test (" in captured.err
    assert "alarm detour/detour-site-www/primary-health)" in captured.err


def test_invoke_local_with_an_unknown_site_lists_the_sites(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log_window", str(ROOT / "events" / "alarm.json"), "--local", "--site", "shop.detour.test"]) == 2
    assert "no site is called 'shop.detour.test'; the sites are: www.detour.test (" in capsys.readouterr().err


SITE = RegisteredSite(
    site_id="hc-api",
    domain="api.example.com",
    site_name="API",
    alarm_name="detour/detour-site-api/primary-health",
    distribution_id="E2",
    page_url="https://d2.cloudfront.net/",
    stack_name="detour-site-api",
    default_message="Back soon.",
)


def test_an_alarm_event_is_rewritten_for_the_site() -> None:
    event = json.loads((ROOT / "events" / "alarm.json").read_text())
    assert site_ids(event) == {"4a1b2c3d-1111-4e5f-9a7b-0123456789ab"}
    rewritten = for_site(event, SITE)
    assert site_ids(rewritten) == {"hc-api"}
    sns = rewritten["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    assert message["AlarmName"] == SITE.alarm_name
    assert message["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{SITE.alarm_name}"
    assert sns["Subject"] == f'ALARM: "{SITE.alarm_name}" in US East (N. Virginia)'
    assert message["NewStateValue"] == "ALARM"  # the rest as it was
    assert site_ids(event) == {"4a1b2c3d-1111-4e5f-9a7b-0123456789ab"}  # the original is untouched


def test_direct_events_get_the_sites_id_and_others_pass_as_they_are() -> None:
    refresh = json.loads((ROOT / "events" / "refresh.json").read_text())
    assert for_site(refresh, SITE) == refresh | {"site_id": "hc-api"}
    for name in ("malformed.json", "scheduled.json"):
        event = json.loads((ROOT / "events" / name).read_text())
        assert site_ids(event) == set()
        assert for_site(event, SITE) == event


def test_invoke_reports_a_failed_invocation_as_lambda_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log_window", str(ROOT / "events" / "malformed.json"), "--local"]) == 1
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert error["errorType"] == "InvalidAlarmMessage"
    assert error["errorMessage"].startswith("SNS message is not JSON")


def test_invoke_refuses_an_unknown_function_and_a_bad_override() -> None:
    with pytest.raises(
        SystemExit, match=r"no function 'nope' in template\.yaml; choose one of: error_rate, log_window"
    ):
        main(["nope", str(ROOT / "events" / "alarm.json"), "--local"])
    with pytest.raises(SystemExit):
        main(["log_window", str(ROOT / "events" / "alarm.json"), "--local", "--env", "NOEQUALS"])


def test_against_a_deployed_hub_a_sample_event_reaches_a_real_site_only_when_named(
    incidents_table: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """events/alarm.json names a sample site: sent to the only real site unasked, it would write that
    site's history and post in its Slack channel."""
    register_site(incidents_table.name, site_id="hc-real", alarm_name="detour/detour-site-real/primary-health")
    event = json.loads((ROOT / "events" / "alarm.json").read_text())
    variables = {"TABLE_NAME": incidents_table.name}
    dynamodb = boto3.client("dynamodb")

    assert _for_site(event, variables, None, dynamodb, only_site_by_default=False) is None
    assert "pass --site NAME to send it to a real site" in capsys.readouterr().err
    named = _for_site(event, variables, "hc-real", dynamodb, only_site_by_default=False)
    assert named is not None
    assert site_ids(named) == {"hc-real"}
    local = _for_site(event, variables, None, dynamodb, only_site_by_default=True)  # --local: a throwaway hub
    assert local is not None
    assert site_ids(local) == {"hc-real"}

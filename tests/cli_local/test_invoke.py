"""`detour invoke`: a function's environment resolved from a stack through CloudFormation, and the
handler run in-process with an event file."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from detour_cli.invoke import environment_from_stack, main
from detour_cli.local.sandbox import local_sandbox
from detour_cli.template import load, transform

ROOT = Path(__file__).resolve().parents[2]


def test_the_environment_comes_from_the_stacks_resources_and_parameters() -> None:
    template = transform(load(ROOT / "template.yaml"))
    with local_sandbox() as sandbox:
        session = boto3.Session(region_name="us-east-1")
        variables = environment_from_stack(template, "LogWindowFunction", "detour", session, sandbox.endpoint)
        assert variables["TABLE_NAME"] == sandbox.stack.physical_id("IncidentsTable")
        assert variables["ALARM_NAMES"] == "detour-primary-health"
        assert variables["POWERTOOLS_SERVICE_NAME"] == "log_window"
        # the emulator's CloudFormation made neither the secret nor the distribution: say what is missing
        missing = r"does not resolve PAGE_URL, SLACK_SECRET_ARN; pass them with --env NAME=VALUE"
        with pytest.raises(SystemExit, match=missing):
            environment_from_stack(template, "NotifySlackFunction", "detour", session, sandbox.endpoint)


def test_invoke_local_runs_the_handler_and_reports_its_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log_window", str(ROOT / "events" / "alarm.json"), "--local"]) == 0
    out = capsys.readouterr().out  # the function's JSON log lines, then its result, pretty-printed
    result = json.loads(out[out.rindex("{\n") :])
    assert result["state"] == "ALARM"
    assert result["open_window_since"] == "2026-11-21T02:14:27.123Z"


def test_invoke_reports_a_failed_invocation_as_lambda_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log_window", str(ROOT / "events" / "malformed.json"), "--local"]) == 1
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert error["errorType"] == "InvalidAlarmMessage"
    assert error["errorMessage"].startswith("SNS message is not JSON")


def test_invoke_refuses_an_unknown_function_and_a_bad_override() -> None:
    with pytest.raises(SystemExit, match=r"no function 'nope' in template\.yaml; choose one of: log_window"):
        main(["nope", str(ROOT / "events" / "alarm.json"), "--local"])
    with pytest.raises(SystemExit):
        main(["log_window", str(ROOT / "events" / "alarm.json"), "--local", "--env", "NOEQUALS"])

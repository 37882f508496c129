"""Every file in events/ is a real event for the handlers: `sam local invoke -e` users get what CI ran."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from detour.incidents.alarm_message import InvalidAlarmMessage
from detour_cli.local.lambda_runtime import LambdaContext
from tests.support.aws import store_for
from tests.support.events import ALARM_NAME, ALARM_PREFIX, SITE_ID
from tests.support.template import site_source, source

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))
# refresh.json and scheduled.json are refresh_page's direct and scheduled events: tested there
SNS_EVENTS = [path for path in EVENTS if path.name != "env.json" and "Records" in path.read_text()]


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", SNS_EVENTS, ids=lambda p: p.name)
def test_each_event_file_drives_the_handler(path: Path, log_window: ModuleType) -> None:
    event = load(path)
    if path.name.startswith("malformed"):
        with pytest.raises(InvalidAlarmMessage):
            log_window.lambda_handler(event, LambdaContext())
    else:
        result = log_window.lambda_handler(event, LambdaContext())
        assert result["state"] == json.loads(event["Records"][0]["Sns"]["Message"])["NewStateValue"]


def test_the_event_files_tell_one_outage_in_order(log_window: ModuleType, function_env: Any) -> None:
    for name in ("alarm.json", "insufficient_data.json", "ok.json"):
        log_window.lambda_handler(load(Path(EVENTS[0].parent / name)), LambdaContext())
    (window,) = store_for(function_env).windows(SITE_ID)
    assert window.duration_s == 995.333  # 02:14:27.123 -> 02:31:02.456


def test_the_env_file_names_every_function_and_every_variable_the_hub_gives_it() -> None:
    env = load(EVENTS[0].parent / "env.json")
    hub = source()
    functions = {k: v for k, v in hub["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(env) == set(functions)
    shared = set(hub["Globals"]["Function"]["Environment"]["Variables"]) - {
        name for name in hub["Globals"]["Function"]["Environment"]["Variables"] if name.startswith("POWERTOOLS_")
    }
    for name, function in functions.items():
        own = set(function["Properties"].get("Environment", {}).get("Variables", {})) - {"POWERTOOLS_SERVICE_NAME"}
        assert set(env[name]) == shared | own, name
    assert all(values["ALARM_PREFIX"] == ALARM_PREFIX for values in env.values())


def test_the_alarm_events_name_a_site_alarm_of_the_site_stack() -> None:
    site_alarm = site_source()["Resources"]["HealthAlarm"]["Properties"]["AlarmName"]
    assert site_alarm == {"Fn::Sub": "${HubStackName}/${AWS::StackName}/primary-health"}
    for path in SNS_EVENTS:
        if not path.name.startswith("malformed"):
            message = json.loads(load(path)["Records"][0]["Sns"]["Message"])
            assert message["AlarmName"] == ALARM_NAME, path.name

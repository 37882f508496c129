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
from tests.support.events import ALARM_NAME, SITE_ID
from tests.support.template import source

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


def test_the_env_file_names_every_function_and_the_alarm_the_template_creates() -> None:
    env = load(EVENTS[0].parent / "env.json")
    functions = {k for k, v in source()["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(env) == functions
    assert all(values["ALARM_NAMES"] == ALARM_NAME for values in env.values())
    assert source()["Resources"]["HealthAlarm"]["Properties"]["AlarmName"] == {
        "Fn::Sub": "${AWS::StackName}-primary-health"
    }

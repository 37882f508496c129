"""functions/log_window end to end: SNS event in, DynamoDB (moto server) and EMF metrics out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from detour.incidents.alarm_message import InvalidAlarmMessage, UnknownAlarm
from detour.incidents.sites import UnregisteredSite
from detour.incidents.store import IncidentStore
from detour.runtime import lambda_support
from detour_cli.local.lambda_runtime import LambdaContext
from tests.conftest import emitted_metrics, log_records
from tests.support.aws import OneRequestAtATime, store_for
from tests.support.events import ALARM_PREFIX, SITE_ID, sns_event, transition_event
from tests.support.sites import SITE

T0 = datetime(2026, 11, 21, 2, 14, 27, 123000, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return module.lambda_handler(event, LambdaContext())


def test_an_outage_opens_then_closes_a_window_with_its_duration(
    log_window: ModuleType, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    opened = invoke(log_window, transition_event("ALARM", "OK", at(0)))
    assert opened["open_window_since"] == "2026-11-21T02:14:27.123Z"
    assert emitted_metrics(capsys.readouterr().out) == {"TransitionsLogged": [1], "FailoversStarted": [1]}

    unknown = invoke(log_window, transition_event("INSUFFICIENT_DATA", "ALARM", at(6)))
    assert unknown["open_window_since"] == "2026-11-21T02:14:27.123Z"  # missing data is not recovery
    assert emitted_metrics(capsys.readouterr().out) == {
        "TransitionsLogged": [1],
        "InsufficientDataTransitions": [1],
    }

    closed = invoke(log_window, transition_event("OK", "INSUFFICIENT_DATA", at(16.5)))
    assert closed["open_window_since"] is None
    assert emitted_metrics(capsys.readouterr().out) == {
        "TransitionsLogged": [1],
        "FailoverDurationSeconds": [990.0],
    }

    (window,) = store_for(function_env).windows(SITE_ID)
    assert (window.started_at, window.ended_at, window.duration_s) == (at(0), at(16.5), 990.0)


def test_a_redelivered_or_republished_transition_is_processed_once(
    log_window: ModuleType, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first = transition_event("ALARM", "OK", at(0), message_id="11111111-1111-1111-1111-111111111111")
    invoke(log_window, first)
    capsys.readouterr()

    invoke(log_window, first)  # SNS retry: same MessageId
    invoke(log_window, transition_event("ALARM", "OK", at(0)))  # published again: new MessageId, same transition

    assert "FailoversStarted" not in emitted_metrics(capsys.readouterr().out)
    assert len(store_for(function_env).transitions(SITE_ID)) == 1


def test_recovery_delivered_before_the_alarm_still_closes_the_window(log_window: ModuleType, function_env: Any) -> None:
    invoke(log_window, transition_event("OK", "ALARM", at(9)))
    invoke(log_window, transition_event("ALARM", "OK", at(0)))
    (window,) = store_for(function_env).windows(SITE_ID)
    assert window.duration_s == 540


def test_deliveries_at_once_converge(
    log_window: ModuleType, function_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = OneRequestAtATime()
    monkeypatch.setattr(log_window, "dynamodb_client", lambda: client)
    monkeypatch.setattr(lambda_support, "dynamodb_client", lambda: client)
    events = [transition_event(s, "OK", at(m)) for s, m in (("ALARM", 0), ("INSUFFICIENT_DATA", 1), ("OK", 2))]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda e: invoke(log_window, e), events))
    assert [w.duration_s for w in store_for(function_env).windows(SITE_ID)] == [120]


def test_a_malformed_message_fails_loudly_and_writes_nothing(
    log_window: ModuleType, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InvalidAlarmMessage, match="SNS message is not JSON"):
        invoke(log_window, sns_event("{truncated", message_id="22222222-2222-2222-2222-222222222222"))

    (record,) = [r for r in log_records(capsys.readouterr().out) if r["level"] == "ERROR"]
    assert record["error"].startswith("SNS message is not JSON")
    assert record["correlation_id"] == "22222222-2222-2222-2222-222222222222"
    assert written_besides_the_registry(function_env) == []


def test_a_rejection_is_not_logged_under_the_previous_events_site_and_state(
    log_window: ModuleType, function_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(log_window, transition_event("ALARM", "OK", at(0)))
    with pytest.raises(InvalidAlarmMessage):
        invoke(log_window, sns_event("{truncated"))

    (record,) = [r for r in log_records(capsys.readouterr().out) if r["level"] == "ERROR"]
    assert {"site_id", "alarm", "state"}.isdisjoint(record)


def test_an_alarm_from_elsewhere_is_refused(log_window: ModuleType, function_env: Any) -> None:
    with pytest.raises(UnknownAlarm, match="check the subscription's filter policy"):
        invoke(log_window, transition_event("ALARM", "OK", at(0), alarm_name="prod-db-cpu"))
    assert written_besides_the_registry(function_env) == []


OTHER_CHECK = "9f8e7d6c-2222-4e5f-9a7b-0123456789ab"


@pytest.mark.parametrize(
    ("site_id", "alarm_name", "refusal"),
    [
        # an alarm of this hub that no registered site has (a removed site's, or a forged one)
        (OTHER_CHECK, f"{ALARM_PREFIX}detour-site-gone/primary-health", f"site '{OTHER_CHECK}' is not registered"),
        # the registered site, but from an alarm of this hub that is not its own
        (SITE.site_id, f"{ALARM_PREFIX}detour-site-other/primary-health", "is not the registered alarm of site"),
    ],
)
def test_an_alarm_for_an_unregistered_site_is_refused_and_writes_nothing(
    *,
    log_window: ModuleType,
    function_env: Any,
    capsys: pytest.CaptureFixture[str],
    site_id: str,
    alarm_name: str,
    refusal: str,
) -> None:
    event = transition_event("ALARM", "OK", at(0), site_id=site_id, alarm_name=alarm_name)
    with pytest.raises(UnregisteredSite, match=refusal):
        invoke(log_window, event)

    (record,) = [r for r in log_records(capsys.readouterr().out) if r["level"] == "ERROR"]
    assert record["message"].startswith("Refused an alarm for an unregistered site")
    assert written_besides_the_registry(function_env) == []  # no transition, window, or idempotency record


def written_besides_the_registry(table: Any) -> list[dict[str, Any]]:
    return [item for item in table.scan()["Items"] if item["pk"] not in ("SITES", "SITE_ALARMS")]


def test_a_failed_attempt_is_not_remembered_as_done(
    log_window: ModuleType, function_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idempotency must not swallow the retry of an attempt that failed half-way."""
    event = transition_event("ALARM", "OK", at(0))
    real_apply = IncidentStore._apply

    def fail_once(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(IncidentStore, "_apply", real_apply)
        raise RuntimeError("lost connection half-way")

    monkeypatch.setattr(IncidentStore, "_apply", fail_once)
    with pytest.raises(RuntimeError):
        invoke(log_window, event)
    assert store_for(function_env).windows(SITE_ID) == []  # recorded the transition, not the window

    retried = invoke(log_window, event)
    assert retried["open_window_since"] == "2026-11-21T02:14:27.123Z"
    assert len(store_for(function_env).windows(SITE_ID)) == 1


def test_logs_carry_the_site_and_the_correlation_id(log_window: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(log_window, transition_event("ALARM", "OK", at(0), message_id="33333333-3333-3333-3333-333333333333"))
    logged = next(r for r in log_records(capsys.readouterr().out) if r["message"] == "Transition logged")
    assert logged["site_id"] == SITE_ID
    assert logged["state"] == "ALARM"
    assert logged["correlation_id"] == "33333333-3333-3333-3333-333333333333"

"""Which check failed a site over (ADR 0002): read once, when the outage's ALARM first arrives, and
told the same by Slack, the page, status.json and the window's record, whatever order and however
often the three functions get the ALARM. Route 53 and CloudWatch on moto's server; Slack on the
local fake."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from detour.incidents.sites import Signal, SignalKind, SiteRegistry
from detour.runtime.aws import diagnosis_clients
from detour.signals import causes as signal_causes
from detour.signals.causes import CauseLog
from detour.signals.states import SignalReading, SignalState
from detour_cli.local.fake_slack import CHANNEL, TOKEN, FakeSlack
from detour_cli.local.lambda_runtime import LambdaContext
from tests.conftest import log_records
from tests.support.aws import store_for
from tests.support.events import ALARM_NAME, SITE_ID, transition_event
from tests.support.functions import load_function
from tests.support.html import parse_html
from tests.support.page_aws import get_object
from tests.support.sites import SITE

T0 = datetime.now(UTC)  # set afresh for each test (fresh_alarms): causes are read only while fresh
SCHEDULED = json.loads((Path(__file__).resolve().parents[2] / "events" / "scheduled.json").read_text())
LATENCY_ALARM = "shop-p99-latency"
CANARY_ALARM = "shop-checkout-canary"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def fresh_alarms() -> None:
    """Each test's alarms fire just now: an ALARM first handled over 5 minutes late is not diagnosed."""
    global T0  # noqa: PLW0603 - the module's clock for at(), reset per test
    T0 = datetime.now(UTC).replace(microsecond=123000) - timedelta(seconds=30)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def checks(function_env: Any) -> dict[str, str]:
    """The site's real checks on moto: an endpoint check, two alarms and their checks, the
    calculated check the alarm watches. The site keeps its id (SITE_ID) from before it had signals."""
    route53, cloudwatch = boto3.client("route53"), boto3.client("cloudwatch")

    def check(reference: str, config: dict[str, Any]) -> str:
        return str(
            route53.create_health_check(CallerReference=reference, HealthCheckConfig=config)["HealthCheck"]["Id"]
        )

    endpoint = check("endpoint", {"Type": "HTTPS", "FullyQualifiedDomainName": "alb.example.com", "Port": 443})
    ids = {"endpoint": endpoint}
    for alarm in (LATENCY_ALARM, CANARY_ALARM):
        cloudwatch.put_metric_alarm(
            AlarmName=alarm,
            Namespace="Shop",
            MetricName=alarm,
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="fine")
        ids[alarm] = check(alarm, {"Type": "CLOUDWATCH_METRIC"})
    ids["failover"] = check("failover", {"Type": "CALCULATED", "ChildHealthChecks": list(ids.values())})
    site = replace(
        SITE,
        endpoint_check_id=endpoint,
        failover_check_id=ids["failover"],
        signals=tuple(Signal(a, SignalKind.ALARM, a, ids[a]) for a in (LATENCY_ALARM, CANARY_ALARM)),
    )
    SiteRegistry(function_env.name, boto3.client("dynamodb")).put(site)
    return ids


@pytest.fixture
def functions(
    *,
    function_env: Any,
    checks: dict[str, str],
    slack: FakeSlack,
    page_bucket: str,
    distribution: str,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, ModuleType]:
    secret = boto3.client("secretsmanager").create_secret(
        Name="detour-slack", SecretString=json.dumps({"bot_token": TOKEN, "channel": CHANNEL, "api_url": slack.api_url})
    )
    monkeypatch.setenv("SLACK_SECRET_ARN", secret["ARN"])
    monkeypatch.setenv("PAGE_BUCKET", page_bucket)
    registry = SiteRegistry(function_env.name, boto3.client("dynamodb"))
    registry.put(replace(registry.require(SITE_ID), distribution_id=distribution))
    return {name: load_function(name, monkeypatch) for name in ("log_window", "notify_slack", "refresh_page")}


def alarm(checks: dict[str, str], minutes: float = 0, state: str = "ALARM", old: str = "OK") -> dict[str, Any]:
    return transition_event(state, old, at(minutes), site_id=checks["failover"])


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return module.lambda_handler(event, LambdaContext(function_name=f"detour-{module.__name__}-TEST"))


def published(bucket: str, endpoint: str) -> tuple[dict[str, Any], Any]:
    prefix = f"sites/{endpoint}/"  # the endpoint check's prefix: the distribution's OriginPath
    status = json.loads(get_object(bucket, prefix + "status.json")["Text"])
    return status, parse_html(get_object(bucket, prefix + "index.html")["Text"])


def slack_text(message: Any) -> str:
    return json.dumps(message.blocks)


def test_the_failing_signal_is_named_by_slack_the_page_status_json_and_the_window(
    functions: dict[str, ModuleType], checks: dict[str, str], slack: FakeSlack, page_bucket: str, function_env: Any
) -> None:
    boto3.client("cloudwatch").set_alarm_state(
        AlarmName=CANARY_ALARM, StateValue="ALARM", StateReason="Checkout canary failed 3 of 3 runs"
    )
    event = alarm(checks)
    results = {name: invoke(module, event) for name, module in functions.items()}

    assert results["log_window"]["cause"].startswith(f"{CANARY_ALARM}: ALARM: Checkout canary failed 3 of 3 runs")
    (root,) = slack.roots()
    assert "Why it failed over" in slack_text(root)
    assert "Checkout canary failed 3 of 3 runs" in slack_text(root)
    status, page = published(page_bucket, checks["endpoint"])
    assert status["failed_checks"] == [CANARY_ALARM]
    # the public page names an operator's alarm, never its reason (its metric and values)
    assert page.by_id("cause").visible_text() == f"Failed over on: {CANARY_ALARM}"
    assert "3 of 3 runs" not in json.dumps(status)
    # the record: the whole reading, the endpoint probe and the healthy signal included
    reading = CauseLog(function_env.name, boto3.client("dynamodb")).get(SITE_ID, f"{status['started_at']}#{ALARM_NAME}")
    assert reading is not None
    assert [(s.name, s.healthy) for s in reading.states] == [
        ("endpoint probe", True),  # moto's checkers always report success
        (LATENCY_ALARM, True),
        (CANARY_ALARM, False),
    ]


def test_every_function_tells_the_cause_the_first_one_read_whatever_changed_since(
    *,
    functions: dict[str, ModuleType],
    checks: dict[str, str],
    slack: FakeSlack,
    page_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The three functions get the same ALARM at once; the signals change between their reads (the
    canary recovers, the latency alarm fires). Exactly one reading is recorded and told everywhere."""
    readings = iter(
        [
            SignalReading(at(0), (SignalState(CANARY_ALARM, "alarm", False, "ALARM: canary down", CANARY_ALARM),)),
            SignalReading(at(0), (SignalState(LATENCY_ALARM, "alarm", False, "ALARM: p99 4 s", LATENCY_ALARM),)),
            SignalReading(at(0), (SignalState("endpoint probe", "endpoint", False, "failing from 8 of 8"),)),
        ]
    )
    lock, start = threading.Lock(), threading.Barrier(3)
    original = signal_causes.read_signals

    def racing(*args: Any) -> SignalReading:
        original(*args)  # the real reads, for their timing
        with lock:
            reading = next(readings)
        start.wait(timeout=10)  # every function has read before any claims
        return reading

    monkeypatch.setattr(signal_causes, "read_signals", racing)
    event = alarm(checks)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(functions, pool.map(lambda m: invoke(m, event), functions.values()), strict=True))

    status, page = published(page_bucket, checks["endpoint"])
    (root,) = slack.roots()
    told = {
        "log_window": results["log_window"]["cause"].split(":")[0],
        "status.json": status["failed_checks"][0],
        "page": page.by_id("cause").visible_text().removeprefix("Failed over on: ").split(":")[0],
        "slack": next(name for name in (CANARY_ALARM, LATENCY_ALARM, "endpoint probe") if name in slack_text(root)),
    }
    assert len(set(told.values())) == 1, told
    # and a late redelivery, after everything changed, tells it the same again
    for module in functions.values():
        invoke(module, alarm(checks))
    assert published(page_bucket, checks["endpoint"])[0]["failed_checks"] == [told["page"]]


def test_without_route53_the_incident_is_told_at_once_and_the_cause_recorded_by_a_later_delivery(
    *,
    functions: dict[str, ModuleType],
    checks: dict[str, str],
    slack: FakeSlack,
    page_bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    def throttled(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GetHealthCheckStatus")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diagnosis_clients()[0], "get_health_check_status", throttled)
        invoke(functions["notify_slack"], alarm(checks))
        invoke(functions["refresh_page"], alarm(checks))

    (root,) = slack.roots()  # announced without waiting for the diagnosis
    assert "Why it failed over" not in slack_text(root)
    assert published(page_bucket, checks["endpoint"])[0]["failed_checks"] == []
    warnings = [r for r in log_records(capsys.readouterr().out) if r["level"] == "WARNING"]
    assert any("Rate exceeded" in r.get("error", "") for r in warnings)

    boto3.client("cloudwatch").set_alarm_state(AlarmName=LATENCY_ALARM, StateValue="ALARM", StateReason="p99 4 s")
    # log_window's delivery (or any later one) records it; the page's next sweep shows it
    assert invoke(functions["log_window"], alarm(checks))["cause"].startswith(f"{LATENCY_ALARM}: ALARM: p99 4 s")
    invoke(functions["refresh_page"], SCHEDULED)
    assert published(page_bucket, checks["endpoint"])[0]["failed_checks"] == [LATENCY_ALARM]


def test_only_an_alarm_reads_the_checks(functions: dict[str, ModuleType], checks: dict[str, str]) -> None:
    invoke(functions["log_window"], alarm(checks))
    assert invoke(functions["log_window"], alarm(checks, 5, "OK", "ALARM"))["cause"] is None
    assert invoke(functions["log_window"], alarm(checks, 6, "INSUFFICIENT_DATA", "OK"))["cause"] is None


def test_the_resolved_message_still_says_why(
    functions: dict[str, ModuleType], checks: dict[str, str], slack: FakeSlack
) -> None:
    boto3.client("cloudwatch").set_alarm_state(AlarmName=LATENCY_ALARM, StateValue="ALARM", StateReason="p99 4 s")
    invoke(functions["notify_slack"], alarm(checks))
    invoke(functions["notify_slack"], alarm(checks, 7, "OK", "ALARM"))
    (root,) = slack.roots()
    assert root.text.endswith("recovered after 7 min 0 s")
    assert "p99 4 s" in slack_text(root)


def test_an_alarm_first_handled_late_is_not_diagnosed_with_what_the_checks_say_now(
    functions: dict[str, ModuleType], checks: dict[str, str], slack: FakeSlack, page_bucket: str
) -> None:
    """Redriven from a dead-letter queue 20 minutes on: the canary that failed the site over has
    recovered and the latency alarm fired since. Blaming the latency alarm would be a lie."""
    boto3.client("cloudwatch").set_alarm_state(AlarmName=LATENCY_ALARM, StateValue="ALARM", StateReason="p99 4 s")
    late = alarm(checks, minutes=-20)
    cause = invoke(functions["log_window"], late)["cause"]
    assert cause.startswith("not read in time: Detour first handled this alarm 20 min after it fired")
    invoke(functions["notify_slack"], late)
    (root,) = slack.roots()
    assert "not read in time" in slack_text(root)
    assert LATENCY_ALARM not in slack_text(root)
    invoke(functions["refresh_page"], late)
    assert published(page_bucket, checks["endpoint"])[0]["failed_checks"] == []


def test_the_sites_alarm_on_a_check_it_no_longer_watches_is_still_the_sites(
    functions: dict[str, ModuleType], checks: dict[str, str], function_env: Any
) -> None:
    """Signals removed: the alarm now watches the endpoint check, but a retried or redriven
    message still carries the calculated check's id. Refusing it could leave the outage open."""
    registry = SiteRegistry(function_env.name, boto3.client("dynamodb"))
    site = registry.require(SITE_ID)
    registry.put(replace(site, failover_check_id=checks["endpoint"], signals=()))
    invoke(functions["log_window"], alarm(checks))  # the ALARM from before, on the calculated check
    invoke(functions["log_window"], transition_event("OK", "ALARM", at(4), site_id=checks["endpoint"]))
    (window,) = store_for(function_env).windows(SITE_ID)
    assert window.duration_s == 240

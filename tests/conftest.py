from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.support.aws import create_incidents_table, start_moto
from tests.support.events import ALARM_PREFIX
from tests.support.functions import load_function
from tests.support.offline import go_offline
from tests.support.sites import register_site

# Set at import, before any fixture of any scope: whatever the shell has, no test reaches real AWS.
go_offline()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server, url = start_moto()
    yield url
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """boto3 pointed at moto's server (AWS_ENDPOINT_URL), emptied after each test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    yield moto_endpoint
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))


@pytest.fixture
def incidents_table(aws: str) -> Any:
    return create_incidents_table()


@pytest.fixture
def function_env(incidents_table: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The environment template.yaml gives every function."""
    monkeypatch.setenv("TABLE_NAME", incidents_table.name)
    monkeypatch.setenv("ALARM_PREFIX", ALARM_PREFIX)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Detour")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "detour-LogWindowFunction-TEST")
    register_site(incidents_table.name)  # as its site stack would have, before its alarm exists
    return incidents_table


@pytest.fixture
def log_window(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_function("log_window", monkeypatch)


def emitted_metrics(stdout: str) -> dict[str, list[float]]:
    """Metric values from the EMF lines Powertools printed, by metric name."""
    found: dict[str, list[float]] = {}
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                found.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return found


def log_records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{") and '"level"' in line]

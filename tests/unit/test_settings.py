from __future__ import annotations

import pytest

from detour.runtime.settings import MissingSetting, Settings


def test_settings_come_from_the_template_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "detour-IncidentsTable-1")
    monkeypatch.setenv("ALARM_PREFIX", "detour/")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    settings = Settings.from_env()
    assert settings.table_name == "detour-IncidentsTable-1"
    assert settings.alarm_prefix == "detour/"
    assert settings.tracing is True


@pytest.mark.parametrize("missing", ["TABLE_NAME", "ALARM_PREFIX"])
def test_a_missing_setting_names_the_variable_and_the_fix(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("ALARM_PREFIX", "a/")
    monkeypatch.setenv(missing, " ")
    with pytest.raises(MissingSetting, match=f"{missing} is not set.*events/env.json"):
        Settings.from_env()

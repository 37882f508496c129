"""docs/slack-app-manifest.yaml asks Slack for exactly what the code uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from detour.slack.request import SHORTCUT_CALLBACK

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-app-manifest.yaml"
LAYER = Path(__file__).resolve().parents[2] / "layers" / "common" / "detour"


def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text()))


def test_the_command_and_the_shortcut_go_to_the_function_url() -> None:
    features, settings = manifest()["features"], manifest()["settings"]
    (command,) = features["slash_commands"]
    assert command["command"] == "/detour"
    assert command["url"] == settings["interactivity"]["request_url"] == "REQUEST_URL"
    (shortcut,) = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", SHORTCUT_CALLBACK)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False  # requests come to the URL, signed


def test_every_scope_is_one_the_code_calls_for() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {"chat:write", "channels:history", "groups:history", "commands", "usergroups:read"}
    transport = (LAYER / "slack" / "transport.py").read_text()
    for method in ("chat.postMessage", "chat.update", "conversations.history", "conversations.replies"):
        assert method in transport
    assert "usergroups.users.list" in transport  # usergroups:read

"""`/detour`'s edges, the pure parts: found by an adversarial review, each once a real defect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from detour.incidents.maintenance import parse_until
from detour.incidents.updates import RESOLVED_FOR, incident_window
from detour.incidents.windows import FailoverWindow
from detour.slack import responses as slack_responses
from detour.slack.secret import BotToken
from detour.slack.transport import SlackBot

T0 = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


def test_an_absurd_until_is_refused_in_words_not_crashed() -> None:
    with pytest.raises(ValueError, match="until"):
        parse_until("99999999d", T0)


def test_the_command_channel_follows_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    channel = {"now": "C0OLD"}
    monkeypatch.setattr(slack_responses, "secrets_provider", lambda: None)
    monkeypatch.setattr(
        slack_responses, "load_slack_credentials", lambda secret_id, provider: BotToken("xoxb-1", channel["now"])
    )
    assert slack_responses.slack_permissions("U0ALICE", "", "arn:secret").channels == {"C0OLD"}
    channel["now"] = "C0NEW"  # the operator moved the incident channel in the secret (its provider caches 5 min)
    assert slack_responses.slack_permissions("U0ALICE", "", "arn:secret").channels == {"C0NEW"}


def test_the_command_channels_are_the_secrets_and_every_sites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_responses, "secrets_provider", lambda: None)
    monkeypatch.setattr(
        slack_responses, "load_slack_credentials", lambda secret_id, provider: BotToken("xoxb-1", "C0HOME")
    )
    permissions = slack_responses.slack_permissions(
        "U0ALICE", "C0WARROOM", "arn:secret", ["C0SHOP001", "", "C0API0001"]
    )
    assert permissions.channels == {"C0HOME", "C0WARROOM", "C0SHOP001", "C0API0001"}
    assert slack_responses.default_channel("arn:secret") == "C0HOME"  # where a site without a channel posts


class _Recorder:
    """A loopback Slack Web API that records how each call was encoded, and answers ok."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                outer.calls.append((self.path, self.headers.get("Content-Type", ""), body))
                data = json.dumps({"ok": True, "users": ["U0ALICE"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    built = _Recorder()
    yield built
    built.server.shutdown()
    built.server.server_close()


def test_usergroup_members_is_asked_the_way_slack_reads_it(recorder: _Recorder) -> None:
    # Slack reads a read method's arguments from the query string or a form, never from JSON.
    bot = SlackBot(BotToken("xoxb-1", "C0DETOUR01", api_url=recorder.url), "arn:secret")
    assert bot.usergroup_members("S0ONCALL") == frozenset({"U0ALICE"})
    ((path, content_type, body),) = [c for c in recorder.calls if "usergroups.users.list" in c[0]]
    assert "application/json" not in content_type, (path, content_type, body)


def test_only_a_closing_word_soon_after_a_recovery_belongs_to_the_recovered_incident() -> None:
    window = FailoverWindow(site_id="s", started_at=T0, ended_at=T0 + timedelta(minutes=5))
    end = T0 + timedelta(minutes=5)
    assert incident_window(end - timedelta(seconds=1), window, closing=False) is window  # during it
    assert incident_window(end + RESOLVED_FOR - timedelta(milliseconds=1), window, closing=True) is window
    assert incident_window(end + RESOLVED_FOR, window, closing=True) is None  # one incident only, at the bound
    assert incident_window(end + timedelta(minutes=1), window, closing=False) is None  # news for the next one

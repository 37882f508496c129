"""A local Slack for tests and the rehearsal: an HTTP server on loopback that speaks Slack's real shapes.

- Web API `chat.postMessage` and `chat.update` (JSON or form bodies): checks the bearer token and
  the channel, answers `{"ok": true, "channel", "ts", "message"}` or `{"ok": false, "error"}` with
  HTTP 200, as Slack does; keeps every message, its edits and its thread replies.
- Incoming webhook: `POST /services/...` answers `ok`, or Slack's plain-text errors
  (`invalid_payload` 400, `invalid_token` 403, `no_service` 404).
- Faults on demand, one per coming request: `ratelimited` (429 with Retry-After), `server_error`
  (500), `invalid_auth`, `channel_not_found`, `slow` (answers after `slow_s`).
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TOKEN = "xoxb-1111-2222-detourTESTtoken"  # noqa: S105 - the fake's own, accepted nowhere else
CHANNEL = "C0DETOUR01"
WEBHOOK_PATH = "/services/T0DETOUR/B0DETOUR/detourWebhookSecret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)


class FakeSlack:
    def __init__(self, token: str = TOKEN, channels: tuple[str, ...] = (CHANNEL,), slow_s: float = 3.0) -> None:
        self.token = token
        self.channels = set(channels)
        self.slow_s = slow_s
        self.messages: list[Message] = []
        self.webhook_posts: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers) of every request
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}"

    # -- what the tests look at -------------------------------------------------------------------

    def fail_next(self, *faults: str) -> None:
        self._faults.extend(faults)

    def roots(self) -> list[Message]:
        return [m for m in self.messages if m.thread_ts is None]

    def replies(self, root: Message) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == root.ts]

    # -- the server -------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with slack._lock:
                    slack.requests.append((self.path, dict(self.headers)))
                    fault = slack._faults.popleft() if slack._faults else None
                if fault == "slow":
                    time.sleep(slack.slow_s)
                    fault = None
                if fault == "ratelimited":
                    self._reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
                elif fault == "server_error":
                    self._reply(500, "<html><body>Internal Server Error</body></html>")
                elif fault in ("invalid_auth", "channel_not_found"):
                    self._reply(200, {"ok": False, "error": fault})
                elif self.path == WEBHOOK_PATH:
                    self._reply(*slack._webhook(self.headers, body))
                elif self.path.startswith("/services/"):
                    self._reply(404, "no_service")
                elif self.path.startswith("/api/"):
                    self._reply(200, slack._api(self.path.removeprefix("/api/"), self.headers, body))
                else:
                    self._reply(404, "not found")

            def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                is_json = not isinstance(payload, str)
                data = (json.dumps(payload) if is_json else payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8" if is_json else "text/html")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _api(self, method: str, headers: Any, body: bytes) -> dict[str, Any]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return {"ok": False, "error": "not_authed" if "Authorization" not in headers else "invalid_auth"}
        args = _arguments(headers, body)
        if method == "chat.postMessage":
            return self._post(args)
        if method == "chat.update":
            return self._update(args)
        return {"ok": False, "error": "unknown_method"}

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        with self._lock:
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            thread_ts = args.get("thread_ts")
            if thread_ts and not any(m.ts == thread_ts and m.thread_ts is None for m in self.messages):
                return {"ok": False, "error": "thread_not_found"}
            message = Message(channel, ts, args.get("text", ""), _blocks(args), thread_ts)
            self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"type": "message", "text": message.text, "ts": ts},
        }

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            found = next((m for m in self.messages if (m.channel, m.ts) == (args.get("channel"), args.get("ts"))), None)
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            found.edits.append({"text": found.text, "blocks": found.blocks})
            found.text, found.blocks = args.get("text", found.text), _blocks(args) or found.blocks
        return {"ok": True, "channel": found.channel, "ts": found.ts, "text": found.text}

    def _webhook(self, headers: Any, body: bytes) -> tuple[int, str]:
        try:
            payload = json.loads(body)
        except json.JSONDecodeError:
            return 400, "invalid_payload"
        if not payload.get("text") and not payload.get("blocks"):
            return 400, "no_text"
        with self._lock:
            self.webhook_posts.append(payload)
        return 200, "ok"


def _arguments(headers: Any, body: bytes) -> dict[str, Any]:
    if headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(body or b"{}")
    return {key: values[-1] for key, values in parse_qs(body.decode()).items()}


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks

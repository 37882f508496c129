"""A local Slack for tests and the rehearsal: an HTTP server on loopback that speaks Slack's real shapes.

- Web API `chat.postMessage` and `chat.update` (JSON or form bodies): checks the bearer token and
  the channel, answers `{"ok": true, "channel", "ts", "message"}` or `{"ok": false, "error"}` with
  HTTP 200, as Slack does; keeps every message, its edits, its thread replies and its message
  metadata (`{"event_type", "event_payload"}`: an object in JSON bodies, a JSON string in form bodies).
- `conversations.history` and `conversations.replies` (GET query or POST body), paginated by cursor,
  with the metadata only when `include_all_metadata` is true, as Slack answers them.
- Incoming webhook: `POST /services/...` answers `ok`, or Slack's plain-text errors
  (`invalid_payload` 400, `invalid_token` 403, `no_service` 404).
- Faults on demand, one per coming request: `ratelimited` (429 with Retry-After: `retry_after_s`),
  `server_error` (500), `invalid_auth`, `channel_not_found`, `internal_error`, `slow` (answers after `slow_s`), and
  `ghost_post` (the next chat.postMessage is carried out but answered 500: Slack acted, the client
  cannot know). Or by rate: `fail_fraction(fault, p, seed=...)` fails that fraction of the coming Web
  API requests (in bursts of `burst` requests if asked), deterministically for a given seed and
  request order, until `fail_fraction(fault, 0)` or `stop_failing()`. `injected` counts every fault.
- The Slack side of an app's commands: `slash_command(url, ...)` and `message_shortcut(url, ...)`
  send the request Slack sends to the app's Request URL (form-encoded, signed with the signing
  secret; see slack_requests.py, whose `SlackRequest` also builds the spoiled ones for tests), with a
  `response_url` this server serves: every JSON message POSTed there is kept in `responses` (read
  them with `responses_to(url)`); a sixth use of one URL is refused (Slack allows five).
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import socket
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from detour_cli.local.loopback import LoopbackServer
from detour_cli.local.slack_requests import (
    SIGNING_SECRET,
    TEAM_ID,
    SlackAnswer,
    SlackRequest,
    message_shortcut_form,
    slash_command_form,
)

TOKEN = "xoxb-1111-2222-detourTESTtoken"  # noqa: S105 - the fake's own, accepted nowhere else
CHANNEL = "C0DETOUR01"
WEBHOOK_PATH = "/services/T0DETOUR/B0DETOUR/detourWebhookSecret"
# Slack reads these methods' arguments from the query string or a form body only; a JSON body is not read.
READ_METHODS = frozenset({"conversations.history", "conversations.replies", "usergroups.users.list"})
REFUSALS = ("invalid_auth", "channel_not_found", "internal_error")  # HTTP 200, {"ok": false, "error": ...}
FAULTS = ("ratelimited", "server_error", *REFUSALS, "slow", "ghost_post")
HISTORY_LIMIT_MAX = 999
REPLIES_LIMIT_MAX = 1000
RESPONSE_URL_USES = 5  # Slack: a response_url takes up to 5 messages within 30 minutes


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
    metadata: dict[str, Any] | None = None  # Slack's message metadata: {"event_type", "event_payload"}


@dataclass
class ResponsePost:
    """A message the app POSTed to a response_url."""

    response_url: str
    payload: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.payload.get("text", ""))

    @property
    def ephemeral(self) -> bool:
        """Seen only by the person who asked (Slack's default for response_url messages)."""
        return bool(self.payload.get("response_type", "ephemeral") == "ephemeral")


@dataclass
class _Rate:
    """A fault given to a fraction of requests, `burst` requests in a row each time it strikes."""

    fraction: float
    burst: int
    rng: random.Random
    pending: int = 0


class FakeSlack(LoopbackServer):
    def __init__(
        self,
        token: str = TOKEN,
        channels: tuple[str, ...] = (CHANNEL,),
        slow_s: float = 3.0,
        retry_after_s: int = 1,
    ) -> None:
        self.token = token
        self.channels = set(channels)
        self.usergroups: dict[str, set[str]] = {}  # user group id (S…) -> its members' user ids
        self.slow_s = slow_s
        self.retry_after_s = retry_after_s  # the Retry-After of a `ratelimited` answer
        self.messages: list[Message] = []
        self.webhook_posts: list[dict[str, Any]] = []
        self.responses: list[ResponsePost] = []  # messages POSTed to the response_urls handed out
        self._response_urls: dict[str, int] = {}  # path -> uses left
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers) of every request
        self.injected: Counter[str] = Counter()  # faults answered, by name
        self._faults: deque[str] = deque()
        self._rates: dict[str, _Rate] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        super().__init__(self._handler_class())

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}"

    # -- the Slack side of an app's commands -------------------------------------------------------

    def slash_command_request(
        self,
        url: str,
        *,
        text: str,
        user_id: str,
        channel_id: str = CHANNEL,
        command: str = "/detour",
        signing_secret: str = SIGNING_SECRET,
        user_name: str | None = None,
        channel_name: str | None = None,
        timestamp: int | None = None,
    ) -> SlackRequest:
        """The request Slack sends `url` when `user_id` types `<command> <text>` in `channel_id`."""
        response_url = self._new_response_url("commands")
        form = slash_command_form(
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            command=command,
            response_url=response_url,
            user_name=user_name,
            channel_name=channel_name,
        )
        return SlackRequest.signed(url, form, secret=signing_secret, response_url=response_url, timestamp=timestamp)

    def slash_command(
        self, url: str, *, retry_num: int | None = None, retry_reason: str = "http_timeout", **fields: Any
    ) -> SlackAnswer:
        """Send a slash command as Slack does (a retry of it if `retry_num`); the app's answer.
        `fields` are slash_command_request's."""
        request = self.slash_command_request(url, **fields)
        if retry_num is not None:
            request = request.retried(retry_num, retry_reason)
        return request.send()

    def message_shortcut_request(
        self,
        url: str,
        *,
        message_text: str,
        message_ts: str,
        thread_ts: str | None,
        user_id: str,
        channel_id: str = CHANNEL,
        signing_secret: str = SIGNING_SECRET,
        callback_id: str = "post_to_page",
        message_user: str | None = None,
        user_name: str | None = None,
        timestamp: int | None = None,
    ) -> SlackRequest:
        """The interactivity request Slack sends `url` when `user_id` picks the message shortcut
        `callback_id` on a message (`message_user` wrote it; by default `user_id` did)."""
        response_url = self._new_response_url("app")
        form = message_shortcut_form(
            callback_id=callback_id,
            message_text=message_text,
            message_ts=message_ts,
            thread_ts=thread_ts,
            message_user=message_user or user_id,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            user_name=user_name,
        )
        return SlackRequest.signed(url, form, secret=signing_secret, response_url=response_url, timestamp=timestamp)

    def message_shortcut(self, url: str, **fields: Any) -> SlackAnswer:
        """Send a message shortcut as Slack does; the app's answer. `fields` are
        message_shortcut_request's."""
        return self.message_shortcut_request(url, **fields).send()

    def responses_to(self, response_url: str) -> list[ResponsePost]:
        """The messages the app POSTed to this response_url, in order."""
        with self._lock:
            return [r for r in self.responses if r.response_url == response_url]

    def _new_response_url(self, kind: str) -> str:
        with self._lock:
            path = f"/{kind}/{TEAM_ID}/{next(self._ts)}{random.randrange(10**9):09d}/{uuid.uuid4().hex[:24]}"  # noqa: S311
            self._response_urls[path] = RESPONSE_URL_USES
        return f"{self.url}{path}"

    def _respond(self, path: str, body: bytes) -> tuple[int, dict[str, Any] | str]:
        """A POST to a response_url: kept, as Slack shows it to the person."""
        try:
            payload = json.loads(body)
        except json.JSONDecodeError:
            return 400, "invalid_payload"
        if not isinstance(payload, dict) or (not payload.get("text") and not payload.get("blocks")):
            return 400, "no_text"
        with self._lock:
            left = self._response_urls.get(path)
            if left is None:
                return 404, "no_service"
            if left == 0:
                return 404, {"ok": False, "error": "used_url"}
            self._response_urls[path] = left - 1
            self.responses.append(ResponsePost(f"{self.url}{path}", payload))
        return 200, {"ok": True}

    # -- what the tests look at -------------------------------------------------------------------

    def fail_next(self, *faults: str) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.extend(faults)

    def fail_fraction(self, fault: str, fraction: float, *, seed: int = 0, burst: int = 1) -> None:
        """From now on, answer about `fraction` of the Web API requests with `fault`: each time it
        strikes, `burst` requests in a row get it. Deterministic for a seed and a request order.
        `ghost_post` strikes chat.postMessage only. A fraction of 0 turns the fault off."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        if not 0 <= fraction <= 1 or burst < 1:
            raise ValueError("fraction must be within [0, 1] and burst at least 1")
        with self._lock:
            if fraction == 0:
                self._rates.pop(fault, None)
            else:
                self._rates[fault] = _Rate(fraction, burst, random.Random(f"{seed}:{fault}"))  # noqa: S311 - test faults

    def stop_failing(self) -> None:
        """No more faults: neither the queued ones nor those given by rate."""
        with self._lock:
            self._faults.clear()
            self._rates.clear()

    def roots(self) -> list[Message]:
        return [m for m in self.messages if m.thread_ts is None]

    def replies(self, root: Message) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == root.ts]

    def _next_fault(self, path: str) -> str | None:
        """The fault this request gets, if any (the caller holds the lock)."""
        is_post = path.removeprefix("/api/").split("?")[0] == "chat.postMessage"
        if self._faults:
            fault = self._faults[0]
            if fault != "ghost_post" or is_post:  # a ghost post waits for the next chat.postMessage
                return self._faults.popleft()
        if not path.startswith("/api/"):
            return None
        for fault, rate in self._rates.items():
            if fault == "ghost_post" and not is_post:
                continue
            if rate.pending == 0 and rate.rng.random() < rate.fraction:
                rate.pending = rate.burst
            if rate.pending:
                rate.pending -= 1
                return fault
        return None

    # -- the server -------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # Slack's read methods also answer GET with a query string
                self.do_POST()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _, query = self.path.partition("?")
                with slack._lock:
                    slack.requests.append((path, dict(self.headers)))
                    fault = slack._next_fault(path)
                    if fault is not None:
                        slack.injected[fault] += 1
                if fault == "slow":
                    time.sleep(slack.slow_s)
                    fault = None
                if fault == "ratelimited":
                    retry_after = {"Retry-After": str(slack.retry_after_s)}
                    self._reply(429, {"ok": False, "error": "ratelimited"}, retry_after)
                elif fault == "server_error":
                    self._reply(500, "<html><body>Internal Server Error</body></html>")
                elif fault in REFUSALS:
                    self._reply(200, {"ok": False, "error": fault})
                elif path == WEBHOOK_PATH:
                    self._reply(*slack._webhook(self.headers, body))
                elif path.startswith("/services/"):
                    self._reply(404, "no_service")
                elif path.startswith(("/commands/", "/app/")):
                    self._reply(*slack._respond(path, body))
                elif path.startswith("/api/"):
                    answer = slack._api(path.removeprefix("/api/"), self.headers, body, query)
                    if fault == "ghost_post":  # done, but the answer is lost
                        self._reply(500, "<html><body>Internal Server Error</body></html>")
                    else:
                        self._reply(200, answer)
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

    def _api(self, method: str, headers: Any, body: bytes, query: str = "") -> dict[str, Any]:
        args = {key: values[-1] for key, values in parse_qs(query).items()}
        if method not in READ_METHODS or not headers.get("Content-Type", "").startswith("application/json"):
            args |= _arguments(headers, body)  # as Slack: read methods take no JSON body (its arguments are lost)
        token = headers.get("Authorization") or (f"Bearer {args['token']}" if "token" in args else None)
        if token != f"Bearer {self.token}":
            return {"ok": False, "error": "not_authed" if token is None else "invalid_auth"}
        methods = {
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "usergroups.users.list": self._usergroup,
        }
        answer = methods.get(method)
        return answer(args) if answer else {"ok": False, "error": "unknown_method"}

    def _usergroup(self, args: dict[str, Any]) -> dict[str, Any]:
        group = args.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": sorted(self.usergroups[group])}

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        try:
            metadata = _metadata(args)
        except ValueError:
            return {"ok": False, "error": "invalid_metadata_format"}
        with self._lock:
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            thread_ts = args.get("thread_ts")
            if thread_ts and not any(m.ts == thread_ts and m.thread_ts is None for m in self.messages):
                return {"ok": False, "error": "thread_not_found"}
            message = Message(channel, ts, args.get("text", ""), _blocks(args), thread_ts, metadata=metadata)
            self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"type": "message", "text": message.text, "ts": ts}
            | ({"thread_ts": thread_ts} if thread_ts else {})
            | ({"metadata": metadata} if metadata else {}),
        }

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            metadata = _metadata(args)
        except ValueError:
            return {"ok": False, "error": "invalid_metadata_format"}
        with self._lock:
            found = next((m for m in self.messages if (m.channel, m.ts) == (args.get("channel"), args.get("ts"))), None)
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            found.edits.append({"text": found.text, "blocks": found.blocks})
            found.text, found.blocks = args.get("text", found.text), _blocks(args) or found.blocks
            found.metadata = metadata or found.metadata  # an update without metadata keeps it
        return {"ok": True, "channel": found.channel, "ts": found.ts, "text": found.text}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channel's top-level messages, newest first; `oldest` and `latest` exclusive."""
        paging = _paging(args, self.channels, 100, HISTORY_LIMIT_MAX, "before")
        if isinstance(paging, dict):
            return paging
        oldest, latest, limit, before = paging
        if before is not None:
            latest = min(latest, before)
        with self._lock:
            roots = [m for m in self.messages if m.channel == args["channel"] and m.thread_ts is None]
            chosen = sorted((m for m in roots if oldest < Decimal(m.ts) < latest), key=_ts_key, reverse=True)
            page = chosen[:limit]
            listed = [self._listed(m, _flag(args.get("include_all_metadata"))) for m in page]
        return _page(listed, page, "before", has_more=len(chosen) > limit) | {"pin_count": 0}

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its root first, then its replies oldest first (`oldest`/`latest` exclusive)."""
        paging = _paging(args, self.channels, 1000, REPLIES_LIMIT_MAX, "after")
        if isinstance(paging, dict):
            return paging
        oldest, latest, limit, after = paging
        with_metadata = _flag(args.get("include_all_metadata"))
        with self._lock:
            found = next((m for m in self.messages if (m.channel, m.ts) == (args["channel"], args.get("ts"))), None)
            if found is None:
                return {"ok": False, "error": "thread_not_found"}
            if found.thread_ts is not None:  # asked for a reply: Slack answers that reply alone
                return {"ok": True, "messages": [self._listed(found, with_metadata)], "has_more": False}
            replies = sorted(
                (m for m in self.messages if m.thread_ts == found.ts and oldest < Decimal(m.ts) < latest),
                key=_ts_key,
            )
            if after is not None:
                replies = [m for m in replies if Decimal(m.ts) > after]
            head = [found] if after is None else []
            page = (head + replies)[:limit]
            listed = [self._listed(m, with_metadata) for m in page]
        return _page(listed, page, "after", has_more=len(head) + len(replies) > limit)

    def _listed(self, message: Message, with_metadata: bool) -> dict[str, Any]:
        """A message as conversations.* list it (the caller holds the lock)."""
        listed: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
        if message.blocks:
            listed["blocks"] = message.blocks
        if message.edits:
            listed["edited"] = {"user": "B0DETOUR", "ts": message.ts}
        if message.thread_ts is not None:
            listed["thread_ts"] = message.thread_ts
        else:
            replies = [m for m in self.messages if m.thread_ts == message.ts]
            if replies:
                listed |= {
                    "thread_ts": message.ts,
                    "reply_count": len(replies),
                    "latest_reply": max(replies, key=_ts_key).ts,
                }
        if with_metadata and message.metadata is not None:
            listed["metadata"] = message.metadata
        return listed

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
        parsed: dict[str, Any] = json.loads(body or b"{}")
        return parsed
    return {key: values[-1] for key, values in parse_qs(body.decode()).items()}


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
    """Message metadata: an object in a JSON body, a JSON string in a form body; ValueError if malformed."""
    value = args.get("metadata")
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
        raise ValueError("metadata needs an event_type")
    if not isinstance(value.get("event_payload", {}), dict):
        raise ValueError("event_payload must be an object")
    return {"event_type": value["event_type"], "event_payload": value.get("event_payload", {})}


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _ts_key(message: Message) -> Decimal:
    return Decimal(message.ts)


def _paging(
    args: dict[str, Any], channels: set[str], default_limit: int, maximum: int, direction: str
) -> tuple[Decimal, Decimal, int, Decimal | None] | dict[str, Any]:
    """What both conversations.* read methods take: `oldest`, `latest` (exclusive), `limit` and
    `cursor`; or Slack's refusal."""
    if args.get("channel") not in channels:
        return {"ok": False, "error": "channel_not_found"}
    try:
        oldest, latest = _ts_bound(args.get("oldest"), "0"), _ts_bound(args.get("latest"), "inf")
        return oldest, latest, _limit(args.get("limit"), default_limit, maximum), _cursor(args.get("cursor"), direction)
    except ValueError:
        return {"ok": False, "error": "invalid_arguments"}


def _page(listed: list[dict[str, Any]], page: list[Message], direction: str, *, has_more: bool) -> dict[str, Any]:
    cursor = _make_cursor(direction, page[-1].ts) if has_more else ""
    return {"ok": True, "messages": listed, "has_more": has_more, "response_metadata": {"next_cursor": cursor}}


def _ts_bound(value: Any, default: str) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(default)
    except InvalidOperation as error:
        raise ValueError(f"not a timestamp: {value!r}") from error


def _limit(value: Any, default: int, maximum: int) -> int:
    if value in (None, ""):
        return default
    return max(1, min(int(value), maximum))


def _make_cursor(direction: str, ts: str) -> str:
    return base64.urlsafe_b64encode(f"{direction}:{ts}".encode()).decode()


def _cursor(value: Any, direction: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        kind, _, ts = base64.urlsafe_b64decode(str(value).encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("invalid cursor") from error
    if kind != direction:
        raise ValueError("invalid cursor")
    return _ts_bound(ts, "0")

"""A Lambda Function URL (AuthType NONE), played on loopback: each HTTP request becomes the
payload-format-2.0 event Lambda gives the function, and the function's result becomes the HTTP
response, by the rules Lambda applies.

Request -> event, as Function URLs build it:
- `headers` with lower-cased names, repeated headers joined with commas; `cookie` moved to `cookies`;
  the `x-forwarded-*`, `x-amzn-trace-id` and TLS headers the URL's front end adds; `host` is the
  played URL's domain (`<url-id>.lambda-url.<region>.on.aws`), as the function sees it on AWS.
- `rawPath`, `rawQueryString` (as sent), `queryStringParameters` (decoded, repeated keys joined
  with commas; absent without a query).
- `body` absent when empty; as text when the content type is text (`text/*`, JSON, XML), otherwise
  base64-encoded with `isBase64Encoded: true`. A Slack request (`application/x-www-form-urlencoded`)
  therefore arrives base64-encoded, as on AWS.
- `requestContext`: `accountId` "anonymous" (AuthType NONE), `apiId`/`domainPrefix` the URL id,
  `http` {method, path, protocol, sourceIp, userAgent}, `requestId`, `time`, `timeEpoch`.

Result -> response:
- a dict with `statusCode`: that status, its `headers`, its `cookies` as Set-Cookie headers, its
  `body` (base64-decoded when `isBase64Encoded`); without `statusCode`, any JSON value (a dict, a
  list, a number): 200, `content-type: application/json`, the value serialised as the body; a bare
  string: 200 with that string as the body.
- the handler raised, or returned something JSON cannot carry: 502 `Internal Server Error`.

The function runs in this process, one function at a time (lambda_runtime): a request that arrives
while another function runs waits for it, where Lambda would start another execution environment.
`served` keeps each request's event, answer and time, to check Slack's three-second deadline.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl

from detour_cli.local.loopback import LoopbackServer

LOG = logging.getLogger(__name__)
REGION = "us-east-1"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
TEXT_MARKERS = ("text/", "json", "xml", "javascript")
MAX_PAYLOAD = 6 * 1024 * 1024  # Lambda's synchronous payload limit, the Function URL's request limit


class Invocable(Protocol):
    """What the URL invokes: an InProcessFunction, or a stand-in with the same two members."""

    function_name: str

    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass
class Served:
    """One request the URL served: the event the function got, what the client got, how long it took."""

    event: dict[str, Any]
    status: int
    body: bytes
    seconds: float
    error: str | None = None  # the handler's exception, "Type: message", when it raised


class FunctionUrl(LoopbackServer):
    def __init__(self, function: Invocable, *, url_id: str | None = None, region: str = REGION) -> None:
        self.function = function
        self.url_id = url_id or secrets.token_hex(16)  # 32 characters, as Lambda's url ids
        self.region = region
        self.served: list[Served] = []
        self._lock = threading.Lock()
        super().__init__(self._handler_class())

    @property
    def domain_name(self) -> str:
        """The domain the function sees, as on AWS: https://<domain_name>/ is the URL it plays."""
        return f"{self.url_id}.lambda-url.{self.region}.on.aws"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        url = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._serve()

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

            def _serve(self) -> None:
                started = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_PAYLOAD:
                    self._send(413, [("content-type", "application/json")], b'{"Message":"Request Too Long"}')
                    return
                body = self.rfile.read(length)
                event = request_event(
                    self.command,
                    self.path,
                    list(self.headers.items()),
                    body,
                    source_ip=self.client_address[0],
                    url_id=url.url_id,
                    domain_name=url.domain_name,
                )
                error = None
                try:
                    result = url.function.invoke(event)
                    status, headers, data = http_response(result)
                except Exception as raised:  # the handler failed: the URL answers 502, as Lambda's does
                    error = f"{type(raised).__name__}: {raised}"
                    LOG.exception("%s raised on a Function URL request", url.function.function_name)
                    status, headers, data = 502, [("content-type", "text/plain")], b"Internal Server Error"
                with url._lock:  # kept before answering: whoever got the answer finds it here
                    url.served.append(Served(event, status, data, time.monotonic() - started, error))
                request_id = event["requestContext"]["requestId"]
                self._send(status, [*headers, ("x-amzn-requestid", request_id)], data)

            def _send(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", *HOP_BY_HOP):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

        return Handler


def request_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    url_id: str = "local",
    domain_name: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The payload-format-2.0 event a Function URL gives the function for this HTTP request."""
    domain = domain_name or f"{url_id}.lambda-url.{REGION}.on.aws"
    path, _, raw_query = target.partition("?")
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in HOP_BY_HOP:
            continue
        if lowered == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        joined[lowered] = f"{joined[lowered]},{value}" if lowered in joined else value
    joined["host"] = domain
    joined.setdefault("x-amzn-trace-id", _trace_id())
    joined.update(
        {
            "x-forwarded-for": source_ip,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "x-amzn-tls-version": "TLSv1.3",
            "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
        }
    )
    now = now or datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    if raw_query:
        parameters: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
        event["queryStringParameters"] = parameters
    event["requestContext"] = {
        "accountId": "anonymous",
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": "$default",
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if body:
        text = _as_text(joined.get("content-type", ""), body)
        event["body"] = text if text is not None else base64.b64encode(body).decode()
        event["isBase64Encoded"] = text is None
    else:
        event["isBase64Encoded"] = False
    return event


def http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) the URL answers for the handler's result; ValueError if Lambda
    could not serialise it (the URL then answers 502)."""
    try:
        serialised = json.dumps(result)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Runtime.MarshalError: unable to marshal the response: {error}") from error
    json_type = [("content-type", "application/json")]
    if isinstance(result, str):
        return 200, json_type, result.encode()
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, json_type, serialised.encode()
    status = int(result["statusCode"])
    given = result.get("headers") or {}
    headers = [(str(name).lower(), str(value)) for name, value in given.items()]
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    headers += [("set-cookie", str(cookie)) for cookie in result.get("cookies") or []]
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        data = json.dumps(body).encode()
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode()
    return status, headers, data


def _as_text(content_type: str, body: bytes) -> str | None:
    """The body as the event carries text, or None when Lambda would base64-encode it."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not any(marker in media_type for marker in TEXT_MARKERS):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"

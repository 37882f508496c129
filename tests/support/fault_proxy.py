"""A fault-injecting proxy in front of moto's server, so boto3 meets real AWS throttling.

Every request is forwarded unchanged (method, path, headers, body) to the upstream endpoint, except
a seeded fraction that the proxy answers itself in AWS's own error shapes:

- DynamoDB (`X-Amz-Target: DynamoDB_20120810.*`): HTTP 400 `ProvisionedThroughputExceededException`
  or `ThrottlingException` (botocore's standard mode retries both, with backoff); and, for
  `TransactWriteItems`, HTTP 400 `TransactionCanceledException` with a `TransactionConflict` among its
  `CancellationReasons`, as real DynamoDB answers two transactions touching one item (moto never does;
  botocore does not retry it).
- S3 (credential scope `/s3/` in the Authorization header): HTTP 503 `SlowDown`.

Three ways to fail, combinable (`FaultPlan`): a fraction of single requests (botocore's retries
absorb most of them); bursts, where every DynamoDB and S3 request fails for `burst_s` seconds; and
doomed calls, where every attempt of one SDK call (botocore's `amz-sdk-invocation-id` header is the
same for all the retries of a call) fails, so botocore gives up and the Lambda invocation raises.
`injected` counts what was answered, by service and error. Loopback only; stop it with the test.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from detour_cli.local.loopback import LoopbackServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
}
DYNAMODB_TARGET = "DynamoDB_20120810."
DYNAMODB_ERRORS = {
    "ProvisionedThroughputExceededException": (
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    ),
    "ThrottlingException": (
        "com.amazon.coral.availability#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
}
S3_SLOWDOWN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    "<Message>Please reduce your request rate.</Message><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>"
)


@dataclass(frozen=True)
class FaultPlan:
    dynamodb_throttle: float = 0.0  # fraction of DynamoDB requests throttled
    s3_slowdown: float = 0.0  # fraction of S3 requests answered 503 SlowDown
    transaction_conflict: float = 0.0  # fraction of TransactWriteItems cancelled by a TransactionConflict
    burst_chance: float = 0.0  # chance, per DynamoDB or S3 request, that a burst begins
    burst_s: float = 0.3  # during a burst every DynamoDB and S3 request is refused
    doomed_calls: int = 0  # at most this many SDK calls fail on every one of their attempts
    doom_chance: float = 0.0  # chance that a new DynamoDB or S3 call is doomed, while some are left
    seed: int = 0


class FaultProxy(LoopbackServer):
    def __init__(self, upstream: str, plan: FaultPlan | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the fault proxy only forwards to loopback, not {upstream}")
        self._upstream = (parts.hostname, parts.port or 80)
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self._lock = threading.Lock()
        self._doomed: set[str] = set()
        self._burst_until = 0.0
        self.set_plan(plan or FaultPlan())
        super().__init__(self._handler_class())

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed)  # noqa: S311 - test faults, not secrets
            self._doomed_left = plan.doomed_calls
            self._doomed.clear()
            self._burst_until = 0.0

    def stop_faults(self) -> None:
        self.set_plan(FaultPlan())

    # -- deciding -----------------------------------------------------------------------------------

    def _fault_for(self, headers: Any, body: bytes) -> tuple[str, str] | None:  # noqa: PLR0911 - one per way
        """(service, error) to answer with, or None to forward."""
        target = headers.get("X-Amz-Target", "")
        if target.startswith(DYNAMODB_TARGET):
            service, operation = "dynamodb", target.removeprefix(DYNAMODB_TARGET)
        elif "/s3/" in headers.get("Authorization", ""):
            service, operation = "s3", ""
        else:
            return None
        call = headers.get("amz-sdk-invocation-id", "")
        first_attempt = headers.get("amz-sdk-request", "attempt=1").startswith("attempt=1;") or (
            "amz-sdk-request" not in headers
        )
        plan = self.plan
        with self._lock:
            rng = self._rng
            now = time.monotonic()
            if call and call in self._doomed:
                return service, self._throttle(service, rng)
            if call and first_attempt and self._doomed_left > 0 and rng.random() < plan.doom_chance:
                self._doomed_left -= 1
                self._doomed.add(call)
                self.injected["doomed calls"] += 1
                return service, self._throttle(service, rng)
            if now < self._burst_until:
                return service, self._throttle(service, rng)
            if plan.burst_chance and rng.random() < plan.burst_chance:
                self._burst_until = now + plan.burst_s
                self.injected["bursts"] += 1
                return service, self._throttle(service, rng)
            if operation == "TransactWriteItems" and rng.random() < plan.transaction_conflict:
                return service, "TransactionConflict"
            fraction = plan.dynamodb_throttle if service == "dynamodb" else plan.s3_slowdown
            if fraction and rng.random() < fraction:
                return service, self._throttle(service, rng)
        return None

    @staticmethod
    def _throttle(service: str, rng: random.Random) -> str:
        if service == "s3":
            return "SlowDown"
        return rng.choice(sorted(DYNAMODB_ERRORS))

    # -- the server ---------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._proxy()

            do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

            def _proxy(self) -> None:
                body = self._body()
                fault = proxy._fault_for(self.headers, body)
                if fault is None:
                    self._forward(body)
                    return
                service, error = fault
                with proxy._lock:
                    proxy.injected[f"{service} {error}"] += 1
                if service == "s3":
                    text = S3_SLOWDOWN.format(id=uuid.uuid4().hex[:16].upper(), host=uuid.uuid4().hex)
                    self._answer(503, text.encode(), {"Content-Type": "application/xml"})
                elif error == "TransactionConflict":
                    self._answer(400, _transaction_conflict(body, proxy._rng), _dynamodb_headers())
                else:
                    kind, message = DYNAMODB_ERRORS[error]
                    self._answer(400, json.dumps({"__type": kind, "message": message}).encode(), _dynamodb_headers())

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def _forward(self, body: bytes) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                if body or self.command in ("POST", "PUT", "PATCH"):
                    headers["Content-Length"] = str(len(body))
                connection = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                try:
                    connection.request(self.command, self.path, body=body or None, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                    status, reason, answer_headers = answer.status, answer.reason, answer.getheaders()
                finally:
                    connection.close()
                with proxy._lock:
                    proxy.forwarded += 1
                self.send_response(status, reason)
                length = None
                for name, value in answer_headers:
                    lowered = name.lower()
                    if lowered == "content-length":
                        length = value
                    elif lowered not in HOP_BY_HOP:
                        self.send_header(name, value)
                if self.command == "HEAD":
                    self.send_header("Content-Length", length or "0")
                    self.end_headers()
                    return
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

        return Handler


def _dynamodb_headers() -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": uuid.uuid4().hex.upper()}


def _transaction_conflict(body: bytes, rng: random.Random) -> bytes:
    """Real DynamoDB's answer when another transaction holds one of the items: one reason per item."""
    try:
        count = max(1, len(json.loads(body).get("TransactItems", [])))
    except (ValueError, AttributeError):
        count = 1
    conflicted = rng.randrange(count)
    reasons: list[dict[str, str]] = [{"Code": "None"} for _ in range(count)]
    reasons[conflicted] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    codes = ", ".join(r["Code"] for r in reasons)
    return json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "CancellationReasons": reasons,
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        }
    ).encode()

"""Lambda's Invoke API on loopback, for the emulated stack's functions (run in-process).

`POST /2015-03-31/functions/{FunctionName}/invocations`, FunctionName a name, a full or partial ARN,
optionally with the `$LATEST` qualifier (in the name or as `?Qualifier=`). Functions reach it the
way boto3 reaches any service-specific endpoint: `AWS_ENDPOINT_URL_LAMBDA` (other services still
go to `AWS_ENDPOINT_URL`, the emulator).

- `X-Amz-Invocation-Type: Event`: 202 at once; the event is queued and run on one background
  worker. A failed run is retried (`max_retries`, Lambda's default 2, after `retry_delay_s`; Lambda
  waits 1 then 2 minutes), then dead-lettered: kept in `dead_letters` and logged. Every failed
  attempt is logged and kept in `failures`. `wait_idle()` waits until the queue is empty and
  nothing runs, including what the queued runs queued in turn.
- `RequestResponse` (the default): 200 and the handler's result as JSON; if the handler raised,
  200 with `X-Amz-Function-Error: Unhandled` and the Python runtime's error payload
  (`errorMessage`, `errorType`, `requestId`, `stackTrace`). A result JSON cannot carry is a
  `Runtime.MarshalError`, as on Lambda.
- `DryRun`: 204.
- Unknown function: 404 `ResourceNotFoundException`; a payload that is not JSON: 400
  `InvalidRequestContentException`; too large (6 MB synchronous, 1 MB asynchronous): 413
  `RequestTooLargeException`; each in Lambda's error shape (`x-amzn-ErrorType` header, JSON body
  `{"Type", "message"}`), which botocore turns into the same exceptions as on AWS.

In-process functions run one at a time (their environment variables are process-wide), so a
queued event waits for the function running now; a running function queueing another never waits
for it. A synchronous invocation made while another function runs waits `sync_wait_s` for it, then
is answered 429 `TooManyRequestsException` rather than deadlocking (a function invoking another
synchronously would otherwise wait for itself).
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

from detour_cli.local.lambda_runtime import exclusive
from detour_cli.local.loopback import LoopbackServer

LOG = logging.getLogger(__name__)
REGION = "us-east-1"
ACCOUNT = "123456789012"
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
ARN = re.compile(
    r"^(?:arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):function:)?"
    r"(?P<name>[A-Za-z0-9_.-]{1,140})(?::(?P<qualifier>[A-Za-z0-9$_-]+))?$"
)
SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024


class Invocable(Protocol):
    function_name: str

    def invoke(self, event: dict[str, Any], *, request_id: str | None = None) -> Any: ...


@dataclass
class Invocation:
    """One invocation as the service saw it."""

    function_name: str
    invocation_type: str
    event: Any
    request_id: str
    status: int
    outcome: str = "queued"  # queued, succeeded, failed (sync), dead-lettered (async, after the retries)
    result: Any = None
    attempts: int = 0
    seconds: float = 0.0  # time spent running the handler, all attempts together


@dataclass
class FailedAttempt:
    function_name: str
    request_id: str
    attempt: int  # 1 for the first run, 2 and 3 for Lambda's retries
    error_type: str
    error_message: str
    event: Any


class _Refused(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


@dataclass
class _Queued:
    function: Invocable
    invocation: Invocation


class LocalLambda(LoopbackServer):
    def __init__(
        self,
        functions: list[Invocable] | None = None,
        *,
        max_retries: int = 2,
        retry_delay_s: float = 0.0,
        sync_wait_s: float = 30.0,
        region: str = REGION,
        account: str = ACCOUNT,
    ) -> None:
        self.region, self.account = region, account
        self.max_retries = max_retries
        self.retry_delay_s = retry_delay_s
        self.sync_wait_s = sync_wait_s
        self.invocations: list[Invocation] = []
        self.failures: list[FailedAttempt] = []  # every failed attempt of a queued event
        self.dead_letters: list[Invocation] = []  # queued events that failed every attempt
        self._functions: dict[str, Invocable] = {}
        self._retries: dict[str, int] = {}
        self._queue: queue.Queue[_Queued | None] = queue.Queue()
        self._pending = 0  # accepted and not yet finished for good (queued, running, or awaiting a retry)
        self._idle = threading.Condition()
        self._worker = threading.Thread(target=self._work, name="local-lambda-events", daemon=True)
        for function in functions or []:
            self.add(function)
        super().__init__(self._handler_class())

    def add(self, function: Invocable, *, max_retries: int | None = None) -> None:
        """Serve this function under its name; `max_retries` overrides the service's (the template's
        EventInvokeConfig MaximumRetryAttempts)."""
        self._functions[function.function_name] = function
        if max_retries is not None:
            self._retries[function.function_name] = max_retries

    def arn(self, function_name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{function_name}"

    def __enter__(self) -> LocalLambda:
        self._worker.start()
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._queue.put(None)
        self._worker.join(timeout=5)

    # -- what the rehearsal and the tests use ------------------------------------------------------

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def wait_idle(self, timeout_s: float = 30.0) -> float:
        """Block until every queued invocation (and whatever they queued) has finished for good;
        the seconds waited. TimeoutError if that takes longer than `timeout_s`."""
        started = time.monotonic()
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout=timeout_s):
                raise TimeoutError(f"{self._pending} queued Lambda invocation(s) still unfinished after {timeout_s} s")
        return time.monotonic() - started

    # -- running ---------------------------------------------------------------------------------

    def _resolve(self, raw_name: str, qualifier: str | None) -> Invocable | None:
        match = ARN.match(unquote(raw_name))
        if match is None:
            return None
        if match["region"] not in (None, self.region) or match["account"] not in (None, self.account):
            return None
        if (match["qualifier"] or qualifier or "$LATEST") != "$LATEST":
            return None
        return self._functions.get(match["name"])

    def _run(self, function: Invocable, invocation: Invocation) -> tuple[bool, Any]:
        """One attempt: (succeeded, result or the runtime's error payload)."""
        invocation.attempts += 1
        started = time.monotonic()
        try:
            result = function.invoke(invocation.event, request_id=invocation.request_id)
        except Exception as error:
            return False, _error_payload(error, invocation.request_id)
        finally:
            invocation.seconds += time.monotonic() - started
        try:
            json.dumps(result)
        except (TypeError, ValueError) as error:
            return False, _error_payload(error, invocation.request_id, "Runtime.MarshalError")
        return True, result

    def _queue_event(self, function: Invocable, invocation: Invocation) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(_Queued(function, invocation))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            function, invocation = item.function, item.invocation
            succeeded, result = self._run(function, invocation)
            if succeeded:
                invocation.outcome, invocation.result = "succeeded", result
                self._finished()
                continue
            self.failures.append(
                FailedAttempt(
                    function.function_name,
                    invocation.request_id,
                    invocation.attempts,
                    result["errorType"],
                    result["errorMessage"],
                    invocation.event,
                )
            )
            allowed = self._retries.get(function.function_name, self.max_retries)
            LOG.error(
                "asynchronous invocation %s of %s failed (attempt %d of %d): %s: %s",
                invocation.request_id,
                function.function_name,
                invocation.attempts,
                allowed + 1,
                result["errorType"],
                result["errorMessage"],
            )
            if invocation.attempts <= allowed:
                if self.retry_delay_s:
                    timer = threading.Timer(self.retry_delay_s, self._queue.put, (item,))
                    timer.daemon = True
                    timer.start()
                else:
                    self._queue.put(item)
                continue
            invocation.outcome, invocation.result = "dead-lettered", result
            self.dead_letters.append(invocation)
            LOG.error("asynchronous invocation %s of %s dead-lettered", invocation.request_id, function.function_name)
            self._finished()

    def _finished(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _accept(self, target: str, headers: Any, body: bytes) -> tuple[Invocable, str, Any]:
        """(function, invocation type, event) of an Invoke request, or _Refused as Lambda refuses it."""
        path, _, query = target.partition("?")
        match = INVOKE_PATH.match(path)
        if match is None:
            raise _Refused(404, "UnknownOperationException", "Unknown operation")
        function = self._resolve(match["name"], parse_qs(query).get("Qualifier", [None])[-1])
        if function is None:
            name = unquote(match["name"])
            shown = name if ":" in name else self.arn(name)
            raise _Refused(404, "ResourceNotFoundException", f"Function not found: {shown}")
        kind = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise _Refused(400, "InvalidParameterValueException", f"Invalid invocation type {kind}")
        limit = ASYNC_LIMIT if kind == "Event" else SYNC_LIMIT
        if len(body) > limit:
            message = f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
            raise _Refused(413, "RequestTooLargeException", message)
        try:
            return function, kind, json.loads(body) if body else {}
        except (ValueError, UnicodeDecodeError) as error:
            message = f"Could not parse request body into json: {error}"
            raise _Refused(400, "InvalidRequestContentException", message) from None

    # -- the HTTP side -----------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                request_id = str(uuid.uuid4())
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    function, kind, event = service._accept(self.path, self.headers, body)
                except _Refused as refused:
                    self._error(refused.status, refused.error_type, refused.message, request_id)
                    return
                if kind == "DryRun":
                    self._send(204, b"", request_id)
                    return
                invocation = Invocation(function.function_name, kind, event, request_id, 202)
                service.invocations.append(invocation)
                if kind == "Event":
                    service._queue_event(function, invocation)
                    self._send(202, b"", request_id)
                    return
                self._invoke_now(function, invocation)

            def _invoke_now(self, function: Invocable, invocation: Invocation) -> None:
                with exclusive(service.sync_wait_s) as running:
                    if not running:
                        invocation.status, invocation.outcome = 429, "throttled"
                        message = (
                            f"another function has run for over {service.sync_wait_s:g} s: the local runtime runs "
                            "one at a time (a function invoking another synchronously would wait for itself)"
                        )
                        self._error(429, "TooManyRequestsException", message, invocation.request_id)
                        return
                    succeeded, result = service._run(function, invocation)
                invocation.status = 200
                invocation.outcome, invocation.result = ("succeeded" if succeeded else "failed"), result
                extra = {} if succeeded else {"X-Amz-Function-Error": "Unhandled"}
                self._send(200, json.dumps(result).encode(), invocation.request_id, extra)

            def _error(self, status: int, error_type: str, message: str, request_id: str) -> None:
                body = json.dumps({"Type": "User", "message": message}).encode()
                self._send(status, body, request_id, {"x-amzn-ErrorType": error_type})

            def _send(self, status: int, body: bytes, request_id: str, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", request_id)
                if status in (200, 202, 204):
                    self.send_header("X-Amz-Executed-Version", "$LATEST")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _error_payload(error: BaseException, request_id: str, error_type: str | None = None) -> dict[str, Any]:
    """The Python runtime's payload for an unhandled exception (or a result it cannot serialise)."""
    message = str(error) if error_type is None else f"Unable to marshal response: {error}"
    return {
        "errorMessage": message,
        "errorType": error_type or type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }

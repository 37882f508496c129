"""The loopback Lambda Invoke API: synchronous results and errors as Lambda answers them, unknown
functions, and the queue of asynchronous invocations (retries, dead letters, waiting for it)."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from detour_cli.local.lambda_runtime import InProcessFunction
from detour_cli.local.lambda_service import LocalLambda
from tests.support.local_functions import handler_function

ECHO = """
import os

def lambda_handler(event, context):
    if event.get("raise"):
        raise ValueError(event["raise"])
    return {"got": event, "site": os.environ.get("SITE"), "request_id": context.aws_request_id}
"""


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def echo(tmp_path: Path) -> InProcessFunction:
    return handler_function(tmp_path, ECHO, {"SITE": "www.detour.test"})


@pytest.fixture
def service(echo: InProcessFunction) -> Iterator[LocalLambda]:
    with LocalLambda([echo]) as running:
        yield running


def lambda_client(endpoint: str) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=20)
    return boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1", config=config)


def test_boto3_reaches_it_through_aws_endpoint_url_lambda_and_the_rest_still_goes_to_moto(
    aws: str, service: LocalLambda, echo: InProcessFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", service.url)
    client = boto3.client("lambda")  # AWS_ENDPOINT_URL points at moto (the `aws` fixture)
    assert client.meta.endpoint_url == service.url
    assert boto3.client("dynamodb").meta.endpoint_url == aws
    answer = client.invoke(FunctionName=echo.function_name, Payload=json.dumps({"n": 1}).encode())
    assert answer["StatusCode"] == 200
    assert json.loads(answer["Payload"].read())["got"] == {"n": 1}
    assert [i.function_name for i in service.invocations] == [echo.function_name]


def test_request_response_returns_the_result_by_name_arn_or_partial_arn(
    credentials: None, service: LocalLambda, echo: InProcessFunction
) -> None:
    client = lambda_client(service.url)
    name = echo.function_name
    for function_name, qualifier in (
        (name, None),
        (service.arn(name), None),
        (f"123456789012:function:{name}", None),
        (f"{name}:$LATEST", None),
        (name, "$LATEST"),
    ):
        extra = {"Qualifier": qualifier} if qualifier else {}
        answer = client.invoke(FunctionName=function_name, Payload=b'{"a": [1, "x"]}', **extra)
        assert answer["StatusCode"] == 200
        assert answer["ExecutedVersion"] == "$LATEST"
        assert "FunctionError" not in answer
        result = json.loads(answer["Payload"].read())
        assert result["got"] == {"a": [1, "x"]}
        assert result["site"] == "www.detour.test"  # run with the function's environment
        assert result["request_id"] == answer["ResponseMetadata"]["RequestId"]


def test_a_handler_that_raises_is_an_unhandled_function_error(
    credentials: None, service: LocalLambda, echo: InProcessFunction
) -> None:
    answer = lambda_client(service.url).invoke(FunctionName=echo.function_name, Payload=b'{"raise": "no table"}')
    assert (answer["StatusCode"], answer["FunctionError"]) == (200, "Unhandled")
    error = json.loads(answer["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "no table")
    assert error["requestId"] == answer["ResponseMetadata"]["RequestId"]
    assert any("raise ValueError" in frame for frame in error["stackTrace"])
    assert service.invocations[-1].outcome == "failed"


def test_an_unknown_function_is_resource_not_found_in_lambdas_shape(credentials: None, service: LocalLambda) -> None:
    client = lambda_client(service.url)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as raised:
        client.invoke(FunctionName="detour-nope", Payload=b"{}")
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:detour-nope"
    for elsewhere in ("arn:aws:lambda:eu-west-1:123456789012:function:detour-nope", "detour-x:live"):
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.invoke(FunctionName=elsewhere, Payload=b"{}")


def test_a_payload_that_is_not_json_is_refused(service: LocalLambda, echo: InProcessFunction) -> None:
    request = urllib.request.Request(
        f"{service.url}/2015-03-31/functions/{echo.function_name}/invocations", data=b"{oops", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 400
    assert raised.value.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert json.loads(raised.value.read())["message"].startswith("Could not parse request body into json")


def test_an_event_is_accepted_at_once_and_runs_in_the_background(
    credentials: None, tmp_path: Path, service: LocalLambda
) -> None:
    gate = threading.Event()
    slow = handler_function(
        tmp_path, "import builtins\ndef lambda_handler(event, context):\n    builtins._gate.wait(10)\n"
    )
    service.add(slow)
    import builtins  # noqa: PLC0415 - the handler module reaches the test's gate through builtins

    builtins._gate = gate  # type: ignore[attr-defined]
    try:
        client = lambda_client(service.url)
        started = time.monotonic()
        answer = client.invoke(FunctionName=slow.function_name, InvocationType="Event", Payload=b"{}")
        assert answer["StatusCode"] == 202
        assert answer["Payload"].read() == b""
        assert time.monotonic() - started < 2
        with pytest.raises(TimeoutError, match="1 queued Lambda invocation"):
            service.wait_idle(timeout_s=0.3)
        assert service.pending == 1
        gate.set()
        assert service.wait_idle(timeout_s=10) < 10
        assert service.invocations[-1].outcome == "succeeded"
        assert service.pending == 0
    finally:
        gate.set()
        del builtins._gate  # type: ignore[attr-defined]


def test_a_running_function_queueing_others_never_waits_for_them(
    credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Slack command's shape: the acknowledgement queues the work on itself, and the work queues
    two more functions; wait_idle sees the whole chain through."""
    chain = """
import json, boto3, builtins

def lambda_handler(event, context):
    builtins._ran.append((context.function_name, event))
    client = boto3.client("lambda")
    payload = json.dumps({"from": context.function_name}).encode()
    for name in event.get("then", []):
        client.invoke(FunctionName=name, InvocationType="Event", Payload=payload)
    return {"queued": len(event.get("then", []))}
"""
    import builtins  # noqa: PLC0415

    builtins._ran = []  # type: ignore[attr-defined]
    with LocalLambda() as service:
        variables = {"AWS_ENDPOINT_URL_LAMBDA": service.url}
        first, refresh, notify = (handler_function(tmp_path, chain, variables) for _ in range(3))
        for function in (first, refresh, notify):
            service.add(function)
        work = {"then": [refresh.function_name, notify.function_name]}
        ack = handler_function(
            tmp_path,
            "import json, boto3\n"
            "def lambda_handler(event, context):\n"
            "    boto3.client('lambda').invoke(FunctionName=event['work'], InvocationType='Event',"
            " Payload=json.dumps(event['payload']).encode())\n"
            "    return {'statusCode': 200, 'body': 'on it'}\n",
            variables,
        )
        service.add(ack)
        started = time.monotonic()
        answer = lambda_client(service.url).invoke(
            FunctionName=ack.function_name, Payload=json.dumps({"work": first.function_name, "payload": work}).encode()
        )
        assert json.loads(answer["Payload"].read()) == {"statusCode": 200, "body": "on it"}
        service.wait_idle(timeout_s=10)
        assert time.monotonic() - started < 5
    ran = builtins._ran  # type: ignore[attr-defined]
    del builtins._ran  # type: ignore[attr-defined]
    assert ran == [
        (first.function_name, work),
        (refresh.function_name, {"from": first.function_name}),
        (notify.function_name, {"from": first.function_name}),
    ]
    assert [i.outcome for i in service.invocations] == ["succeeded"] * 4
    assert not service.failures


def test_a_failing_event_is_retried_twice_then_dead_lettered_and_logged(
    credentials: None, service: LocalLambda, echo: InProcessFunction, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="detour_cli.local.lambda_service")
    client = lambda_client(service.url)
    client.invoke(FunctionName=echo.function_name, InvocationType="Event", Payload=b'{"raise": "S3 said no"}')
    service.wait_idle(timeout_s=10)
    assert [(f.attempt, f.error_type, f.error_message) for f in service.failures] == [
        (1, "ValueError", "S3 said no"),
        (2, "ValueError", "S3 said no"),
        (3, "ValueError", "S3 said no"),
    ]
    assert len({f.request_id for f in service.failures}) == 1  # the retries keep the request id
    (dead,) = service.dead_letters
    assert (dead.outcome, dead.attempts, dead.event) == ("dead-lettered", 3, {"raise": "S3 said no"})
    assert "failed (attempt 3 of 3): ValueError: S3 said no" in caplog.text
    assert "dead-lettered" in caplog.text

    service.add(echo, max_retries=0)  # the template's EventInvokeConfig can say otherwise
    client.invoke(FunctionName=echo.function_name, InvocationType="Event", Payload=b'{"raise": "again"}')
    service.wait_idle(timeout_s=10)
    assert len(service.failures) == 4
    assert len(service.dead_letters) == 2


def test_a_result_json_cannot_carry_is_a_marshal_error(credentials: None, tmp_path: Path) -> None:
    odd = handler_function(tmp_path, "def lambda_handler(event, context):\n    return {1, 2}\n")
    with LocalLambda([odd]) as service:
        answer = lambda_client(service.url).invoke(FunctionName=odd.function_name, Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "Runtime.MarshalError"


def test_a_synchronous_invocation_while_another_function_runs_is_throttled_not_deadlocked(
    credentials: None, tmp_path: Path
) -> None:
    """A function calling another synchronously would wait for itself in a one-at-a-time runtime."""
    calls_other = handler_function(
        tmp_path,
        "import boto3, os\n"
        "from botocore.config import Config\n"
        "def lambda_handler(event, context):\n"
        "    client = boto3.client('lambda', config=Config(retries={'max_attempts': 1}))\n"
        "    try:\n"
        "        client.invoke(FunctionName=event['other'], Payload=b'{}')\n"
        "    except client.exceptions.TooManyRequestsException as error:\n"
        "        return {'throttled': str(error)}\n",
    )
    other = handler_function(tmp_path, ECHO)
    with LocalLambda([calls_other, other], sync_wait_s=0.2) as service:
        calls_other.variables["AWS_ENDPOINT_URL_LAMBDA"] = service.url
        started = time.monotonic()
        answer = lambda_client(service.url).invoke(
            FunctionName=calls_other.function_name, Payload=json.dumps({"other": other.function_name}).encode()
        )
        assert time.monotonic() - started < 5
    assert "one at a time" in json.loads(answer["Payload"].read())["throttled"]


def test_dry_run_checks_the_function_without_running_it(
    credentials: None, service: LocalLambda, echo: InProcessFunction
) -> None:
    answer = lambda_client(service.url).invoke(FunctionName=echo.function_name, InvocationType="DryRun")
    assert answer["StatusCode"] == 204
    assert service.invocations == []

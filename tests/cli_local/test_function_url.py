"""The loopback Function URL: HTTP requests become payload-2.0 events as Lambda builds them, and
handler results become HTTP responses by Lambda's rules."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detour_cli.local.function_url import FunctionUrl, http_response, request_event
from tests.support.local_functions import handler_function


class Recorder:
    """A stand-in function: keeps the events, answers `result` (or raises it)."""

    function_name = "detour-recorder"

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.result: Any = {"statusCode": 200, "body": "ok"}

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def url(recorder: Recorder) -> Iterator[FunctionUrl]:
    with FunctionUrl(recorder, url_id="abcdefghijklmnopqrstuvwxyz012345") as server:
        yield server


def request(
    url: FunctionUrl, method: str, target: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """An HTTP request with exactly these headers (repeats included)."""
    connection = http.client.HTTPConnection("127.0.0.1", int(url.url.rsplit(":", 1)[1]), timeout=10)
    connection.putrequest(method, target)
    for name, value in headers or []:
        connection.putheader(name, value)
    if body or method == "POST":
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, answer.getheaders(), data


def test_a_slack_form_post_arrives_base64_encoded_with_lower_cased_headers(
    url: FunctionUrl, recorder: Recorder
) -> None:
    body = urllib.parse.urlencode({"command": "/detour", "text": "update identified <b>ça</b> & more"}).encode()
    status, _, data = request(
        url,
        "POST",
        "/slack/commands?team=T1&x=1&x=2&empty=",
        body,
        [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Slack-Signature", "v0=abc"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "a=1; b=2"),
            ("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"),
        ],
    )
    assert (status, data) == (200, b"ok")
    (event,) = recorder.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/slack/commands"
    assert event["rawQueryString"] == "team=T1&x=1&x=2&empty="
    assert event["queryStringParameters"] == {"team": "T1", "x": "1,2", "empty": ""}
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["x-slack-signature"] == "v0=abc"
    assert headers["x-multi"] == "one,two"
    assert headers["content-length"] == str(len(body))
    assert headers["host"] == url.domain_name == "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
    assert headers["x-forwarded-proto"] == "https"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    assert "cookie" not in headers
    assert event["cookies"] == ["a=1", "b=2"]
    context = event["requestContext"]
    assert context["accountId"] == "anonymous"
    assert (context["apiId"], context["domainPrefix"]) == (url.url_id, url.url_id)
    assert context["http"] == {
        "method": "POST",
        "path": "/slack/commands",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    assert abs(context["timeEpoch"] / 1000 - datetime.now(UTC).timestamp()) < 5
    assert url.served[-1].status == 200


def test_text_bodies_arrive_as_text_and_an_empty_body_is_absent(url: FunctionUrl, recorder: Recorder) -> None:
    request(url, "POST", "/", json.dumps({"a": "é"}).encode(), [("Content-Type", "application/json; charset=utf-8")])
    request(url, "POST", "/", "plain ü".encode(), [("Content-Type", "text/plain")])
    request(url, "POST", "/", b"\x00\xff\x10", [("Content-Type", "application/octet-stream")])
    request(url, "POST", "/", b"\xff\xfe", [("Content-Type", "text/plain")])  # not UTF-8: base64 all the same
    request(url, "GET", "/status")
    json_event, text_event, binary_event, bad_text_event, get_event = recorder.events
    assert (json_event["body"], json_event["isBase64Encoded"]) == ('{"a": "\\u00e9"}', False)
    assert (text_event["body"], text_event["isBase64Encoded"]) == ("plain ü", False)
    assert (binary_event["body"], binary_event["isBase64Encoded"]) == ("AP8Q", True)
    assert bad_text_event["isBase64Encoded"] is True
    assert "body" not in get_event
    assert get_event["isBase64Encoded"] is False
    assert "queryStringParameters" not in get_event
    assert get_event["rawQueryString"] == ""
    assert get_event["requestContext"]["http"]["method"] == "GET"


def test_results_map_to_responses_by_the_function_url_rules(url: FunctionUrl, recorder: Recorder) -> None:
    recorder.result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Detour": "yes"},
        "cookies": ["session=1; Secure", "theme=dark"],
        "body": "created",
    }
    status, headers, data = request(url, "GET", "/")
    assert (status, data) == (201, b"created")
    assert ("content-type", "text/plain") in [(k.lower(), v) for k, v in headers]
    assert ("x-detour", "yes") in [(k.lower(), v) for k, v in headers]
    assert [v for k, v in headers if k.lower() == "set-cookie"] == ["session=1; Secure", "theme=dark"]

    recorder.result = {"statusCode": 200, "body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True}
    assert request(url, "GET", "/")[2] == b"\x89PNG"

    recorder.result = {"response_type": "ephemeral", "text": "on it"}  # no statusCode: the JSON is the body
    status, headers, data = request(url, "GET", "/")
    assert (status, json.loads(data)) == (200, recorder.result)
    assert ("content-type", "application/json") in [(k.lower(), v) for k, v in headers]

    recorder.result = "just text"
    assert request(url, "GET", "/")[::2] == (200, b"just text")

    recorder.result = {"statusCode": 204}
    assert request(url, "GET", "/")[::2] == (204, b"")


def test_a_handler_that_raises_is_a_502(url: FunctionUrl, recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    recorder.result = RuntimeError("boom")
    status, _, data = request(url, "POST", "/", b"x=1", [("Content-Type", "application/x-www-form-urlencoded")])
    assert (status, data) == (502, b"Internal Server Error")
    assert url.served[-1].error == "RuntimeError: boom"
    assert "detour-recorder raised" in caplog.text


def test_http_response_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(ValueError, match="MarshalError"):
        http_response({"when": datetime.now(UTC)})
    assert http_response([1, 2]) == (200, [("content-type", "application/json")], b"[1, 2]")


def test_request_event_is_deterministic_given_its_inputs() -> None:
    now = datetime(2026, 11, 21, 2, 14, 27, 123000, tzinfo=UTC)
    event = request_event("POST", "/?a=b", [("Host", "127.0.0.1:1")], b"x", url_id="u1", now=now)
    assert event["requestContext"]["time"] == "21/Nov/2026:02:14:27 +0000"
    assert event["requestContext"]["timeEpoch"] == int(now.timestamp()) * 1000 + 123
    assert event["headers"]["host"] == "u1.lambda-url.us-east-1.on.aws"
    assert (event["body"], event["isBase64Encoded"]) == ("eA==", True)  # no content type: not text


def test_an_in_process_function_serves_the_url_with_its_environment(tmp_path: Path) -> None:
    function = handler_function(
        tmp_path,
        """
        import base64, json, os

        def lambda_handler(event, context):
            body = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
            return {
                "statusCode": 200,
                "headers": {"content-type": "application/json"},
                "body": json.dumps({"site": os.environ["SITE"], "got": body.decode(), "fn": context.function_name}),
            }
        """,
        {"SITE": "www.detour.test"},
    )
    with FunctionUrl(function) as served:
        status, _, data = request(
            served, "POST", "/", b"a=1&b=2", [("Content-Type", "application/x-www-form-urlencoded")]
        )
    assert status == 200
    assert json.loads(data) == {"site": "www.detour.test", "got": "a=1&b=2", "fn": function.function_name}

"""The local Slack's message metadata, conversations.history / .replies, and faults by rate."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from detour_cli.local.fake_slack import CHANNEL, TOKEN, FakeSlack

META = {"event_type": "detour_incident", "event_payload": {"incident": "2026-11-21T02:14:27.123Z", "kind": "root"}}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(retry_after_s=0) as server:
        yield server


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])


def raw(slack: FakeSlack, method: str, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """A form-encoded request, answered as is (no client retries)."""
    request = urllib.request.Request(
        f"{slack.api_url}{method}",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post(client: WebClient, text: str, thread_ts: str | None = None, metadata: dict[str, Any] | None = None) -> str:
    return str(client.chat_postMessage(channel=CHANNEL, text=text, thread_ts=thread_ts, metadata=metadata)["ts"])


def test_metadata_is_kept_from_json_and_form_bodies_and_survives_an_update(slack: FakeSlack, client: WebClient) -> None:
    ts = post(client, "root", metadata=META)
    status, _, body = raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "f", "metadata": json.dumps(META)})
    assert status == 200
    assert json.loads(body)["ok"]
    assert [m.metadata for m in slack.messages] == [META, META]

    client.chat_update(channel=CHANNEL, ts=ts, text="edited")  # no metadata sent: kept
    assert slack.messages[0].metadata == META
    newer = {"event_type": "detour_incident", "event_payload": {"kind": "root", "claim": "c2"}}
    client.chat_update(channel=CHANNEL, ts=ts, text="edited again", metadata=newer)
    assert slack.messages[0].metadata == newer
    post(client, "plain")
    assert slack.messages[-1].metadata is None

    status, _, body = raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "x", "metadata": "{oops"})
    assert json.loads(body) == {"ok": False, "error": "invalid_metadata_format"}


def test_history_lists_top_level_messages_newest_first_with_metadata_on_request(
    slack: FakeSlack, client: WebClient
) -> None:
    first = post(client, "first", metadata=META)
    reply = post(client, "a reply", thread_ts=first)
    second = post(client, "second")
    answer = client.conversations_history(channel=CHANNEL)
    assert answer["has_more"] is False
    assert answer["response_metadata"]["next_cursor"] == ""
    listed = answer["messages"]
    assert [m["text"] for m in listed] == ["second", "first"]
    assert (listed[1]["thread_ts"], listed[1]["reply_count"], listed[1]["latest_reply"]) == (first, 1, reply)
    assert "thread_ts" not in listed[0]
    assert "reply_count" not in listed[0]
    assert all("metadata" not in m for m in listed)
    with_metadata = client.conversations_history(channel=CHANNEL, include_all_metadata=True)["messages"]
    assert with_metadata[1]["metadata"] == META
    assert "metadata" not in with_metadata[0]

    # oldest and latest are exclusive
    assert [m["ts"] for m in client.conversations_history(channel=CHANNEL, oldest=first)["messages"]] == [second]
    assert [m["ts"] for m in client.conversations_history(channel=CHANNEL, latest=second)["messages"]] == [first]
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.conversations_history(channel="C0NOPE")


def test_history_pages_by_cursor(slack: FakeSlack, client: WebClient) -> None:
    posted = [post(client, f"m{i}") for i in range(7)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        answer = client.conversations_history(channel=CHANNEL, limit=3, cursor=cursor)
        seen += [m["ts"] for m in answer["messages"]]
        cursor = answer["response_metadata"]["next_cursor"]
        assert answer["has_more"] is bool(cursor)
        if not cursor:
            break
    assert seen == posted[::-1]


def test_replies_give_the_root_then_its_replies_oldest_first(slack: FakeSlack, client: WebClient) -> None:
    root = post(client, "root", metadata=META)
    other = post(client, "other root")
    replies = [post(client, f"r{i}", thread_ts=root, metadata=META) for i in range(4)]
    post(client, "elsewhere", thread_ts=other)

    answer = client.conversations_replies(channel=CHANNEL, ts=root, include_all_metadata=True)
    assert [m["ts"] for m in answer["messages"]] == [root, *replies]
    assert all(m["metadata"] == META and m["thread_ts"] == root for m in answer["messages"])
    assert "metadata" not in client.conversations_replies(channel=CHANNEL, ts=root)["messages"][0]

    pages, cursor = [], None
    while True:
        answer = client.conversations_replies(channel=CHANNEL, ts=root, limit=2, cursor=cursor)
        pages.append([m["text"] for m in answer["messages"]])
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == [["root", "r0"], ["r1", "r2"], ["r3"]]
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel=CHANNEL, ts="1.000099")


def test_a_fraction_of_requests_fails_the_same_way_for_the_same_seed(slack: FakeSlack, client: WebClient) -> None:
    def pattern(seed: int) -> list[int]:
        slack.fail_fraction("ratelimited", 0.4, seed=seed)
        statuses = [raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "x"})[0] for _ in range(30)]
        slack.fail_fraction("ratelimited", 0)
        return statuses

    first, again = pattern(7), pattern(7)
    assert first == again
    assert set(first) == {200, 429}
    assert 4 <= first.count(429) <= 20
    assert slack.injected["ratelimited"] == 2 * first.count(429)
    status, headers, body = raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "x"})
    assert status == 200  # turned off

    slack.retry_after_s = 1
    slack.fail_fraction("server_error", 1.0)
    status, headers, body = raw(slack, "conversations.history", {"channel": CHANNEL})
    assert status == 500
    slack.stop_failing()
    slack.fail_next("ratelimited")
    status, headers, body = raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "x"})
    assert (status, headers["Retry-After"], json.loads(body)["error"]) == (429, "1", "ratelimited")


def test_faults_come_in_bursts_when_asked(slack: FakeSlack) -> None:
    slack.fail_fraction("server_error", 0.1, seed=3, burst=4)
    statuses = [raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "x"})[0] for _ in range(60)]
    runs = "".join("x" if s == 500 else "." for s in statuses).split(".")
    assert {len(run) for run in runs if run} <= {4} or statuses[-1] == 500  # a last burst may be cut short
    assert statuses.count(500) >= 4


def test_a_ghost_post_is_carried_out_but_answered_500(slack: FakeSlack, client: WebClient) -> None:
    slack.fail_next("ghost_post")
    assert client.conversations_history(channel=CHANNEL)["ok"]  # not a post: the ghost waits
    status, _, _ = raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "ghost"})
    assert status == 500
    assert [m.text for m in slack.roots()] == ["ghost"]  # Slack acted
    assert raw(slack, "chat.postMessage", {"channel": CHANNEL, "text": "next"})[0] == 200
    assert slack.injected["ghost_post"] == 1
    with pytest.raises(ValueError, match="unknown fault"):
        slack.fail_next("teapot")

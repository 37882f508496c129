"""functions/notify_slack end to end: SNS events in; Secrets Manager and DynamoDB on moto's server;
Slack on a local fake that speaks Slack's shapes, errors and rate limits."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from detour.incidents.alarm_message import parse_sns_event
from detour.incidents.sites import UnregisteredSite
from detour.slack import announcer as slack_announcer
from detour.slack import transport as slack_transport
from detour.slack.announcer import Incidents, announce
from detour.slack.message import Site
from detour.slack.secret import BotToken, SlackSecretError
from detour.slack.threads import ThreadStore, new_claim
from detour.slack.transport import SlackBot, SlackDeliveryError
from detour_cli.local.fake_slack import CHANNEL, TOKEN, WEBHOOK_PATH, FakeSlack
from detour_cli.local.lambda_runtime import LambdaContext
from tests.conftest import emitted_metrics
from tests.support.aws import store_for
from tests.support.events import SITE_ID, transition_event
from tests.support.functions import load_function
from tests.support.sites import register_site
from tests.support.transitions import chain

T0 = datetime(2026, 11, 21, 2, 14, 27, 123000, tzinfo=UTC)
PAGE_URL = "https://d111111abcdef8.cloudfront.net/"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def secret(aws: str) -> Callable[[dict[str, Any] | str], str]:
    """Create the Slack secret with a value; returns its ARN."""

    def create(value: dict[str, Any] | str, name: str = "detour-slack") -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        return boto3.client("secretsmanager").create_secret(Name=name, SecretString=text)["ARN"]

    return create


@pytest.fixture
def load(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """A cold start of notify_slack reading the secret with this ARN."""

    def cold_start(secret_arn: str, mention: str = "") -> ModuleType:
        monkeypatch.setenv("SLACK_SECRET_ARN", secret_arn)
        register_site(function_env.name, page_url=PAGE_URL, slack_mention=mention)
        return load_function("notify_slack", monkeypatch)

    return cold_start


@pytest.fixture
def bot(slack: FakeSlack, secret: Callable[..., str], load: Callable[..., ModuleType]) -> ModuleType:
    return load(secret({"bot_token": TOKEN, "channel": CHANNEL, "api_url": slack.api_url}))


@pytest.fixture
def webhook(slack: FakeSlack, secret: Callable[..., str], load: Callable[..., ModuleType]) -> ModuleType:
    return load(secret({"webhook_url": slack.webhook_url}))


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return module.lambda_handler(event, LambdaContext(function_name="detour-NotifySlackFunction-TEST"))


def outage(module: ModuleType) -> None:
    invoke(module, transition_event("ALARM", "OK", at(0)))
    invoke(module, transition_event("INSUFFICIENT_DATA", "ALARM", at(6)))
    invoke(module, transition_event("OK", "INSUFFICIENT_DATA", at(17.5)))


# ---------------------------------------------------------------- bot token mode


def test_an_incident_is_one_thread_resolved_in_place(bot: ModuleType, slack: FakeSlack, function_env: Any) -> None:
    invoke(bot, transition_event("ALARM", "OK", at(0)))
    (root,) = slack.roots()
    assert root.text == ":rotating_light: www.example.com is failing over to the maintenance page"
    (window,) = store_for(function_env).windows(SITE_ID)
    thread = ThreadStore(function_env.name, boto3.client("dynamodb")).thread_of(window)
    assert thread is not None
    assert (thread.channel, thread.ts, thread.claim) == (CHANNEL, root.ts, None)

    invoke(bot, transition_event("INSUFFICIENT_DATA", "ALARM", at(6)))
    invoke(bot, transition_event("OK", "INSUFFICIENT_DATA", at(17.5)))

    assert slack.roots() == [root]  # still one message in the channel
    assert root.text == ":white_check_mark: www.example.com recovered after 17 min 30 s"
    assert len(root.edits) == 1
    warning, recovered = slack.replies(root)
    assert warning.text.startswith(":warning: Health data for www.example.com is missing")
    assert recovered.text.startswith(":white_check_mark: Resolved: www.example.com is back on its primary.")
    assert all(path.startswith("/api/chat.") for path, _ in slack.requests)
    assert all(headers["Authorization"] == f"Bearer {TOKEN}" for _, headers in slack.requests)


def test_a_second_delivery_of_the_alarm_posts_nothing(
    bot: ModuleType, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    event = transition_event("ALARM", "OK", at(0))
    invoke(bot, event)
    invoke(bot, event)
    invoke(bot, transition_event("ALARM", "OK", at(0)))  # published again under a new MessageId
    assert len(slack.messages) == 1
    assert emitted_metrics(capsys.readouterr().out)["NotificationsSent"] == [1]


def test_a_repeated_alarm_in_the_same_incident_replies_in_its_thread(bot: ModuleType, slack: FakeSlack) -> None:
    invoke(bot, transition_event("ALARM", "OK", at(0)))
    invoke(bot, transition_event("INSUFFICIENT_DATA", "ALARM", at(3)))
    invoke(bot, transition_event("ALARM", "INSUFFICIENT_DATA", at(5)))
    (root,) = slack.roots()
    assert [m.text.split(" ")[0] for m in slack.replies(root)] == [":warning:", ":rotating_light:"]
    assert "still failing" in slack.replies(root)[1].text


def test_recovery_delivered_before_the_alarm_ends_as_one_resolved_story(bot: ModuleType, slack: FakeSlack) -> None:
    invoke(bot, transition_event("OK", "ALARM", at(9)))
    assert slack.messages == []  # its ALARM is late: it will tell the whole story
    invoke(bot, transition_event("ALARM", "OK", at(0)))
    (root,) = slack.messages
    assert root.text == ":white_check_mark: www.example.com recovered after 9 min 0 s"
    assert root.edits == []


def test_a_missing_ok_holds_the_resolution_until_it_arrives(bot: ModuleType, slack: FakeSlack) -> None:
    """ALARM at 10 says it came from OK: the OK between 0 and 10 is still on its way, so the window
    from 0 to 20 is two incidents, and resolving it now would tell a wrong duration."""
    invoke(bot, transition_event("ALARM", "OK", at(0)))
    invoke(bot, transition_event("ALARM", "OK", at(10)))
    invoke(bot, transition_event("OK", "ALARM", at(20)))
    (first,) = slack.roots()
    assert first.edits == []  # not resolved yet
    assert slack.replies(first) == []  # and nothing about the second outage in the first's thread

    invoke(bot, transition_event("OK", "ALARM", at(5)))
    first, second = slack.roots()
    assert first.text == ":white_check_mark: www.example.com recovered after 5 min 0 s"
    assert [m.metadata["event_payload"]["kind"] for m in slack.replies(first)] == ["reply"]
    assert second.text == ":white_check_mark: www.example.com recovered after 10 min 0 s"
    assert (second.edits, slack.replies(second)) == ([], [])


def test_every_message_names_its_incident_in_its_metadata(bot: ModuleType, slack: FakeSlack) -> None:
    outage(bot)
    root, *replies = slack.messages
    assert {m.metadata["event_type"] for m in slack.messages} == {"detour_incident"}
    assert {m.metadata["event_payload"]["incident"] for m in slack.messages} == {"2026-11-21T02:14:27.123Z"}
    assert [m.metadata["event_payload"]["kind"] for m in [root, *replies]] == ["root", "note", "reply"]


def test_hostile_alarm_text_reaches_slack_escaped(bot: ModuleType, slack: FakeSlack) -> None:
    hostile = "<!channel> <https://evil.example|log in> & <@U0BOSS>"
    invoke(bot, transition_event("ALARM", "OK", at(0), reason=hostile, description=hostile))
    posted = json.dumps([slack.messages[0].text, slack.messages[0].blocks])
    assert "<!channel>" not in posted
    assert "<https://evil.example" not in posted
    assert "&lt;!channel&gt; &lt;https://evil.example|log in&gt; &amp; &lt;@U0BOSS&gt;" in posted


def test_the_configured_mention_pings_on_alarm_only(
    slack: FakeSlack, secret: Callable[..., str], load: Callable[..., ModuleType]
) -> None:
    module = load(secret({"bot_token": TOKEN, "channel": CHANNEL, "api_url": slack.api_url}), mention="here")
    outage(module)
    (root,) = slack.roots()
    assert root.edits[0]["text"].startswith("<!here> ")
    assert "<!here>" not in root.text + "".join(m.text for m in slack.replies(root))


def test_log_window_counts_the_failover_whichever_function_records_it_first(
    bot: ModuleType, log_window: ModuleType, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    alarm, ok = transition_event("ALARM", "OK", at(0)), transition_event("OK", "ALARM", at(4))
    invoke(bot, alarm)  # notify_slack records the ALARM before log_window sees it
    capsys.readouterr()
    invoke(log_window, alarm)
    assert emitted_metrics(capsys.readouterr().out)["FailoversStarted"] == [1]

    invoke(log_window, ok)  # and log_window records the OK before notify_slack
    assert emitted_metrics(capsys.readouterr().out)["FailoverDurationSeconds"] == [240.0]
    invoke(bot, ok)
    (root,) = slack.roots()
    assert root.text == ":white_check_mark: www.example.com recovered after 4 min 0 s"


# ---------------------------------------------------------------- webhook mode


def test_webhook_mode_tells_a_late_alarm_as_the_finished_incident(webhook: ModuleType, slack: FakeSlack) -> None:
    invoke(webhook, transition_event("OK", "ALARM", at(9)))
    invoke(webhook, transition_event("ALARM", "OK", at(0)))
    texts = [post["text"] for post in slack.webhook_posts]
    assert texts == [
        ":white_check_mark: www.example.com passes its health check",
        ":white_check_mark: www.example.com recovered after 9 min 0 s",
    ]


def test_webhook_mode_posts_each_transition_and_the_recovery_carries_the_duration(
    webhook: ModuleType, slack: FakeSlack
) -> None:
    outage(webhook)
    texts = [post["text"] for post in slack.webhook_posts]
    assert texts[0] == ":rotating_light: www.example.com is failing over to the maintenance page"
    assert texts[1].startswith(":warning: Health data for www.example.com is missing")
    assert texts[2] == ":white_check_mark: www.example.com recovered after 17 min 30 s"
    assert {path for path, _ in slack.requests} == {WEBHOOK_PATH}


# ---------------------------------------------------------------- failures


def test_a_rate_limit_is_waited_out_as_slack_asks(bot: ModuleType, slack: FakeSlack) -> None:
    slack.fail_next("ratelimited")
    started = time.monotonic()
    invoke(bot, transition_event("ALARM", "OK", at(0)))
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert len(slack.roots()) == 1


def test_a_post_that_fails_with_a_server_error_is_looked_up_not_blindly_repeated(
    bot: ModuleType, slack: FakeSlack
) -> None:
    """Slack may have posted before its 5xx: the invocation fails, and its retry looks in the channel
    for the claimed message before posting."""
    slack.fail_next("server_error")
    event = transition_event("ALARM", "OK", at(0))
    with pytest.raises(SlackDeliveryError, match="HTTP 500"):
        invoke(bot, event)
    invoke(bot, event)
    assert len(slack.roots()) == 1
    assert [path for path, _ in slack.requests] == [
        "/api/chat.postMessage",
        "/api/conversations.history",
        "/api/chat.postMessage",
    ]


def test_a_post_slack_made_but_answered_with_an_error_is_adopted_not_repeated(
    bot: ModuleType, slack: FakeSlack
) -> None:
    slack.fail_next("ghost_post")  # Slack posts it, then answers 500
    event = transition_event("ALARM", "OK", at(0))
    with pytest.raises(SlackDeliveryError):
        invoke(bot, event)
    invoke(bot, event)
    invoke(bot, transition_event("OK", "ALARM", at(3)))
    (root,) = slack.roots()
    assert root.text == ":white_check_mark: www.example.com recovered after 3 min 0 s"
    assert len(slack.replies(root)) == 1


def test_edits_and_lookups_still_retry_server_errors(bot: ModuleType, slack: FakeSlack) -> None:
    invoke(bot, transition_event("ALARM", "OK", at(0)))
    slack.fail_next("server_error", "server_error")  # on the chat.update that resolves it
    invoke(bot, transition_event("OK", "ALARM", at(3)))
    (root,) = slack.roots()
    assert root.text.startswith(":white_check_mark:")


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (["ratelimited"] * 3, "failed with 'ratelimited'"),
        (["server_error"], "failed with 'HTTP 500'"),
        (["invalid_auth"], "the bot token is invalid or revoked"),
        (["channel_not_found"], "invite the bot"),
    ],
)
def test_a_final_slack_failure_fails_the_invocation_and_a_retry_goes_through(
    bot: ModuleType, slack: FakeSlack, capsys: pytest.CaptureFixture[str], faults: list[str], expected: str
) -> None:
    event = transition_event("ALARM", "OK", at(0))
    slack.fail_next(*faults)
    with pytest.raises(SlackDeliveryError) as raised:
        invoke(bot, event)
    assert expected in str(raised.value)
    assert "secret arn:aws:secretsmanager:us-east-1:" in str(raised.value)
    out = capsys.readouterr().out
    assert emitted_metrics(out) == {"NotificationFailures": [1]}
    assert any(expected in line for line in out.splitlines() if '"level":"ERROR"' in line)

    invoke(bot, event)  # SNS/Lambda's retry: not swallowed by idempotency
    assert len(slack.roots()) == 1


def test_a_slow_slack_times_out_instead_of_hanging(
    bot: ModuleType, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_transport, "TIMEOUT_S", 1)
    slack.slow_s = 3
    slack.fail_next("slow", "slow", "slow")
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError, match=r"timed out|Timeout"):
        invoke(bot, transition_event("ALARM", "OK", at(0)))
    assert time.monotonic() - started < 3 * slack.slow_s


def test_webhook_errors_name_the_fix(
    slack: FakeSlack, secret: Callable[..., str], load: Callable[..., ModuleType]
) -> None:
    module = load(secret({"webhook_url": slack.url + "/services/T0/B0/revoked"}))
    with pytest.raises(SlackDeliveryError, match=r"'no_service'.*create a new incoming webhook"):
        invoke(module, transition_event("ALARM", "OK", at(0)))


def test_the_empty_secret_the_stack_creates_explains_how_to_fill_it(
    secret: Callable[..., str], load: Callable[..., ModuleType]
) -> None:
    module = load(secret("{}"))
    with pytest.raises(SlackSecretError, match=r"has neither bot_token nor webhook_url; put .* into it"):
        invoke(module, transition_event("ALARM", "OK", at(0)))


def test_a_missing_secret_says_which_and_why(aws: str, load: Callable[..., ModuleType]) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    module = load(arn)
    with pytest.raises(SlackSecretError, match=f"cannot read the Slack secret {arn}.*ResourceNotFoundException"):
        invoke(module, transition_event("ALARM", "OK", at(0)))


def test_malformed_events_are_refused_before_slack_is_called(bot: ModuleType, slack: FakeSlack) -> None:
    with pytest.raises(ValueError, match="SNS message is not JSON"):
        invoke(bot, {"Records": [{"Sns": {"MessageId": "m", "Message": "{oops"}}]})
    assert slack.requests == []


def test_credentials_never_reach_the_logs(
    slack: FakeSlack, secret: Callable[..., str], load: Callable[..., ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    for value in (
        {"bot_token": TOKEN, "channel": CHANNEL, "api_url": slack.api_url},
        {"webhook_url": slack.webhook_url},
    ):
        boto3.client("secretsmanager").delete_secret(SecretId="detour-slack", ForceDeleteWithoutRecovery=True) if (
            boto3.client("secretsmanager").list_secrets()["SecretList"]
        ) else None
        module = load(secret(value))
        outage(module)
        slack.fail_next("invalid_auth", "server_error", "server_error", "server_error")
        with pytest.raises(SlackDeliveryError):
            invoke(module, transition_event("ALARM", "OK", at(30)))
    captured = capsys.readouterr()
    assert "Slack notified" in captured.out
    for leak in (TOKEN, "detourWebhookSecret"):
        assert leak not in captured.out
        assert leak not in captured.err


@pytest.mark.parametrize(
    "value",
    [
        {"bot_token": "xoxb-1111-SeCrEt\nInjected: header", "channel": CHANNEL},
        {"webhook_url": "https://hooks.slack.com/services/T0/B0/SeCrEt\x00"},
    ],
)
def test_a_malformed_credential_is_refused_without_quoting_it(
    secret: Callable[..., str], load: Callable[..., ModuleType], value: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    module = load(secret(value))
    with pytest.raises(SlackSecretError) as raised:
        invoke(module, transition_event("ALARM", "OK", at(0)))
    assert "SeCrEt" not in str(raised.value)
    assert "SeCrEt" not in caplog.text


def test_an_unexpected_client_error_never_quotes_the_token(
    bot: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from slack_sdk import WebClient  # noqa: PLC0415

    def explode(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"Invalid header value b'Bearer {TOKEN}'")  # what http.client says of a bad token

    monkeypatch.setattr(WebClient, "api_call", explode)
    with pytest.raises(SlackDeliveryError) as raised:
        invoke(bot, transition_event("ALARM", "OK", at(0)))
    assert "ValueError (details withheld" in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in caplog.text


def test_planned_maintenance_is_announced_as_such_and_recorded_as_planned(
    bot: ModuleType,
    log_window: ModuleType,
    slack: FakeSlack,
    function_env: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from detour.incidents.notices import NoticeBoard, SiteNotice  # noqa: PLC0415

    board = NoticeBoard(function_env.name, boto3.client("dynamodb"))
    board.post(SITE_ID, SiteNotice("Database upgrade until 03:00 UTC.", planned=True, until=at(60)))
    alarm = transition_event("ALARM", "OK", at(0))
    invoke(bot, alarm)
    capsys.readouterr()
    invoke(log_window, alarm)
    assert emitted_metrics(capsys.readouterr().out) == {"TransitionsLogged": [1], "MaintenanceStarted": [1]}
    (root,) = slack.roots()
    assert root.text == ":construction: Planned maintenance of www.example.com has begun"

    board.clear(SITE_ID)  # the operator ends maintenance: the window stays planned
    invoke(bot, transition_event("OK", "ALARM", at(20)))
    assert root.text == ":white_check_mark: Planned maintenance of www.example.com ended after 20 min 0 s"
    (window,) = store_for(function_env).windows(SITE_ID)
    assert window.planned is True


def test_planned_maintenance_pings_no_one(
    slack: FakeSlack, secret: Callable[..., str], load: Callable[..., ModuleType], function_env: Any
) -> None:
    from detour.incidents.notices import NoticeBoard, SiteNotice  # noqa: PLC0415

    NoticeBoard(function_env.name, boto3.client("dynamodb")).post(SITE_ID, SiteNotice("Upgrade", planned=True))
    module = load(secret({"bot_token": TOKEN, "channel": CHANNEL, "api_url": slack.api_url}), mention="channel")
    invoke(module, transition_event("ALARM", "OK", at(0)))
    assert "<!channel>" not in json.dumps([slack.messages[0].text, slack.messages[0].blocks])


def test_a_warning_slack_posted_but_answered_with_an_error_is_not_repeated(bot: ModuleType, slack: FakeSlack) -> None:
    invoke(bot, transition_event("ALARM", "OK", at(0)))
    warning = transition_event("INSUFFICIENT_DATA", "ALARM", at(6))
    slack.fail_next("ghost_post")
    with pytest.raises(SlackDeliveryError):
        invoke(bot, warning)
    invoke(bot, warning)  # Lambda's retry: looks the line up in the thread before posting
    (root,) = slack.roots()
    (reply,) = slack.replies(root)
    assert reply.text.startswith(":warning: Health data for www.example.com is missing")


def test_slacks_own_maybe_errors_are_looked_up_before_posting_again(bot: ModuleType, slack: FakeSlack) -> None:
    """internal_error comes as HTTP 200 with ok=false, and Slack says some of the operation may have
    happened: the retry looks in the channel first."""
    slack.fail_next("internal_error")
    event = transition_event("ALARM", "OK", at(0))
    with pytest.raises(SlackDeliveryError, match="internal_error"):
        invoke(bot, event)
    invoke(bot, event)
    assert [path for path, _ in slack.requests][-2:] == ["/api/conversations.history", "/api/chat.postMessage"]
    assert len(slack.roots()) == 1


@pytest.mark.parametrize("lookup_fault", ["ratelimited", "server_error"])
def test_a_failed_lookup_never_forgets_a_post_that_may_have_landed(
    bot: ModuleType, slack: FakeSlack, lookup_fault: str
) -> None:
    """Attempt 1's root lands but Slack answers 500; attempt 2's lookup fails too; attempt 3 must
    still look for attempt 1's post (not only for attempt 2's, which posted nothing)."""
    slack.retry_after_s = 0
    event = transition_event("ALARM", "OK", at(0))
    slack.fail_next("ghost_post")
    with pytest.raises(SlackDeliveryError):
        invoke(bot, event)
    slack.fail_next(lookup_fault, lookup_fault, lookup_fault)  # the lookup and its retries
    with pytest.raises(SlackDeliveryError):
        invoke(bot, event)
    invoke(bot, event)
    assert len(slack.roots()) == 1


def test_lines_of_an_incident_not_yet_told_apart_stay_out_of_the_earlier_thread(
    bot: ModuleType, slack: FakeSlack
) -> None:
    """ALARM 0, OK 3, ALARM 5, INSUFFICIENT_DATA 6, ALARM 7, with the OK at 3 last: until it comes,
    the lines at 6 and 7 cannot be placed, and are not put into the thread of the incident at 0."""
    for state, old, minute in [("ALARM", "OK", 0), ("ALARM", "OK", 5), ("INSUFFICIENT_DATA", "ALARM", 6)]:
        invoke(bot, transition_event(state, old, at(minute)))
    invoke(bot, transition_event("ALARM", "INSUFFICIENT_DATA", at(7)))
    invoke(bot, transition_event("OK", "ALARM", at(3)))
    first = next(r for r in slack.roots() if r.metadata["event_payload"]["incident"] == "2026-11-21T02:14:27.123Z")
    assert [m.metadata["event_payload"]["kind"] for m in slack.replies(first)] == ["reply"]


def test_a_window_merged_under_a_reconciler_still_gets_one_thread(function_env: Any, slack: FakeSlack) -> None:
    """ALARM 0, INSUFFICIENT_DATA 3, ALARM 5 (from INSUFFICIENT_DATA), OK 9, the ALARM at 0 late.
    X reads the window [5, 9]; Y records ALARM 0 (the window becomes [0, 9]) and announces it; X's
    stale window must not open a second thread."""
    store = store_for(function_env)
    threads = ThreadStore(function_env.name, boto3.client("dynamodb"))
    slack_bot = SlackBot(BotToken(token=TOKEN, channel=CHANNEL, api_url=slack.api_url), "secret")
    site = Site(domain="www.example.com", page_url=PAGE_URL)
    a0, i3, a5, o9 = chain([("ALARM", 0), ("INSUFFICIENT_DATA", 3), ("ALARM", 5), ("OK", 9)], SITE_ID)
    for t in (i3, a5, o9):
        store.record(t)
    stale = store.window_of(a5)  # X's read
    assert stale is not None

    store.record(a0)  # Y
    announce(a0, store.window_of(a0), slack=slack_bot, store=store, threads=threads, site=site, request_id="Y")
    Incidents(slack=slack_bot, store=store, threads=threads, site=site, transition=a5, request_id="X").reconcile(stale)

    (root,) = slack.roots()
    assert root.text.endswith("recovered after 9 min 0 s")


def test_a_step_in_another_invocations_hands_is_waited_for_then_confirmed(
    function_env: Any, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OK's delivery finds the announcement claimed by an invocation that never finishes: it
    does not report success on the strength of someone else's claim, but fails to be retried."""
    monkeypatch.setattr(slack_announcer, "BUSY_WAITS_S", (0.01, 0.01))
    store = store_for(function_env)
    threads = ThreadStore(function_env.name, boto3.client("dynamodb"))
    slack_bot = SlackBot(BotToken(token=TOKEN, channel=CHANNEL, api_url=slack.api_url), "secret")
    site = Site(domain="www.example.com", page_url=PAGE_URL)
    alarm, ok = chain([("ALARM", 0), ("OK", 4)], SITE_ID)
    store.record(alarm)
    window = store.window_of(alarm)
    assert window is not None
    assert threads.open_thread(window, new_claim("stuck-invocation", "announce", "1")) is not None

    store.record(ok)
    with pytest.raises(slack_announcer.ThreadBusy, match="stayed claimed"):
        announce(
            ok, store.window_of(ok), slack=slack_bot, store=store, threads=threads, site=site, request_id="ok-delivery"
        )
    assert slack.messages == []


def test_a_root_posted_unknowingly_is_brought_up_to_date_when_it_is_found(
    bot: ModuleType, slack: FakeSlack, function_env: Any
) -> None:
    """The ALARM's root lands but Slack answers 500; the OK is recorded meanwhile (by log_window);
    the ALARM's retry finds the "failing over" root and resolves it as any incident is resolved."""
    alarm = transition_event("ALARM", "OK", at(0))
    slack.fail_next("ghost_post")
    with pytest.raises(SlackDeliveryError):
        invoke(bot, alarm)
    store_for(function_env).record(parse_sns_event(transition_event("OK", "ALARM", at(3))))
    invoke(bot, alarm)
    (root,) = slack.roots()
    assert root.text == ":white_check_mark: www.example.com recovered after 3 min 0 s"
    assert [m.metadata["event_payload"]["kind"] for m in slack.replies(root)] == ["reply"]


def test_missing_data_right_after_an_alarm_not_yet_recorded_waits_for_it(bot: ModuleType, slack: FakeSlack) -> None:
    """INSUFFICIENT_DATA from ALARM with no window: its ALARM is late, and its incident's thread is
    where the warning belongs, not the channel."""
    invoke(bot, transition_event("INSUFFICIENT_DATA", "ALARM", at(2)))
    assert slack.messages == []
    invoke(bot, transition_event("INSUFFICIENT_DATA", "OK", at(30)))  # while healthy: the channel
    assert [m.metadata["event_payload"]["kind"] for m in slack.roots()] == ["note"]


# ---------------------------------------------------------------- many sites, one deployment

SHOP_CHANNEL = "C0SHOP0001"
DOCS_ID = "9f8e7d6c-2222-4e5f-9a7b-0123456789ab"


def test_sites_failing_together_get_one_thread_each_in_their_own_channels(
    function_env: Any, secret: Callable[..., str], load: Callable[..., ModuleType]
) -> None:
    with FakeSlack(channels=(CHANNEL, SHOP_CHANNEL)) as slack:
        module = load(secret({"bot_token": TOKEN, "channel": CHANNEL, "api_url": slack.api_url}))
        register_site(function_env.name, slack_channel=SHOP_CHANNEL)  # www: its own channel
        docs = register_site(  # docs: the secret's channel
            function_env.name,
            site_id=DOCS_ID,
            domain="docs.example.com",
            alarm_name="detour/detour-site-docs/primary-health",
            stack_name="detour-site-docs",
        )
        for site_id, alarm in ((SITE_ID, "detour/detour-site-www/primary-health"), (DOCS_ID, docs.alarm_name)):
            invoke(module, transition_event("ALARM", "OK", at(0), site_id=site_id, alarm_name=alarm))
        invoke(module, transition_event("OK", "ALARM", at(9), site_id=DOCS_ID, alarm_name=docs.alarm_name))

        roots = {root.channel: root for root in slack.roots()}
        assert set(roots) == {SHOP_CHANNEL, CHANNEL}
        assert roots[SHOP_CHANNEL].text.startswith(":rotating_light: www.example.com is failing over")
        assert "docs.example.com" in roots[CHANNEL].text
        replies = [m for m in slack.messages if m.thread_ts]
        assert {(m.channel, m.thread_ts) for m in replies} <= {(CHANNEL, roots[CHANNEL].ts)}  # docs's recovery only
        assert len(store_for(function_env).windows(SITE_ID)) == len(store_for(function_env).windows(DOCS_ID)) == 1


def test_an_alarm_for_an_unregistered_site_never_reaches_slack(bot: ModuleType, slack: FakeSlack) -> None:
    with pytest.raises(UnregisteredSite, match=f"site '{DOCS_ID}' is not registered"):
        invoke(
            bot,
            transition_event(
                "ALARM", "OK", at(0), site_id=DOCS_ID, alarm_name="detour/detour-site-docs/primary-health"
            ),
        )
    assert slack.messages == []


def test_an_update_of_an_unregistered_site_is_refused(bot: ModuleType, slack: FakeSlack) -> None:
    with pytest.raises(UnregisteredSite, match=f"site '{DOCS_ID}' is not registered"):
        invoke(bot, {"detour": "update-posted", "site_id": DOCS_ID, "update": "UPDATE#2026-11-21T02:17:00.000Z#x"})
    assert slack.messages == []

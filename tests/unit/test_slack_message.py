from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from detour.incidents.alarm_message import parse_alarm_message
from detour.incidents.transition import Transition
from detour.incidents.windows import FailoverWindow
from detour.slack import message as say
from tests.support.events import alarm_message

T0 = datetime(2026, 11, 21, 2, 14, 27, tzinfo=UTC)
SITE = say.Site(domain="www.example.com", page_url="https://d111111abcdef8.cloudfront.net/")
HOSTILE = "<!channel> <https://evil.example|click here> & <@U123> *bold* " + "x" * 5000


def transition(state: str = "ALARM", old: str = "OK", reason: str | None = None, minutes: float = 0) -> Transition:
    return parse_alarm_message(json.dumps(alarm_message(state, old, T0 + timedelta(minutes=minutes), reason=reason)))


CLOSED = FailoverWindow(site_id="hc", started_at=T0, ended_at=T0 + timedelta(minutes=17, seconds=35), reason="r")


def all_messages(t: Transition) -> list[say.SlackMessage]:
    return [
        say.failing_over(SITE, t),
        say.resolved(SITE, CLOSED, t),
        say.recovered_reply(SITE, CLOSED),
        say.still_failing(SITE, t),
        say.health_data_missing(SITE, t, during_incident=True),
        say.healthy_without_known_outage(SITE, t),
    ]


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", [])]
    return texts


@pytest.mark.parametrize("index", range(6))
def test_every_message_is_valid_block_kit_with_a_text_fallback(index: int) -> None:
    message = all_messages(transition(reason=HOSTILE))[index]
    assert message.text
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()  # raises on any Block Kit limit broken (lengths, counts, types)


def test_alarm_text_can_neither_mention_nor_link() -> None:
    message = say.failing_over(SITE, transition(reason=HOSTILE))
    for text in [message.text, *mrkdwn_texts(message.blocks)]:
        assert "<!channel>" not in text
        assert "<https://evil.example" not in text
        assert "<@U123>" not in text
    reason = next(t for t in mrkdwn_texts(message.blocks) if t.startswith("*Reason*"))
    assert "&lt;!channel&gt; &lt;https://evil.example|click here&gt; &amp; &lt;@U123&gt;" in reason
    assert reason.endswith("…")  # truncated inside Slack's limits


def test_escaping_does_not_break_the_links_detour_adds() -> None:
    (links,) = [b for b in say.failing_over(SITE, transition()).blocks if b["type"] == "context"]
    text = links["elements"][0]["text"]
    assert "<https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/" in text
    assert "|Route 53 health check>" in text
    assert "<https://d111111abcdef8.cloudfront.net/|Maintenance page>" in text


def test_the_alarm_message_mentions_only_when_configured() -> None:
    assert "<!" not in say.failing_over(SITE, transition()).text
    assert say.failing_over(replace(SITE, mention="here"), transition()).text.startswith("<!here> ")
    assert say.failing_over(replace(SITE, mention="channel"), transition()).text.startswith("<!channel> ")
    assert say.failing_over(replace(SITE, mention="S0123ABCD"), transition()).text.startswith("<!subteam^S0123ABCD> ")
    assert "<!here>" not in say.resolved(replace(SITE, mention="here"), CLOSED, transition("OK", "ALARM")).text


def test_recovery_says_how_long_and_when_in_the_readers_time_zone() -> None:
    message = say.resolved(SITE, CLOSED, transition("OK", "ALARM", minutes=17.58))
    assert message.text == ":white_check_mark: www.example.com recovered after 17 min 35 s"
    fields = mrkdwn_texts(message.blocks)
    assert (
        f"*Outage began*\n<!date^{int(T0.timestamp())}^{{date_short_pretty}} at {{time_secs}}|2026-11-21 02:14:27 UTC>"
        in fields
    )
    assert "*Duration*\n17 min 35 s" in fields


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (59.6, "1 min 0 s"), (61, "1 min 1 s"), (3600, "1 h 0 min"), (5025, "1 h 23 min")]
)
def test_durations_read_like_a_person_wrote_them(seconds: float, text: str) -> None:
    assert say.human_duration(seconds) == text


def test_webhook_mode_picks_one_self_contained_message_per_state() -> None:
    assert say.message_for_state(SITE, transition("ALARM"), None).text.startswith(":rotating_light:")
    assert "recovered after 17 min 35 s" in say.message_for_state(SITE, transition("OK", "ALARM"), CLOSED).text
    assert "passes its health check" in say.message_for_state(SITE, transition("OK", "ALARM"), None).text
    missing = say.message_for_state(SITE, transition("INSUFFICIENT_DATA", "ALARM"), CLOSED)
    assert "Health data for www.example.com is missing" in missing.text


def test_the_cause_is_said_escaped_and_not_for_planned_maintenance() -> None:
    cause = f"5xx rate: ALARM: {HOSTILE}"
    for message in (
        say.failing_over(SITE, transition(), cause=cause),
        say.resolved(SITE, CLOSED, transition("OK", "ALARM"), cause),
    ):
        (why,) = [text for text in mrkdwn_texts(message.blocks) if text.startswith("*Why it failed over*")]
        assert "<!channel>" not in why
        assert "&lt;!channel&gt; &lt;https://evil.example|click here&gt; &amp; &lt;@U123&gt;" in why
        assert len(why) < say.TEXT_MAX
    planned = say.failing_over(SITE, transition(), planned=True, cause=cause)
    assert not any(text.startswith("*Why it failed over*") for text in mrkdwn_texts(planned.blocks))
    assert not any("Why it failed over" in text for text in mrkdwn_texts(say.failing_over(SITE, transition()).blocks))

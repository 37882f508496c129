"""Events Detour's own parts send each other with `lambda:InvokeFunction` (asynchronously).

    {"detour": "refresh", "site_id": ..., "reason": ...}          -> refresh_page: republish the page
    {"detour": "update-posted", "site_id": ..., "update": <key>}  -> notify_slack: reply the update
    {"detour": "slack-command", "ask": {...}, "site_id": ...}     -> slack_commands: do what was asked

The first two carry keys, never content: a function reads the update itself from the incidents
table, so an invoker can at most make a function redo what the table already says. The third
carries a Slack request its acknowledgement verified; nothing but IAM stands between it and a
principal allowed to invoke slack_commands directly (such a principal may already write the table),
which is why the Function URL's public permission is limited to invocations through the URL.
Asynchronous invocation retries twice and then keeps the event in the function's dead-letter queue,
like SNS deliveries.
"""

from __future__ import annotations

import json
from typing import Any

KIND = "detour"
REFRESH = "refresh"
UPDATE_POSTED = "update-posted"
SLACK_COMMAND = "slack-command"


class InvalidDirectEvent(ValueError):
    """A direct invocation whose event is not one Detour sends."""


def kind_of(event: Any) -> str | None:
    """The direct event's kind, or None for any other event (SNS, a schedule, a Function URL)."""
    return str(event[KIND]) if isinstance(event, dict) and KIND in event else None


def refresh(site_id: str, reason: str) -> dict[str, Any]:
    return {KIND: REFRESH, "site_id": site_id, "reason": reason}


def update_posted(site_id: str, update_key: str) -> dict[str, Any]:
    return {KIND: UPDATE_POSTED, "site_id": site_id, "update": update_key}


def slack_command(ask: dict[str, str], site_id: str) -> dict[str, Any]:
    """A verified, authorized Slack request, queued by its acknowledgement for the work, with the
    site the acknowledgement chose for it (a registered site's id, or "*": every site's status)."""
    return {KIND: SLACK_COMMAND, "ask": ask, "site_id": site_id}


def slack_ask(event: dict[str, Any]) -> dict[str, Any]:
    """The Slack request a `slack-command` event carries; InvalidDirectEvent for any other direct
    event, or one without the request's fields (so it fails, and is dead-lettered, not swallowed)."""
    if kind_of(event) != SLACK_COMMAND:
        raise InvalidDirectEvent(f"slack_commands takes {SLACK_COMMAND!r} events, not {kind_of(event)!r}")
    ask = event.get("ask")
    if not isinstance(ask, dict):
        raise InvalidDirectEvent(f"a {SLACK_COMMAND!r} event without its request ('ask')")
    missing = [name for name in ("kind", "user_id", "channel_id", "trigger_id", "response_url") if not ask.get(name)]
    if missing:
        raise InvalidDirectEvent(f"a {SLACK_COMMAND!r} event without {', '.join(missing)}")
    return ask


def field(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value or len(value) > 300:
        raise InvalidDirectEvent(f"a {event.get(KIND)!r} event needs a {name!r} string, got {value!r:.80}")
    return value


def invoke_async(lambda_client: Any, function_name: str, event: dict[str, Any]) -> None:
    """Queue the event for the function (InvocationType Event): returns once Lambda has it."""
    lambda_client.invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode())

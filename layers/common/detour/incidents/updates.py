"""An incident's timeline: what operators and the alarm said about it, in the incidents table.

    pk = SITE#<health check id>    sk = UPDATE#<posted_at>#<update id>   one per update, by time
    pk = SITE#<health check id>    sk = UPDATEID#<update id>             claims the id (a duplicate
                                                                          post finds the first)

An update has a stage (Statuspage's: investigating, identified, monitoring, resolved; planned
maintenance: scheduled, in_progress, completed), a message of at most 500 characters, its author
(a Slack user id, an AWS caller ARN, or the alarm) and where it came from. The alarm's own entries
(failover started, health data missing, recovered) are written by the transaction that applies
their transition (`alarm_entry`), so they are in the timeline exactly once, in time order.

Which incident an update belongs to is decided by its time and whether it is a closing word
(`current_span`, `incident_window`), so an update posted before the alarm arrives (DNS moves 1-3
minutes before CloudWatch tells anyone) is neither lost nor pinned to an old incident:
- posted while a window is open: that window's incident;
- a closing word (stage `resolved` or `completed`) posted less than `RESOLVED_FOR` after a window
  closed: that incident;
- anything else: news for the next incident, shown on the page at once, and part of the next
  window's timeline if that window opens within `LEAD` of it (even a flap: the site failing again
  minutes after it recovered); after `LEAD` with no window it leaves the page (it stays in the
  table and in `detour update --list --all`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from detour.incidents.items import (
    CONDITION_FAILED_REASON,
    TRANSACTION_CANCELLED,
    IncidentStoreError,
    cancellation_reasons,
    decode,
    encode,
    error_code,
    site_key,
    site_pk,
    store_errors,
)
from detour.incidents.transition import AlarmState, Transition, format_time, parse_time
from detour.incidents.windows import FailoverWindow

UPDATE = "UPDATE#"
UPDATE_ID = "UPDATEID#"
MAX_MESSAGE_CHARS = 500
LEAD = timedelta(minutes=30)  # an update this long before its window opens still belongs to it
RESOLVED_FOR = timedelta(minutes=10)  # the page says "restored" this long after an OK, then turns neutral
UPDATE_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,120}$")


class Stage(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def closing(self) -> bool:
        return self in (Stage.RESOLVED, Stage.COMPLETED)


INCIDENT_STAGES = (Stage.INVESTIGATING, Stage.IDENTIFIED, Stage.MONITORING, Stage.RESOLVED)
MAINTENANCE_STAGES = (Stage.SCHEDULED, Stage.IN_PROGRESS, Stage.COMPLETED)


class Source(StrEnum):
    SLACK = "slack"
    CLI = "cli"
    ALARM = "alarm"


class InvalidUpdate(ValueError):
    """An update that cannot be posted: the text says why, in words fit for the person posting."""


@dataclass(frozen=True, slots=True)
class Update:
    site_id: str
    stage: Stage
    message: str
    posted_at: datetime
    source: Source
    author: str  # a Slack user id, an AWS caller ARN, or the alarm's name: never on the page
    update_id: str  # what makes a second post of the same update harmless

    def __post_init__(self) -> None:
        if not self.message.strip():
            raise InvalidUpdate("an update needs a message")
        if len(self.message) > MAX_MESSAGE_CHARS:
            raise InvalidUpdate(
                f"an update is at most {MAX_MESSAGE_CHARS} characters, this one has {len(self.message)}: shorten it"
            )
        if not UPDATE_ID_PATTERN.match(self.update_id):
            raise InvalidUpdate(f"update id {self.update_id!r} is not usable in a key")

    @property
    def key(self) -> str:
        return f"{UPDATE}{format_time(self.posted_at)}#{self.update_id}"


@dataclass(frozen=True, slots=True)
class Timeline:
    """The newest updates of an incident, newest first, and how many earlier ones are not shown."""

    updates: Sequence[Update]
    earlier: int = 0

    @property
    def stage(self) -> Stage | None:
        return self.updates[0].stage if self.updates else None

    @property
    def newest_from_people(self) -> Update | None:
        return next((u for u in self.updates if u.source is not Source.ALARM), None)


def parse_stage(text: str) -> Stage:
    try:
        return Stage(text.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        names = ", ".join(stage.value for stage in Stage)
        raise InvalidUpdate(f"{text!r} is not a stage; the stages are {names}") from None


def alarm_entry(transition: Transition) -> Update:
    """The timeline's automatic entry for an applied transition."""
    planned = transition.planned
    if transition.new_state is AlarmState.ALARM:
        stage, message = (
            (Stage.IN_PROGRESS, "Planned maintenance started: visitors are sent to this page.")
            if planned
            else (Stage.INVESTIGATING, "The site is failing its health checks: visitors are sent to this page.")
        )
    elif transition.new_state is AlarmState.OK:
        stage = Stage.COMPLETED if planned else Stage.RESOLVED
        message = "The site answers its health checks again: visitors are sent back to it."
    elif planned:
        stage, message = Stage.IN_PROGRESS, "Health data for the site went missing during planned maintenance."
    else:
        stage, message = Stage.INVESTIGATING, "Health data for the site went missing: we are checking it."
    return Update(
        site_id=transition.site_id,
        stage=stage,
        message=message,
        posted_at=transition.changed_at,
        source=Source.ALARM,
        author=transition.alarm_name,
        update_id=f"alarm:{transition.alarm_name}"[:120],
    )


@dataclass(frozen=True, slots=True)
class Span:
    """Which updates are the current incident's: those posted at or after `since`, except the
    closing words (`resolved`, `completed`) posted at or before `closing_until`, which are an
    earlier incident's."""

    since: datetime
    closing_until: datetime | None = None


def current_span(recent: Sequence[FailoverWindow], now: datetime) -> Span:
    """The current incident's span, from the newest windows (newest first)."""
    current = recent[0] if recent else None
    if current is None:
        return Span(since=now - LEAD)
    if current.ended_at is not None and now - current.ended_at > RESOLVED_FOR:
        # Over, and its page no longer says so: only news for the next incident is current.
        return Span(since=max(current.ended_at, now - LEAD), closing_until=now)
    previous = recent[1] if len(recent) > 1 else None
    since = current.started_at - LEAD
    if previous is not None and previous.ended_at is not None:
        since = max(since, previous.ended_at)  # news after the last recovery is this incident's
    return Span(since=since, closing_until=current.started_at)


def incident_window(posted_at: datetime, before: FailoverWindow | None, *, closing: bool) -> FailoverWindow | None:
    """The window an update belongs to, given the last window that started at or before it (None:
    it is news for an incident not known yet). After a recovery, only closing words (`closing`, a
    resolved or completed stage) posted within RESOLVED_FOR are still that incident's."""
    if before is None:
        return None
    if before.ended_at is None or posted_at <= before.ended_at:
        return before
    return before if closing and posted_at - before.ended_at < RESOLVED_FOR else None


class UpdateLog:
    """Posts and reads updates. `client` is a low-level boto3 DynamoDB client."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._client = client

    def post(self, update: Update) -> tuple[Update, bool]:
        """Store the update once per id. Returns the stored update and whether this call stored it
        (False: the id was posted before, and the first post is returned)."""
        claim = encode({"pk": site_pk(update.site_id), "sk": UPDATE_ID + update.update_id, "key": update.key})
        actions = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": claim,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self.table_name, "Item": encode(update_item(update))}},
        ]
        with store_errors(self.table_name, f"posting update {update.update_id} of site {update.site_id}"):
            try:
                self._client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if error_code(error) != TRANSACTION_CANCELLED or cancellation_reasons(error)[:1] != [
                    CONDITION_FAILED_REASON
                ]:
                    raise
                return self._first_post(update), False
        return update, True

    def get(self, site_id: str, key: str) -> Update | None:
        with store_errors(self.table_name, f"reading {key} of site {site_id}"):
            item = self._client.get_item(TableName=self.table_name, Key=site_key(site_id, key), ConsistentRead=True)
        found = item.get("Item")
        return update_from_item(decode(found)) if found else None

    def timeline(
        self, site_id: str, *, since: datetime | None = None, limit: int = 10, span: Span | None = None
    ) -> Timeline:
        """The newest `limit` updates posted at or after `since` (or in the incident's `span`),
        newest first, and how many earlier ones there are besides."""
        since = span.since if span is not None else since
        low = UPDATE + (format_time(since) if since else "")
        values = {":pk": site_pk(site_id), ":low": low, ":high": UPDATE + "\uffff"}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ConsistentRead": True,
            "ScanIndexForward": False,
        }
        if span is not None and span.closing_until is not None:
            request["FilterExpression"] = "NOT (stage IN (:resolved, :completed) AND posted_at <= :until)"
            values |= {":resolved": "resolved", ":completed": "completed", ":until": format_time(span.closing_until)}
        request["ExpressionAttributeValues"] = encode(values)
        updates: list[Update] = []
        with store_errors(self.table_name, f"reading the updates of site {site_id}"):
            more: dict[str, Any] = {}
            while True:  # a filter may leave a page short: read on until `limit` or the end
                page = self._client.query(**request, **more, Limit=limit - len(updates))
                updates += [update_from_item(decode(item)) for item in page.get("Items", [])]
                last = page.get("LastEvaluatedKey")
                if last is None or len(updates) >= limit:
                    break
                more = {"ExclusiveStartKey": last}
            earlier = self._count(request, last) if last else 0
        return Timeline(updates=updates, earlier=earlier)

    def posted(self, site_id: str, update_id: str) -> Update | None:
        """The update posted under this id, if one was."""
        with store_errors(self.table_name, f"reading update {update_id} of site {site_id}"):
            claim = self._client.get_item(
                TableName=self.table_name, Key=site_key(site_id, UPDATE_ID + update_id), ConsistentRead=True
            ).get("Item")
        return self.get(site_id, decode(claim)["key"]) if claim else None

    def _count(self, request: dict[str, Any], start: dict[str, Any]) -> int:
        """How many more there are: reads keys only, and only the incident's own updates."""
        count, more = 0, start
        while more:
            page = self._client.query(**request, Select="COUNT", ExclusiveStartKey=more)
            count += int(page.get("Count", 0))
            more = page.get("LastEvaluatedKey")
        return count

    def _first_post(self, update: Update) -> Update:
        first = self.posted(update.site_id, update.update_id)
        if first is None:
            raise IncidentStoreError(
                f"DynamoDB table {self.table_name}: update {update.update_id} of site {update.site_id} is claimed "
                "but not stored"
            )
        return first


def update_item(update: Update) -> dict[str, Any]:
    return {
        "pk": site_pk(update.site_id),
        "sk": update.key,
        "kind": "update",
        "site_id": update.site_id,
        "stage": update.stage.value,
        "message": update.message,
        "posted_at": format_time(update.posted_at),
        "source": update.source.value,
        "author": update.author,
        "update_id": update.update_id,
    }


def update_from_item(item: dict[str, Any]) -> Update:
    return Update(
        site_id=item["site_id"],
        stage=Stage(item["stage"]),
        message=item["message"],
        posted_at=parse_time(item["posted_at"]),
        source=Source(item["source"]),
        author=item.get("author", ""),
        update_id=item["update_id"],
    )

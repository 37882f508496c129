"""The incidents table: transitions as recorded facts, failover windows derived from them.

Single-table layout, everything under the site's partition so one query answers "what happened":

    pk = SITE#<health check id>    sk = TRANSITION#<changed_at>#<alarm>   one per alarm transition
    pk = SITE#<health check id>    sk = WINDOW#<started_at>                one per failover window
    pk = IDEMPOTENCY#<function>    sk = <hash>                             Powertools, with a TTL

Recording is idempotent (a conditional put per transition key). Windows are then recomputed from
every transition of the site and written back with a version (`derived_from`, the number of
transitions the derivation saw): a writer that saw fewer transitions can never overwrite one that
saw more, so concurrent or reordered deliveries converge on the same windows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from detour.slack_transport import SlackThread
from detour.transition import AlarmState, Transition, format_time, parse_time
from detour.windows import FailoverWindow, derive_windows

TRANSITION = "TRANSITION#"
WINDOW = "WINDOW#"
STALE_WRITE = "ConditionalCheckFailedException"
_to_dynamodb = TypeSerializer().serialize
_from_dynamodb = TypeDeserializer().deserialize


class IncidentStoreError(RuntimeError):
    """DynamoDB refused or failed a request (after boto3's own retries): the event must be retried."""


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What recording one transition changed. `opened`/`closed` are reported by the writer whose
    conditional write made the change, so concurrent deliveries never count a failover twice. (A
    late, earlier ALARM can re-key a window that was already reported closed; it is reported again
    under its true start. The stored windows are right either way.)"""

    recorded: bool
    windows: list[FailoverWindow]
    opened: list[FailoverWindow] = field(default_factory=list)
    closed: list[FailoverWindow] = field(default_factory=list)


class IncidentStore:
    def __init__(self, table_name: str, client: Any) -> None:
        """`client` is a low-level boto3 DynamoDB client (one client, shared with Powertools'
        idempotency layer, is cheaper at cold start than a resource plus a client)."""
        self.table_name = table_name
        self._client = client

    def record(self, transition: Transition) -> Reconciliation:
        """Record a transition (a duplicate is harmless) and bring the site's windows up to date.

        Windows are reconciled even for a duplicate: if an earlier attempt died between the two
        steps, its retry finishes the job.
        """
        recorded = self._put_transition(transition)
        transitions = self.transitions(transition.site_id)
        derived = derive_windows(transitions)
        opened, closed = self._reconcile(transition.site_id, derived, version=len(transitions))
        return Reconciliation(recorded=recorded, windows=derived, opened=opened, closed=closed)

    def transitions(self, site_id: str) -> list[Transition]:
        return [_transition_from_item(item) for item in self._query(site_id, TRANSITION)]

    def windows(self, site_id: str, *, limit: int | None = None) -> list[FailoverWindow]:
        """The site's windows, newest first."""
        items = self._query(site_id, WINDOW, newest_first=True, limit=limit)
        return [_window_from_item(item) for item in items]

    def open_window(self, site_id: str) -> FailoverWindow | None:
        latest = self.windows(site_id, limit=1)
        return latest[0] if latest and latest[0].is_open else None

    def slack_thread(self, window: FailoverWindow) -> SlackThread | None:
        """The Slack message announcing this window, if one was posted."""
        with self._errors(f"reading the Slack thread of window {_window_sk(window)}"):
            item = self._client.get_item(
                TableName=self.table_name,
                Key=_encode({"pk": _pk(window.site_id), "sk": _window_sk(window)}),
                ProjectionExpression="slack_channel, slack_ts",
                ConsistentRead=True,
            ).get("Item")
        found = _decode(item or {})
        return SlackThread(found["slack_channel"], found["slack_ts"]) if "slack_ts" in found else None

    def attach_slack_thread(self, window: FailoverWindow, thread: SlackThread) -> bool:
        """Remember where the window was announced, so recovery edits and replies to it. False if
        the window has meanwhile been re-keyed by a late transition (the message stays posted)."""
        with self._errors(f"attaching a Slack thread to window {_window_sk(window)}"):
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key=_encode({"pk": _pk(window.site_id), "sk": _window_sk(window)}),
                    UpdateExpression="SET slack_channel = :channel, slack_ts = :ts",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=_encode({":channel": thread.channel, ":ts": thread.ts}),
                )
            except ClientError as error:
                if _code(error) == STALE_WRITE:
                    return False
                raise
        return True

    # -- mechanics ------------------------------------------------------------------------------

    def _put_transition(self, transition: Transition) -> bool:
        item = {
            "pk": _pk(transition.site_id),
            "sk": TRANSITION + transition.key,
            "kind": "transition",
            "site_id": transition.site_id,
            "alarm_name": transition.alarm_name,
            "alarm_arn": transition.alarm_arn,
            "alarm_description": transition.alarm_description,
            "account_id": transition.account_id,
            "region": transition.region,
            "new_state": transition.new_state.value,
            "old_state": transition.old_state.value,
            "reason": transition.reason,
            "changed_at": format_time(transition.changed_at),
            "recorded_at": format_time(datetime.now(UTC)),
        }
        with self._errors(f"recording transition {transition.key} of site {transition.site_id}"):
            try:
                self._client.put_item(
                    TableName=self.table_name, Item=_encode(item), ConditionExpression="attribute_not_exists(sk)"
                )
            except ClientError as error:
                if _code(error) == STALE_WRITE:
                    return False
                raise
        return True

    def _reconcile(
        self, site_id: str, derived: list[FailoverWindow], version: int
    ) -> tuple[list[FailoverWindow], list[FailoverWindow]]:
        stored = {_window_sk(w): w for w in map(_window_from_item, self._query(site_id, WINDOW))}
        wanted = {_window_sk(w): w for w in derived}
        opened: list[FailoverWindow] = []
        closed: list[FailoverWindow] = []
        for sk, window in wanted.items():
            if stored.get(sk) == window:
                continue
            before = self._write_window(sk, window, version)
            if before is None:
                continue  # a derivation that saw more transitions already wrote this window
            if not before:
                opened.append(window)
            if window.ended_at is not None and "ended_at" not in before:
                closed.append(window)
        for sk in stored.keys() - wanted.keys():
            # Only happens when a late transition re-pairs earlier ones (e.g. a missing OK arrives).
            self._delete_window(site_id, sk, version)
        return opened, closed

    def _write_window(self, sk: str, window: FailoverWindow, version: int) -> dict[str, Any] | None:
        """Upsert one window unless a fresher derivation got there first. Returns the old item
        ({} if there was none), or None if this write was stale. SET/REMOVE only the derived
        attributes, so attributes other functions add (e.g. a Slack thread) survive."""
        values: dict[str, Any] = {
            ":site": window.site_id,
            ":kind": "window",
            ":started": format_time(window.started_at),
            ":status": "open" if window.is_open else "closed",
            ":reason": window.reason,
            ":version": version,
            ":now": format_time(datetime.now(UTC)),
        }
        assignments = [
            "site_id = :site, kind = :kind, started_at = :started, #status = :status",
            "reason = :reason, derived_from = :version, updated_at = :now",
        ]
        removals = ""
        if window.ended_at is None:
            removals = " REMOVE ended_at, duration_s"
        else:
            values[":ended"] = format_time(window.ended_at)
            values[":duration"] = Decimal(str(window.duration_s))
            assignments.append("ended_at = :ended, duration_s = :duration")
        with self._errors(f"writing window {sk} of site {window.site_id}"):
            try:
                response = self._client.update_item(
                    TableName=self.table_name,
                    Key=_encode({"pk": _pk(window.site_id), "sk": sk}),
                    UpdateExpression="SET " + ", ".join(assignments) + removals,
                    ConditionExpression="attribute_not_exists(pk) OR derived_from < :version",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=_encode(values),
                    ReturnValues="ALL_OLD",
                )
            except ClientError as error:
                if _code(error) == STALE_WRITE:
                    return None
                raise
        return _decode(response.get("Attributes", {}))

    def _delete_window(self, site_id: str, sk: str, version: int) -> None:
        with self._errors(f"removing superseded window {sk} of site {site_id}"):
            try:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key=_encode({"pk": _pk(site_id), "sk": sk}),
                    ConditionExpression="derived_from < :version",
                    ExpressionAttributeValues=_encode({":version": version}),
                )
            except ClientError as error:
                if _code(error) != STALE_WRITE:
                    raise

    def _query(
        self, site_id: str, prefix: str, *, newest_first: bool = False, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": _encode({":pk": _pk(site_id), ":prefix": prefix}),
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
        }
        if limit:
            request["Limit"] = limit
        returned = 0
        with self._errors(f"reading {prefix.rstrip('#').lower()}s of site {site_id}"):
            while True:
                page = self._client.query(**request)
                for item in page.get("Items", []):
                    yield _decode(item)
                    returned += 1
                    if limit and returned >= limit:
                        return
                if "LastEvaluatedKey" not in page:
                    return
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", "")
            raise IncidentStoreError(
                f"DynamoDB table {self.table_name}: {doing} failed: {_code(error)}: {message}"
            ) from error


def _encode(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _to_dynamodb(value) for key, value in item.items()}


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _from_dynamodb(value) for key, value in item.items()}


def _pk(site_id: str) -> str:
    return f"SITE#{site_id}"


def _window_sk(window: FailoverWindow) -> str:
    return WINDOW + format_time(window.started_at)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _transition_from_item(item: dict[str, Any]) -> Transition:
    return Transition(
        site_id=item["site_id"],
        alarm_name=item["alarm_name"],
        alarm_arn=item["alarm_arn"],
        alarm_description=item.get("alarm_description", ""),
        account_id=item["account_id"],
        region=item["region"],
        new_state=AlarmState(item["new_state"]),
        old_state=AlarmState(item["old_state"]),
        reason=item.get("reason", ""),
        changed_at=parse_time(item["changed_at"]),
    )


def _window_from_item(item: dict[str, Any]) -> FailoverWindow:
    ended_at = item.get("ended_at")
    return FailoverWindow(
        site_id=item["site_id"],
        started_at=parse_time(item["started_at"]),
        ended_at=parse_time(ended_at) if ended_at else None,
        reason=item.get("reason", ""),
    )

"""The incidents table: transitions as recorded facts, failover windows derived from them.

Single-table layout, everything under the site's partition so one query answers "what happened":

    pk = SITE#<health check id>    sk = TRANSITION#<changed_at>#<alarm>   one per alarm transition
    pk = SITE#<health check id>    sk = WINDOW#<started_at>                one per failover window
    pk = SITE#<health check id>    sk = WINDOWS                            the windows' version
    pk = IDEMPOTENCY#<service>     sk = <hash>                             Powertools, with a TTL

Recording is idempotent (a conditional put per transition key). The windows are then recomputed
from every transition of the site and written back in one transaction, together with their
version: the number of transitions they were derived from. The transaction only commits if the
version is still the one read before deriving, and only a derivation from more transitions ever
writes, so concurrent or reordered deliveries converge on the windows of the full set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from detour.slack_thread import SlackThread
from detour.transition import AlarmState, Transition, format_time, parse_time
from detour.windows import FailoverWindow, derive_windows

TRANSITION = "TRANSITION#"
WINDOW = "WINDOW#"
VERSION = "WINDOWS"
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"
MAX_ATTEMPTS = 8  # concurrent writers per site are the three functions: contention ends quickly
MAX_CHANGES = 99  # DynamoDB transactions hold 100 actions; one is the version
THREAD_ATTRIBUTES = ("slack_channel", "slack_ts")
_to_dynamodb = TypeSerializer().serialize
_from_dynamodb = TypeDeserializer().deserialize


class IncidentStoreError(RuntimeError):
    """DynamoDB refused or failed a request (after boto3's own retries): the event must be retried."""


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The outcome of recording one transition: whether it was new, the site's transitions (this one
    included) and the windows derived from them."""

    recorded: bool
    transitions: list[Transition]
    windows: list[FailoverWindow]


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
        for _ in range(MAX_ATTEMPTS):
            reconciled = self._reconcile(transition.site_id)
            if reconciled is not None:
                transitions, windows = reconciled
                return Reconciliation(recorded=recorded, transitions=transitions, windows=windows)
        raise IncidentStoreError(
            f"DynamoDB table {self.table_name}: the windows of site {transition.site_id} kept changing "
            f"under {MAX_ATTEMPTS} attempts to update them; the event will be retried"
        )

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
                Key=_key(window.site_id, _window_sk(window)),
                ProjectionExpression="slack_channel, slack_ts",
                ConsistentRead=True,
            ).get("Item")
        found = _decode(item or {})
        return SlackThread(found["slack_channel"], found["slack_ts"]) if "slack_ts" in found else None

    def attach_slack_thread(self, window: FailoverWindow, thread: SlackThread) -> bool:
        """Remember where the window was announced, so recovery edits and replies to it. False when
        the window already has a thread (a concurrent announcement won) or no longer exists (a late
        transition re-keyed it); the message stays posted either way."""
        with self._errors(f"attaching a Slack thread to window {_window_sk(window)}"):
            try:
                self._client.update_item(
                    TableName=self.table_name,
                    Key=_key(window.site_id, _window_sk(window)),
                    UpdateExpression="SET slack_channel = :channel, slack_ts = :ts",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(slack_ts)",
                    ExpressionAttributeValues=_encode({":channel": thread.channel, ":ts": thread.ts}),
                )
            except ClientError as error:
                if _code(error) == CONDITION_FAILED:
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
            "planned": transition.planned,
        }
        with self._errors(f"recording transition {transition.key} of site {transition.site_id}"):
            try:
                self._client.put_item(
                    TableName=self.table_name, Item=_encode(item), ConditionExpression="attribute_not_exists(sk)"
                )
            except ClientError as error:
                if _code(error) == CONDITION_FAILED:
                    return False
                raise
        return True

    def _reconcile(self, site_id: str) -> tuple[list[Transition], list[FailoverWindow]] | None:
        """One optimistic attempt. Returns the transitions and windows, or None if another writer
        moved the version between this attempt's reads and its write (try again)."""
        transitions = self.transitions(site_id)  # read after our own put: includes our transition
        derived = derive_windows(transitions)
        version = len(transitions)
        stored_version = self._version(site_id)
        if stored_version >= version:
            # Transitions only accumulate, so a derivation from as many or more saw a superset of
            # ours, our transition included: what it wrote stands.
            return transitions, derived
        stored = {item["sk"]: item for item in self._query(site_id, WINDOW)}
        wanted = {_window_sk(w): w for w in derived}
        actions = [self._version_update(site_id, version, stored_version)]
        for sk, window in wanted.items():
            carried = _threads_absorbed_by(window, stored, wanted)
            if sk in stored and _window_from_item(stored[sk]) == window and not carried:
                continue
            actions.append(self._window_update(sk, window, carried))
        actions += [
            {"Delete": {"TableName": self.table_name, "Key": _key(site_id, sk)}} for sk in stored.keys() - wanted.keys()
        ]
        if len(actions) > MAX_CHANGES + 1:
            raise IncidentStoreError(
                f"DynamoDB table {self.table_name}: {len(actions) - 1} window changes for site {site_id} "
                f"exceed one transaction ({MAX_CHANGES})"
            )
        with self._errors(f"writing the windows of site {site_id} (version {version})"):
            try:
                self._client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if _code(error) == TRANSACTION_CANCELLED and _cancelled_by_condition(error):
                    return None
                raise
        return transitions, derived

    def _version(self, site_id: str) -> int:
        with self._errors(f"reading the windows' version of site {site_id}"):
            item = self._client.get_item(
                TableName=self.table_name, Key=_key(site_id, VERSION), ConsistentRead=True
            ).get("Item")
        return int(_decode(item)["version"]) if item else 0

    def _version_update(self, site_id: str, version: int, expected: int) -> dict[str, Any]:
        """Moves the version from what this attempt read to what it derived, or fails the transaction."""
        condition = "attribute_not_exists(pk)" if expected == 0 else "version = :expected"
        values: dict[str, Any] = {":version": version, ":now": format_time(datetime.now(UTC))}
        if expected:
            values[":expected"] = expected
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _key(site_id, VERSION),
                "UpdateExpression": "SET version = :version, updated_at = :now",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": _encode(values),
            }
        }

    def _window_update(self, sk: str, window: FailoverWindow, carried: dict[str, str]) -> dict[str, Any]:
        """SET/REMOVE only the derived attributes, so attributes other functions add (a Slack
        thread) survive; a thread of a window this one absorbed is carried over."""
        values: dict[str, Any] = {
            ":site": window.site_id,
            ":kind": "window",
            ":started": format_time(window.started_at),
            ":status": "open" if window.is_open else "closed",
            ":reason": window.reason,
            ":planned": window.planned,
            ":now": format_time(datetime.now(UTC)),
        }
        assignments = [
            "site_id = :site, kind = :kind, started_at = :started, #status = :status",
            "reason = :reason, planned = :planned, updated_at = :now",
        ]
        for name, value in carried.items():
            values[f":{name}"] = value
            assignments.append(f"{name} = if_not_exists({name}, :{name})")
        removals = ""
        if window.ended_at is None:
            removals = " REMOVE ended_at, duration_s"
        else:
            values[":ended"] = format_time(window.ended_at)
            values[":duration"] = Decimal(str(window.duration_s))
            assignments.append("ended_at = :ended, duration_s = :duration")
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _key(window.site_id, sk),
                "UpdateExpression": "SET " + ", ".join(assignments) + removals,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _encode(values),
            }
        }

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


def _threads_absorbed_by(
    window: FailoverWindow, stored: dict[str, dict[str, Any]], wanted: dict[str, FailoverWindow]
) -> dict[str, str]:
    """A Slack thread on a stored window that is going away (a late, earlier ALARM re-keyed it) moves
    to the window that now covers its start, so the recovery still resolves that thread."""
    for sk, item in stored.items():
        if sk in wanted or "slack_ts" not in item:
            continue
        started = parse_time(item["started_at"])
        if window.started_at <= started and (window.ended_at is None or started <= window.ended_at):
            return {name: item[name] for name in THREAD_ATTRIBUTES}
    return {}


def _cancelled_by_condition(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons") or []
    if not reasons:  # some endpoints only say so in the message
        return "ConditionalCheckFailed" in error.response.get("Error", {}).get("Message", "")
    return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)


def _encode(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _to_dynamodb(value) for key, value in item.items()}


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _from_dynamodb(value) for key, value in item.items()}


def _key(site_id: str, sk: str) -> dict[str, Any]:
    return _encode({"pk": _pk(site_id), "sk": sk})


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
        planned=bool(item.get("planned", False)),
    )


def _window_from_item(item: dict[str, Any]) -> FailoverWindow:
    ended_at = item.get("ended_at")
    return FailoverWindow(
        site_id=item["site_id"],
        started_at=parse_time(item["started_at"]),
        ended_at=parse_time(ended_at) if ended_at else None,
        reason=item.get("reason", ""),
        planned=bool(item.get("planned", False)),
    )

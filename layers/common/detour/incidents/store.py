"""The incidents table: transitions as recorded facts, failover windows kept up to date from them.

Single-table layout, everything under the site's partition, sorted by time:

    pk = SITE#<health check id>    sk = TRANSITION#<changed_at>#<alarm>   one per alarm transition
    pk = SITE#<health check id>    sk = EDGE#<changed_at>#<alarm>          an applied ALARM or OK (a copy)
    pk = SITE#<health check id>    sk = WINDOW#<started_at>                one per failover window
    pk = SITE#<health check id>    sk = WINDOWS                            the windows' version, newest
    pk = SITE#<health check id>    sk = THREAD#<started_at>                an incident's Slack thread
    pk = SITE#<health check id>    sk = UPDATE#<posted_at>#<id>            the incident timeline
                                                                           (`detour.incidents.updates`)
    pk = IDEMPOTENCY#<service>     sk = <hash>                             Powertools, with a TTL

Recording is two steps, each safe to repeat. A conditional put stores the transition once, not yet
applied. Applying it then changes only the windows around it (`detour.incidents.window_changes`): it reads
the window before it, the window after it and the next applied edge (one item each: applied ALARMs
and OKs are copied under EDGE#, so no read skips unapplied or INSUFFICIENT_DATA transitions), and
writes the changes, the transition's `applied` flag, its edge and the version (the number of
applied transitions, and the newest one) in one small transaction, which commits only if the
version is still the one read and the transition is still unapplied. So each transition is
applied exactly once, against windows no other writer has moved meanwhile, and the cost of an
event does not depend on how long the site's history is. Every function applies what it records,
so a transition whose first recorder died is applied by the next.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from detour.incidents.items import (
    CONDITION_FAILED,
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
from detour.incidents.updates import alarm_entry, update_item
from detour.incidents.window_changes import InconsistentWindows, Neighbourhood, WindowChanges, changes_for
from detour.incidents.windows import FailoverWindow

TRANSITION = "TRANSITION#"
EDGE = "EDGE#"
WINDOW = "WINDOW#"
VERSION = "WINDOWS"
# Writers per site are the three functions times the deliveries in flight: a few, briefly. Past this
# many lost races the invocation fails and Lambda retries it later.
MAX_ATTEMPTS = 10
BACKOFF_S = 0.02  # first retry after a lost race waits up to this long, doubling each time


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The outcome of recording one transition.

    `transition` is the transition as stored (the first recorder's `planned` flag wins); `window` is
    the window it belongs to once applied.
    """

    recorded: bool
    transition: Transition
    window: FailoverWindow | None


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """What the page shows, read as of one version: the newest applied transition and the newest
    windows (newest first)."""

    version: int
    latest: Transition | None
    recent_windows: list[FailoverWindow]


class IncidentStore:
    def __init__(self, table_name: str, client: Any) -> None:
        """`client` is a low-level boto3 DynamoDB client (one client, shared with Powertools'
        idempotency layer, is cheaper at cold start than a resource plus a client)."""
        self.table_name = table_name
        self._client = client

    # -- recording ---------------------------------------------------------------------------------

    def record(self, transition: Transition) -> Reconciliation:
        """Record a transition (a duplicate is harmless) and apply it to the site's windows.

        A duplicate is applied too if it is not yet: an earlier attempt may have died in between.
        """
        stored, recorded, applied = self._put_transition(transition)
        attempt = 0
        while not applied:
            if attempt == MAX_ATTEMPTS:
                raise IncidentStoreError(
                    f"DynamoDB table {self.table_name}: the windows of site {transition.site_id} kept changing "
                    f"under {MAX_ATTEMPTS} attempts to apply transition {transition.key}; the event will be retried"
                )
            if self._apply(stored):
                break
            # Another writer moved the windows first: read them again, after a jittered pause.
            time.sleep(BACKOFF_S * 2**attempt * _jitter())
            attempt += 1
        return Reconciliation(recorded=recorded, transition=stored, window=self.window_of(stored))

    # -- reading -------------------------------------------------------------------------------------

    def window_of(self, transition: Transition) -> FailoverWindow | None:
        """The window a transition belongs to: the one an OK closed, or the one holding an ALARM or
        an INSUFFICIENT_DATA."""
        window = self.window_before(transition.site_id, transition.changed_at)
        if window is None:
            return None
        if transition.new_state is AlarmState.OK:
            return window if window.ended_at == transition.changed_at else None
        return window if window.holds(transition.changed_at) else None

    def window_before(self, site_id: str, moment: datetime) -> FailoverWindow | None:
        """The last window that started at or before `moment`."""
        items = self._query(site_id, WINDOW, below=WINDOW + format_time(moment), newest_first=True, limit=1)
        return next((_window_from_item(item) for item in items), None)

    def window_after(self, site_id: str, moment: datetime) -> FailoverWindow | None:
        """The first window that started after `moment`."""
        items = self._query(site_id, WINDOW, above=WINDOW + format_time(moment), limit=1)
        return next((_window_from_item(item) for item in items), None)

    def windows(
        self, site_id: str, *, limit: int | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> list[FailoverWindow]:
        """The site's windows, newest first: all, the newest `limit`, or those overlapping
        [since, until] (reading only those, and the one open across `since`)."""
        below = WINDOW + format_time(until) if until else None
        above = WINDOW + format_time(since) if since else None
        found = [
            _window_from_item(item)
            for item in self._query(site_id, WINDOW, above=above, below=below, newest_first=True, limit=limit)
        ]
        if since is not None and (limit is None or len(found) < limit):
            earlier = self.window_before(site_id, since)
            if earlier is not None and (earlier.ended_at is None or earlier.ended_at >= since):
                found.append(earlier)
        return found

    def open_window(self, site_id: str) -> FailoverWindow | None:
        latest = self.windows(site_id, limit=1)
        return latest[0] if latest and latest[0].is_open else None

    def transitions(self, site_id: str, *, limit: int | None = None, newest_first: bool = False) -> list[Transition]:
        """Recorded transitions, applied or not."""
        items = self._query(site_id, TRANSITION, newest_first=newest_first, limit=limit)
        return [_transition_from_item(item) for item in items]

    def version(self, site_id: str) -> int:
        """How many of the site's transitions the windows hold; only ever grows."""
        return self._head(site_id)[0]

    def _head(self, site_id: str) -> tuple[int, str | None]:
        """The version, and the sort key of the newest applied transition."""
        with self._errors(f"reading the windows' version of site {site_id}"):
            item = self._client.get_item(
                TableName=self.table_name, Key=site_key(site_id, VERSION), ConsistentRead=True
            ).get("Item")
        found = decode(item) if item else {}
        return int(found.get("version", 0)), found.get("latest")

    def snapshot(self, site_id: str, windows: int) -> SiteSnapshot:
        """The newest applied transition and the newest `windows` windows, all as of one version:
        read between two reads of the version, again if it moved (a writer applied meanwhile)."""
        for _ in range(MAX_ATTEMPTS):
            version, latest_sk = self._head(site_id)
            latest = _transition_from_item(decode(self._get(site_id, latest_sk))) if latest_sk else None
            recent = self.windows(site_id, limit=windows)
            if self.version(site_id) == version:
                return SiteSnapshot(version=version, latest=latest, recent_windows=recent)
        raise IncidentStoreError(
            f"DynamoDB table {self.table_name}: the windows of site {site_id} kept changing while being read; "
            "the event will be retried"
        )

    # -- mechanics -----------------------------------------------------------------------------------

    def _put_transition(self, transition: Transition) -> tuple[Transition, bool, bool]:
        """Store the transition unless it is already stored. Returns the stored transition, whether
        this call stored it, and whether it is applied."""
        item = _transition_item(transition) | {"applied": False, "recorded_at": format_time(datetime.now(UTC))}
        with self._errors(f"recording transition {transition.key} of site {transition.site_id}"):
            try:
                self._client.put_item(
                    TableName=self.table_name,
                    Item=encode(item),
                    ConditionExpression="attribute_not_exists(sk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as error:
                if error_code(error) != CONDITION_FAILED:
                    raise
                existing = error.response.get("Item") or self._get(transition.site_id, TRANSITION + transition.key)
                stored = decode(existing)
                return _transition_from_item(stored), False, _is_applied(stored)
        return transition, True, False

    def _apply(self, transition: Transition) -> bool:
        """One optimistic attempt to apply a stored transition. True when applied (by this call or,
        as it turns out, another), False if another writer moved the windows first."""
        site_id = transition.site_id
        version, latest = self._head(site_id)
        around = Neighbourhood(
            before=self.window_before(site_id, transition.changed_at),
            after=self.window_after(site_id, transition.changed_at),
            next_edge=self._next_edge(transition),
        )
        try:
            changes = changes_for(transition, around)
        except InconsistentWindows:
            # The reads are separate requests: a writer that applied between them shows here as a
            # contradiction. Only if the version never moved are the stored windows really wrong.
            if self.version(site_id) != version:
                return False
            raise
        sk = TRANSITION + transition.key
        actions = [
            self._mark_applied(transition),
            self._version_update(site_id, version, newest=sk if latest is None or sk > latest else latest),
            *self._window_actions(changes),
        ]
        if transition.new_state is not AlarmState.INSUFFICIENT_DATA:
            edge = _transition_item(transition) | {"sk": EDGE + transition.key, "kind": "edge"}
            actions.append({"Put": {"TableName": self.table_name, "Item": encode(edge)}})
        # The incident timeline's automatic entry, written once: with the applied flag. Inside planned
        # maintenance it keeps maintenance's stages, even once the notice is gone (the OK that ends it).
        within = around.before is not None and around.before.planned and around.before.holds(transition.changed_at)
        entry = alarm_entry(replace(transition, planned=transition.planned or within))
        actions.append({"Put": {"TableName": self.table_name, "Item": encode(update_item(entry))}})
        with self._errors(f"applying transition {transition.key} to the windows of site {site_id}"):
            try:
                self._client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if error_code(error) != TRANSACTION_CANCELLED:
                    raise
                if cancellation_reasons(error)[:1] == [CONDITION_FAILED_REASON]:
                    return True  # someone else applied it
                # The version moved, or a concurrent transaction touched the same items (real DynamoDB's
                # TransactionConflict): applied meanwhile by someone else, or to be tried again.
                return _is_applied(decode(self._get(site_id, TRANSITION + transition.key)))
        return True

    def _next_edge(self, transition: Transition) -> Transition | None:
        """The first applied ALARM or OK after the transition."""
        items = self._query(transition.site_id, EDGE, above=EDGE + transition.key, limit=1)
        return next((_transition_from_item(item) for item in items), None)

    def _mark_applied(self, transition: Transition) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": site_key(transition.site_id, TRANSITION + transition.key),
                "UpdateExpression": "SET applied = :yes",
                "ConditionExpression": "applied = :no",
                "ExpressionAttributeValues": encode({":yes": True, ":no": False}),
            }
        }

    def _version_update(self, site_id: str, expected: int, newest: str) -> dict[str, Any]:
        """Moves the version from what this attempt read to the next, or fails the transaction."""
        condition = "attribute_not_exists(pk)" if expected == 0 else "version = :expected"
        values: dict[str, Any] = {":version": expected + 1, ":latest": newest, ":now": format_time(datetime.now(UTC))}
        if expected:
            values[":expected"] = expected
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": site_key(site_id, VERSION),
                "UpdateExpression": "SET version = :version, latest = :latest, updated_at = :now",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": encode(values),
            }
        }

    def _window_actions(self, changes: WindowChanges) -> list[dict[str, Any]]:
        now = format_time(datetime.now(UTC))
        actions: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table_name, "Item": encode(_window_item(window) | {"updated_at": now})}}
            for window in changes.put
        ]
        actions += [
            {"Delete": {"TableName": self.table_name, "Key": site_key(window.site_id, _window_sk(window))}}
            for window in changes.delete
        ]
        return actions

    def _get(self, site_id: str, sk: str) -> dict[str, Any]:
        with self._errors(f"reading {sk} of site {site_id}"):
            item = self._client.get_item(TableName=self.table_name, Key=site_key(site_id, sk), ConsistentRead=True).get(
                "Item"
            )
        if not item:
            raise IncidentStoreError(f"DynamoDB table {self.table_name}: {sk} of site {site_id} vanished")
        return dict(item)

    def _query(
        self,
        site_id: str,
        prefix: str,
        *,
        above: str | None = None,
        below: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Items of one kind, in sort-key order, between `above` (exclusive) and `below` (inclusive)."""
        low = above + "\x00" if above else prefix  # just past `above`: exclusive
        high = below if below else prefix + "\uffff"
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": encode({":pk": site_pk(site_id), ":low": low, ":high": high}),
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
                    yield decode(item)
                    returned += 1
                    if limit and returned >= limit:
                        return
                if "LastEvaluatedKey" not in page:
                    return
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        return store_errors(self.table_name, doing)


def _jitter() -> float:
    """0 to 1, from os.urandom: `random` would cost every cold start a few ms to import."""
    return int.from_bytes(os.urandom(2)) / 0xFFFF


def _is_applied(item: dict[str, Any]) -> bool:
    return bool(item.get("applied", False))


def _window_sk(window: FailoverWindow) -> str:
    return WINDOW + format_time(window.started_at)


def _transition_item(transition: Transition) -> dict[str, Any]:
    return {
        "pk": site_pk(transition.site_id),
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
        "planned": transition.planned,
        "health_check_id": transition.health_check_id,
    }


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
        health_check_id=item.get("health_check_id", ""),
    )


def _window_item(window: FailoverWindow) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": site_pk(window.site_id),
        "sk": _window_sk(window),
        "kind": "window",
        "site_id": window.site_id,
        "started_at": format_time(window.started_at),
        "status": "open" if window.is_open else "closed",
        "reason": window.reason,
        "planned": window.planned,
        "opened_from": window.opened_from.value,
        "gaps": [format_time(gap) for gap in window.gaps],
    }
    if window.ended_at is not None:
        item["ended_at"] = format_time(window.ended_at)
        item["duration_s"] = Decimal(str(window.duration_s))
    return item


def _window_from_item(item: dict[str, Any]) -> FailoverWindow:
    ended_at = item.get("ended_at")
    return FailoverWindow(
        site_id=item["site_id"],
        started_at=parse_time(item["started_at"]),
        ended_at=parse_time(ended_at) if ended_at else None,
        reason=item.get("reason", ""),
        planned=bool(item.get("planned", False)),
        opened_from=AlarmState(item.get("opened_from", AlarmState.OK.value)),
        gaps=tuple(parse_time(gap) for gap in item.get("gaps", [])),
    )

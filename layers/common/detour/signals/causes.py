"""Why a site failed over: its checks as read when the outage's ALARM first arrived, recorded once.

    pk = SITE#<site id>    sk = CAUSE#<the ALARM transition's key>    reading

notify_slack, refresh_page and log_window each get the same ALARM, in any order and any number of
times. The first to read the checks claims the record with a conditional write; every other one
(and every retry) uses what was claimed, so Slack, the page, status.json and the failover window
name the same cause. Reading it later would be wrong: by then the signal may have recovered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from detour.incidents.items import (
    CONDITION_FAILED,
    IncidentStoreError,
    decode,
    encode,
    error_code,
    site_key,
    site_pk,
    store_errors,
)
from detour.incidents.sites import RegisteredSite
from detour.incidents.transition import AlarmState, Transition, transition_key
from detour.signals.states import SignalReading, read_signals

CAUSE = "CAUSE#"
# An ALARM first handled later than this (redelivered, redriven from a dead-letter queue, or every
# function failing for a while) is not diagnosed: its checks may have changed since it fired.
FRESH_FOR = timedelta(minutes=5)


class CauseLog:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def get(self, site_id: str, transition_key: str) -> SignalReading | None:
        with store_errors(self.table_name, f"reading the cause of {transition_key} for site {site_id}"):
            item = self._dynamodb.get_item(
                TableName=self.table_name, Key=site_key(site_id, CAUSE + transition_key), ConsistentRead=True
            ).get("Item")
        return SignalReading.from_value(decode(item)["reading"]) if item else None

    def claim(self, site_id: str, transition_key: str, reading: SignalReading) -> SignalReading:
        """Record `reading` unless a cause is recorded already; either way, the recorded one."""
        item = encode(
            {"pk": site_pk(site_id), "sk": CAUSE + transition_key, "kind": "cause", "reading": reading.to_value()}
        )
        with store_errors(self.table_name, f"recording the cause of {transition_key} for site {site_id}"):
            try:
                self._dynamodb.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return reading
            except ClientError as error:
                if error_code(error) != CONDITION_FAILED:
                    raise
                earlier = error.response.get("Item")
        if earlier:
            return SignalReading.from_value(decode(earlier)["reading"])
        recorded = self.get(site_id, transition_key)  # the failed condition says it exists
        if recorded is None:
            raise IncidentStoreError(f"DynamoDB table {self.table_name}: the cause of {transition_key} vanished")
        return recorded


def cause_of(
    transition: Transition,
    site: RegisteredSite,
    *,
    table_name: str,
    dynamodb: Any,
    route53: Any,
    cloudwatch: Any,
    now: datetime,
) -> SignalReading | None:
    """The recorded cause of an ALARM transition, read and claimed by the first caller; None for
    OK and INSUFFICIENT_DATA, which have no cause."""
    if transition.new_state is not AlarmState.ALARM:
        return None
    log = CauseLog(table_name, dynamodb)
    recorded = log.get(site.site_id, transition.key)
    if recorded is not None:
        return recorded
    late = now - transition.changed_at
    if late > FRESH_FOR:  # what the checks say now may not be what failed the site over then
        minutes = int(late.total_seconds() // 60)
        note = (
            f"not read in time: Detour first handled this alarm {minutes} min after it fired, "
            "when the checks may have changed"
        )
        return log.claim(site.site_id, transition.key, SignalReading(read_at=now, states=(), note=note))
    return log.claim(site.site_id, transition.key, read_signals(site, route53, cloudwatch, now))


class OutageCauses:
    """Why each of a site's outages failed over, by its start: what announcing or resolving an
    incident needs. The current ALARM's cause is known already; any other is one read."""

    def __init__(
        self, log: CauseLog, site: RegisteredSite, known: Transition | None = None, reading: SignalReading | None = None
    ) -> None:
        self._log, self._site = log, site
        self._known: dict[datetime, SignalReading | None] = {}
        if known is not None and reading is not None:
            self._known[known.changed_at] = reading

    def reading(self, started_at: datetime) -> SignalReading | None:
        if started_at not in self._known:
            self._known[started_at] = self._log.get(
                self._site.site_id, transition_key(started_at, self._site.alarm_name)
            )
        return self._known[started_at]

    def __call__(self, started_at: datetime) -> str:
        reading = self.reading(started_at)
        return reading.summary() if reading is not None else ""

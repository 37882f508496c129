"""Where each incident's Slack thread is kept, and the claims that make posting to it exactly-once.

One item per announced incident, beside the windows, keyed by the start of the window it was first
announced for (its origin). Windows can be re-keyed when a late transition arrives; threads never
are: an incident's thread is the one whose origin lies inside the incident's window.

    pk = SITE#<health check id>    sk = THREAD#<origin>    channel, ts (the root message),
        announced (what the root said when posted: "open", or the resolution it told at once),
        resolved ("<start>|<end>" of the last resolution edited in), replied (the recovery reply
        is posted), claim {token, step, at} while an effect is in flight, uncertain (the claims
        of posts that may or may not have reached Slack: looked up before posting again)

A Slack post cannot be undone and has no idempotency key, so every effect on a thread is claimed
first (a conditional write naming the invocation), done, then released with its result in one
conditional write that returns the item as it now is. A transition's own line in its incident's
thread (missing health data, still failing) is claimed the same way, once per transition:

    pk = SITE#<health check id>    sk = NOTE#<transition key>    claim, then ts once posted
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from detour.incidents.items import (
    CONDITION_FAILED,
    TRANSACTION_CANCELLED,
    decode,
    encode,
    error_code,
    site_key,
    site_pk,
    store_errors,
)
from detour.incidents.store import WINDOW
from detour.incidents.transition import format_time, parse_time
from detour.incidents.windows import FailoverWindow

THREAD = "THREAD#"
NOTE = "NOTE#"
# Free, abandoned (past its lease), or left by an earlier attempt of the same invocation (Lambda
# retries an invocation with its request id: that attempt is over).
CLAIMABLE = "attribute_not_exists(claim) OR claim.#at < :expired OR begins_with(claim.#token, :request)"
# A claim older than this belongs to an invocation that is gone: notify_slack's timeout is 30 s.
LEASE = timedelta(seconds=90)


@dataclass(frozen=True, slots=True)
class Claim:
    token: str  # "<Lambda request id>/<random>": a retry of the same invocation recognises its own
    step: str
    at: datetime

    @property
    def request_id(self) -> str:
        return self.token.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    site_id: str
    origin: datetime
    channel: str | None = None
    ts: str | None = None
    announced: str = ""
    resolved: str = ""
    replied: bool = False
    claim: Claim | None = None
    uncertain: frozenset[str] = frozenset()
    abandoned: str = ""  # set in memory: the claim this invocation took over from a dead one

    @property
    def unsure(self) -> set[str]:
        """Claims whose posts may have reached Slack unrecorded: look for them before posting."""
        return {*self.uncertain, self.abandoned} - {""}

    @property
    def sk(self) -> str:
        return THREAD + format_time(self.origin)

    def claimable_by(self, request_id: str, now: datetime) -> bool:
        """Free, abandoned (past its lease), or left by an earlier attempt of this same invocation
        (Lambda retries an invocation with its request id: the earlier attempt is over)."""
        return self.claim is None or self.claim.at + LEASE < now or self.claim.request_id == request_id


class ThreadStore:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._client = client

    def thread_of(self, window: FailoverWindow) -> ThreadRecord | None:
        """The incident's thread: the earliest whose origin lies inside the window."""
        high = THREAD + (format_time(window.ended_at) if window.ended_at else "\uffff")
        with store_errors(self.table_name, f"reading the Slack thread of the window from {window.started_at}"):
            items = self._client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues=encode(
                    {":pk": site_pk(window.site_id), ":low": THREAD + format_time(window.started_at), ":high": high}
                ),
                ConsistentRead=True,
                Limit=1,
            ).get("Items", [])
        return _record(decode(items[0])) if items else None

    def open_thread(self, window: FailoverWindow, claim: Claim) -> ThreadRecord | None:
        """Create the incident's thread item, claimed for announcing it, if the window is still as
        read (a late ALARM may have merged it into an earlier one, which would get a thread of its
        own); None if the thread exists or the window changed: read again."""
        record = ThreadRecord(window.site_id, window.started_at, claim=claim)
        item: dict[str, Any] = {"pk": site_pk(record.site_id), "sk": record.sk, "kind": "thread"}
        item |= {"origin": format_time(record.origin), "claim": _claim_item(claim)}
        same_end = "ended_at = :end" if window.ended_at else "attribute_not_exists(ended_at)"
        values: dict[str, Any] = {":gaps": len(window.gaps)}
        if window.ended_at:
            values[":end"] = format_time(window.ended_at)
        unchanged = {
            "TableName": self.table_name,
            "Key": site_key(window.site_id, WINDOW + format_time(window.started_at)),
            "ConditionExpression": f"attribute_exists(sk) AND {same_end} AND size(gaps) = :gaps",
            "ExpressionAttributeValues": encode(values),
        }
        new = {"TableName": self.table_name, "Item": encode(item), "ConditionExpression": "attribute_not_exists(sk)"}
        with store_errors(self.table_name, f"claiming the Slack thread {record.sk}"):
            try:
                self._client.transact_write_items(TransactItems=[{"Put": new}, {"ConditionCheck": unchanged}])
            except ClientError as error:
                if error_code(error) == TRANSACTION_CANCELLED:
                    return None
                raise
        return record

    def claim(self, record: ThreadRecord, claim: Claim) -> ThreadRecord | None:
        """Take the thread for one effect; None if another invocation holds it."""
        found = self._update(
            record.site_id, record.sk, "SET claim = :claim", condition=CLAIMABLE, values=_claim_values(claim)
        )
        return _record(found) if found is not None else None

    def finish(self, record: ThreadRecord, token: str, **results: Any) -> ThreadRecord | None:
        """Record the effect's result and give the thread up, as one write; returns the thread as it
        is now (None if the claim was lost: another invocation took it over)."""
        found = self._release(record.site_id, record.sk, token, results)
        return _record(found) if found is not None else None

    def give_up(self, record: ThreadRecord, token: str, unsure: set[str]) -> None:
        """Give the thread up after a failure, adding the claims whose posts may have landed."""
        self._release(record.site_id, record.sk, token, None, unsure=unsure)

    def claim_note(self, site_id: str, key: str, claim: Claim) -> NoteClaim | None:
        """Claim posting a transition's line in its thread, once: None if it is posted, or being
        posted by another invocation."""
        before = self._update(
            site_id,
            NOTE + key,
            "SET claim = :claim, kind = :kind",
            condition=f"attribute_not_exists(ts) AND ({CLAIMABLE})",
            values=_claim_values(claim) | {":kind": "note"},
            returns="ALL_OLD",
        )
        if before is None:
            return None
        abandoned = before.get("claim", {}).get("token", "")
        return NoteClaim(site_id, key, claim, uncertain=frozenset(before.get("uncertain", ())), abandoned=abandoned)

    def finish_note(self, note: NoteClaim, ts: str) -> None:
        self._release(note.site_id, NOTE + note.key, note.claim.token, {"ts": ts})

    def give_up_note(self, note: NoteClaim, unsure: set[str]) -> None:
        self._release(note.site_id, NOTE + note.key, note.claim.token, None, unsure=unsure)

    def _release(
        self, site_id: str, sk: str, token: str, results: dict[str, Any] | None, *, unsure: set[str] | None = None
    ) -> dict[str, Any] | None:
        """Done (`results`): record them, and forget the uncertain posts (found or superseded).
        Failed: keep them, adding `unsure`, so the next attempt still looks for every one."""
        values: dict[str, Any] = {":token": token}
        if results is not None:
            values |= {f":{name}": value for name, value in results.items()}
            assignments = ", ".join(f"{name} = :{name}" for name in results)
            expression = ("SET " + assignments + " " if assignments else "") + "REMOVE claim, uncertain"
        elif unsure:
            values[":unsure"] = set(unsure)
            expression = "ADD uncertain :unsure REMOVE claim"
        else:
            expression = "REMOVE claim"
        return self._update(site_id, sk, expression, condition="claim.#token = :token", values=values)

    def _update(
        self,
        site_id: str,
        sk: str,
        expression: str,
        *,
        condition: str,
        values: dict[str, Any],
        returns: str = "ALL_NEW",
    ) -> dict[str, Any] | None:
        """The item after (or before) a conditional update; None if the condition failed."""
        names = {"#token": "token", "#at": "at"}
        used = {name: attr for name, attr in names.items() if name in condition or name in expression}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": site_key(site_id, sk),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": encode(values),
            "ReturnValues": returns,
        }
        if used:
            request["ExpressionAttributeNames"] = used
        with store_errors(self.table_name, f"updating {sk} of site {site_id}"):
            try:
                return decode(self._client.update_item(**request).get("Attributes", {}))
            except ClientError as error:
                if error_code(error) == CONDITION_FAILED:
                    return None
                raise


@dataclass(frozen=True, slots=True)
class NoteClaim:
    """A claimed line in a thread for one transition (a warning, "still failing")."""

    site_id: str
    key: str  # the transition's key
    claim: Claim
    uncertain: frozenset[str] = frozenset()  # earlier attempts' posts that may have reached Slack
    abandoned: str = ""  # an earlier attempt died holding the claim

    @property
    def unsure(self) -> set[str]:
        return {*self.uncertain, self.abandoned} - {""}


def new_claim(request_id: str, step: str, token: str) -> Claim:
    return Claim(token=f"{request_id}/{token}", step=step, at=datetime.now(UTC))


def _claim_values(claim: Claim) -> dict[str, Any]:
    return {
        ":claim": _claim_item(claim),
        ":expired": format_time(claim.at - LEASE),
        ":request": claim.request_id + "/",
    }


def _claim_item(claim: Claim) -> dict[str, str]:
    return {"token": claim.token, "step": claim.step, "at": format_time(claim.at)}


def _record(item: dict[str, Any]) -> ThreadRecord:
    claim = item.get("claim")
    return ThreadRecord(
        site_id=item["pk"].removeprefix("SITE#"),
        origin=parse_time(item["origin"]),
        channel=item.get("channel"),
        ts=item.get("ts"),
        announced=item.get("announced", ""),
        resolved=item.get("resolved", ""),
        replied=bool(item.get("replied", False)),
        claim=Claim(claim["token"], claim["step"], parse_time(claim["at"])) if claim else None,
        uncertain=frozenset(item.get("uncertain", ())),
    )

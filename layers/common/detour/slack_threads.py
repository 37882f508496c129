"""Where each incident's Slack thread is kept, and the claims that make posting to it exactly-once.

One item per announced incident, beside the windows, keyed by the start of the window it was first
announced for (its origin). Windows can be re-keyed when a late transition arrives; threads never
are: an incident's thread is the one whose origin lies inside the incident's window.

    pk = SITE#<health check id>    sk = THREAD#<origin>    channel, ts (the root message),
        announced (what the root said when posted: "open", or the resolution it told at once),
        resolved ("<start>|<end>" of the last resolution edited in), replied (the recovery reply
        is posted), claim {token, step, at} while an effect is in flight, uncertain (the token of
        a post that may or may not have reached Slack: looked up before posting again)

A Slack post cannot be undone and has no idempotency key, so every effect on a thread is claimed
first (a conditional write naming the invocation), done, then released with its result in one
conditional write that returns the item as it now is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from detour.incident_store import _code, _decode, _encode, _key, _pk, store_errors
from detour.transition import format_time, parse_time
from detour.windows import FailoverWindow

THREAD = "THREAD#"
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
    uncertain: str = ""
    abandoned: str = ""  # set in memory: the claim this invocation took over from a dead one

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
                ExpressionAttributeValues=_encode(
                    {":pk": _pk(window.site_id), ":low": THREAD + format_time(window.started_at), ":high": high}
                ),
                ConsistentRead=True,
                Limit=1,
            ).get("Items", [])
        return _record(_decode(items[0])) if items else None

    def open_thread(self, window: FailoverWindow, claim: Claim) -> ThreadRecord | None:
        """Create the incident's thread item, claimed for announcing it; None if it already exists."""
        record = ThreadRecord(window.site_id, window.started_at, claim=claim)
        item: dict[str, Any] = {"pk": _pk(record.site_id), "sk": record.sk, "kind": "thread"}
        item |= {"origin": format_time(record.origin), "claim": _claim_item(claim)}
        with store_errors(self.table_name, f"claiming the Slack thread {record.sk}"):
            try:
                self._client.put_item(
                    TableName=self.table_name, Item=_encode(item), ConditionExpression="attribute_not_exists(sk)"
                )
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    return None
                raise
        return record

    def claim(self, record: ThreadRecord, claim: Claim) -> ThreadRecord | None:
        """Take the thread for one effect; None if another invocation holds it."""
        expired = format_time(claim.at - LEASE)
        return self._update(
            record,
            "SET claim = :claim",
            "attribute_not_exists(claim) OR claim.#at < :expired OR begins_with(claim.#token, :request)",
            {":claim": _claim_item(claim), ":expired": expired, ":request": claim.request_id + "/"},
        )

    def release(self, record: ThreadRecord, token: str, **results: Any) -> ThreadRecord | None:
        """Record the effect's result and give the thread up, as one write; returns the thread as it
        is now (None if the claim was lost: another invocation took it over)."""
        values = {f":{name}": value for name, value in results.items()}
        assignments = ", ".join(f"{name} = :{name}" for name in results)
        expression = ("SET " + assignments + " " if assignments else "") + "REMOVE claim"
        return self._update(record, expression, "claim.#token = :token", values | {":token": token})

    def _update(
        self, record: ThreadRecord, expression: str, condition: str, values: dict[str, Any]
    ) -> ThreadRecord | None:
        names = {"#token": "token", "#at": "at"}
        used = {name: attr for name, attr in names.items() if name in condition or name in expression}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": _key(record.site_id, record.sk),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": _encode(values),
            "ReturnValues": "ALL_NEW",
        }
        if used:
            request["ExpressionAttributeNames"] = used
        with store_errors(self.table_name, f"updating the Slack thread {record.sk}"):
            try:
                return _record(_decode(self._client.update_item(**request)["Attributes"]))
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    return None
                raise


def new_claim(request_id: str, step: str, token: str) -> Claim:
    return Claim(token=f"{request_id}/{token}", step=step, at=datetime.now(UTC))


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
        uncertain=item.get("uncertain", ""),
    )

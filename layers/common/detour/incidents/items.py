"""The incidents table's mechanics shared by its stores: items to and from DynamoDB's typed JSON,
the site's keys, and DynamoDB's refusals as one error that names the table and the step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"
CONDITION_FAILED_REASON = "ConditionalCheckFailed"  # a cancelled transaction's reason for one item
_to_dynamodb = TypeSerializer().serialize
_from_dynamodb = TypeDeserializer().deserialize


class IncidentStoreError(RuntimeError):
    """DynamoDB refused or failed a request (after boto3's own retries): the event must be retried."""


@contextmanager
def store_errors(table_name: str, doing: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        raise IncidentStoreError(
            f"DynamoDB table {table_name}: {doing} failed: {error_code(error)}: {message}"
        ) from error


def encode(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _to_dynamodb(value) for name, value in item.items()}


def decode(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _from_dynamodb(value) for name, value in item.items()}


def site_pk(site_id: str) -> str:
    return f"SITE#{site_id}"


def site_key(site_id: str, sk: str) -> dict[str, Any]:
    return encode({"pk": site_pk(site_id), "sk": sk})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(error: ClientError) -> list[str]:
    """A cancelled transaction's reason codes, one per item, in order ("None" for items that passed)."""
    return [str(reason.get("Code", "")) for reason in error.response.get("CancellationReasons") or []]

"""Slack requests seen, so a captured request cannot be sent again while its timestamp is fresh.

    pk = SLACK#REQUESTS    sk = SIGNATURE#<x-slack-signature>    expiration (TTL)

A signature covers the timestamp and the body, and a timestamp older than five minutes is refused
anyway: remembering each signature for ten minutes refuses every replay. One conditional put per
request, in the acknowledgement's three seconds.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from detour.incidents.items import CONDITION_FAILED, encode, error_code, store_errors

PARTITION = "SLACK#REQUESTS"
REMEMBER_S = 600


class ReplayGuard:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._client = client

    def first_time(self, signature: str, now: float) -> bool:
        """True the first time this signature is seen; False for a replay (or Slack's resend)."""
        item = {"pk": PARTITION, "sk": f"SIGNATURE#{signature}", "expiration": int(now) + REMEMBER_S}
        with store_errors(self.table_name, "remembering a Slack request"):
            try:
                self._client.put_item(
                    TableName=self.table_name, Item=encode(item), ConditionExpression="attribute_not_exists(pk)"
                )
            except ClientError as error:
                if error_code(error) == CONDITION_FAILED:
                    return False
                raise
        return True

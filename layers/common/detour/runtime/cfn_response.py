"""Answer a CloudFormation custom resource request: one PUT of a JSON body to its presigned ResponseURL.

Hand-rolled with urllib (what cfnresponse does) so the layer needs no extra package. CloudFormation
waits up to an hour for this answer, so callers must send it on every path, failures included.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

MAX_REASON_CHARS = 1000  # the whole response is limited to 4 KB
TIMEOUT_S = 10


class CfnResponseError(RuntimeError):
    """The response could not be delivered to CloudFormation."""


def send(
    event: Mapping[str, Any],
    *,
    status: Literal["SUCCESS", "FAILED"],
    physical_id: str,
    reason: str = "",
    data: Mapping[str, str] | None = None,
    log_stream: str = "",
) -> None:
    url = str(event["ResponseURL"])
    if urlsplit(url).scheme not in ("https", "http"):
        raise CfnResponseError(f"ResponseURL {url[:80]!r} is not an HTTP(S) URL")
    body = json.dumps(
        {
            "Status": status,
            "Reason": (reason or f"See CloudWatch log stream {log_stream}")[:MAX_REASON_CHARS],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": dict(data or {}),
        }
    ).encode()
    # The presigned URL was signed with an empty Content-Type: send exactly that.
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - scheme checked above
            answer.read()
    except OSError as error:
        raise CfnResponseError(f"could not deliver the {status} response to CloudFormation: {error}") from error

"""page_setup: the CloudFormation custom resource that owns the maintenance page's objects.

Create / Update -> publish the page from what the store knows, so the site has a page before any
outage (and an edited template or page parameter is published by the deploy that changes it).
Delete -> remove every object version, so CloudFormation can delete the versioned bucket.
Always answers CloudFormation, failures included: an unanswered request hangs the stack for an hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from detour.incidents.notices import NoticeBoard
from detour.incidents.store import IncidentStore
from detour.incidents.updates import UpdateLog
from detour.page.publisher import PagePublisher
from detour.page.refresh import refresh
from detour.page.render import PageSettings
from detour.runtime import cfn_response
from detour.runtime.aws import cloudfront_client, dynamodb_client, s3_client
from detour.runtime.settings import Settings
from detour.runtime.tracing import traced

settings = Settings.from_env()
logger = Logger()


class InvalidRequest(ValueError):
    """The custom resource's properties are missing or unusable."""


def publish(properties: Mapping[str, Any]) -> dict[str, str]:
    refreshed = refresh(
        _property(properties, "SiteId"),
        store=IncidentStore(settings.table_name, dynamodb_client()),
        notices=NoticeBoard(settings.table_name, dynamodb_client()),
        updates=UpdateLog(settings.table_name, dynamodb_client()),
        publisher=_publisher(properties),
        settings=PageSettings(
            site_name=_property(properties, "SiteName"),
            default_message=_property(properties, "DefaultMessage"),
            contact_url=str(properties.get("ContactUrl", "")).strip(),
        ),
        now=datetime.now(UTC),
    )
    return {"State": refreshed.status.state.value, "Published": str(refreshed.published).lower()}


def remove(properties: Mapping[str, Any]) -> dict[str, str]:
    if not str(properties.get("BucketName", "")).strip():
        return {"Removed": "0"}  # a Create that failed on its properties left nothing behind
    removed = _publisher(properties).remove_everything()
    return {"Removed": str(removed)}


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    request = event.get("RequestType")
    properties = event.get("ResourceProperties") or {}
    logger.append_keys(request=request, stack=event.get("StackId"), bucket=properties.get("BucketName"))
    # The bucket is the resource: a new bucket is a new resource, and CloudFormation then deletes
    # the old one through us, which empties the old bucket.
    physical_id = str(properties.get("BucketName") or event.get("PhysicalResourceId") or "detour-page")
    try:
        if request in ("Create", "Update"):
            data = publish(properties)
        elif request == "Delete":
            data = remove(properties)
        else:
            raise InvalidRequest(f"RequestType {request!r} is not Create, Update or Delete")
    except Exception as error:  # anything at all must still be reported to CloudFormation
        logger.exception("Custom resource request failed")
        cfn_response.send(event, status="FAILED", physical_id=physical_id, reason=f"{type(error).__name__}: {error}")
        return
    logger.info("Custom resource request done", extra=data)
    cfn_response.send(event, status="SUCCESS", physical_id=physical_id, data=data)


def _publisher(properties: Mapping[str, Any]) -> PagePublisher:
    return PagePublisher(
        _property(properties, "BucketName"), _property(properties, "DistributionId"), s3_client(), cloudfront_client()
    )


def _property(properties: Mapping[str, Any], name: str) -> str:
    value = str(properties.get(name, "")).strip()
    if not value:
        raise InvalidRequest(f"custom resource property {name} is missing")
    return value


lambda_handler = traced(handler, enabled=settings.tracing)

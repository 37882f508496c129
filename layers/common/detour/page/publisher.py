"""Put the maintenance page into its bucket and make CloudFront serve the new copy.

Each site's page lives under its own prefix (`sites/<site id>/`) of the hub's page bucket, which its
distribution reads through OriginPath; index.html carries the site's Retry-After as object metadata,
which the shared viewer-response function sends as the header.

Order matters: index.html first, then status.json. The page embeds its own status, so it is whole
by itself; a status.json that is newer than the page only ever updates a page that already exists.

A page never goes backwards. Each render carries its order (the site's version when it was read,
then the time it was rendered) in the objects' metadata, and replaces an object only if it is
newer, with an S3 conditional write (If-Match on the ETag just read, If-None-Match for a first
page): of two refreshes racing, the older one can neither overwrite the newer nor slip in between.

A page is not uploaded again when it is byte for byte what is published (its SHA-256 is in the
object's metadata too): refresh_page's periodic sweep, which usually learns nothing new, then
writes nothing and invalidates nothing.
Every S3 or CloudFront failure (after boto3's retries) raises `PagePublishError` naming the bucket or
distribution and the step, so the invocation fails and is retried, then dead-lettered.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

PAGE_KEY = "index.html"
STATUS_KEY = "status.json"
# CloudFront may keep the page at the edge for a while (each refresh invalidates it); browsers never
# keep it (the viewer-response function sends no-store). status.json is never cached anywhere.
PAGE_HEADERS = {"ContentType": "text/html; charset=utf-8", "CacheControl": "public, max-age=0, s-maxage=300"}
STATUS_HEADERS = {"ContentType": "application/json; charset=utf-8", "CacheControl": "no-store"}
DELETE_BATCH = 1000  # S3 DeleteObjects' limit
ORDER = "detour-order"  # object metadata: "<version, 12 digits>|<rendered at>", compared as text
DIGEST = "detour-sha256"  # object metadata: the SHA-256 of the body and the metadata below, hex
RETRY_AFTER = "retry-after"  # object metadata on index.html: S3 serves it as x-amz-meta-retry-after
LOST_RACE = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
MAX_ATTEMPTS = 8


class PagePublishError(RuntimeError):
    """S3 or CloudFront refused or failed a request while publishing or removing the page."""


class PagePublisher:
    def __init__(
        self,
        bucket: str,
        distribution_id: str,
        s3: Any,
        cloudfront: Any,
        *,
        prefix: str = "",
        retry_after_s: int | None = None,
    ) -> None:
        self.bucket = bucket
        self.distribution_id = distribution_id
        self.prefix = prefix  # "sites/<site id>/": never anything outside it
        self.retry_after_s = retry_after_s
        self._s3 = s3
        self._cloudfront = cloudfront

    def publish(self, page: str, status: bytes, order: str) -> bool:
        """Upload the page, then its status, each unless a newer or identical one is there;
        invalidate if anything changed. False when nothing was uploaded."""
        page_metadata = {RETRY_AFTER: str(self.retry_after_s)} if self.retry_after_s is not None else {}
        published = [
            self._put_if_newer(PAGE_KEY, page.encode(), PAGE_HEADERS, order, page_metadata),
            self._put_if_newer(STATUS_KEY, status, STATUS_HEADERS, order, {}),
        ]
        if any(published):
            self.invalidate()
        return any(published)

    def invalidate(self) -> str:
        paths = [f"/{PAGE_KEY}", f"/{STATUS_KEY}"]  # every page path is rewritten to /index.html at the edge
        with _errors(f"CloudFront distribution {self.distribution_id}: invalidating {', '.join(paths)}"):
            answer = self._cloudfront.create_invalidation(
                DistributionId=self.distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(paths), "Items": paths},
                    "CallerReference": f"detour-{uuid.uuid4().hex}",
                },
            )
        return str(answer["Invalidation"]["Id"])

    def remove_everything(self) -> int:
        """Delete every version and delete marker under the prefix (the bucket is versioned): a
        removed site leaves nothing behind, and CloudFormation can delete an emptied bucket. A bucket
        that is already gone counts as empty. Returns how many went."""
        removed = 0
        try:
            for batch in self._versions():
                with _errors(f"S3 bucket {self.bucket}: deleting {len(batch)} object versions"):
                    answer = self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                if answer.get("Errors"):
                    first = answer["Errors"][0]
                    raise PagePublishError(
                        f"S3 bucket {self.bucket}: {len(answer['Errors'])} object versions were not deleted, "
                        f"e.g. {first.get('Key')}: {first.get('Code')}: {first.get('Message')}"
                    )
                removed += len(batch)
        except ClientError as error:
            if _code(error) == "NoSuchBucket":
                return removed
            raise
        return removed

    def _versions(self) -> Iterator[list[dict[str, str]]]:
        batch: list[dict[str, str]] = []
        pages = self._s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=self.prefix)
        with _errors(
            f"S3 bucket {self.bucket}: listing object versions under {self.prefix or '/'}",
            passthrough=("NoSuchBucket",),
        ):
            for page in pages:
                for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    batch.append({"Key": version["Key"], "VersionId": version["VersionId"]})
                    if len(batch) == DELETE_BATCH:
                        yield batch
                        batch = []
        if batch:
            yield batch

    def _put_if_newer(
        self, name: str, body: bytes, headers: dict[str, str], order: str, metadata: dict[str, str]
    ) -> bool:
        key = self.prefix + name
        # A changed Retry-After is a changed page, even when the HTML is the same.
        digest = hashlib.sha256(body + repr(sorted(metadata.items())).encode()).hexdigest()
        for _ in range(MAX_ATTEMPTS):
            current = self._current(key)
            if current is not None and (current.digest == digest or current.order >= order):
                return False
            condition = {"IfMatch": current.etag} if current else {"IfNoneMatch": "*"}
            try:
                with _errors(f"S3 bucket {self.bucket}: uploading {key}", passthrough=LOST_RACE):
                    self._s3.put_object(
                        Bucket=self.bucket,
                        Key=key,
                        Body=body,
                        Metadata={**metadata, ORDER: order, DIGEST: digest},
                        **headers,
                        **condition,
                    )
            except ClientError as error:
                if _code(error) in LOST_RACE:
                    continue  # another refresh wrote it first: compare again
                raise
            return True
        raise PagePublishError(f"S3 bucket {self.bucket}: {key} kept changing under {MAX_ATTEMPTS} attempts")

    def _current(self, key: str) -> _Published | None:
        """What is published under the key, or None if nothing is yet."""
        try:
            with _errors(f"S3 bucket {self.bucket}: reading {key}", passthrough=("404", "NoSuchKey", "NotFound")):
                head = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        metadata = head.get("Metadata", {})
        return _Published(str(head["ETag"]), str(metadata.get(ORDER, "")), str(metadata.get(DIGEST, "")))


@dataclass(frozen=True, slots=True)
class _Published:
    etag: str
    order: str
    digest: str  # "" for an object published before digests were kept


@contextmanager
def _errors(doing: str, passthrough: tuple[str, ...] = ()) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        if _code(error) in passthrough:
            raise
        message = error.response.get("Error", {}).get("Message", "")
        raise PagePublishError(f"{doing} failed: {_code(error)}: {message}") from error
    except BotoCoreError as error:
        raise PagePublishError(f"{doing} failed: {error}") from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))

"""The maintenance page's AWS side in moto: a versioned bucket and a distribution to invalidate."""

from __future__ import annotations

import uuid
from typing import Any

import boto3


def create_page_bucket() -> str:
    name = f"detour-page-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def create_distribution(bucket: str) -> str:
    origin = f"{bucket}.s3.us-east-1.amazonaws.com"
    answer = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": uuid.uuid4().hex,
            "Comment": "Detour maintenance page (test)",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [{"Id": "page-bucket", "DomainName": origin, "S3OriginConfig": {"OriginAccessIdentity": ""}}],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "page-bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    return str(answer["Distribution"]["Id"])


def invalidated_paths(distribution_id: str) -> list[list[str]]:
    """The paths of each invalidation of the distribution."""
    cloudfront = boto3.client("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    batches = []
    for item in listed:
        batch = cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"]
        batches.append(sorted(batch["InvalidationBatch"]["Paths"]["Items"]))
    return batches


def get_object(bucket: str, key: str) -> dict[str, Any]:
    answer = boto3.client("s3").get_object(Bucket=bucket, Key=key)
    return {**answer, "Text": answer["Body"].read().decode()}


def object_versions(bucket: str) -> list[str]:
    listed = boto3.client("s3").list_object_versions(Bucket=bucket)
    return [v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]

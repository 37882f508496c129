"""Registered sites for the tests: what a site stack's Custom::DetourSite writes to the registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3

from detour.incidents.sites import RegisteredSite, SiteRegistry
from tests.support.events import ALARM_NAME, SITE_ID

PAGE_URL = "https://d111111abcdef8.cloudfront.net/"
SITE = RegisteredSite(
    site_id=SITE_ID,
    domain="www.example.com",
    site_name="Example Shop",
    alarm_name=ALARM_NAME,
    distribution_id="EDFDVBD6EXAMPLE",
    page_url=PAGE_URL,
    stack_name="detour-site-www",
    default_message="We are working to restore the service.",
    contact_url="https://example.com/help",
    retry_after_s=120,
    template_version="1",
)


def register_site(table_name: str, **overrides: Any) -> RegisteredSite:
    """Register SITE (or it changed by `overrides`) in the table boto3 reaches."""
    site = replace(SITE, **overrides)
    SiteRegistry(table_name, boto3.client("dynamodb")).put(site)
    return site

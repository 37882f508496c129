"""Fixtures shared by the integration tests of the page functions."""

from __future__ import annotations

import pytest

from tests.support.page_aws import create_distribution, create_page_bucket


@pytest.fixture
def page_bucket(aws: str) -> str:
    return create_page_bucket()


@pytest.fixture
def distribution(page_bucket: str) -> str:
    return create_distribution(page_bucket)

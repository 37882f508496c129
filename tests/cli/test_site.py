"""`detour site list` and the --site choice every verb shares (detour_cli.sites), in moto."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from typing import Any

import boto3
import pytest

from detour.incidents.sites import SiteRegistry
from detour_cli.sites import resolve_site
from detour_cli.stack_outputs import DetourError
from tests.cli.world import (
    DOMAIN,
    OTHER_DOMAIN,
    OTHER_SITE_NAME,
    PAGE_BUCKET,
    SITE_STACK,
    STACK,
    World,
    hub_template,
)


def test_site_list_shows_one_line_per_site(run: Any, world: World, other_site: World) -> None:
    code, out, err = run("site", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "2 sites registered with hub stack detour"
    assert re.match(r"DOMAIN\s+SITE NAME\s+HEALTH CHECK\s+SITE STACK\s+TEMPLATE\s+SLACK CHANNEL$", lines[2])
    assert re.match(
        rf"{re.escape(OTHER_DOMAIN)}\s+{OTHER_SITE_NAME}\s+{other_site.check_id}\s+detour-site-api\s+1\s+C0APITEAM1$",
        lines[3],
    )
    assert re.match(
        rf"{re.escape(DOMAIN)}\s+{re.escape(DOMAIN)}\s+{world.check_id}\s+{SITE_STACK}\s+1\s+hub's$", lines[4]
    )

    code, out, _ = run("site", "list", "--format", "json")
    listed = json.loads(out)
    assert listed["site_template_version"] == "1"
    assert [(s["domain"], s["site_id"], s["slack_channel"]) for s in listed["sites"]] == [
        (OTHER_DOMAIN, other_site.check_id, "C0APITEAM1"),
        (DOMAIN, world.check_id, None),
    ]
    assert listed["sites"][1]["alarm_name"] == f"{STACK}/{SITE_STACK}/primary-health"


def test_site_list_marks_a_site_on_an_older_template(run: Any, world: World) -> None:
    registry = SiteRegistry(world.table_name, boto3.client("dynamodb"))
    registry.put(replace(registry.require(world.check_id), template_version="0"))
    code, out, _ = run("site", "list")
    assert code == 0
    assert re.search(rf"{SITE_STACK}\s+0\s+hub's  \(hub is at 1\)$", out, re.MULTILINE)


def test_site_list_with_no_site_says_how_to_add_one(run: Any, incidents_table: Any) -> None:
    boto3.client("cloudformation").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(hub_template()),
        Parameters=[{"ParameterKey": "IncidentsTableName", "ParameterValue": incidents_table.name}],
    )
    code, out, _ = run("site", "list")
    assert code == 0
    assert "No site is registered with hub stack detour yet" in out
    assert PAGE_BUCKET not in out


def test_site_needs_an_action_and_a_hub(run: Any, aws: str) -> None:
    assert run("site")[0] == 2
    assert run("site", "add")[0] == 2
    code, _, err = run("site", "list", "--stack", "nowhere")
    assert code == 2
    assert "detour site list: no stack nowhere" in err


def _args(site: str | None) -> argparse.Namespace:
    return argparse.Namespace(stack=STACK, region="us-east-1", profile=None, site=site)


def test_the_only_site_is_the_default(world: World) -> None:
    view = resolve_site(_args(None), boto3.Session(region_name="us-east-1"))
    assert (view.site_id, view.domain, view.alarm_name) == (world.check_id, DOMAIN, world.alarm)
    assert view.table == world.table_name
    assert view.parameter("HostedZoneId") == world.zone_id
    assert view.output("DistributionDomainName") == world.distribution
    assert view.hub.output("PageBucketName") == PAGE_BUCKET


@pytest.mark.parametrize("name", ["api.detour.test", "API.DETOUR.TEST.", "detour api", "detour-site-api", "id"])
def test_a_site_is_named_by_domain_name_stack_or_id(world: World, other_site: World, name: str) -> None:
    view = resolve_site(_args(other_site.check_id if name == "id" else name), boto3.Session(region_name="us-east-1"))
    assert view.site_id == other_site.check_id
    assert view.stack.name == "detour-site-api"
    assert view.parameter("PrimaryTarget") == other_site.primary_target


def test_no_site_named_among_several_is_an_error_listing_them(world: World, other_site: World) -> None:
    session = boto3.Session(region_name="us-east-1")
    listed = f"api.detour.test ({other_site.check_id}), www.detour.test ({world.check_id})"
    with pytest.raises(DetourError, match=re.escape(f"protects 2 sites; say which: {listed} (hub stack detour)")):
        resolve_site(_args(None), session)
    with pytest.raises(DetourError, match=re.escape(f"no site is called 'shop'; the sites are: {listed}")):
        resolve_site(_args("shop"), session)


def test_a_name_two_sites_answer_to_asks_for_the_id(world: World, other_site: World) -> None:
    """Site names are free text: two sites may share one."""
    registry = SiteRegistry(world.table_name, boto3.client("dynamodb"))
    for site in registry.all():
        registry.put(replace(site, site_name="Shop"))
    with pytest.raises(DetourError, match="'shop' names 2 sites; use a health check id"):
        resolve_site(_args("shop"), boto3.Session(region_name="us-east-1"))


def test_the_cli_says_which_sites_exist_when_the_choice_is_ambiguous(run: Any, world: World, other_site: World) -> None:
    code, out, err = run("report", "--site", "nope")
    assert (code, out) == (2, "")
    assert err.startswith("detour report: no site is called 'nope'; the sites are: api.detour.test (")

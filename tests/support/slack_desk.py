"""The whole `/detour` path on loopback: the local Slack signs a request to slack_commands served as
a Function URL; its queued work, refresh_page and notify_slack run in-process behind a loopback
Lambda Invoke API; everything else is moto's server. What the rehearsal plays, for the tests.

The registry holds the sites the desk serves (`registered_site`, written with `SiteRegistry.put`):
by default one, www.example.com under SITE_ID; `sites=` for several."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import boto3

from detour.incidents.notices import NoticeBoard, SiteNotice
from detour.incidents.sites import RegisteredSite, SiteRegistry
from detour.incidents.updates import Update, UpdateLog
from detour.runtime.aws import forget_clients
from detour_cli.local.fake_slack import FakeSlack
from detour_cli.local.function_url import FunctionUrl
from detour_cli.local.lambda_runtime import InProcessFunction
from detour_cli.local.lambda_service import LocalLambda
from tests.support.events import ALARM_NAME, SITE_ID
from tests.support.storm import PAGE_URL, World

ALICE = "U0ALICE"  # on the allow-list
MALLORY = "U0MALLORY"  # not on it


def registered_site(
    site_id: str = SITE_ID, domain: str = "www.example.com", *, slack_channel: str = "", **more: Any
) -> RegisteredSite:
    """A site as its site stack registers it. The distribution is the world's unless given."""
    name = domain.split(".", maxsplit=1)[0]
    values: dict[str, Any] = {
        "site_name": "Example Shop" if domain == "www.example.com" else domain,
        "alarm_name": ALARM_NAME if name == "www" else f"detour/detour-site-{name}/primary-health",
        "distribution_id": "",
        "page_url": PAGE_URL,
        "stack_name": f"detour-site-{name}",
        "default_message": "We are working to restore the service.",
        "contact_url": "https://example.com/help",
        "slack_channel": slack_channel,
        "template_version": "1",
        "registered_at": "2026-11-01T09:00:00.000Z",
    }
    return RegisteredSite(site_id=site_id, domain=domain, **(values | more))


@dataclass
class SlackDesk:
    world: World
    lambdas: LocalLambda
    url: FunctionUrl
    functions: dict[str, InProcessFunction]
    logs: dict[str, io.StringIO] = field(default_factory=dict)
    sites: list[RegisteredSite] = field(default_factory=list)  # as registered: the first is the default

    @property
    def slack(self) -> FakeSlack:
        return self.world.slack

    @property
    def command_url(self) -> str:
        return self.url.url + "/"

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.functions[name].invoke(event)

    @property
    def registry(self) -> SiteRegistry:
        return SiteRegistry(self.world.table, boto3.client("dynamodb"))

    def updates(self, site_id: str = "") -> list[Update]:
        timeline = UpdateLog(self.world.table, boto3.client("dynamodb")).timeline(site_id or self.site_id, limit=100)
        return list(timeline.updates)

    @property
    def site_id(self) -> str:
        return self.sites[0].site_id

    def notice(self, site_id: str) -> SiteNotice | None:
        return NoticeBoard(self.world.table, boto3.client("dynamodb")).current(site_id, datetime.now(UTC))

    def page(self, key: str = "index.html", site_id: str = "") -> str:
        """A page object of the site (the first by default), under its prefix in the page bucket."""
        prefix = next(site for site in self.sites if site.site_id == (site_id or self.site_id)).page_prefix
        body = boto3.client("s3").get_object(Bucket=self.world.bucket, Key=prefix + key)["Body"].read()
        return str(body.decode())

    def log(self, name: str) -> str:
        return self.logs[name].getvalue()

    def status(self) -> dict[str, Any]:
        """The published status.json."""
        return dict(json.loads(self.page("status.json")))


def health_check() -> str:
    """A real (moto) health check, for the tests that invert it: its id is the site's."""
    return str(
        boto3.client("route53").create_health_check(
            CallerReference=f"detour-desk-{uuid.uuid4().hex}",
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "origin.example.com", "Port": 443},
        )["HealthCheck"]["Id"]
    )


def inverted(check_id: str) -> bool:
    config = boto3.client("route53").get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    return bool(config.get("Inverted"))


@contextmanager
def slack_desk(
    moto_url: str,
    *,
    updaters: str = ALICE,
    site_id: str = SITE_ID,
    sites: Sequence[RegisteredSite] | None = None,
    command_channels: str = "",
) -> Iterator[SlackDesk]:
    """The desk serving `sites` (registered here), or the one site www.example.com under `site_id`.
    refresh_page and notify_slack still get the first site's id in SITE_ID, for as long as they read it."""
    with ExitStack() as stack:
        world = stack.enter_context(World(moto_url, with_site=False))
        served = list(sites) if sites is not None else [registered_site(site_id)]
        registry = SiteRegistry(world.table, boto3.client("dynamodb"))
        served = [
            site if site.distribution_id else replace(site, distribution_id=world.distribution) for site in served
        ]
        for site in served:
            registry.put(site)
        lambdas = stack.enter_context(LocalLambda(retry_delay_s=0.0))
        names = {name: f"detour-{name}" for name in ("slack_commands", "refresh_page", "notify_slack")}
        own = world.function_env()
        own["slack_commands"] = {
            "SLACK_SECRET_ARN": world.secret_arn,
            "SLACK_UPDATERS": updaters,
            "SLACK_COMMAND_CHANNELS": command_channels,
            "REFRESH_PAGE_FUNCTION": names["refresh_page"],
            "NOTIFY_SLACK_FUNCTION": names["notify_slack"],
        }
        logs = {name: io.StringIO() for name in names}
        functions = {
            name: InProcessFunction(
                name,
                world.common_env()
                | own[name]
                | {"POWERTOOLS_SERVICE_NAME": name, "AWS_ENDPOINT_URL_LAMBDA": lambdas.url, "ALARM_PREFIX": "detour/"}
                | ({} if name == "slack_commands" else {"SITE_ID": served[0].site_id}),
                function_name=names[name],
                output=logs[name],
            )
            for name in names
        }
        for function in functions.values():
            lambdas.add(function)
        url = stack.enter_context(FunctionUrl(functions["slack_commands"]))
        forget_clients()  # made again inside the functions, with their endpoints
        stack.callback(forget_clients)
        yield SlackDesk(world, lambdas, url, functions, logs, served)

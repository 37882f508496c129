"""The whole `/detour` path on loopback: the local Slack signs a request to slack_commands served as
a Function URL; its queued work, refresh_page and notify_slack run in-process behind a loopback
Lambda Invoke API; everything else is moto's server. What the rehearsal plays, for the tests."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from detour.incidents.updates import Update, UpdateLog
from detour.runtime.aws import forget_clients
from detour_cli.local.fake_slack import FakeSlack
from detour_cli.local.function_url import FunctionUrl
from detour_cli.local.lambda_runtime import InProcessFunction
from detour_cli.local.lambda_service import LocalLambda
from tests.support.events import SITE_ID
from tests.support.storm import World

ALICE = "U0ALICE"  # on the allow-list
MALLORY = "U0MALLORY"  # not on it


@dataclass
class SlackDesk:
    world: World
    lambdas: LocalLambda
    url: FunctionUrl
    functions: dict[str, InProcessFunction]
    logs: dict[str, io.StringIO] = field(default_factory=dict)

    @property
    def slack(self) -> FakeSlack:
        return self.world.slack

    @property
    def command_url(self) -> str:
        return self.url.url + "/"

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.functions[name].invoke(event)

    def updates(self) -> list[Update]:
        return list(UpdateLog(self.world.table, boto3.client("dynamodb")).timeline(SITE_ID, limit=100).updates)

    def page(self, key: str = "index.html") -> str:
        body = boto3.client("s3").get_object(Bucket=self.world.bucket, Key=key)["Body"].read()
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
def slack_desk(moto_url: str, *, updaters: str = ALICE, site_id: str = SITE_ID) -> Iterator[SlackDesk]:
    with ExitStack() as stack:
        world = stack.enter_context(World(moto_url))
        lambdas = stack.enter_context(LocalLambda(retry_delay_s=0.0))
        names = {name: f"detour-{name}" for name in ("slack_commands", "refresh_page", "notify_slack")}
        own = world.function_env()
        own["slack_commands"] = {
            "SLACK_SECRET_ARN": world.secret_arn,
            "SITE_DOMAIN": "www.example.com",
            "SLACK_UPDATERS": updaters,
            "SLACK_COMMAND_CHANNELS": "",
            "REFRESH_PAGE_FUNCTION": names["refresh_page"],
            "NOTIFY_SLACK_FUNCTION": names["notify_slack"],
        }
        logs = {name: io.StringIO() for name in names}
        functions = {
            name: InProcessFunction(
                name,
                world.common_env()
                | own[name]
                | {
                    "POWERTOOLS_SERVICE_NAME": name,
                    "SITE_ID": site_id,
                    "AWS_ENDPOINT_URL_LAMBDA": lambdas.url,
                },
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
        yield SlackDesk(world, lambdas, url, functions, logs)

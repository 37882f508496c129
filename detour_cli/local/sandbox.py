"""A whole Detour deployment on loopback: the embedded AWS (moto's server) with the hub
(template.yaml) deployed into it, a hosted zone standing in for the user's, and a local Slack whose
token the hub's Slack secret holds; sites (sites/site.yaml) are added with `add_site`. Used by
`detour demo` and `detour invoke --local`."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3

from detour.runtime.aws import forget_clients
from detour_cli.local.emulated_stack import EmulatedStack, ServiceTokens, deploy, deploy_site
from detour_cli.local.fake_slack import CHANNEL, TOKEN, FakeSlack, free_port
from detour_cli.local.lambda_runtime import ROOT, environment

DOMAIN = "www.detour.test"
ZONE = "detour.test"
FAKE_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"
SITE_TEMPLATE = ROOT / "sites" / "site.yaml"
SITE_STACK_PREFIX = "detour-site-"  # a site's stack: detour-site-<name>


@dataclass
class LocalSandbox:
    endpoint: str
    aws_environment: dict[str, str]
    zone_id: str
    stack: EmulatedStack  # the hub
    slack: FakeSlack
    seconds_to_deploy: float

    def site_parameters(self, domain: str = DOMAIN, port: int = 8080) -> dict[str, str]:
        """A site whose primary is an Elastic IP on loopback, probed over HTTP at /health."""
        return {
            "HubStackName": self.stack.name,
            "DomainName": domain,
            "HostedZoneId": self.zone_id,
            "PrimaryKind": "IPv4",
            "PrimaryTarget": "127.0.0.1",
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPort": str(port),
            "HealthCheckPath": "/health",
            "CertificateArn": FAKE_CERTIFICATE,
        }

    def add_site(self, name: str, parameters: dict[str, str], service_tokens: ServiceTokens) -> EmulatedStack:
        """Deploy sites/site.yaml as stack detour-site-<name>, importing the hub's exports;
        `service_tokens` runs its custom resource (the hub's site_setup)."""
        return deploy_site(
            SITE_TEMPLATE, parameters, SITE_STACK_PREFIX + name, hub=self.stack, service_tokens=service_tokens
        )


@contextlib.contextmanager
def local_sandbox(
    parameters: dict[str, str] | None = None, *, channels: tuple[str, ...] = (CHANNEL,)
) -> Iterator[LocalSandbox]:
    """Everything up for the duration of the block, and torn down after it: the hub with these
    parameters, and a local Slack that knows these channels (the first is the secret's)."""
    import time  # noqa: PLC0415

    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy; only local runs need it

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its state per process, not per server: start from an empty world
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 - loopback
    urllib.request.urlopen(reset, timeout=10)  # noqa: S310 - a loopback URL built here
    variables = _aws_environment(endpoint)
    forget_clients()  # clients of an earlier emulator in this process would point at its closed port
    try:
        with environment(variables | {"AWS_PROFILE": ""}), FakeSlack(channels=channels) as slack:
            os.environ.pop("AWS_PROFILE", None)  # a profile would override the keys above
            zone = boto3.client("route53").create_hosted_zone(Name=ZONE, CallerReference=str(uuid.uuid4()))
            zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
            started = time.monotonic()
            stack = deploy(ROOT / "template.yaml", parameters or {})
            took = time.monotonic() - started
            secret = {"bot_token": TOKEN, "channel": channels[0], "api_url": slack.api_url}
            boto3.client("secretsmanager").put_secret_value(
                SecretId=stack.physical_id("SlackSecret"), SecretString=json.dumps(secret)
            )
            yield LocalSandbox(endpoint, variables, zone_id, stack, slack, took)
    finally:
        urllib.request.urlopen(reset, timeout=10)  # noqa: S310 - and leave it empty for whatever runs next here
        server.stop()
        forget_clients()


def _aws_environment(endpoint: str) -> dict[str, str]:
    """Every AWS call of this process goes to the emulator, whatever credentials the shell has."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }

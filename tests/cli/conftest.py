from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.lambda_recorder import LambdaRecorder
from tests.cli.world import DISTRIBUTION, OTHER_DISTRIBUTION, World, add_other_site, build_world

# What the distributions' and a load balancer's names resolve to, as a recursive resolver would say.
DISTRIBUTION_ADDRESSES = ["198.51.100.7", "198.51.100.8"]
OTHER_DISTRIBUTION_ADDRESSES = ["198.51.100.17"]
BALANCER = "detour-alb-123456.us-east-1.elb.amazonaws.com"
BALANCER_ADDRESSES = ["203.0.113.21", "203.0.113.22"]


@pytest.fixture
def world(incidents_table: Any) -> World:
    """The hub and one site, an Elastic IP primary: what the operator verbs read."""
    return build_world(incidents_table.name)


@pytest.fixture
def other_site(world: World) -> World:
    """A second site in the same hub and zone: api.detour.test."""
    return add_other_site(world)


@pytest.fixture
def dns_server(world: World) -> Iterator[AuthoritativeTestServer]:
    names = {
        DISTRIBUTION: DISTRIBUTION_ADDRESSES,
        OTHER_DISTRIBUTION: OTHER_DISTRIBUTION_ADDRESSES,
        BALANCER: BALANCER_ADDRESSES,
    }
    with AuthoritativeTestServer(world.zone_id, names) as server:
        yield server


@pytest.fixture
def lambdas(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaRecorder]:
    """Lambda's Invoke on loopback, recording the events the verbs send refresh_page and notify_slack."""
    with LambdaRecorder() as recorder:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", recorder.url)
        yield recorder


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `detour ARGS...` in-process: (exit code, stdout, stderr)."""
    from detour_cli.main import main  # noqa: PLC0415

    def invoke(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse: --help and usage errors
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke

"""The README's sample output of `detour status` and `detour report`: the tests' local setup (moto's
server, the test stack, the local authoritative name server) with a month of windows, then both
verbs. Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.sample_run"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour_cli.main import main
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.world import DISTRIBUTION, build_world
from tests.support.aws import create_incidents_table, start_moto

THRESHOLD = "Threshold Crossed: 1 out of the last 1 datapoints [0.0] was less than the threshold (1.0)."


def sample() -> None:
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        world = build_world(create_incidents_table().name)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        world.outage(now - timedelta(days=30, minutes=20), now - timedelta(days=29, hours=23, minutes=48), THRESHOLD)
        world.outage(now - timedelta(days=12, hours=3), now - timedelta(days=12, hours=1, minutes=56), THRESHOLD)
        maintenance = now - timedelta(days=5)
        world.outage(maintenance, maintenance + timedelta(minutes=95), THRESHOLD, planned=True)  # what the alarm says
        outage = now - timedelta(days=2, hours=4)
        world.outage(outage, outage + timedelta(minutes=7, seconds=12), THRESHOLD)
        with AuthoritativeTestServer(world.zone_id, {DISTRIBUTION: ["198.51.100.7", "198.51.100.8"]}) as dns:
            local_dns = ["--nameserver", dns.address, "--resolver", dns.address]
            steps = (["status", *local_dns], None, ["status", *local_dns], ["report"], ["report", "--format", "csv"])
            for argv in steps:
                if argv is None:
                    world.invert(True)
                    print("\n$ aws route53 update-health-check --health-check-id ... --inverted  # what a drill does")
                    continue
                print(f"\n$ detour {' '.join(argv)}")
                print(f"[exit {main(argv)}]")
    finally:
        server.stop()


if __name__ == "__main__":
    sample()

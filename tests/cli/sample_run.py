"""The README's sample output of `detour site list`, `detour status` and `detour report`: the tests'
local setup (moto's server, the hub and two site stacks, the local authoritative name server) with
a month of windows at www.detour.test, then an outage of api.detour.test while www stays healthy.
Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.sample_run"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour_cli.main import main
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.world import DISTRIBUTION, OTHER_DISTRIBUTION, add_other_site, build_world
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
        api = add_other_site(world)
        names = {DISTRIBUTION: ["198.51.100.7", "198.51.100.8"], OTHER_DISTRIBUTION: ["198.51.100.17"]}
        with AuthoritativeTestServer(world.zone_id, names) as dns:
            local_dns = ["--nameserver", dns.address, "--resolver", dns.address]
            steps = (
                ["site", "list"],
                ["status", *local_dns],
                None,
                ["status", *local_dns],
                ["status", "--site", "api.detour.test", *local_dns],
                ["report"],
                ["report", "--site", "www.detour.test", "--format", "csv"],
            )
            for argv in steps:
                if argv is None:
                    api.invert(True)
                    api.transition("ALARM", datetime.now(UTC) - timedelta(minutes=6), THRESHOLD)
                    print(
                        f"\n$ aws route53 update-health-check --health-check-id {api.check_id} --inverted"
                        "  # api.detour.test fails over; its alarm fired 6 min ago"
                    )
                    continue
                print(f"\n$ detour {' '.join(argv)}")
                print(f"[exit {main(argv)}]")
    finally:
        server.stop()


if __name__ == "__main__":
    sample()

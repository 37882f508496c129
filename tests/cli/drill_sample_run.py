"""The README's sample output of `detour drill`: the tests' local setup (moto's server, the test
stack, the local authoritative name server whose answer follows Inverted, an HTTPS endpoint serving
the page with a self-signed certificate, an alarm that follows the flag a second later), then a
drill and the Markdown it wrote. Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.drill_sample_run"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour_cli.main import main
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.drill_world import AlarmFollower, PageServer, self_signed_certificate
from tests.cli.world import DISTRIBUTION, DOMAIN, build_world
from tests.support.aws import create_incidents_table, start_moto


def sample() -> None:
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    here = Path.cwd()
    try:
        with tempfile.TemporaryDirectory() as folder:
            os.chdir(folder)  # so the report's paths print as reports/...
            world = build_world(create_incidents_table().name)
            cert, key = self_signed_certificate(Path(folder))
            with (
                AuthoritativeTestServer(world.zone_id, {DISTRIBUTION: ["127.0.0.1"]}) as dns,
                AuthoritativeTestServer(world.zone_id, {DOMAIN: [world.primary_target]}) as stuck,
                PageServer(world, cert, key) as page,
                AlarmFollower(world, delay_s=1.0),
            ):
                local = ["--resolver", dns.address, "--https-port", str(page.port), "--ca-file", cert.name]
                drill(["--nameserver", dns.address, *local, "--poll-interval", "0.2"])
                markdown = sorted(Path("reports").glob("*.md"))[-1]
                print(f"\n$ cat {markdown}")
                sys.stdout.write(markdown.read_text())
                # A name server that never moves: the DNS wait times out, and the flag is restored all the same.
                drill(["--nameserver", stuck.address, *local, "--poll-interval", "0.5", "--dns-timeout", "3"])
    finally:
        os.chdir(here)
        server.stop()


def drill(arguments: list[str]) -> None:
    argv = ["drill", "--yes", *arguments, "--report-dir", "reports"]
    print(f"\n$ detour {' '.join(argv)}")
    print(f"[exit {main(argv)}]")


if __name__ == "__main__":
    sample()

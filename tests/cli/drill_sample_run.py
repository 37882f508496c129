"""The README's sample output of `detour drill`: the tests' local setup (moto's server, the test
stack, the local authoritative name server whose answer follows Inverted, an HTTPS endpoint serving
the page with a self-signed certificate, an alarm that follows the flag a second later), then a
drill and the Markdown it wrote, a drill whose DNS wait times out, and, once the site has failover
signals (ADR 0002), a drill of its 5xx-rate signal (`--signal "5xx rate"`: its alarm forced to ALARM,
the name server judging the calculated check as Route 53 would).
Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.drill_sample_run"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour.incidents.sites import SignalKind
from detour_cli.main import main
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.drill_world import AlarmFollower, PageServer, self_signed_certificate
from tests.cli.world import DISTRIBUTION, DOMAIN, ERROR_RATE_ALARM, add_signals, build_world
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
                # the stand-in alarm records the restored flag's OK a second later: wait for it
                deadline = time.monotonic() + 10
                while world.store.open_window(world.check_id) is not None and time.monotonic() < deadline:
                    time.sleep(0.1)
            # The site gets two failover signals (an alarm of its own and the 5xx rate): its records now watch
            # the calculated check, and the drill forces the 5xx rate's alarm instead of inverting the probe.
            signalled = add_signals(
                world,
                (
                    ("www-checkout-errors", SignalKind.ALARM, "www-checkout-errors"),
                    ("5xx rate", SignalKind.ERROR_RATE, ERROR_RATE_ALARM),
                ),
            )
            print("\n# then the site has two failover signals: an alarm of its own and the 5xx rate")
            with (
                AuthoritativeTestServer(world.zone_id, {DISTRIBUTION: ["127.0.0.1"]}) as dns,
                PageServer(signalled, cert, key) as page,
                AlarmFollower(signalled, delay_s=1.0),
            ):
                local = ["--resolver", dns.address, "--https-port", str(page.port), "--ca-file", cert.name]
                drill(["--signal", "5xx rate", "--nameserver", dns.address, *local, "--poll-interval", "0.2"])
    finally:
        os.chdir(here)
        server.stop()


def drill(arguments: list[str]) -> None:
    argv = ["drill", "--yes", *arguments, "--report-dir", "reports"]
    print(f"\n$ detour {shlex.join(argv)}")
    print(f"[exit {main(argv)}]")


if __name__ == "__main__":
    sample()

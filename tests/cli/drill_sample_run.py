"""The README's sample output of `detour drill`: the tests' local setup (moto's server, the test
stack, the local authoritative name server whose answer follows Inverted, an HTTPS endpoint serving
the page with a self-signed certificate, an alarm that follows the flag a second later), then a
drill and the Markdown it wrote, a drill whose DNS wait times out, and, once the site has failover
signals (ADR 0002), a drill of its 5xx-rate signal (`--signal "5xx rate"`: 100 % published into its
metric each minute, in the drill tests' data world: ErrorRateData judges the 5xx check by CloudWatch's
evaluation of the data, as Route 53 does, and plays error_rate's 0 % minutes, on a FastClock whose
minutes last half a second and start an hour back) and the refusal of an operator's own alarm
(`--signal checkout-errors`, exit 2).
Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.drill_sample_run"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour_cli import forced_rate
from detour_cli.main import main
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.drill_world import AlarmFollower, ErrorRateData, FastClock, PageServer, self_signed_certificate
from tests.cli.world import DISTRIBUTION, DOMAIN, add_signals, build_world
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
            # The site gets two failover signals (an alarm of its own, checkout-errors, and the 5xx rate: 3
            # minutes above 5 %): its records now watch the calculated check, and the drill publishes 100 % into
            # the 5xx rate's metric instead of inverting the probe. As in the drill tests, the 5xx check follows
            # CloudWatch's evaluation of that data (not the alarm's state), on a clock of half-second minutes.
            signalled = add_signals(world)
            print("\n# then the site has two failover signals: an alarm of its own and the 5xx rate")
            forced_rate.clock = FastClock(minute_s=0.5)
            with (
                ErrorRateData(signalled, forced_rate.clock),
                AuthoritativeTestServer(world.zone_id, {DISTRIBUTION: ["127.0.0.1"]}) as dns,
                PageServer(signalled, cert, key) as page,
                AlarmFollower(signalled, delay_s=1.0),
            ):
                local = ["--resolver", dns.address, "--https-port", str(page.port), "--ca-file", cert.name]
                drill(["--signal", "5xx rate", "--nameserver", dns.address, *local, "--poll-interval", "0.2"])
                # An alarm of the operator's own cannot be forced (Route 53 follows its data): refused, untouched.
                drill(["--signal", "checkout-errors", "--nameserver", dns.address, *local], stderr=True)
    finally:
        os.chdir(here)
        server.stop()


def drill(arguments: list[str], *, stderr: bool = False) -> None:
    """Run `detour drill` and print its output; `stderr`: its standard error too (a refusal's message)."""
    argv = ["drill", "--yes", *arguments, "--report-dir", "reports"]
    print(f"\n$ detour {shlex.join(argv)}")
    with contextlib.redirect_stderr(sys.stdout) if stderr else contextlib.nullcontext():
        code = main(argv)
    print(f"[exit {code}]")


if __name__ == "__main__":
    sample()

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
from tests.cli.world import DISTRIBUTION, build_world
from tests.support.aws import create_incidents_table, start_moto


def sample() -> None:
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory() as folder:
            world = build_world(create_incidents_table().name)
            cert, key = self_signed_certificate(Path(folder))
            reports = Path(folder) / "reports"
            with (
                AuthoritativeTestServer(world.zone_id, {DISTRIBUTION: ["127.0.0.1"]}) as dns,
                PageServer(world, cert, key) as page,
                AlarmFollower(world, delay_s=1.0),
            ):
                argv = ["drill", "--yes", "--nameserver", dns.address, "--resolver", dns.address]
                argv += ["--https-port", str(page.port), "--ca-file", "page-cert.pem", "--poll-interval", "0.2"]
                shown = " ".join(argv)
                argv[argv.index("page-cert.pem")] = str(cert)
                print(f"$ detour {shown} --report-dir reports")
                code = main([*argv, "--report-dir", str(reports)])
                print(f"[exit {code}]")
            (markdown,) = reports.glob("*.md")
            print(f"\n$ cat reports/{markdown.name}")
            sys.stdout.write(markdown.read_text())
    finally:
        server.stop()


if __name__ == "__main__":
    sample()

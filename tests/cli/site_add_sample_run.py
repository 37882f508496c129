"""The README's sample output of `detour site add` and `detour site remove`: the tests' local setup
(moto's server, the hub and its site www in the zone detour.test, an imported certificate for
*.detour.test), a local primary for the new site shop, and a stand-in `sam` first on PATH that only
prints its arguments: the real SAM CLI never runs here. It sets DETOUR_PREFLIGHT_LOCAL_SETUP=1, as the
tests do: only that lets a loopback primary and moto's zone ids through.
Run: PYTHONPATH=.:layers/common .venv/bin/python -u -m tests.cli.site_add_sample_run"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour_cli.main import main
from detour_cli.preflight.settings import LOCAL_SETUP_SWITCH
from tests.cli import world as world_module
from tests.cli.drill_world import self_signed_certificate
from tests.support.aws import create_incidents_table, start_moto
from tests.support.probe_servers import Answer, ProbeTarget, imported_certificate

NEW = "shop.detour.test"
STAND_IN = f"""#!{sys.executable}
import sys
print("[stand-in sam]", *sys.argv[1:])
"""


def show(*argv: str) -> None:
    print(f"\n$ detour {' '.join(argv)}")
    code = main(list(argv))
    sys.stderr.flush()
    print(f"[exit {code}]")


def site_file(zone_id: str, certificate: str, port: int) -> str:
    overrides = [
        "HubStackName=detour",
        f"DomainName={NEW}",
        f"HostedZoneId={zone_id}",
        "PrimaryKind=IPv4",
        "PrimaryTarget=127.0.0.1",
        f"HealthCheckPort={port}",
        "HealthCheckPath=/health",
        f"CertificateArn={certificate}",
        "'SiteName=\"Detour Shop\"'",
    ]
    return (
        'version = 0.1\n\n[default.deploy.parameters]\ntemplate_file = "sites/site.yaml"\n'
        'stack_name = "detour-site-shop"\nregion = "us-east-1"\nconfirm_changeset = true\n'
        "parameter_overrides = [\n"
        + "".join(f'    "{o}",\n' if '"' not in o else f"    {o},\n" for o in overrides)
        + "]\n"
    )


def sample() -> None:
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    os.environ["NO_COLOR"] = "1"
    os.environ[LOCAL_SETUP_SWITCH] = "1"  # a loopback primary and moto's zone ids: the local setup only
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp())
    (folder / "bin").mkdir()
    (folder / "bin" / "sam").write_text(STAND_IN)
    (folder / "bin" / "sam").chmod(0o755)
    os.environ["PATH"] = f"{folder / 'bin'}{os.pathsep}{os.environ['PATH']}"
    (folder / "sites").mkdir()
    os.chdir(folder)  # the operator's repository: sites/, and no .venv-sam here
    try:
        certificate = imported_certificate(folder / "acm", "*.detour.test")
        with ProbeTarget(Answer(200, b"ok"), tls=self_signed_certificate(folder, NEW)) as primary:
            www = world_module.build_world(create_incidents_table().name)
            show("site", "add", "shop")
            Path("sites/shop.toml").write_text(site_file(www.zone_id, certificate, primary.port))
            print("\n# then: sites/shop.toml made from sites/example.toml, for shop.detour.test")
            show("site", "add", "shop")
            print("\n# then: the primary's health path answers 500")
            primary.answer = Answer(500, b"database unavailable")
            show("site", "add", "shop")
            show("site", "remove", "shop")
            show("site", "remove", "www", "--yes")
    finally:
        server.stop()


if __name__ == "__main__":
    sample()

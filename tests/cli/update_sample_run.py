"""The README's sample output of `detour update` and `detour maintenance`: the tests' local setup
(moto's server, the test stack, Lambda's Invoke recorded on loopback), an outage whose alarm arrives
after the operator's first word, then planned maintenance on a fresh stack.
Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.update_sample_run"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
from datetime import UTC, datetime

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour_cli.main import main
from tests.cli.lambda_recorder import LambdaRecorder
from tests.cli.world import World, build_world
from tests.support.aws import create_incidents_table, start_moto


def sample() -> None:
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        with LambdaRecorder() as lambdas:
            os.environ["AWS_ENDPOINT_URL_LAMBDA"] = lambdas.url
            world = build_world(create_incidents_table().name)
            detour(lambdas, "update", "Some visitors see errors; we are looking into it.")
            time.sleep(2)
            world.transition("ALARM", datetime.now(UTC))  # CloudWatch tells log_window, 1-3 min after DNS moved
            print("\n# ... the alarm arrives: log_window opens the window and writes the alarm's timeline entry")
            detour(
                lambdas, "update", "--stage", "identified", "Found it: the database ran out of disk. Back in ~15 min."
            )
            detour(
                lambdas, "update", "--stage", "identified", "Found it: the database ran out of disk. Back in ~15 min."
            )
            detour(lambdas, "update", "--stage", "fixed", "Disk cleaned up.")
            detour(lambdas, "update", "--list")
            urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
            print("\n# ... a fresh stack for planned maintenance")
            world = build_world(create_incidents_table().name)
            maintenance(world, lambdas)
    finally:
        server.stop()


def maintenance(world: World, lambdas: LambdaRecorder) -> None:
    detour(
        lambdas, "maintenance", "on", "--message", "Database upgrade: back within two hours.", "--until", "2h", "--yes"
    )
    detour(lambdas, "update", "Upgrade half way: on schedule.")
    detour(lambdas, "maintenance", "off", "--yes")
    detour(lambdas, "update", "--list", "--all")


def detour(lambdas: LambdaRecorder, *argv: str) -> None:
    shown = " ".join(f"'{a}'" if " " in a or "~" in a else a for a in argv)
    print(f"\n$ detour {shown}")
    before = len(lambdas.invocations)
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    print(f"[exit {code}]")
    for invocation in lambdas.invocations[before:]:
        print(f"  (Lambda Invoke {invocation.invocation_type} {invocation.function}: {json.dumps(invocation.event)})")


if __name__ == "__main__":
    sample()

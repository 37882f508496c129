"""The 5-minute sweep against the number of sites (issue 11): refresh_page's scheduled event refreshes
every registered site's page, one after another, in one invocation.

For each N (default 1, 10 and 50) N sites are registered in a fresh incidents table on moto's server,
each with its own distribution; refresh_page (loaded as Lambda loads it) gets the scheduled event
twice: the first sweep publishes every page, the second finds every page up to date (the usual
sweep). Counted per sweep, then per site: AWS requests by service and DynamoDB items read (the
hooks of scripts/bench_cost.py), wall time and the time outside AWS calls. Prints a Markdown table,
and how many sites one sweep can refresh within refresh_page's 30 s timeout at the steady state's
pace measured here (moto on loopback: AWS's own latency per request is not in it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT / "layers" / "common"), str(ROOT), str(ROOT / "scripts")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import boto3  # noqa: E402
from bench_cost import Meter  # noqa: E402 - after the path setup; it also sets the offline environment

from detour_cli.local.lambda_runtime import LambdaContext, environment  # noqa: E402
from tests.support.aws import create_incidents_table, start_moto  # noqa: E402
from tests.support.events import ALARM_PREFIX  # noqa: E402
from tests.support.functions import load_handler_module  # noqa: E402
from tests.support.page_aws import create_distribution, create_page_bucket  # noqa: E402
from tests.support.sites import register_site  # noqa: E402

SCHEDULED = json.loads((ROOT / "events" / "scheduled.json").read_text())
TIMEOUT_S = 30.0  # refresh_page's Lambda timeout (template.yaml Globals)


def sweep_once(handler: Callable[..., Any], meter: Meter) -> tuple[float, float, dict[str, int], int]:
    meter.reset()
    meter.active = True
    started = time.perf_counter()
    result = handler(SCHEDULED, LambdaContext(function_name="detour-RefreshPageFunction-BENCH"))
    wall = time.perf_counter() - started
    meter.active = False
    if not isinstance(result, dict) or "sites" not in result:
        raise RuntimeError(f"the sweep did not answer as a sweep: {result!r}")
    by_service = {service: meter.count(service) for service in ("dynamodb", "s3", "cloudfront")}
    return wall, wall - meter.aws_seconds, by_service, meter.items_read


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server: no line per request
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    meter = Meter()
    meter.install(boto3._get_default_session())  # before any client exists: the functions' clients are hooked
    rows = []
    sink = open(os.devnull, "w")  # noqa: SIM115 - Powertools keeps the stdout it was imported under
    try:
        for count in args.sites:
            table = create_incidents_table().name
            bucket = create_page_bucket()
            for number in range(count):
                register_site(
                    table,
                    site_id=f"bench-{count}-{number:04d}",
                    domain=f"site{number:04d}.example.com",
                    alarm_name=f"detour/detour-site-{number:04d}/primary-health",
                    distribution_id=create_distribution(bucket),
                )
            variables = {
                "TABLE_NAME": table,
                "ALARM_PREFIX": ALARM_PREFIX,
                "PAGE_BUCKET": bucket,
                "POWERTOOLS_SERVICE_NAME": "refresh_page",
                "POWERTOOLS_METRICS_NAMESPACE": "Detour",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_LAMBDA_FUNCTION_NAME": "detour-RefreshPageFunction-BENCH",
            }
            with environment(variables), contextlib.redirect_stdout(sink):
                module = load_handler_module("refresh_page")
                first = sweep_once(module.lambda_handler, meter)
                steady = sweep_once(module.lambda_handler, meter)
            rows.append((count, first, steady))
    finally:
        server.stop()
        sink.close()

    print("the 5-minute sweep: refresh_page's scheduled event over N registered sites, on moto's server")
    print()
    print(
        "| N sites | sweep | wall | per site | own time per site | DynamoDB / S3 / CloudFront per site | items read |"
    )
    print("| ---: | --- | ---: | ---: | ---: | --- | ---: |")
    for count, first, steady in rows:
        for label, (wall, own, calls, items) in (("first (publishes)", first), ("steady (up to date)", steady)):
            per = {service: n / count for service, n in calls.items()}
            print(
                f"| {count} | {label} | {wall:.2f} s | {wall / count * 1000:.0f} ms | {own / count * 1000:.1f} ms | "
                f"{per['dynamodb']:.1f} / {per['s3']:.1f} / {per['cloudfront']:.1f} | {items / count:.1f} |"
            )
    largest = rows[-1]
    steady_per_site = largest[2][0] / largest[0]
    print()
    print(
        f"at the steady pace measured here ({steady_per_site * 1000:.0f} ms a site), one sweep refreshes about "
        f"{int(TIMEOUT_S / steady_per_site)} sites within refresh_page's {TIMEOUT_S:.0f} s timeout"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Slack acknowledgement's time, and an update's time to the page, on loopback.

Slack shows the person an error if the app does not answer within 3 seconds. This plays `/detour
update` through the whole local path (the local Slack signs it; slack_commands is served as a
Function URL; the work, refresh_page and notify_slack run behind a loopback Lambda Invoke API;
AWS is moto's server) and prints:
- the acknowledgement: the first request (a cold start: the handler's import, its clients, the
  secret) and the warm median and p90 over --runs requests, end to end over HTTP and in the handler;
- an update's time from the request to status.json showing it (the issue's budget: 10 s).
moto answers more slowly than DynamoDB and Secrets Manager do, so these are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common")]

from tests.support.offline import go_offline  # noqa: E402 - after the path setup above

go_offline()

import boto3  # noqa: E402

from tests.support.aws import start_moto  # noqa: E402
from tests.support.events import transition_event  # noqa: E402
from tests.support.slack_desk import ALICE, slack_desk  # noqa: E402

DEADLINE_S = 3.0
PAGE_BUDGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="warm acknowledgements to time (default 30)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server: no line per request
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        with slack_desk(url) as desk:
            desk.invoke("notify_slack", transition_event("ALARM", "OK", datetime.now(UTC) - timedelta(minutes=3)))
            http, handler = [], []
            for run in range(args.runs + 1):
                answer = desk.slack.slash_command(desk.command_url, text="status", user_id=ALICE)
                if answer.status != 200:
                    raise SystemExit(f"the acknowledgement answered HTTP {answer.status}: {answer.text}")
                http.append(answer.seconds)
                handler.append(desk.url.served[-1].seconds)
                if run == 0:
                    desk.lambdas.wait_idle()  # the cold start's work out of the way
            desk.lambdas.wait_idle()
            started = time.monotonic()
            message = f"Found the cause ({time.time():.0f})"
            desk.slack.slash_command(desk.command_url, text=f"update identified {message}", user_id=ALICE)
            desk.lambdas.wait_idle()
            bucket = desk.world.bucket
            key = desk.sites[0].page_prefix + "status.json"  # the site's place in the hub's page bucket
            status = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
            to_page = time.monotonic() - started
            shown = any(u["message"] == message for u in status["updates"])
    finally:
        server.stop()

    warm_http, warm_handler = sorted(http[1:]), sorted(handler[1:])
    p90 = max(0, int(len(warm_http) * 0.9) - 1)
    print(f"Slack acknowledgement over loopback HTTP (moto behind it), {args.runs} warm requests:")
    # The first request pays for the clients and the secret; the import is bench_imports' number.
    print(f"  first request          {http[0] * 1000:7.1f} ms end to end, {handler[0] * 1000:7.1f} ms in the handler")
    print(
        f"  warm median            {statistics.median(warm_http) * 1000:7.1f} ms end to end, "
        f"{statistics.median(warm_handler) * 1000:7.1f} ms in the handler"
    )
    print(
        f"  warm p90               {warm_http[p90] * 1000:7.1f} ms end to end, "
        f"{warm_handler[p90] * 1000:7.1f} ms in the handler"
    )
    verdict = "ok" if max(http) < DEADLINE_S else f"OVER Slack's {DEADLINE_S:g} s"
    print(f"  slowest                {max(http) * 1000:7.1f} ms ({verdict})")
    verdict = "ok" if shown and to_page <= PAGE_BUDGET_S else f"OVER the {PAGE_BUDGET_S:g} s budget or not shown"
    print(f"update to status.json: {to_page:.2f} s ({verdict})")
    return 0 if shown else 1


if __name__ == "__main__":
    raise SystemExit(main())

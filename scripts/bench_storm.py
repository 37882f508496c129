"""Storm benchmark (issue 9): a flapping history delivered to the three functions by worker processes.

100 incidents (200 transitions) of one site; every event to log_window, notify_slack and refresh_page,
30 % of deliveries twice, the order shuffled within a sliding window of 5; 8 worker processes (each a
Lambda execution environment) on moto's server and the local Slack, no faults. Prints the checker's
table (windows, page, Slack), deliveries per second and each function's latency percentiles.
Exits 1 if any effect is not exactly right.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT / "layers" / "common"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)  # the spawned workers inherit this sys.path

from tests.support.offline import go_offline  # noqa: E402 - after the path setup above
from tests.support.storm import (  # noqa: E402
    Pool,
    World,
    alarm_messages,
    check,
    format_summary,
    history,
    schedule,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100, help="incidents in the history (default 100)")
    parser.add_argument("--workers", type=int, default=8, help="worker processes (default 8)")
    parser.add_argument("--seed", type=int, default=9, help="seed of the history and the schedule")
    parser.add_argument("--logs", type=Path, help="where the workers' function logs go (default: a temp dir)")
    args = parser.parse_args()

    go_offline()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    from tests.support.aws import start_moto  # noqa: PLC0415 - after the offline environment

    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    log_dir = args.logs or Path(tempfile.mkdtemp(prefix="detour-storm-"))
    incidents = history(args.incidents, seed=args.seed)
    deliveries = schedule(alarm_messages(incidents), seed=args.seed)
    print(
        f"storm: {len(incidents)} incidents, {len(deliveries)} deliveries to 3 functions, "
        f"{args.workers} worker processes; function logs in {log_dir}",
        flush=True,
    )
    try:
        with World(url) as world, Pool(world, workers=args.workers, log_dir=log_dir) as pool:
            run = pool.run(deliveries, deadline_s=1800)
            summary, violations = check(world, incidents, [run])
    finally:
        server.stop()

    print(format_summary(summary))
    attempts = summary["deliveries"]["attempts"]
    print(
        f"\nthroughput: {len(deliveries) / run.wall_s:.1f} deliveries/s "
        f"({attempts} attempts in {run.wall_s:.1f} s, {args.workers} workers)"
    )
    print("latency per attempt (s):")
    print(f"  {'function':<14} {'p50':>7} {'p90':>7} {'p99':>7}")
    for function, cut in summary["deliveries"]["latency_s"].items():
        print(f"  {function:<14} {cut['p50']:>7.3f} {cut['p90']:>7.3f} {cut['p99']:>7.3f}")
    if violations:
        print(f"\n{len(violations)} violation(s), first ones:")
        for violation in violations[:20]:
            print(f"  - {violation}")
        return 1
    print("\nall effects exact")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Cold-start import benchmark: each handler module against a bare `import boto3`.

Every sample is a fresh interpreter (like a Lambda cold start) that times only the import. The two
kinds of sample are interleaved so that machine noise hits both alike; the median is reported.
Target: handler import / boto3 import <= 1.25 (the handler may add at most a quarter on top of the
boto3 every function needs anyway).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.25
TIMER = "{setup}; import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "detour-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "TABLE_NAME": "detour-incidents",
    "ALARM_PREFIX": "detour/",
    "POWERTOOLS_METRICS_NAMESPACE": "Detour",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    # notify_slack
    "SLACK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:detour-slack-AbCdEf",
    # slack_commands
    "SLACK_UPDATERS": "U0ALICE,S0ONCALL",
    "SLACK_COMMAND_CHANNELS": "C0INCIDENT",
    "REFRESH_PAGE_FUNCTION": "detour-RefreshPageFunction-AbCdEf",
    "NOTIFY_SLACK_FUNCTION": "detour-NotifySlackFunction-AbCdEf",
    # refresh_page and site_setup (the site's own settings are in the registry)
    "PAGE_BUCKET": "detour-pagebucket-0123456789ab",
}
TYPICAL_PAGE = (
    "www.example.com",
    "We are working to restore the service as quickly as possible.",
    "mailto:support@example.com",
)
# Imported on first use rather than at module load; shown so the deferred cost stays visible.
DEFERRED = {"notify_slack": "from slack_sdk import WebClient", "refresh_page": "import jinja2"}
PAGE_TARGET_BYTES = 20 * 1024


def sample(stmt: str, function_dir: Path | None = None, setup: str = "pass") -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))} | LAMBDA_ENV
    paths = [str(function_dir)] if function_dir else []
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT / "layers" / "common")])
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    if function_dir:
        env["POWERTOOLS_SERVICE_NAME"] = function_dir.name
    command = [sys.executable, "-c", TIMER.format(setup=setup, stmt=stmt)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        where = f"functions/{function_dir.name}" if function_dir else "python"
        raise SystemExit(f"{where}: `{stmt}` failed:\n{out.stderr.strip().splitlines()[-1]}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per measurement (default 15)")
    parser.add_argument("--function", action="append", help="only this function (repeatable); default: all")
    args = parser.parse_args()

    functions = sorted(p.parent for p in (ROOT / "functions").glob("*/app.py"))
    if args.function:
        functions = [f for f in functions if f.name in args.function]
    for function_dir in functions:  # warm the bytecode caches so every sample starts equal
        sample("import app", function_dir)
    baseline: list[float] = []
    handlers: dict[str, list[float]] = {f.name: [] for f in functions}
    for _ in range(args.runs):
        baseline.append(sample("import boto3"))
        for function_dir in functions:
            handlers[function_dir.name].append(sample("import app", function_dir))

    boto3_ms = statistics.median(baseline) * 1000
    print(f"import-time benchmark, median of {args.runs} fresh processes, Python {sys.version.split()[0]}")
    print(f"  {'bare import boto3':<28} {boto3_ms:8.1f} ms")
    worst = 0.0
    for name, values in handlers.items():
        ms = statistics.median(values) * 1000
        ratio = ms / boto3_ms
        worst = max(worst, ratio)
        verdict = "ok" if ratio <= TARGET_RATIO else f"OVER target {TARGET_RATIO}"
        print(f"  {name + ' handler module':<28} {ms:8.1f} ms   ratio {ratio:.2f}  ({verdict})")
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO})")
    for name, stmt in DEFERRED.items():
        if name not in handlers:
            continue
        deferred = [sample(stmt, setup="import boto3") for _ in range(max(5, args.runs // 3))]
        print(f"  deferred to the first call in {name}: `{stmt}` {statistics.median(deferred) * 1000:.1f} ms")
    typical, largest, fewest, read = page_sizes()
    verdict = "ok" if largest <= PAGE_TARGET_BYTES else f"OVER target {PAGE_TARGET_BYTES}"
    print(
        f"maintenance page: {typical} bytes typical, {largest} bytes largest",
        f"({verdict}, target <= {PAGE_TARGET_BYTES});",
        f"updates shown in the worst case: {fewest} of {read}",
    )
    return 0


def page_sizes() -> tuple[int, int, int, int]:
    """The rendered index.html: a typical outage with a short timeline; and the largest the
    parameters, the notice, the alarm's text and the timeline allow (every update 500 characters,
    all in one of the costliest characters), with how many updates that page still shows."""
    sys.path.insert(0, str(ROOT / "layers" / "common"))
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415 - only this report needs them

    from detour.incidents.notices import MAX_MESSAGE_CHARS  # noqa: PLC0415
    from detour.incidents.updates import MAX_MESSAGE_CHARS as MAX_UPDATE_CHARS  # noqa: PLC0415
    from detour.incidents.updates import Source, Stage  # noqa: PLC0415
    from detour.incidents.windows import FailoverWindow  # noqa: PLC0415
    from detour.page.render import MAX_UPDATES, PageSettings, render  # noqa: PLC0415
    from detour.page.status import MAX_DETAIL_CHARS, PageState, PageStatus, PageUpdate  # noqa: PLC0415

    now = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    history = [FailoverWindow("s", now - timedelta(days=i, minutes=40), now - timedelta(days=i)) for i in range(1, 6)]
    words = [
        (Stage.MONITORING, "A fix is deployed; we are watching payments recover."),
        (Stage.IDENTIFIED, "Our payment provider is down. Orders placed before 02:10 UTC are safe."),
        (Stage.INVESTIGATING, "The site is failing its health checks: visitors are sent to this page."),
    ]
    updates = tuple(
        PageUpdate(stage, text, now - timedelta(minutes=9 * i), Source.SLACK) for i, (stage, text) in enumerate(words)
    )
    typical = render(
        PageStatus(PageState.UNAVAILABLE, now, words[0][1], started_at=now - timedelta(minutes=20), updates=updates),
        history,
        PageSettings(*TYPICAL_PAGE),
    )
    largest, fewest = 0, MAX_UPDATES
    for char in ("x", "<", "&", '"', "\U0001f600"):  # escaping and UTF-8 cost some characters more bytes
        text = char * MAX_UPDATE_CHARS
        news = tuple(
            PageUpdate(Stage.IDENTIFIED, text, now - timedelta(minutes=i), Source.SLACK) for i in range(MAX_UPDATES)
        )
        page = render(
            PageStatus(PageState.UNAVAILABLE, now, text, started_at=now, detail=char * MAX_DETAIL_CHARS, updates=news),
            history,
            PageSettings(char * 60, char * MAX_MESSAGE_CHARS, "https://" + "&" * 150),  # the longest ContactUrl
        )
        largest = max(largest, len(page.page.encode()))
        fewest = min(fewest, len(page.status.updates))
    return len(typical.page.encode()), largest, fewest, MAX_UPDATES


if __name__ == "__main__":
    raise SystemExit(main())

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
TIMER = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "detour-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "TABLE_NAME": "detour-incidents",
    "ALARM_NAMES": "detour-primary-health",
    "POWERTOOLS_METRICS_NAMESPACE": "Detour",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


def sample(stmt: str, function_dir: Path | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))} | LAMBDA_ENV
    paths = [str(function_dir)] if function_dir else []
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT / "layers" / "common")])
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    if function_dir:
        env["POWERTOOLS_SERVICE_NAME"] = function_dir.name
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(stmt=stmt)], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per measurement (default 15)")
    args = parser.parse_args()

    functions = sorted(p.parent for p in (ROOT / "functions").glob("*/app.py"))
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Per-event cost benchmark (issue 9): one delivery on top of a site history of H transitions.

For each H (default 10, 1,000 and 10,000) a fresh site gets a seeded history of H transitions (ALARM
and OK alternating, a minute apart) in the template's incidents table on moto's server (a real HTTP
endpoint on loopback). Then each of log_window, notify_slack and refresh_page, loaded once in this
process as Lambda loads it, gets one new ALARM and then one new OK after that history, each
transition its own and delivered to that function alone (so it is the one that records it: the
costliest case; --fanout delivers every transition to all three instead, in that order). Counted
per delivery: DynamoDB requests (botocore hooks on every client of boto3's default session, which
is where detour.runtime.aws makes the functions' clients), items read (a query's ScannedCount, a get's
item, the items of a batch or transactional get), S3 and CloudFront requests, requests to the
local Slack, wall time, and the part of it spent outside AWS API calls (moto's Query time grows
with the whole table: see MOTO_NOTE); the median of --repeats deliveries, each a fresh transition
(a delivery slower than SLOW_S is not repeated). Prints a Markdown table and, per function and
event, the ratio of the largest H to the smallest.
Target: every ratio within 2x. A handler that fails is reported in its cell; the run goes on and
exits 1 at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT / "layers" / "common"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from tests.support.offline import go_offline  # noqa: E402 - after the path setup above

go_offline()  # before boto3 is imported, so nothing can reach real AWS

import boto3  # noqa: E402 - after the offline environment

from detour_cli.local.fake_slack import CHANNEL, TOKEN, FakeSlack  # noqa: E402
from detour_cli.local.lambda_runtime import LambdaContext, environment  # noqa: E402
from tests.support.aws import create_incidents_table, seed_history, start_moto  # noqa: E402
from tests.support.events import ALARM_PREFIX, transition_event  # noqa: E402
from tests.support.functions import load_handler_module  # noqa: E402
from tests.support.page_aws import create_distribution, create_page_bucket  # noqa: E402
from tests.support.sites import register_site  # noqa: E402
from tests.support.storm import function_environments  # noqa: E402
from tests.support.transitions import T0, chain  # noqa: E402

FUNCTIONS = ("log_window", "notify_slack", "refresh_page")
FUNCTION_NAMES = {
    "log_window": "detour-LogWindowFunction-BENCH",
    "notify_slack": "detour-NotifySlackFunction-BENCH",
    "refresh_page": "detour-RefreshPageFunction-BENCH",
}
TARGET_RATIO = 2.0
SLOW_S = 3.0  # a delivery slower than this is not repeated (keeps a run on linear-cost code bounded)
METERED = ("dynamodb", "s3", "cloudfront")
OPPOSITE = {"ALARM": "OK", "OK": "ALARM"}
MOTO_NOTE = (
    "note: moto answers every Query by sorting every item of the table (moto/dynamodb/models/table.py,\n"
    "Table.query -> all_items()), so on moto a query's time grows with the table whatever it reads; the\n"
    "time outside AWS calls is the functions' own share (Slack's fake included), requests and items read\n"
    "are what DynamoDB would bill."
)


# ------------------------------------------------------------------------------------ counting


@dataclass
class Meter:
    """Counts the AWS requests made while active, by `service.Operation`, and DynamoDB items read;
    and the time spent waiting for any AWS API call (retries included)."""

    active: bool = False
    requests: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    aws_seconds: float = 0.0
    _started: dict[int, float] = field(default_factory=dict)  # by thread: the call under way

    def install(self, session: boto3.Session) -> None:
        """Hook every client made from `session` from now on (a client copies the session's hooks)."""
        session.events.register("before-call", self._before_call)
        session.events.register("after-call", self._after_call)
        session.events.register("after-call-error", self._after_error)

    def reset(self) -> None:
        self.requests = Counter()
        self.items_read = 0
        self.aws_seconds = 0.0

    def count(self, service: str) -> int:
        return sum(n for name, n in self.requests.items() if name.startswith(service + "."))

    def _before_call(self, **_: Any) -> None:
        self._started[threading.get_ident()] = time.perf_counter()

    def _after_call(self, event_name: str, parsed: dict[str, Any], **_: Any) -> None:
        service, operation = self._called(event_name)
        if self.active and service == "dynamodb":
            self.items_read += items_read(operation, parsed)

    def _after_error(self, event_name: str, **_: Any) -> None:  # no HTTP answer at all: still a request
        self._called(event_name)

    def _called(self, event_name: str) -> tuple[str, str]:
        _hook, service, operation = event_name.split(".", 2)
        started = self._started.pop(threading.get_ident(), None)
        if self.active:
            if started is not None:
                self.aws_seconds += time.perf_counter() - started
            if service in METERED:
                self.requests[f"{service}.{operation}"] += 1
        return service, operation


def items_read(operation: str, answer: dict[str, Any]) -> int:
    """Items a DynamoDB answer read, as DynamoDB bills them."""
    if operation in ("Query", "Scan"):
        return int(answer.get("ScannedCount", answer.get("Count", 0)))
    if operation == "GetItem":
        return 1 if answer.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in answer.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for response in answer.get("Responses", []) if response.get("Item"))
    return 0


# ------------------------------------------------------------------------------------ the world


@dataclass
class Function:
    name: str
    variables: dict[str, str]
    module: ModuleType | None = None
    load_error: str | None = None


@dataclass
class Sample:
    dynamodb: int
    items: int
    s3: int
    cloudfront: int
    slack: int
    seconds: float
    own_seconds: float  # outside AWS API calls: the function's own work (and Slack's)
    operations: Counter[str]


@dataclass
class Cell:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self, value: Callable[[Sample], float]) -> float:
        return statistics.median(value(s) for s in self.samples)


def function_variables(table: str, bucket: str, secret_arn: str) -> dict[str, dict[str, str]]:
    """Each function's environment, as tests/conftest.py and the integration tests set it."""
    common = {
        "TABLE_NAME": table,
        "ALARM_PREFIX": ALARM_PREFIX,
        "POWERTOOLS_METRICS_NAMESPACE": "Detour",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    own = function_environments(secret_arn, bucket)
    return {
        name: common
        | {
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAMES[name],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "POWERTOOLS_SERVICE_NAME": name,
        }
        | own[name]
        for name in FUNCTIONS
    }


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


class Bench:
    def __init__(self, functions: list[Function], meter: Meter, slack: FakeSlack, sink: TextIO, start: datetime):
        self.functions = functions
        self.meter = meter
        self.slack = slack
        self.sink = sink  # the functions' logs and metrics (Lambda: CloudWatch Logs)
        self.clock = start  # the next unused minute: every transition of the run is distinct in time

    def load(self) -> None:
        for function in self.functions:
            try:
                with self._runtime(function):
                    function.module = load_handler_module(function.name)
            except Exception as error:
                function.load_error = f"import failed: {first_line(error)}"

    @contextlib.contextmanager
    def _runtime(self, function: Function) -> Iterator[None]:
        # Powertools binds its log handler to sys.stdout at import: importing under the redirect
        # sends the logs to the sink too.
        with environment(function.variables), contextlib.redirect_stdout(self.sink):
            yield

    def minutes(self, count: int) -> list[datetime]:
        moments = [self.clock + timedelta(minutes=i) for i in range(count)]
        self.clock += timedelta(minutes=count)
        return moments

    def history(self, site: str, size: int) -> list[Any]:
        moments = self.minutes(size)
        offsets = [(moment - T0) / timedelta(minutes=1) for moment in moments]
        states = [("ALARM" if i % 2 == 0 else "OK", offset) for i, offset in enumerate(offsets)]
        return chain(states, site=site)

    def deliver(self, function: Function, event: dict[str, Any]) -> Sample:
        """One invocation, as Lambda makes it; raises what the handler raised."""
        if function.module is None:
            raise RuntimeError(function.load_error or "not loaded")
        handler = function.module.lambda_handler
        context = LambdaContext(function_name=FUNCTION_NAMES[function.name])
        self.meter.reset()
        slack_before = len(self.slack.requests)
        with self._runtime(function):
            self.meter.active = True
            started = time.perf_counter()
            try:
                handler(event, context)
            finally:
                seconds = time.perf_counter() - started
                self.meter.active = False
        return Sample(
            dynamodb=self.meter.count("dynamodb"),
            items=self.meter.items_read,
            s3=self.meter.count("s3"),
            cloudfront=self.meter.count("cloudfront"),
            slack=len(self.slack.requests) - slack_before,
            seconds=seconds,
            own_seconds=seconds - self.meter.aws_seconds,
            operations=Counter(self.meter.requests),
        )

    def measure(self, site: str, last_state: str, repeats: int, *, fanout: bool) -> dict[tuple[str, str], Cell]:
        """ALARM then OK after the site's history, `repeats` times; each transition new."""
        cells = {(f.name, state): Cell() for f in self.functions for state in ("ALARM", "OK")}
        state = last_state
        for _ in range(repeats):
            groups = [self.functions] if fanout else [[f] for f in self.functions]
            for group in groups:
                if all(self._done(cells, f) for f in group):
                    continue
                for _ in range(2):
                    new_state, old_state = OPPOSITE[state], state
                    (moment,) = self.minutes(1)
                    event = transition_event(new_state, old_state, moment, site_id=site)
                    for function in group:
                        cell = cells[(function.name, new_state)]
                        try:
                            cell.samples.append(self.deliver(function, event))
                        except Exception as error:
                            cell.errors.append(first_line(error))
                    state = new_state
        return cells

    @staticmethod
    def _done(cells: dict[tuple[str, str], Cell], function: Function) -> bool:
        """Enough of this function: it failed, or it is too slow to repeat."""
        own = [cells[(function.name, state)] for state in ("ALARM", "OK")]
        return any(c.errors for c in own) or any(s.seconds > SLOW_S for c in own for s in c.samples)


# ------------------------------------------------------------------------------------ the report


def fmt_count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def row(function: str, size: int, state: str, cell: Cell | None, seed_error: str | None) -> str:
    head = f"| {function} | {size:,} | {state} |"
    if seed_error is not None:
        return f"{head} not measured: {seed_error} | | | | | |"
    if cell is None or not cell.samples:
        error = cell.errors[0] if cell and cell.errors else "not measured"
        return f"{head} error: {error.replace('|', '/')} | | | | | |"
    runs = "" if len(cell.samples) > 1 else " (1 run)"
    storage = f"{fmt_count(cell.median(lambda s: s.s3))}/{fmt_count(cell.median(lambda s: s.cloudfront))}"
    return (
        f"{head} {fmt_count(cell.median(lambda s: s.dynamodb))} | {fmt_count(cell.median(lambda s: s.items))} |"
        f" {storage} | {fmt_count(cell.median(lambda s: s.slack))} |"
        f" {cell.median(lambda s: s.seconds) * 1000:,.1f}{runs} | {cell.median(lambda s: s.own_seconds) * 1000:,.1f} |"
    )


def ratio(big: float, small: float) -> float:
    return big / small if small else (1.0 if big == small else float("inf"))


def ratio_line(function: str, state: str, small: Cell, big: Cell, sizes: tuple[int, int]) -> str:
    ratios = {
        "requests": ratio(big.median(lambda s: s.dynamodb), small.median(lambda s: s.dynamodb)),
        "items read": ratio(big.median(lambda s: s.items), small.median(lambda s: s.items)),
        "time": ratio(big.median(lambda s: s.seconds), small.median(lambda s: s.seconds)),
        "time outside AWS calls": ratio(big.median(lambda s: s.own_seconds), small.median(lambda s: s.own_seconds)),
    }
    parts = ", ".join(
        f"{name} {value:.2f}x{'' if value <= TARGET_RATIO else ' OVER'}" for name, value in ratios.items()
    )
    return f"- {function} {state}: {parts}"


# ------------------------------------------------------------------------------------ main


Results = dict[int, dict[tuple[str, str], Cell]]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--histories", default="10,1000,10000", help="history sizes H (default 10,1000,10000)")
    parser.add_argument("--repeats", type=int, default=3, help="deliveries per cell, median shown (default 3)")
    parser.add_argument("--function", action="append", choices=FUNCTIONS, help="only this function (repeatable)")
    parser.add_argument("--fanout", action="store_true", help="deliver each transition to all functions in turn")
    parser.add_argument("--operations", action="store_true", help="also print each cell's requests by operation")
    args = parser.parse_args()
    sizes = sorted({int(h.replace("_", "")) for h in args.histories.split(",")})
    names = [n for n in FUNCTIONS if not args.function or n in args.function]

    run_started = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server: no line per request
    # Powertools warns when a failed invocation flushes no metrics: the failure is reported below.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    meter = Meter()
    meter.install(boto3._get_default_session())  # before any client exists: detour.runtime.aws's clients are hooked
    try:
        functions, results, seed_errors = run(args, sizes, names, meter)
    finally:
        server.stop()
    failed = report(functions, sizes, results, seed_errors, operations=args.operations)
    print(f"run time {time.perf_counter() - run_started:.0f} s")
    return 1 if failed else 0


def run(
    args: argparse.Namespace, sizes: list[int], names: list[str], meter: Meter
) -> tuple[list[Function], Results, dict[int, str]]:
    results: Results = {}
    seed_errors: dict[int, str] = {}
    with FakeSlack() as slack, open(os.devnull, "w") as sink:
        table = create_incidents_table().name
        bucket = create_page_bucket()
        distribution = create_distribution(bucket)
        secret = json.dumps({"bot_token": TOKEN, "channel": CHANNEL, "api_url": slack.api_url})
        secret_arn = boto3.client("secretsmanager").create_secret(
            Name=f"detour-slack-{uuid.uuid4().hex[:6]}", SecretString=secret
        )["ARN"]
        variables = function_variables(table, bucket, secret_arn)
        functions = [Function(name, variables[name]) for name in names]
        # The history ends about now: the page and Slack see an ordinary, recent history.
        span = sum(sizes) + 2 + (len(sizes) + 1) * 2 * args.repeats * len(functions)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        bench = Bench(functions, meter, slack, sink, start=now - timedelta(minutes=span))
        bench.load()
        _check_hooked(meter)
        # A warm start for every function (clients, secret, Slack SDK, Jinja2), not measured.
        bench.measure(f"bench-warmup-{uuid.uuid4().hex[:6]}", "OK", 1, fanout=args.fanout)

        print(
            f"per-event cost: one delivery on top of a site history of H transitions; moto server, "
            f"median of {args.repeats}; each transition delivered "
            f"{'to all functions in turn' if args.fanout else 'to one function alone'}",
            flush=True,
        )
        for size in sizes:
            site = f"bench-h{size}-{uuid.uuid4().hex[:6]}"
            register_site(table, site_id=site, distribution_id=distribution)
            transitions = bench.history(site, size)
            started = time.perf_counter()
            try:
                seed_history(table, transitions)
            except Exception as error:
                seed_errors[size] = f"seeding failed: {first_line(error)}"
                print(f"  H={size:,}: {seed_errors[size]}", flush=True)
                continue
            seeded = time.perf_counter() - started
            started = time.perf_counter()
            results[size] = bench.measure(site, transitions[-1].new_state.value, args.repeats, fanout=args.fanout)
            print(
                f"  H={size:,}: seeded in {seeded:.1f} s, measured in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
    return functions, results, seed_errors


def report(
    functions: list[Function], sizes: list[int], results: Results, seed_errors: dict[int, str], *, operations: bool
) -> bool:
    """Print the table, the ratios and the errors; True if anything failed."""
    print()
    columns = ("DynamoDB requests", "items read", "S3/CloudFront", "Slack", "time (ms)", "outside AWS calls (ms)")
    print(f"| function | H | event | {' | '.join(columns)} |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for function in functions:
        for state in ("ALARM", "OK"):
            for size in sizes:
                cell = results.get(size, {}).get((function.name, state))
                print(row(function.name, size, state, cell, seed_errors.get(size)))
    print()
    measured = [size for size in sizes if size in results]
    if len(measured) >= 2:
        small, big = measured[0], measured[-1]
        print(f"ratio H={big:,} / H={small:,} (target: within {TARGET_RATIO:g}x; OVER marks a miss):")
        for function in functions:
            for state in ("ALARM", "OK"):
                low, high = results[small][(function.name, state)], results[big][(function.name, state)]
                if low.samples and high.samples:
                    print(ratio_line(function.name, state, low, high, (small, big)))
                else:
                    print(f"- {function.name} {state}: no ratio (a delivery failed)")
        print(MOTO_NOTE)
    errors = sorted(
        {
            (name, state, error)
            for cells in results.values()
            for (name, state), cell in cells.items()
            for error in cell.errors
        }
    )
    for name, state, error in errors:
        print(f"error: {name} {state}: {error}")
    if operations:
        print_operations(results)
    return bool(errors or seed_errors or any(f.load_error for f in functions))


def print_operations(results: Results) -> None:
    """Each cell's requests by operation (its last delivery) and every delivery's time."""
    print()
    for size, cells in results.items():
        for (name, state), cell in cells.items():
            if cell.samples:
                ops = ", ".join(f"{op} {n}" for op, n in sorted(cell.samples[-1].operations.items()))
                times = ", ".join(f"{s.seconds * 1000:.0f} ({s.own_seconds * 1000:.0f})" for s in cell.samples)
                print(f"  {name} H={size:,} {state}: {ops}; times (outside AWS calls), ms: {times}")


def _check_hooked(meter: Meter) -> None:
    """The functions' own DynamoDB client is counted (guards against a client made elsewhere)."""
    from detour.runtime.aws import dynamodb_client  # noqa: PLC0415

    meter.reset()
    meter.active = True
    try:
        dynamodb_client().list_tables(Limit=1)
    finally:
        meter.active = False
    if meter.count("dynamodb") != 1:
        raise SystemExit("bench_cost: the functions' DynamoDB client is not counted")
    meter.reset()


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is stopped and printed; skip the interpreter's teardown of moto's in-memory tables,
    # which takes about half a minute after a 10,000-transition history.
    os._exit(status)

"""The storm: a whole flapping history delivered to the three functions at once, as Lambda would.

- `World`: moto's server (optionally behind the fault proxy), the template's incidents table, the
  page bucket and distribution, the Slack secret and the local Slack; each function's environment as
  the integration tests give it.
- `history` and `schedule`: N incidents of one site; every event to each of the three functions,
  a fraction of those deliveries twice (a new SNS MessageId each), the order shuffled within a sliding
  window.
- `Pool`: W worker processes (spawn; each a Lambda execution environment holding the three handler
  modules, imported once) taking deliveries from a queue. An attempt that raises is retried as Lambda
  retries async invocations: twice more, later, with the same `aws_request_id`; then dead-lettered.
- `check`: the converged effects, exactly: windows, the page (and that it never went backwards), the
  Slack channel (one thread per incident, resolved once, nothing orphaned or misplaced), deliveries.
"""

from __future__ import annotations

import heapq
import itertools
import json
import multiprocessing
import os
import queue
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from detour.incidents.store import IncidentStore
from detour.incidents.updates import RESOLVED_FOR
from detour.slack.message import human_duration
from detour_cli.local.fake_slack import CHANNEL, TOKEN, FakeSlack, Message
from detour_cli.local.slack_requests import SIGNING_SECRET
from tests.support.aws import create_incidents_table
from tests.support.events import ALARM_PREFIX, SITE_ID, alarm_message, sns_event
from tests.support.fault_proxy import FaultProxy
from tests.support.offline import OFFLINE_AWS
from tests.support.page import T0
from tests.support.page_aws import create_distribution, create_page_bucket
from tests.support.sites import PAGE_URL, register_site

FUNCTIONS = ("log_window", "notify_slack", "refresh_page")
FUNCTION_NAMES = {
    "log_window": "detour-LogWindowFunction-TEST",
    "notify_slack": "detour-NotifySlackFunction-TEST",
    "refresh_page": "detour-RefreshPageFunction-TEST",
}
PAGE_PREFIX = f"sites/{SITE_ID}/"  # the site's place in the page bucket
METADATA_EVENT = "detour_incident"
ORDER_KEY = "detour-order"
MAX_ATTEMPTS = 3  # Lambda's async invocations: the first attempt and two retries


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the store and the Slack metadata write times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------- history


@dataclass(frozen=True)
class Incident:
    started_at: datetime  # the ALARM
    ended_at: datetime  # the OK

    @property
    def key(self) -> str:
        return iso(self.started_at)

    @property
    def duration_s(self) -> float:
        return round((self.ended_at - self.started_at).total_seconds(), 3)


def history(count: int, *, seed: int = 0, start: datetime = T0) -> list[Incident]:
    """`count` incidents, oldest first: distinct durations (61 s + 13 s steps, under an hour, so each
    reads differently in Slack), gaps of a few minutes between them, milliseconds everywhere."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible schedule
    durations = [61 + 13 * i for i in range(count)]
    rng.shuffle(durations)
    incidents, at = [], start
    for duration in durations:
        began = at + timedelta(milliseconds=rng.randrange(1000))
        ended = began + timedelta(seconds=duration, milliseconds=rng.randrange(1000))
        incidents.append(Incident(began, ended))
        at = ended + timedelta(minutes=rng.randint(3, 9))
    return incidents


def alarm_messages(incidents: Iterable[Incident]) -> list[dict[str, Any]]:
    """The CloudWatch alarm messages of the history, in time order: OK -> ALARM, ALARM -> OK."""
    messages = []
    for incident in incidents:
        messages.append(alarm_message("ALARM", "OK", incident.started_at))
        messages.append(alarm_message("OK", "ALARM", incident.ended_at))
    return messages


@dataclass(frozen=True)
class Delivery:
    """One invocation of one function with one SNS event, as Lambda's async invoke carries it."""

    number: int
    function: str
    message_index: int  # which alarm message (0-based, time order)
    event: dict[str, Any]
    request_id: str  # kept across Lambda's retries; a redrive is a new invocation, a new id
    attempt: int = 1
    duplicate: bool = False
    redrive: int = 0


def schedule(
    messages: list[dict[str, Any]], *, seed: int = 0, duplicates: float = 0.3, window: int = 5
) -> list[Delivery]:
    """Every message to each function; `duplicates` of those deliveries twice (the same message under a
    new MessageId, a few places later); the order shuffled by a sliding window: keep `window`
    deliveries in a buffer, deliver a random one, refill."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible schedule
    base: list[tuple[int, str, bool]] = []
    for index in range(len(messages)):
        for function in FUNCTIONS:
            base.append((index, function, False))
    with_duplicates = list(base)
    for index, function, _ in base:
        if rng.random() < duplicates:
            position = with_duplicates.index((index, function, False)) + 1 + rng.randrange(8)
            with_duplicates.insert(min(position, len(with_duplicates)), (index, function, True))
    ordered: list[tuple[int, str, bool]] = []
    pending = iter(with_duplicates)
    buffer = [item for _, item in zip(range(window), pending, strict=False)]
    while buffer:
        ordered.append(buffer.pop(rng.randrange(len(buffer))))
        buffer.extend(item for _, item in zip(range(1), pending, strict=False))
    return [
        Delivery(
            number=n,
            function=function,
            message_index=index,
            event=sns_event(messages[index], message_id=str(uuid.UUID(int=rng.getrandbits(128), version=4))),
            request_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            duplicate=duplicate,
        )
        for n, (index, function, duplicate) in enumerate(ordered)
    ]


# ------------------------------------------------------------------------------------------ world


@dataclass
class World:
    """Everything the three functions talk to. Enter it with AWS_ENDPOINT_URL pointing at moto."""

    moto_url: str
    slack_retry_after_s: int = 0
    with_proxy: bool = False
    with_site: bool = True  # register the storm's one site (SITE_ID); False: the caller registers its own
    slack: FakeSlack = field(init=False)
    proxy: FaultProxy | None = field(init=False, default=None)
    table: str = field(init=False)
    bucket: str = field(init=False)
    distribution: str = field(init=False)
    secret_arn: str = field(init=False)
    _stack: ExitStack = field(init=False, default_factory=ExitStack)

    def __enter__(self) -> World:
        self.slack = self._stack.enter_context(FakeSlack(retry_after_s=self.slack_retry_after_s))
        if self.with_proxy:
            self.proxy = self._stack.enter_context(FaultProxy(self.moto_url))
        self.table = create_incidents_table().name
        self.bucket = create_page_bucket()
        self.distribution = create_distribution(self.bucket)
        if self.with_site:
            register_site(self.table, distribution_id=self.distribution, page_url=PAGE_URL)
        secret = {
            "bot_token": TOKEN,
            "channel": CHANNEL,
            "api_url": self.slack.api_url,
            "signing_secret": SIGNING_SECRET,
        }
        self.secret_arn = boto3.client("secretsmanager").create_secret(
            Name=f"detour-slack-{uuid.uuid4().hex[:6]}", SecretString=json.dumps(secret)
        )["ARN"]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def endpoint(self) -> str:
        """Where the functions send their AWS requests: the proxy if there is one."""
        return self.proxy.url if self.proxy else self.moto_url

    def common_env(self) -> dict[str, str]:
        """tests/conftest.py's `function_env`, for a process of its own."""
        return OFFLINE_AWS | {
            "AWS_ENDPOINT_URL": self.endpoint,
            "TABLE_NAME": self.table,
            "ALARM_PREFIX": ALARM_PREFIX,
            "POWERTOOLS_METRICS_NAMESPACE": "Detour",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def function_env(self) -> dict[str, dict[str, str]]:
        """Each function's own variables, as its integration tests set them."""
        return function_environments(self.secret_arn, self.bucket)

    def faults_off(self) -> None:
        self.slack.stop_failing()
        if self.proxy:
            self.proxy.stop_faults()


# ----------------------------------------------------------------------------------- the workers


@dataclass(frozen=True)
class Attempt:
    delivery: Delivery
    ok: bool
    error: str | None
    latency_s: float
    worker: int


@dataclass(frozen=True)
class WorkerSpec:
    number: int
    common: dict[str, str]  # every function's environment
    own: dict[str, dict[str, str]]  # each function's own variables
    log_path: str
    timeout_s: float  # the functions' Lambda timeout (LambdaContext's remaining time)


def _worker(spec: WorkerSpec, tasks: Any, results: Any) -> None:
    """One execution environment: the three handler modules imported once, then invocations."""
    number, common, own, log_path, timeout_s = spec.number, spec.common, spec.own, spec.log_path, spec.timeout_s
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)  # the functions' JSON logs and metrics (Lambda: CloudWatch Logs)
    os.dup2(log, 2)
    os.environ.update(common)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)

    from detour_cli.local.lambda_runtime import LambdaContext  # noqa: PLC0415 - after the environment
    from tests.support.functions import load_handler_module  # noqa: PLC0415

    def enter(function: str) -> None:
        os.environ.update(
            own[function] | {"POWERTOOLS_SERVICE_NAME": function, "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAMES[function]}
        )

    modules = {}
    for function in FUNCTIONS:
        enter(function)
        modules[function] = load_handler_module(function)
    results.put(("ready", number))
    while True:
        delivery: Delivery | None = tasks.get()
        if delivery is None:
            return
        enter(delivery.function)
        context = LambdaContext(
            function_name=FUNCTION_NAMES[delivery.function], aws_request_id=delivery.request_id, timeout_s=timeout_s
        )
        started = time.perf_counter()
        try:
            modules[delivery.function].lambda_handler(delivery.event, context)
        except BaseException as error:  # whatever it raised, Lambda retries it
            outcome = Attempt(delivery, False, f"{type(error).__name__}: {error}"[:400], 0.0, number)
        else:
            outcome = Attempt(delivery, True, None, 0.0, number)
        sys.stdout.flush()
        results.put(("attempt", replace(outcome, latency_s=time.perf_counter() - started)))


@dataclass
class RunResult:
    attempts: list[Attempt] = field(default_factory=list)
    dead_letters: list[Attempt] = field(default_factory=list)  # each delivery's last failed attempt
    wall_s: float = 0.0
    deliveries: int = 0


class StormTimeout(RuntimeError):
    """The deliveries did not all end (success or dead letter) in time."""


class Pool:
    """W worker processes sharing one queue of deliveries."""

    def __init__(self, world: World, workers: int, log_dir: Path, *, timeout_s: float = 30.0) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._tasks: Any = self._context.Queue()
        self._results: Any = self._context.Queue()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.timeout_s = timeout_s
        self._processes = [
            self._context.Process(
                target=_worker,
                args=(
                    WorkerSpec(
                        n, world.common_env(), world.function_env(), str(log_dir / f"worker-{n}.log"), timeout_s
                    ),
                    self._tasks,
                    self._results,
                ),
                daemon=True,
            )
            for n in range(workers)
        ]

    def __enter__(self) -> Pool:
        for process in self._processes:
            process.start()
        ready = 0
        deadline = time.monotonic() + 120
        while ready < len(self._processes):
            self._alive_or_raise()
            try:
                kind, _ = self._results.get(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise StormTimeout("the workers did not start within 120 s") from None
                continue
            ready += kind == "ready"
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in self._processes:
            self._tasks.put(None)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)

    def _alive_or_raise(self) -> None:
        dead = [p for p in self._processes if not p.is_alive()]
        if dead:
            raise RuntimeError(f"worker process(es) died (exit codes {[p.exitcode for p in dead]}); see {self.log_dir}")

    def run(
        self,
        deliveries: list[Delivery],
        *,
        retry_delays_s: tuple[float, ...] = (1.0, 2.0),  # Lambda: about 1 and 2 minutes
        deadline_s: float = 300.0,
    ) -> RunResult:
        """Deliver all; retry failures later (behind what is queued) with the same request id; after
        MAX_ATTEMPTS failures a delivery is dead-lettered."""
        result = RunResult(deliveries=len(deliveries))
        pending = list(reversed(deliveries))  # pop() takes the next in schedule order
        delayed: list[tuple[float, int, Delivery]] = []
        in_flight, depth = 0, 2 * len(self._processes)
        started = time.monotonic()
        while pending or delayed or in_flight:
            now = time.monotonic()
            if now - started > deadline_s:
                raise StormTimeout(f"{in_flight} in flight, {len(pending) + len(delayed)} waiting after {deadline_s} s")
            while delayed and delayed[0][0] <= now:
                pending.append(heapq.heappop(delayed)[2])  # next out: behind what is already queued
            while pending and in_flight < depth:
                self._tasks.put(pending.pop())
                in_flight += 1
            try:
                kind, attempt = self._results.get(timeout=0.05 if delayed else 1.0)
            except queue.Empty:
                self._alive_or_raise()
                continue
            if kind != "attempt":
                continue
            in_flight -= 1
            result.attempts.append(attempt)
            if attempt.ok:
                continue
            delivery = attempt.delivery
            if delivery.attempt >= MAX_ATTEMPTS:
                result.dead_letters.append(attempt)
                continue
            delay = retry_delays_s[min(delivery.attempt - 1, len(retry_delays_s) - 1)]
            retry = replace(delivery, attempt=delivery.attempt + 1)
            heapq.heappush(delayed, (time.monotonic() + delay, delivery.number * 10 + retry.attempt, retry))
        result.wall_s = time.monotonic() - started
        return result


def redrive(pool: Pool, dead_letters: list[Attempt], *, rounds: int = 3, pause_s: float = 1.0) -> list[RunResult]:
    """Redrive the dead-letter queue (each a new invocation: a new request id) until it is empty.
    The last round waits out a Lambda timeout first, as an operator's redrive minutes later does: an
    attempt whose idempotency record could not be released (its DynamoDB call failed too) holds it
    "in progress" until then."""
    runs: list[RunResult] = []
    letters = [a.delivery for a in dead_letters]
    for round_number in range(1, rounds + 1):
        if not letters:
            break
        time.sleep(pause_s if round_number < rounds else max(pause_s, pool.timeout_s))
        again = [replace(d, attempt=1, request_id=str(uuid.uuid4()), redrive=round_number) for d in letters]
        run = pool.run(again)
        runs.append(run)
        letters = [a.delivery for a in run.dead_letters]
    return runs


# ----------------------------------------------------------------------------------- the checker

SLACK_ROWS = (
    ("exactly_once", "announced and resolved exactly once"),
    ("resolved_more_than_once", "resolved more than once"),
    ("two_roots", "two root messages"),
    ("no_root", "no root message"),
    ("never_resolved", "never resolved"),
    ("resolved_without_reply", "edited to resolved but no resolution reply"),
)
GLOBAL_ROWS = (
    ("orphan_roots", "orphan root messages (no metadata)"),
    ("unknown_incident_roots", "root messages of no true incident"),
    ("foreign_thread_messages", "messages in another incident's thread"),
    ("replies_without_metadata", "thread replies without metadata"),
    ("roots_edited_more_than_once", "roots with more than one edit (informational)"),
)


def check(world: World, incidents: list[Incident], runs: list[RunResult]) -> tuple[dict[str, Any], list[str]]:
    """Everything the storm must have converged on; (summary, violations), violations empty = pass."""
    violations: list[str] = []
    summary: dict[str, Any] = {"incidents": len(incidents)}
    summary["deliveries"] = _check_deliveries(runs, violations)
    summary["windows"] = _check_windows(world, incidents, violations)
    summary["page"] = _check_page(world, incidents, violations)
    summary["slack"] = _check_slack(world.slack.messages, incidents, violations)
    summary["faults"] = {
        "slack": dict(world.slack.injected),
        "aws": dict(world.proxy.injected) if world.proxy else {},
    }
    return summary, violations


def _check_deliveries(runs: list[RunResult], violations: list[str]) -> dict[str, Any]:
    attempts = [a for run in runs for a in run.attempts]
    retried = {(a.delivery.number, a.delivery.redrive) for a in attempts if a.delivery.attempt > 1}
    errors = Counter((a.error or "").split(":")[0] for a in attempts if not a.ok)
    final = runs[-1].dead_letters if runs else []
    latencies: dict[str, list[float]] = {}
    for a in attempts:
        latencies.setdefault(a.delivery.function, []).append(a.latency_s)
    for attempt in attempts:
        if attempt.ok == (attempt.error is not None):
            violations.append(f"delivery {attempt.delivery.number}: an attempt neither succeeded nor raised")
    return {
        "scheduled": runs[0].deliveries if runs else 0,
        "attempts": len(attempts),
        "succeeded": sum(a.ok for a in attempts),
        "failed_attempts": len(attempts) - sum(a.ok for a in attempts),
        "retried_deliveries": len(retried),
        "dead_lettered": len(runs[0].dead_letters) if runs else 0,
        "redrive_rounds": len(runs) - 1,
        "still_dead_lettered": len(final),
        "errors": dict(errors.most_common()),
        "wall_s": round(sum(run.wall_s for run in runs), 2),
        "latency_s": {f: percentiles(values) for f, values in sorted(latencies.items())},
    }


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else 0.0, "p90": values[0] if values else 0.0, "p99": 0.0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 3), "p90": round(cuts[89], 3), "p99": round(cuts[98], 3)}


def _check_windows(world: World, incidents: list[Incident], violations: list[str]) -> dict[str, Any]:
    expected = [(i.started_at, i.ended_at, i.duration_s) for i in reversed(incidents)]
    try:
        found = IncidentStore(world.table, boto3.client("dynamodb")).windows(SITE_ID)
    except Exception as error:  # a store that cannot read its windows: a finding
        violations.append(f"windows: IncidentStore.windows raised {type(error).__name__}: {error}")
        return {"expected": len(expected), "found": None, "exact": False, "error": f"{type(error).__name__}: {error}"}
    actual = [(w.started_at, w.ended_at, w.duration_s) for w in found]
    if actual != expected:
        wrong = [f"{iso(e[0])}: expected {e}, found {a}" for e, a in zip(expected, actual, strict=False) if e != a][:5]
        violations.append(f"windows: expected {len(expected)} closed windows, found {len(actual)}; {wrong}")
    return {"expected": len(expected), "found": len(actual), "exact": actual == expected}


def _check_page(world: World, incidents: list[Incident], violations: list[str]) -> dict[str, Any]:
    s3 = boto3.client("s3")
    try:
        status = json.loads(s3.get_object(Bucket=world.bucket, Key=PAGE_PREFIX + "status.json")["Body"].read())
    except s3.exceptions.NoSuchKey:
        status = {}
    last_ok = iso(incidents[-1].ended_at)
    # A resolution is news for RESOLVED_FOR; then the page is the neutral one (no start, no end).
    expected = ("resolved", last_ok)
    if datetime.now(UTC) - incidents[-1].ended_at > RESOLVED_FOR:
        expected = ("unavailable", None)
    if (status.get("state"), status.get("resolved_at")) != expected or (
        expected[1] is None and status.get("started_at") is not None
    ):
        violations.append(
            f"page: status.json says state {status.get('state')!r}, resolved_at {status.get('resolved_at')!r}; "
            f"expected {expected[0]!r} (resolved at {last_ok})"
        )
    versions: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=world.bucket):
        for version in page.get("Versions", []):
            versions.setdefault(version["Key"].removeprefix(PAGE_PREFIX), []).append(version)
    report: dict[str, Any] = {"state": status.get("state"), "resolved_at": status.get("resolved_at")}
    for key in ("index.html", "status.json"):
        listed = versions.get(key, [])
        # S3 lists a key's versions newest first; oldest first is the upload order
        ordered = sorted(enumerate(listed), key=lambda pair: (pair[1]["LastModified"], -pair[0]))
        orders: list[str | None] = [
            s3.head_object(Bucket=world.bucket, Key=v["Key"], VersionId=v["VersionId"])["Metadata"].get(ORDER_KEY)
            for _, v in ordered
        ]
        missing = sum(order is None for order in orders)
        backwards = [
            (before, after)
            for before, after in itertools.pairwise(orders)
            if before is not None and after is not None and _order(after) < _order(before)
        ]
        if missing:
            violations.append(f"page: {missing} of {len(orders)} versions of {key} have no {ORDER_KEY} metadata")
        if backwards:
            violations.append(f"page: {key} went backwards {len(backwards)} time(s), e.g. {backwards[0]}")
        report[key] = {"versions": len(orders), "without_order": missing, "went_backwards": len(backwards)}
    return report


def _order(value: str) -> tuple[int, str]:
    version, _, moment = value.partition("|")
    return (int(version) if version.isdigit() else -1, moment)


def _payload(message: Message) -> dict[str, Any] | None:
    metadata = message.metadata
    if not metadata or metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, dict) else None


def _check_slack(  # noqa: PLR0912 - the checks read best in one place
    messages: list[Message], incidents: list[Incident], violations: list[str]
) -> dict[str, Any]:
    messages = list(messages)
    true = {i.key: i for i in incidents}
    roots = [m for m in messages if m.thread_ts is None]
    replies: dict[str, list[Message]] = {}
    for m in messages:
        if m.thread_ts is not None:
            replies.setdefault(m.thread_ts, []).append(m)
    counts: Counter[str] = Counter()
    by_incident: dict[str, list[Message]] = {}
    for root in roots:
        payload = _payload(root)
        if payload is None:
            counts["orphan_roots"] += 1
            continue
        if payload.get("incident") not in true:
            counts["unknown_incident_roots"] += 1
            violations.append(f"slack: root {root.ts} is for {payload.get('incident')!r}, no true incident")
            continue
        by_incident.setdefault(str(payload["incident"]), []).append(root)
        if len(root.edits) > 1:
            counts["roots_edited_more_than_once"] += 1
    if counts["orphan_roots"]:
        violations.append(f"slack: {counts['orphan_roots']} top-level message(s) without detour metadata")
    for root in roots:
        root_payload = _payload(root)
        for reply in replies.get(root.ts, []):
            payload = _payload(reply)
            if payload is None:
                counts["replies_without_metadata"] += 1
            elif root_payload is not None and payload.get("incident") != root_payload.get("incident"):
                counts["foreign_thread_messages"] += 1
                violations.append(
                    f"slack: a {payload.get('kind')} of {payload.get('incident')} in the thread of "
                    f"{root_payload.get('incident')}"
                )
    if counts["replies_without_metadata"]:
        violations.append(f"slack: {counts['replies_without_metadata']} thread replies without detour metadata")

    for key, incident in true.items():
        found = by_incident.get(key, [])
        if len(found) > 1:
            counts["two_roots"] += 1
            violations.append(f"slack: incident {key} has {len(found)} root messages")
            continue
        if not found:
            counts["no_root"] += 1
            violations.append(f"slack: incident {key} has no root message")
            continue
        (root,) = found
        duration = human_duration(incident.duration_s)
        if "recovered" not in root.text or duration not in root.text:
            counts["never_resolved"] += 1
            violations.append(f"slack: incident {key}'s root says {root.text!r}, not recovered after {duration}")
            continue
        resolution_replies = [
            m
            for m in replies.get(root.ts, [])
            if (_payload(m) or {}).get("kind") == "reply" and (_payload(m) or {}).get("incident") == key
        ]
        expected = 1 if root.edits else 0
        if len(resolution_replies) == expected:
            counts["exactly_once"] += 1
        elif len(resolution_replies) > expected:
            counts["resolved_more_than_once"] += 1
            violations.append(
                f"slack: incident {key} has {len(resolution_replies)} resolution replies "
                f"(expected {expected}: its root was edited {len(root.edits)} time(s))"
            )
        else:
            counts["resolved_without_reply"] += 1
            violations.append(f"slack: incident {key}'s root was edited to resolved but has no resolution reply")

    report: dict[str, Any] = {name: counts[name] for name, _ in SLACK_ROWS + GLOBAL_ROWS}
    report["messages"] = len(messages)
    report["roots"] = len(roots)
    if counts["orphan_roots"]:
        report["by_content"] = _by_content(roots, replies, incidents)
    return report


def _by_content(roots: list[Message], replies: dict[str, list[Message]], incidents: list[Incident]) -> dict[str, int]:
    """Informational, for messages without metadata (the code before issue 9): attribute each root to
    an incident by the alarm times Slack's date tokens carry (`<!date^<epoch>^...`), to see what the
    channel looks like. Never used to pass a check."""
    epochs = {}
    for incident in incidents:
        epochs[int(incident.started_at.timestamp())] = incident.key
        epochs[int(incident.ended_at.timestamp())] = incident.key
    found: dict[str, list[Message]] = {}
    unattributed = 0
    for root in roots:
        text = json.dumps([root.text, root.blocks, root.edits])
        keys = {key for epoch, key in epochs.items() if f"<!date^{epoch}^" in text}
        if len(keys) == 1:
            found.setdefault(keys.pop(), []).append(root)
        else:
            unattributed += 1
    counts: Counter[str] = Counter()
    for incident in incidents:
        roots_of = found.get(incident.key, [])
        if not roots_of:
            counts["no root message"] += 1
        elif len(roots_of) > 1:
            counts["two root messages"] += 1
        elif "recovered" not in roots_of[0].text or human_duration(incident.duration_s) not in roots_of[0].text:
            counts["never resolved"] += 1
        else:
            resolved = sum(":white_check_mark: Resolved" in m.text for m in replies.get(roots_of[0].ts, []))
            expected = 1 if roots_of[0].edits else 0
            key = "announced and resolved exactly once" if resolved == expected else "resolved more than once"
            counts[key if resolved >= expected else "edited to resolved but no resolution reply"] += 1
    counts["roots not attributable to one incident"] = unattributed
    return dict(counts)


def format_summary(summary: dict[str, Any]) -> str:
    """The issue's table and the rest, for people."""
    lines = []
    slack = summary["slack"]
    n = summary["incidents"]
    lines.append(f"| per incident (by message metadata) | count of {n} |")
    lines.append("|---|---|")
    lines += [f"| {label} | {slack[name]} |" for name, label in SLACK_ROWS]
    lines.append("")
    lines += [f"- {label}: {slack[name]}" for name, label in GLOBAL_ROWS]
    lines.append(f"- Slack messages: {slack['messages']} ({slack['roots']} top-level)")
    if "by_content" in slack:
        lines.append(
            "- informational, roots attributed by their alarm times (no metadata): "
            + ", ".join(f"{k}: {v}" for k, v in slack["by_content"].items())
        )
    windows = summary["windows"]
    lines.append(f"- windows: {windows['found']} found, {windows['expected']} expected, exact: {windows['exact']}")
    page = summary["page"]
    lines.append(f"- page: state {page['state']!r}, resolved_at {page['resolved_at']}")
    for key in ("index.html", "status.json"):
        lines.append(
            f"  - {key}: {page[key]['versions']} versions, {page[key]['without_order']} without {ORDER_KEY}, "
            f"went backwards {page[key]['went_backwards']} time(s)"
        )
    d = summary["deliveries"]
    lines.append(
        f"- deliveries: {d['scheduled']} scheduled, {d['attempts']} attempts, {d['succeeded']} succeeded, "
        f"{d['failed_attempts']} failed attempts, {d['retried_deliveries']} retried, {d['dead_lettered']} "
        f"dead-lettered, {d['redrive_rounds']} redrive round(s), {d['still_dead_lettered']} still dead-lettered, "
        f"{d['wall_s']} s"
    )
    if d["errors"]:
        lines.append(f"  - errors: {d['errors']}")
    for function, cut in d["latency_s"].items():
        lines.append(f"  - {function} latency: p50 {cut['p50']} s, p90 {cut['p90']} s, p99 {cut['p99']} s")
    if summary["faults"]["slack"] or summary["faults"]["aws"]:
        lines.append(f"- faults injected: Slack {summary['faults']['slack']}, AWS {summary['faults']['aws']}")
    return "\n".join(lines)


def function_environments(secret_arn: str, bucket: str) -> dict[str, dict[str, str]]:
    """Each function's own variables (beside the common ones), as its integration tests set them.
    The site's settings are in the registry (`register_site`), not here."""
    return {
        "log_window": {},
        "notify_slack": {"SLACK_SECRET_ARN": secret_arn},
        "refresh_page": {"PAGE_BUCKET": bucket},
    }

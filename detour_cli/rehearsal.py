"""`detour demo`: a whole outage, rehearsed on loopback. No AWS account, no Docker, no network.

An embedded AWS (moto's server) gets template.yaml deployed into it. A local primary, a local Slack,
and a local edge (playing CloudFront) stand in for the rest. Route 53's health checkers and
failover answers, and CloudWatch's alarm, are played by code that follows their rules. The functions' handlers run
in-process on the exact SNS event CloudWatch would send. Mid-outage an operator posts an update with
`/detour update` from the local Slack: a correctly signed request to slack_commands served as its
Function URL (payload 2.0), whose work and follow-ups run through a local Lambda Invoke API.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import boto3

from detour.incidents.store import IncidentStore
from detour.incidents.transition import format_time
from detour.runtime.aws import dynamodb_client
from detour_cli.local.cfn_endpoint import cfn_response_endpoint
from detour_cli.local.cloudwatch import HealthAlarm
from detour_cli.local.edge import LocalEdge, policy_headers
from detour_cli.local.emulated_stack import EmulatedStack
from detour_cli.local.function_url import FunctionUrl
from detour_cli.local.lambda_runtime import InProcessFunction
from detour_cli.local.lambda_service import LocalLambda
from detour_cli.local.primary import LocalPrimary
from detour_cli.local.route53 import HealthCheck, HealthCheckConfig, Prober, answer
from detour_cli.local.sandbox import DOMAIN, ZONE, LocalSandbox, local_sandbox
from detour_cli.local.slack_requests import SIGNING_SECRET, SlackAnswer
from detour_cli.local.timeline import Timeline

OPERATOR = "U0DETOUROPS"  # the Slack user on the stack's SlackUpdaters allow-list
UPDATE_STAGE = "identified"
UPDATE_MESSAGE = "The primary's database ran out of disk; we are moving it. Back within 15 minutes."
UPDATE_BUDGET_S = 10.0  # an update reaches the page within 10 seconds
RETRY_DELAY_S = 1.0  # between retries of a failed asynchronous invocation (Lambda: 1, then 2 minutes)


@dataclass
class Options:
    interval_s: float = 1.0  # Route 53: 10 or 30
    alarm_period_s: float = 2.0  # CloudWatch: 60
    threshold: int = 3
    out: Path = field(default_factory=lambda: Path("rehearsal-output") / datetime.now(UTC).strftime("%Y%m%d-%H%M%S"))
    keep_running: bool = False
    timeout_s: float = 120.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="detour demo", description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=1.0, help="health-check interval, s (AWS: 10 or 30)")
    parser.add_argument("--threshold", type=int, default=3, help="health-check failure threshold (1-10)")
    parser.add_argument("--alarm-period", type=float, default=2.0, help="alarm period, s (AWS: 60)")
    parser.add_argument("--real-timing", action="store_true", help="AWS's own timing: 10 s interval, 60 s period")
    parser.add_argument("--out", type=Path, help="artifacts folder (default: rehearsal-output/<time>)")
    parser.add_argument("--keep-running", action="store_true", help="leave everything up; stop/start the primary")
    args = parser.parse_args(argv)
    options = Options(
        interval_s=10.0 if args.real_timing else args.interval,
        alarm_period_s=60.0 if args.real_timing else args.alarm_period,
        threshold=args.threshold,
        keep_running=args.keep_running,
        timeout_s=600.0 if args.real_timing else 120.0,
    )
    if args.out:
        options.out = args.out
    # Powertools warns when an invocation emits no metric (an acknowledgement, a duplicate): not news.
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    try:
        return 0 if Rehearsal(options).run() else 1
    except KeyboardInterrupt:
        print("detour demo: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # set-up failed: say what, without a traceback, and exit non-zero
        print(f"detour demo: could not set up the rehearsal: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


class Rehearsal:
    def __init__(self, options: Options, out: IO[str] | None = None) -> None:
        self.options = options
        self.timeline = Timeline(out or sys.stdout)
        self.failures: list[str] = []
        self.delivered: list[str] = []  # the alarm states delivered to the handlers, in order
        self.functions: dict[str, InProcessFunction] = {}
        self.logs: list[IO[str]] = []
        self.update_seconds: float | None = None  # from the slash command to status.json showing the update
        self._dead_reported = 0

    def run(self) -> bool:
        options = self.options
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "logs").mkdir(exist_ok=True)
        say = self.timeline.say
        say("Detour rehearsal: a whole outage on loopback (no AWS account, no Docker)")
        say("starting the embedded AWS, the local primary and Slack; deploying template.yaml ...")
        with contextlib.ExitStack() as running:
            self._set_up(running)
            try:
                self._play()
            except (TimeoutError, AssertionError) as error:
                self.failures.append(str(error))
                say(f"FAILED: {error}")
            except Exception as error:  # unexpected: reported, and the artifacts are still written
                self.failures.append(f"{type(error).__name__}: {error}")
                say(f"FAILED: {type(error).__name__}: {error}")
            self._settle_background()
            self._write_artifacts()
            if options.keep_running and not self.failures:
                self._keep_running()
        say(f"artifacts: {options.out}")
        if self.failures:
            say(f"the rehearsal FAILED: {'; '.join(self.failures)}")
        return not self.failures

    def _set_up(self, running: contextlib.ExitStack) -> None:
        """The primary, the emulated stack with its first page, the edge, the checkers and the alarm;
        each stopped again, in reverse order, when `running` closes."""
        options, say = self.options, self.timeline.say
        self.primary = LocalPrimary()
        self.primary.start()
        running.callback(self.primary.stop)
        overrides = {
            "HealthCheckPort": str(self.primary.port),
            "HealthCheckFailureThreshold": str(options.threshold),
            "SlackUpdaters": OPERATOR,
        }
        sandbox = running.enter_context(local_sandbox(overrides))
        self.slack, self.stack = sandbox.slack, sandbox.stack
        running.callback(self._close_function_logs)
        self._report_deployment(sandbox)
        self._serve_functions(running)
        self._publish_initial_page(self.stack)
        self.edge = self._start_edge(self.stack)
        running.callback(self.edge.stop)

        self.route53 = boto3.client("route53")  # clients are made here, once: boto3 sessions are not thread-safe
        self.alarm = HealthAlarm(self.stack.physical_id("HealthAlarm"), options.alarm_period_s, self._deliver)
        self.alarm.start()
        running.callback(self.alarm.stop)
        config = self.stack.resolver.resource("HealthCheck") or {}
        self.check = HealthCheck(
            HealthCheckConfig.from_template(config["HealthCheckConfig"], interval_s=options.interval_s)
        )
        prober = Prober(self.check, on_round=self.alarm.observe)
        prober.start()
        running.callback(prober.stop)
        cfg = self.check.config
        say(
            f"health check {self.stack.physical_id('HealthCheck')}: {len(cfg.regions)} checkers "
            f"({', '.join(cfg.regions)}) probe {cfg.protocol} {cfg.address}:{cfg.port}{cfg.path} "
            f"every {cfg.interval_s:g} s, threshold {cfg.failure_threshold}; alarm period {self.alarm.period_s:g} s"
        )

    def _serve_functions(self, running: contextlib.ExitStack) -> None:
        """Lambda's Invoke API for every function (the functions reach it via AWS_ENDPOINT_URL_LAMBDA)
        and slack_commands' Function URL; the signing secret in the stack's Slack secret."""
        stack = self.stack
        for logical_id in stack.functions():  # each function's Ref is the name it is served under
            name = f"{stack.name}-{logical_id}"
            stack.resolver.know(logical_id, name, Arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}")
        self.lambda_service = running.enter_context(LocalLambda(retry_delay_s=RETRY_DELAY_S))
        retries = self._retry_attempts()
        for logical_id in stack.functions():
            self.lambda_service.add(self._function(logical_id), max_retries=retries.get(logical_id))
        secrets = boto3.client("secretsmanager")
        secret_id = stack.physical_id("SlackSecret")
        secret = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
        secrets.put_secret_value(
            SecretId=secret_id, SecretString=json.dumps(secret | {"signing_secret": SIGNING_SECRET})
        )
        self.command_url = running.enter_context(FunctionUrl(self._function("SlackCommandsFunction")))
        stack.resolver.know("SlackCommandsFunctionUrl", self.command_url.url, FunctionUrl=self.command_url.url)
        self.timeline.say(
            f"local Lambda Invoke API at {self.lambda_service.url} (AWS_ENDPOINT_URL_LAMBDA of the functions); "
            f"slack_commands' Function URL at {self.command_url.url} (plays https://{self.command_url.domain_name}/)"
        )

    def _retry_attempts(self) -> dict[str, int]:
        """MaximumRetryAttempts of the template's EventInvokeConfigs, by function logical id."""
        found = {}
        for resource in self.stack.template["Resources"].values():
            props = resource.get("Properties", {})
            name = props.get("FunctionName")
            if resource["Type"] == "AWS::Lambda::EventInvokeConfig" and isinstance(name, dict) and "Ref" in name:
                found[name["Ref"]] = int(props.get("MaximumRetryAttempts", 2))
        return found

    def _close_function_logs(self) -> None:
        for log in self.logs:
            log.close()

    # -- the story ----------------------------------------------------------------------------------

    def _play(self) -> None:
        t = self.timeline
        t.wait_for("the checkers' first round", lambda: self.check.healthy is True, self._wait_s())
        t.say(f"primary healthy ({self._checkers()}); DNS {self._dns()}")
        self._snapshot("1-healthy")
        self._act("the primary stops answering", self.primary.stop, healthy=False, alarm="ALARM", step="2-failing-over")
        self._post_update()
        self._act("the primary comes back", self.primary.start, healthy=True, alarm="OK", step="3-recovered")

    def _post_update(self) -> None:
        """An operator posts an update from Slack: signed slash command -> Function URL -> the work,
        queued on slack_commands itself -> refresh_page and notify_slack, queued in turn."""
        t = self.timeline
        text = f"update {UPDATE_STAGE} {UPDATE_MESSAGE}"
        t.say(f"<@{OPERATOR}> in Slack: /detour {text}")
        started = time.monotonic()
        answer = self.slack.slash_command(self.command_url.url, text=text, user_id=OPERATOR)
        t.detail(
            f"signed request -> slack_commands' Function URL (form body delivered base64, payload 2.0): "
            f"HTTP {answer.status} in {answer.seconds * 1000:.0f} ms{_acknowledged(answer)}"
        )
        if answer.status != 200:
            raise AssertionError(f"the slash command was answered HTTP {answer.status}")
        if not answer.in_time:
            raise AssertionError(f"the acknowledgement took {answer.seconds:.1f} s: Slack gives up after 3 s")
        t.wait_for("status.json on the edge to show the update", self._update_shown, UPDATE_BUDGET_S, poll_s=0.05)
        took = time.monotonic() - started
        status = json.loads(self.edge.get("/status.json").body)
        t.detail(
            f"status.json on the local edge shows it {took:.2f} s after the request (budget {UPDATE_BUDGET_S:g} s); "
            f"stage {status.get('stage')!r}, timeline newest first:"
        )
        for update in status.get("updates", []):
            t.detail(f"  {update['posted_at']}  [{update['stage']}] {update.get('message', '')}")
        self.lambda_service.wait_idle(self.options.timeout_s)
        self._check_background()
        answers = self.slack.responses_to(answer.response_url)
        if not answers:
            raise AssertionError("slack_commands did not answer through response_url")
        for response in answers:
            t.detail(f"{'ephemeral' if response.ephemeral else 'in-channel'} answer to <@{OPERATOR}>: {response.text}")
        root = self.slack.roots()[-1]
        replies = [r for r in self.slack.replies(root) if f"<@{OPERATOR}>" in r.text]
        if not replies:
            raise AssertionError("the update was not replied in the incident's Slack thread")
        t.detail(f"thread reply: {replies[-1].text}")
        self.update_seconds = took
        self._snapshot("2b-update-posted")

    def _update_shown(self) -> bool:
        status = json.loads(self.edge.get("/status.json").body)
        return any(update.get("message") == UPDATE_MESSAGE for update in status.get("updates") or [])

    def _settle_background(self) -> None:
        """Let the queued invocations finish (their retries included), then report what failed."""
        try:
            self.lambda_service.wait_idle(self.options.timeout_s)
        except TimeoutError as error:
            self.failures.append(str(error))
            self.timeline.say(f"FAILED: {error}")
        self._check_background()

    def _check_background(self) -> None:
        """Asynchronous invocations that failed every attempt fail the rehearsal, as a dead letter would page."""
        for dead in self.lambda_service.dead_letters[self._dead_reported :]:
            error = dead.result or {}
            message = (
                f"{dead.function_name} (asynchronous) raised {error.get('errorType')}: {error.get('errorMessage')}"
            )
            self.failures.append(f"{message}, {dead.attempts} attempts, dead-lettered")
            self.timeline.detail(f"FAILED {message}")
        self._dead_reported = len(self.lambda_service.dead_letters)

    def _act(self, what: str, change: Callable[[], None], *, healthy: bool, alarm: str, step: str) -> None:
        """Change the primary, then follow the consequences: checkers, DNS, alarm, Slack, page, window."""
        t = self.timeline
        delivered_before = len(self.delivered)
        t.say(what)
        change()
        verdict = "healthy again" if healthy else "down"
        t.wait_for(
            f"the checkers to agree the primary is {verdict}", lambda: self.check.healthy is healthy, self._wait_s()
        )
        t.say(f"health check {'healthy' if healthy else 'unhealthy'} ({self._checkers()}); DNS {self._dns()}")
        self._wait_for_delivery(alarm, delivered_before)
        self._show_incident(resolved=healthy)
        self._snapshot(step)

    def _wait_s(self) -> float:
        """Long enough for the checkers to reach a verdict, with room for a slow machine."""
        return self.options.interval_s * (self.options.threshold + 2) + 10

    def _wait_for_delivery(self, state: str, after: int) -> None:
        """Until the alarm has gone to `state` and SNS delivered it, counting from delivery `after`
        (taken before the change began, so a quick delivery is not missed)."""
        self.timeline.wait_for(
            f"the alarm to go {state} (period {self.alarm.period_s:g} s) and SNS to deliver",
            lambda: state in self.delivered[after:],
            2 * self.options.alarm_period_s + self.options.timeout_s,
        )

    def _deliver(self, event: dict[str, Any]) -> None:
        """SNS -> Lambda, for every subscription whose filter policy accepts the message."""
        message = json.loads(event["Records"][0]["Sns"]["Message"])
        self.timeline.say(
            f"alarm {message['AlarmName']}: {message['OldStateValue']} -> {message['NewStateValue']}; "
            f"SNS message {event['Records'][0]['Sns']['MessageId'][:8]}… delivered in-process to:"
        )
        for function, filter_policy in self._subscribers():
            if not _accepts(filter_policy, message):
                self.timeline.detail(f"{function.directory}: filtered out by its subscription's filter policy")
                continue
            try:
                result = function.invoke(event)
                self.timeline.detail(f"{function.directory}: {_summary(result)}")
            except Exception as error:
                self.failures.append(f"{function.directory} raised {type(error).__name__}: {error}")
                self.timeline.detail(f"{function.directory}: FAILED {type(error).__name__}: {error}")
        self.delivered.append(message["NewStateValue"])

    def _show_incident(self, resolved: bool) -> None:
        t = self.timeline
        roots = self.slack.roots()
        if not roots:
            raise AssertionError("no Slack message was posted")
        root = roots[-1]
        t.detail(f"Slack #{root.channel}: {root.text}")
        for reply in self.slack.replies(root):
            t.detail(f"  thread reply: {reply.text}")
        page = self.edge.get("/")
        status = json.loads(self.edge.get("/status.json").body)
        t.detail(
            f"page {self.edge.url} (plays https://{self.stack.resolver.attributes[('Distribution', 'DomainName')]}/): "
            f'HTTP {page.status}, Retry-After {page.headers.get("retry-after")}, title "{_title(page.body)}"; '
            f"status.json state {status.get('state')!r}"
        )
        windows = self._windows()
        if not windows:
            raise AssertionError("no failover window was recorded")
        latest = windows[0]
        if resolved:
            if latest["ended_at"] is None:
                raise AssertionError("the failover window is still open after OK")
            t.detail(
                f"failover window closed: {latest['started_at']} -> {latest['ended_at']} ({latest['duration_s']} s)"
            )
            if not root.edits:
                raise AssertionError("the Slack message was not updated to resolved")
        else:
            t.detail(f"failover window opened at {latest['started_at']}")

    # -- the parts ----------------------------------------------------------------------------------

    def _report_deployment(self, sandbox: LocalSandbox) -> None:
        say, stack = self.timeline.say, sandbox.stack
        say(f"embedded AWS (moto server) at {sandbox.endpoint}; hosted zone {ZONE} stands in for yours")
        say(
            f"deployed template.yaml as stack {stack.name!r} in {sandbox.seconds_to_deploy:.1f} s: "
            f"{len(stack.created)} resources created, {len(stack.emulated)} played locally (see deployment.txt)"
        )
        for line in stack.created:
            if "Distribution" in line or "Record" in line or "HealthCheck " in line:
                self.timeline.detail(line)
        (self.options.out / "deployment.txt").write_text(
            "Created in the emulator:\n  "
            + "\n  ".join(stack.created)
            + "\n\nNot created; played locally or not emulated:\n  "
            + "\n  ".join(stack.emulated)
            + "\n"
        )
        say(f"local Slack at {sandbox.slack.url} (bot-token mode); the stack's Slack secret now holds its token")

    def _publish_initial_page(self, stack: EmulatedStack) -> None:
        """The PublishedPage custom resource, as CloudFormation runs it: a Create request to page_setup,
        whose answer arrives at a pre-signed URL (here, a local catcher)."""
        props = stack.resolver.resource("PublishedPage")
        if props is None:
            return
        with cfn_response_endpoint() as catcher:
            event = {
                "RequestType": "Create",
                "ServiceToken": props.pop("ServiceToken"),
                "ResponseURL": catcher.url,
                "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{stack.name}/local",
                "RequestId": str(uuid.uuid4()),
                "LogicalResourceId": "PublishedPage",
                "ResourceType": "Custom::MaintenancePage",
                "ResourceProperties": props,
            }
            self._function("PageSetupFunction").invoke(event)
            answer_ = catcher.only
        if answer_.get("Status") != "SUCCESS":
            raise RuntimeError(f"publishing the initial page failed: {answer_.get('Reason')}")
        self.timeline.say(f"PublishedPage custom resource (page_setup, in-process): {answer_['Status']}")

    def _start_edge(self, stack: EmulatedStack) -> LocalEdge:
        headers_policy = stack.resolver.resource("PageHeadersPolicy")
        if headers_policy is None:  # it has no Condition in template.yaml: only a changed template gets here
            raise RuntimeError("template.yaml's PageHeadersPolicy is left out; the local edge needs its headers")
        policy = headers_policy["ResponseHeadersPolicyConfig"]
        edge = LocalEdge(
            bucket=stack.physical_id("PageBucket"),
            retry_after=stack.resolver.refs["RetryAfterSeconds"],
            policy_headers=policy_headers(policy),
        )
        edge.start()
        domain = stack.resolver.attributes[("Distribution", "DomainName")]
        self.timeline.say(f"local edge at {edge.url} plays the distribution {domain}")
        return edge

    def _function(self, logical_id: str) -> InProcessFunction:
        """One in-process function per template function, its logs in logs/<function>.jsonl."""
        if logical_id not in self.functions:
            directory = self.stack.functions()[logical_id]
            log = (self.options.out / "logs" / f"{directory}.jsonl").open("a")
            self.logs.append(log)
            self.functions[logical_id] = InProcessFunction(
                directory,
                self.stack.function_environment(logical_id) | {"AWS_ENDPOINT_URL_LAMBDA": self.lambda_service.url},
                function_name=f"{self.stack.name}-{logical_id}",
                output=log,
            )
        return self.functions[logical_id]

    def _subscribers(self) -> list[tuple[InProcessFunction, dict[str, Any]]]:
        """The template's Lambda subscriptions to the alarm topic, with their filter policies."""
        topic = self.stack.physical_id("AlarmTopic")
        found = []
        for logical_id, resource in self.stack.template["Resources"].items():
            endpoint = resource.get("Properties", {}).get("Endpoint", {})
            if resource["Type"] != "AWS::SNS::Subscription" or "Fn::GetAtt" not in endpoint:
                continue
            props = self.stack.resolver.resource(logical_id) or {}
            if props.get("TopicArn") == topic:
                found.append((self._function(endpoint["Fn::GetAtt"][0]), props.get("FilterPolicy", {})))
        return found

    def _checkers(self) -> str:
        views = self.check.observations()
        return f"{sum(1 for healthy in views.values() if healthy)}/{len(views)} checkers say healthy"

    def _dns(self) -> str:
        records = self.route53.list_resource_record_sets(HostedZoneId=self.stack.resolver.refs["HostedZoneId"])[
            "ResourceRecordSets"
        ]
        found = answer(records, DOMAIN, "A", lambda _: self.check.healthy is not False)
        target = f"alias {found.values[0]}" if found.alias else f"{', '.join(found.values)} (TTL {found.ttl})"
        return f"{DOMAIN} A -> {target} [{found.failover}]"

    def _windows(self) -> list[dict[str, Any]]:
        store = IncidentStore(self.stack.physical_id("IncidentsTable"), dynamodb_client())
        return [
            {
                "started_at": format_time(w.started_at),
                "ended_at": format_time(w.ended_at) if w.ended_at else None,
                "duration_s": w.duration_s,
                "reason": w.reason,
            }
            for w in store.windows(self.stack.physical_id("HealthCheck"))
        ]

    def _snapshot(self, step: str) -> None:
        folder = self.options.out / "page"
        folder.mkdir(exist_ok=True)
        page = self.edge.get("/")
        (folder / f"{step}.html").write_bytes(page.body)
        (folder / f"{step}.status.json").write_bytes(self.edge.get("/status.json").body)
        (folder / f"{step}.headers.json").write_text(json.dumps({"status": page.status, **page.headers}, indent=2))

    def _write_artifacts(self) -> None:
        out = self.options.out
        slack = [
            {
                "channel": m.channel,
                "ts": m.ts,
                "thread_ts": m.thread_ts,
                "text": m.text,
                "blocks": m.blocks,
                "edits": m.edits,
            }
            for m in self.slack.messages
        ]
        (out / "slack.json").write_text(json.dumps(slack, indent=2, ensure_ascii=False))
        (out / "windows.json").write_text(json.dumps(self._windows(), indent=2))
        (out / "timeline.txt").write_text("\n".join(self.timeline.lines) + "\n")

    def _keep_running(self) -> None:
        t = self.timeline
        t.say(
            f"still running. The page: {self.edge.url}  Slack: {self.slack.url}  primary: 127.0.0.1:{self.primary.port}"
        )
        t.say("type 'stop' or 'start' for the primary, 'quit' (or Ctrl-C) to end")
        try:
            for line in sys.stdin:
                command = line.strip().lower()
                if command == "stop":
                    self.primary.stop()
                    t.say("primary stopped")
                elif command == "start":
                    self.primary.start()
                    t.say("primary started")
                elif command in ("quit", "exit"):
                    break
        except KeyboardInterrupt:
            pass


def _accepts(policy: dict[str, Any], message: dict[str, Any]) -> bool:
    """SNS body filter policies as this template writes them: every key must equal one listed value."""
    return all(message.get(key) in values for key, values in policy.items())


def _acknowledged(answer: SlackAnswer) -> str:
    """What Slack shows the person at once: the acknowledgement's text."""
    try:
        text = answer.json().get("text")
    except (ValueError, AttributeError):
        text = answer.text
    return f', acknowledged "{text}"' if text else ""


def _summary(result: Any) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("site_id",))
    return str(result)


class _Title(HTMLParser):
    """The page's <title>: it names the state the page is in (the sections for others are hidden)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.text = False, ""

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.inside = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data


def _title(html: bytes) -> str:
    parser = _Title()
    parser.feed(html.decode("utf-8", "replace"))
    return " ".join(parser.text.split())


if __name__ == "__main__":
    raise SystemExit(main())

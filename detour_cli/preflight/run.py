"""Run every check for one site, each on its own: one check's AWS error does not hide the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from detour_cli.output import printable
from detour_cli.preflight import alarms, certificate, cloudfront, costs, primary, probe, signals, zone
from detour_cli.preflight.primary import balancer_region
from detour_cli.preflight.result import Result, Status
from detour_cli.preflight.settings import HEALTH_CHECK, REGION, SiteSettings, check_deployed_health_check

Resolve = Callable[[str], tuple[str, ...]]


@dataclass
class SiteReport:
    """One site's results; `error` when the site itself could not be read (its stack, its check)."""

    label: str
    settings: SiteSettings | None
    results: list[Result] = field(default_factory=list)
    error: str = ""

    def count(self, status: Status) -> int:
        return sum(result.status == status for result in self.results)

    @property
    def worst(self) -> Status:
        if self.error or self.count(Status.ERROR):
            return Status.ERROR
        if self.count(Status.FAIL):
            return Status.FAIL
        return Status.WARN if self.count(Status.WARN) else Status.PASS


def guarded(check: str, run: Callable[[], Result], what: str = "") -> Result:
    """The check's result, or ERROR when AWS refused; `what` names the thing checked (an alarm)."""
    try:
        return run()
    except ClientError as error:
        details = error.response.get("Error", {})
        why = f"AWS error {details.get('Code', '?')}: {details.get('Message', error)}"
    except BotoCoreError as error:
        why = f"AWS error: {error}"
    title = printable(f"could not check{' ' + what if what else ''}: {why}")
    return Result(check, Status.ERROR, title, fix="fix the credentials or permissions and run preflight again")


def run_checks(session: Any, settings: SiteSettings, resolve: Resolve) -> list[Result]:
    route53 = session.client("route53")
    elbv2 = session.client("elbv2", region_name=balancer_region(settings.primary_target))
    cloudwatch = session.client("cloudwatch", region_name=REGION)
    config = settings.health_check
    results = [
        guarded(zone.CHECK, lambda: zone.check_zone(route53, settings)),
        guarded(certificate.CHECK, lambda: certificate.check_certificate(session, settings)),
        guarded(cloudfront.CHECK, lambda: cloudfront.check_cloudfront(session.client("cloudfront"), settings)),
        guarded(
            primary.CHECK,
            lambda: primary.check_primary(route53, elbv2, settings, zone.zone_name_of(route53, settings.zone_id)),
        ),
        probe.check_probe(config, resolve),
    ]
    if settings.deployed:
        results.insert(0, guarded(HEALTH_CHECK, lambda: check_deployed_health_check(settings)))
    plan = signals.SignalPlan.from_parameters(settings.parameters)
    hub = settings.parameters.get("HubStackName", "")
    # The alarms as given (--signal-alarm takes ARNs, whose region is checked), else the parameters' slots.
    results += [signal_alarm_result(cloudwatch, name, hub) for name in settings.signal_alarms or plan.alarms]
    if plan.error_rate:
        results.append(
            guarded(
                signals.ERROR_RATE_CHECK,
                lambda: signals.check_error_rate(elbv2, plan, settings.primary_kind, settings.primary_target),
            )
        )
    if plan.any:
        results.append(signals.check_signals_to_fail_over(plan))
    results.append(costs.check_cost(config, settings.primary_kind, plan))
    return results


def signal_alarm_result(cloudwatch: Any, given: str, hub: str = "") -> Result:
    """One signal alarm's result; when AWS refuses, the error names the alarm."""
    _, name = alarms.alarm_region_and_name(given)
    check = partial(alarms.check_signal_alarm, cloudwatch, given, hub)
    return guarded(alarms.check_id(given), check, f"alarm {name}")

"""A site's failover signals (sites/site.yaml's "Failover signals" parameters, docs/adr/0002-failover-signals.md):
which alarms back a health check, whether Detour's own 5xx-rate signal can work for this primary, and what
SignalsToFailOver does to the endpoint probe.

- The 5xx rate is an ALB's: the hub's error_rate function reads, in us-east-1 (AWS/ApplicationELB, Sum, 60 s),
  the target group's HTTPCode_Target_5XX_Count (dimensions TargetGroup and LoadBalancer) and the balancer's own
  HTTPCode_ELB_5XX_Count and RequestCount (LoadBalancer), and computes (target 5xx + ELB 5xx) / the balancer's
  requests. An NLB has no HTTP codes, and a balancer in another region publishes its metrics there, where the
  function does not look.
- SignalsToFailOver above 1 makes the endpoint probe one vote among several: a primary that stops answering
  stays in DNS while enough of its signals are healthy. The template allows it; preflight warns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from detour_cli.preflight.primary import BALANCER_KINDS, DUALSTACK, ELB_REGION, _find_balancer, balancer_region
from detour_cli.preflight.result import Result, failed, passed, warned
from detour_cli.preflight.settings import REGION

ERROR_RATE_CHECK = "error-rate"
SIGNALS_CHECK = "signals"
SIGNAL_ALARM_SLOTS = ("SignalAlarm1", "SignalAlarm2", "SignalAlarm3")
# The other signal parameters, each an option named after it (--error-rate-signal, --signals-to-fail-over, ...);
# the slots are filled from the repeatable --signal-alarm instead.
SIGNAL_PARAMETERS = (
    "ErrorRateSignal",
    "ErrorRateTargetGroup",
    "ErrorRateLoadBalancer",
    "ErrorRatePercent",
    "ErrorRateMinutes",
    "ErrorRateMinRequests",
    "SignalsToFailOver",
    "SignalInsufficientData",
)
ERROR_RATE_NAME = "5xx rate"  # the Site custom resource's name for the error-rate signal


def alarm_name(given: str) -> str:
    """An alarm's name from --signal-alarm, which also takes an ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME)."""
    parts = given.split(":", 6)
    return parts[6] if given.startswith("arn:") and len(parts) == 7 and parts[5] == "alarm" else given


def slot_parameters(alarms: list[str] | tuple[str, ...]) -> dict[str, str]:
    """--signal-alarm NAME ... as SignalAlarm1..3: every slot, the unused ones empty (as the template's default)."""
    names = [alarm_name(given) for given in alarms]
    return {slot: names[index] if index < len(names) else "" for index, slot in enumerate(SIGNAL_ALARM_SLOTS)}


@dataclass(frozen=True, slots=True)
class SignalPlan:
    """What the site's parameters ask for: the alarms in the used slots, the 5xx rate, and SignalsToFailOver."""

    alarms: tuple[str, ...]
    error_rate: bool
    signals_to_fail_over: int
    target_group: str = ""
    load_balancer: str = ""
    percent: str = ""
    minutes: str = ""
    min_requests: str = ""
    insufficient_data: str = "LastKnownStatus"

    @classmethod
    def from_parameters(cls, parameters: dict[str, str]) -> SignalPlan:
        wanted = parameters.get("SignalsToFailOver", "1") or "1"
        return cls(
            alarms=tuple(parameters[slot] for slot in SIGNAL_ALARM_SLOTS if parameters.get(slot)),
            error_rate=parameters.get("ErrorRateSignal") == "On",
            signals_to_fail_over=int(wanted) if wanted.isdigit() else 1,
            target_group=parameters.get("ErrorRateTargetGroup", ""),
            load_balancer=parameters.get("ErrorRateLoadBalancer", ""),
            percent=parameters.get("ErrorRatePercent", ""),
            minutes=parameters.get("ErrorRateMinutes", ""),
            min_requests=parameters.get("ErrorRateMinRequests", ""),
            insufficient_data=parameters.get("SignalInsufficientData", "") or "LastKnownStatus",
        )

    @property
    def any(self) -> bool:
        return bool(self.alarms) or self.error_rate

    @property
    def checks(self) -> int:
        """FailoverCheck's children: the endpoint probe, one per alarm, one for the 5xx rate."""
        return 1 + len(self.alarms) + self.error_rate

    def names(self) -> list[str]:
        return ["the endpoint probe", *(f"alarm {name}" for name in self.alarms)] + (
            [f"the {ERROR_RATE_NAME}"] if self.error_rate else []
        )


def check_signals_to_fail_over(plan: SignalPlan) -> Result:
    """Only for a site with signals: any of its checks (1) fails it over, or N of them together (a warning)."""
    checks = ", ".join(plan.names())
    if plan.signals_to_fail_over <= 1:
        return passed(
            SIGNALS_CHECK,
            f"any of the site's {plan.checks} checks fails it over ({checks}); an alarm-backed check without data "
            f"reports {plan.insufficient_data}",
        )
    return warned(
        SIGNALS_CHECK,
        f"SignalsToFailOver {plan.signals_to_fail_over}: {plan.signals_to_fail_over} of the site's {plan.checks} "
        f"checks ({checks}) must fail together, so the endpoint probe alone no longer fails it over: a primary "
        "that stops answering stays in DNS while its signals are healthy",
        "keep SignalsToFailOver=1 (any check fails over) unless a failing probe alone must not move visitors "
        "(--signals-to-fail-over 1)",
        f"an alarm-backed check without data reports {plan.insufficient_data} (SignalInsufficientData)",
    )


def check_error_rate(elbv2: Any, plan: SignalPlan, primary_kind: str, primary_target: str) -> Result:
    """ErrorRateSignal On: the primary is an ALB in us-east-1, and the two dimension values are its own (when
    ELBv2 can describe it from here)."""
    bare = primary_target.lower().rstrip(".").removeprefix(DUALSTACK)
    problem = _where_the_metrics_are(primary_kind, bare)
    if problem is not None:
        return problem
    balancer = _find_balancer(elbv2, bare)
    if balancer is None:
        return warned(
            ERROR_RATE_CHECK,
            f"no ALB named {bare} in this account's {REGION}: ErrorRateLoadBalancer {plan.load_balancer} and "
            f"ErrorRateTargetGroup {plan.target_group} are not checked against it",
            "check them yourself; they are the ends of the ARNs:\n"
            f"aws elbv2 describe-target-groups --region {REGION} --query "
            "'TargetGroups[].[TargetGroupArn,LoadBalancerArns]'",
        )
    return _check_dimensions(elbv2, plan, balancer)


def _where_the_metrics_are(primary_kind: str, bare: str) -> Result | None:
    """Why this primary can have no 5xx rate the hub reads, from its kind and name alone; None if it can."""
    if primary_kind != "LoadBalancer":  # the template's rule refuses it already; said here all the same
        return failed(
            ERROR_RATE_CHECK,
            "ErrorRateSignal On needs an Application Load Balancer primary; an Elastic IP has no 5xx metrics",
            "--error-rate-signal Off, or an alarm of your own as --signal-alarm",
        )
    shape = ELB_REGION.search(bare)
    if shape is not None and shape.group("nlb"):
        return _not_an_alb(f"the primary {bare} is a Network Load Balancer's name")
    region = balancer_region(bare)
    if region != REGION:
        return failed(
            ERROR_RATE_CHECK,
            f"the primary {bare} is in {region}: its AWS/ApplicationELB metrics are there, and the hub's error_rate "
            f"function reads them in {REGION}",
            "use an alarm of your own in us-east-1 on a metric you publish there (--signal-alarm), or "
            "--error-rate-signal Off",
        )
    return None


def _check_dimensions(elbv2: Any, plan: SignalPlan, balancer: dict[str, Any]) -> Result:
    name, kind = balancer["LoadBalancerName"], balancer.get("Type", "")
    if kind != "application":
        return _not_an_alb(f"load balancer {name} is an {BALANCER_KINDS.get(kind, kind)}")
    own = dimension(balancer["LoadBalancerArn"], "loadbalancer/")
    if plan.load_balancer != own:
        return failed(
            ERROR_RATE_CHECK,
            f"ErrorRateLoadBalancer is {plan.load_balancer}, but the primary {name} is {own}",
            f"set ErrorRateLoadBalancer={own} (--error-rate-load-balancer {own})",
        )
    groups = _target_groups(elbv2, balancer["LoadBalancerArn"])
    if plan.target_group not in groups:
        listed = ", ".join(groups) or "none: give it a listener that forwards to a target group"
        return failed(
            ERROR_RATE_CHECK,
            f"target group {plan.target_group} is not one of ALB {name}'s",
            f"set ErrorRateTargetGroup to the one the site's requests reach; the ALB's target groups: {listed}",
        )
    return passed(
        ERROR_RATE_CHECK,
        f"ALB {name}, target group {plan.target_group}: the hub's error_rate function reads the group's "
        "HTTPCode_Target_5XX_Count and the balancer's HTTPCode_ELB_5XX_Count over the balancer's RequestCount "
        f"in {REGION}; the signal fails above {plan.percent} % for {plan.minutes} minutes (a minute under "
        f"{plan.min_requests} requests counts as 0 %)",
    )


def dimension(arn: str, after: str) -> str:
    """The CloudWatch dimension value in an ELBv2 ARN: app/<name>/<id> after 'loadbalancer/', or the
    targetgroup/<name>/<id> resource itself."""
    resource = arn.split(":", 5)[-1]
    return resource.removeprefix(after) if after else resource


def _target_groups(elbv2: Any, balancer_arn: str) -> list[str]:
    try:
        found = elbv2.describe_target_groups(LoadBalancerArn=balancer_arn).get("TargetGroups", [])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TargetGroupNotFound":
            raise
        found = []
    return [dimension(group["TargetGroupArn"], "") for group in found]


def _not_an_alb(what: str) -> Result:
    return failed(
        ERROR_RATE_CHECK,
        f"{what}: the 5xx-rate signal reads HTTP codes, which only an Application Load Balancer has",
        "--error-rate-signal Off; for a Network Load Balancer alarm on a metric of your own (--signal-alarm)",
    )

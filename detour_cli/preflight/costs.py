"""What this site's health checks and alarms cost a month, item by item: Route 53 and CloudWatch list
prices in us-east-1, checked 2026-11 (the README's "What it costs" uses the same figures). A failover
signal's items are listed too; those whose price was not checked are shown without a figure, as
"(check the AWS price page)", and left out of the total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detour_cli.preflight.result import Result, Status
from detour_cli.preflight.signals import ERROR_RATE_NAME, SignalPlan

CHECK = "cost"
PRICES_AS_OF = "us-east-1 list prices, checked 2026-11, before free tiers"
HEALTH_CHECK_AWS = 0.50  # an AWS endpoint: a load balancer or an Elastic IP
HEALTH_CHECK_OTHER = 0.75  # an endpoint outside AWS
HTTPS = 1.00
STRING_MATCHING = 1.00
FAST_INTERVAL = 1.00  # RequestInterval 10 s
LATENCY = 1.00  # MeasureLatency: Detour does not turn it on
STANDARD_ALARM = 0.10
FREE_AWS_CHECKS = 50  # Route 53: the first 50 health checks on AWS endpoints in an account
# Not priced here. The prices checked for Detour's design (../shared/DESIGN.md, "Facts": endpoint health
# checks and their options) do not cover an alarm-backed (CLOUDWATCH_METRIC) or calculated health check, a
# custom metric, or CloudWatch's GetMetricData / PutMetricData requests; so no figure is given for them,
# rather than an unchecked one. The error-rate alarm is a standard-resolution alarm on one metric, priced as
# the site's HealthAlarm already is (STANDARD_ALARM, the README's figure; not in ../shared either).
UNPRICED = "check the AWS price page"


@dataclass(frozen=True, slots=True)
class CostItem:
    what: str
    dollars: float | None  # None: not priced here (UNPRICED)

    def as_json(self) -> dict[str, Any]:
        if self.dollars is None:
            return {"item": self.what, "usd_per_month": None, "price": UNPRICED}
        return {"item": self.what, "usd_per_month": self.dollars}

    @property
    def shown(self) -> str:
        return f"({UNPRICED})" if self.dollars is None else f"${self.dollars:.2f}"


def _extra(what: str, used: bool, dollars: float, unused: str = "not used") -> CostItem:
    return CostItem(f"  + {what}" + ("" if used else f" ({unused})"), dollars if used else 0.0)


def items(config: dict[str, Any], primary_kind: str) -> list[CostItem]:
    """The site's endpoint health check (as configured) and its health alarm."""
    protocol = str(config.get("Type", ""))
    interval = int(config.get("RequestInterval", 30))
    return [
        CostItem("health check on an AWS endpoint (load balancer or Elastic IP)", HEALTH_CHECK_AWS)
        if primary_kind in ("LoadBalancer", "IPv4")
        else CostItem("health check on an endpoint outside AWS", HEALTH_CHECK_OTHER),
        _extra("HTTPS", protocol.startswith("HTTPS"), HTTPS),
        _extra("string matching", protocol.endswith("_STR_MATCH"), STRING_MATCHING),
        _extra("fast interval (10 s)", interval == 10, FAST_INTERVAL, f"not used: {interval} s"),
        _extra("latency measurement", bool(config.get("MeasureLatency")), LATENCY),
        CostItem("CloudWatch alarm on the health check (standard resolution)", STANDARD_ALARM),
    ]


def signal_items(plan: SignalPlan) -> list[CostItem]:
    """What the site's failover signals add: a health check per signal, the 5xx rate's alarm and metric (and
    the hub function's reads and writes for it), and the calculated check over them all. Nothing without signals."""
    if not plan.any:
        return []
    found = [CostItem(f"health check on alarm {name} (alarm-backed)", None) for name in plan.alarms]
    if plan.error_rate:
        found += [
            CostItem(f"health check on the {ERROR_RATE_NAME} alarm (alarm-backed)", None),
            CostItem(f"CloudWatch alarm on the {ERROR_RATE_NAME} (standard resolution)", STANDARD_ALARM),
            CostItem("custom metric Detour/TargetErrorRate (one value a minute)", None),
            CostItem("GetMetricData (3 metrics a minute) and PutMetricData for it, by the hub", None),
        ]
    found.append(CostItem(f"calculated health check over the {plan.checks} checks (FailoverCheck)", None))
    return found


def not_priced(found: list[CostItem]) -> list[str]:
    return [item.what for item in found if item.dollars is None]


def total(found: list[CostItem]) -> float:
    """The priced items' sum (an item not priced here adds nothing)."""
    return round(sum(item.dollars or 0.0 for item in found), 2)


def check_cost(config: dict[str, Any], primary_kind: str, plan: SignalPlan | None = None) -> Result:
    found = items(config, primary_kind) + (signal_items(plan) if plan is not None else [])
    priced = [item for item in found if item.dollars is not None]
    unpriced = not_priced(found)
    width = max(len(item.what) for item in priced)
    lines = tuple(f"{item.what:<{width}}  {item.shown}" for item in priced)
    if unpriced:  # under the priced ones: "(check the AWS price page)" would not fit the price column
        lines += (f"not priced here, so not in the total ({UNPRICED}):", *(f"  {what}" for what in unpriced))
    notes: tuple[str, ...] = (
        f"{PRICES_AS_OF} (the first {FREE_AWS_CHECKS} health checks on AWS endpoints are free); an endpoint "
        "outside AWS costs $0.75, not $0.50",
    )
    if plan is not None and plan.alarms:
        notes += ("the signal alarms themselves are billed already, whether Detour uses them or not",)
    data = {
        "usd_per_month": total(found),
        "items": [item.as_json() for item in found],
        "prices": PRICES_AS_OF,
        "not_priced": unpriced,
    }
    signals = plan is not None and plan.any
    title = f"${total(found):.2f} a month for this site's health check{'s' if signals else ''} and alarms"
    if unpriced:
        title += f", plus {len(unpriced)} item(s) not priced here ({UNPRICED})"
    return Result(CHECK, Status.INFO, title, lines + notes, data=data)

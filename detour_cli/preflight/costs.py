"""What this site's health check and alarms cost a month, item by item: Route 53 and CloudWatch list
prices in us-east-1, checked 2026-11 (the README's "What it costs" uses the same figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detour_cli.preflight.result import Result, Status

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


@dataclass(frozen=True, slots=True)
class CostItem:
    what: str
    dollars: float

    def as_json(self) -> dict[str, Any]:
        return {"item": self.what, "usd_per_month": self.dollars}


def _extra(what: str, used: bool, dollars: float, unused: str = "not used") -> CostItem:
    return CostItem(f"  + {what}" + ("" if used else f" ({unused})"), dollars if used else 0.0)


def items(config: dict[str, Any], primary_kind: str) -> list[CostItem]:
    """The site's health check (as configured) and its health alarm. Signal alarms are not priced yet:
    see not_priced()."""
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


def not_priced(signal_alarms: tuple[str, ...]) -> list[str]:
    """What signals add to the bill and this total leaves out: for each signal alarm Route 53 gets one
    alarm-backed health check, and one calculated health check combines them with the endpoint's. Their
    prices are not checked yet, so no figure is given rather than a wrong one."""
    if not signal_alarms:
        return []
    return [
        f"not priced yet: the {len(signal_alarms)} signal alarm(s) add one alarm-backed Route 53 health check "
        "each and one calculated health check combining them; those health checks are not in this total "
        "(the alarms themselves are billed already, whether Detour uses them or not)"
    ]


def total(found: list[CostItem]) -> float:
    return round(sum(item.dollars for item in found), 2)


def check_cost(config: dict[str, Any], primary_kind: str, signal_alarms: tuple[str, ...] = ()) -> Result:
    found = items(config, primary_kind)
    width = max(len(item.what) for item in found)
    lines = tuple(f"{item.what:<{width}}  ${item.dollars:.2f}" for item in found)
    notes: tuple[str, ...] = (
        f"{PRICES_AS_OF} (the first {FREE_AWS_CHECKS} health checks on AWS endpoints are free); an endpoint "
        "outside AWS costs $0.75, not $0.50",
    )
    unpriced = not_priced(signal_alarms)
    notes += tuple(unpriced)
    data = {
        "usd_per_month": total(found),
        "items": [item.as_json() for item in found],
        "prices": PRICES_AS_OF,
        "not_priced": unpriced,
    }
    return Result(
        CHECK,
        Status.INFO,
        f"${total(found):.2f} a month for this site's health check and alarms"
        + (" (signals not priced yet)" if unpriced else ""),
        lines + notes,
        data=data,
    )

"""The README's sample output of `detour site list`, `detour status` and `detour report`: the tests'
local setup (moto's server, the hub and two site stacks, the local authoritative name server) with
a month of windows at www.detour.test, which has two failover signals (an alarm of its own and the
5xx rate: ADR 0002), then an outage of api.detour.test while www stays healthy, then www's 5xx rate
failing while its endpoint probe passes. Each outage's cause is recorded as the functions record it
(read_signals, claimed once); www's older windows are from before causes were recorded.
Run: PYTHONPATH=.:layers/common .venv/bin/python -m tests.cli.sample_run"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import boto3

import tests.conftest  # noqa: F401 - offline AWS credentials, never a real account
from detour.incidents.sites import SignalKind
from detour.incidents.transition import format_time
from detour.signals.causes import CauseLog
from detour.signals.states import read_signals
from detour_cli.main import main
from tests.cli.dns_server import AuthoritativeTestServer
from tests.cli.world import (
    DISTRIBUTION,
    ERROR_RATE_ALARM,
    OTHER_DISTRIBUTION,
    World,
    add_other_site,
    add_signals,
    build_world,
)
from tests.support.aws import create_incidents_table, start_moto

THRESHOLD = "Threshold Crossed: 1 out of the last 1 datapoints [0.0] was less than the threshold (1.0)."
CHECKOUT_ALARM = "www-checkout-errors"  # an alarm of the operator's own (SignalAlarm1)


def rate_reason(now: datetime) -> str:
    """CloudWatch's reason for the error-rate alarm (Maximum > 5 % for 3 of 3 minutes), its minutes just before now."""
    minutes = [now.replace(second=0, microsecond=0) - timedelta(minutes=back) for back in (1, 2, 3)]
    points = ", ".join(f"{rate} ({m:%d/%m/%y %H:%M:%S})" for rate, m in zip((12.5, 9.0, 7.1), minutes, strict=True))
    return (
        f"Threshold Crossed: 3 out of the last 3 datapoints [{points}] were greater than the threshold (5.0) "
        "(minimum 3 datapoints for OK -> ALARM transition)."
    )


def record_cause(world: World, at: datetime) -> None:
    """What the first function to get the ALARM does: read the site's checks and claim them as its cause
    (read now, stamped with the alarm's time, when the function would have read them)."""
    reading = read_signals(world.site, boto3.client("route53"), boto3.client("cloudwatch"), at)
    log = CauseLog(world.table_name, boto3.client("dynamodb"))
    log.claim(world.check_id, f"{format_time(at)}#{world.alarm}", reading)


def sample() -> None:
    server, url = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        world = build_world(create_incidents_table().name)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        world.outage(now - timedelta(days=30, minutes=20), now - timedelta(days=29, hours=23, minutes=48), THRESHOLD)
        world.outage(now - timedelta(days=12, hours=3), now - timedelta(days=12, hours=1, minutes=56), THRESHOLD)
        maintenance = now - timedelta(days=5)
        world.outage(maintenance, maintenance + timedelta(minutes=95), THRESHOLD, planned=True)  # what the alarm says
        outage = now - timedelta(days=2, hours=4)
        world.outage(outage, outage + timedelta(minutes=7, seconds=12), THRESHOLD)
        www = add_signals(
            world,
            (
                (CHECKOUT_ALARM, SignalKind.ALARM, CHECKOUT_ALARM),
                ("5xx rate", SignalKind.ERROR_RATE, ERROR_RATE_ALARM),
            ),
        )
        api = add_other_site(world)
        names = {DISTRIBUTION: ["198.51.100.7", "198.51.100.8"], OTHER_DISTRIBUTION: ["198.51.100.17"]}
        with AuthoritativeTestServer(world.zone_id, names) as dns:
            local_dns = ["--nameserver", dns.address, "--resolver", dns.address]
            steps = (
                ["site", "list"],
                ["status", *local_dns],
                "api",
                ["status", *local_dns],
                ["status", "--site", "api.detour.test", *local_dns],
                "www",
                ["status", *local_dns],
                ["status", "--site", "www.detour.test", *local_dns],
                ["report"],
                ["report", "--site", "www.detour.test", "--format", "csv"],
            )
            for argv in steps:
                if argv == "api":
                    api.invert(True)
                    fired = datetime.now(UTC) - timedelta(minutes=6)
                    api.transition("ALARM", fired, THRESHOLD)
                    record_cause(api, fired)
                    print(
                        f"\n$ aws route53 update-health-check --health-check-id {api.check_id} --inverted"
                        "  # api.detour.test fails over; its alarm fired 6 min ago"
                    )
                    continue
                if argv == "www":
                    cloudwatch = boto3.client("cloudwatch")
                    cloudwatch.set_alarm_state(
                        AlarmName=ERROR_RATE_ALARM, StateValue="ALARM", StateReason=rate_reason(datetime.now(UTC))
                    )
                    fired = datetime.now(UTC)  # the calculated check turns unhealthy; the health alarm follows it
                    cloudwatch.set_alarm_state(AlarmName=www.alarm, StateValue="ALARM", StateReason=THRESHOLD)
                    www.transition("ALARM", fired, THRESHOLD)
                    record_cause(www, fired)
                    print(
                        "\n# then www.detour.test's target 5xx rate stays above 5 % for 3 minutes while /health answers"
                        " 200: its error-rate alarm goes to ALARM, and so does its health alarm"
                    )
                    continue
                assert isinstance(argv, list)
                print(f"\n$ detour {' '.join(argv)}")
                print(f"[exit {main(argv)}]")
    finally:
        server.stop()


if __name__ == "__main__":
    sample()

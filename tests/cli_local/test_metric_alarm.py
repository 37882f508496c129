"""The rehearsal's CloudWatch for a metric alarm (a site's error-rate alarm): M out of N periods,
missing data, and the state written to the emulator with CloudWatch's wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from detour_cli.local.metric_alarm import INITIAL_REASON, MetricAlarm, evaluate

NAME = "detour/detour-site-shop/error-rate"


@pytest.mark.parametrize(
    ("values", "treat_missing", "current", "expected"),
    [
        ([30.0, 30.0], "missing", "OK", "ALARM"),  # 2 of 2 above 10
        ([0.0, 30.0], "missing", "OK", "OK"),  # 1 of 2 is not enough
        ([30.0, 0.0], "missing", "ALARM", "OK"),  # one good minute ends it
        ([None, None], "missing", "OK", "INSUFFICIENT_DATA"),  # error_rate stopped publishing
        ([None, 30.0], "missing", "INSUFFICIENT_DATA", "OK"),  # some data: evaluated on what there is
        ([None, None], "ignore", "ALARM", "ALARM"),
        ([None, 30.0], "ignore", "OK", "OK"),  # not enough to alarm, nothing within the threshold: kept
        ([None, 30.0], "breaching", "OK", "ALARM"),
        ([None, None], "notBreaching", "ALARM", "OK"),
        ([10.0, 10.0], "missing", "OK", "OK"),  # GreaterThanThreshold: 10 is not above 10
    ],
)
def test_m_out_of_n_and_missing_data(
    values: list[float | None], treat_missing: str, current: str, expected: str
) -> None:
    state = evaluate(
        values,
        threshold=10.0,
        comparison="GreaterThanThreshold",
        datapoints_to_alarm=2,
        treat_missing=treat_missing,
        current=current,
    )
    assert state == expected


def test_the_alarm_reads_its_metric_from_the_emulator_and_writes_its_state(aws: str) -> None:
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=NAME,
        Namespace="Detour",
        MetricName="TargetErrorRate",
        Dimensions=[{"Name": "Site", "Value": "detour-site-shop"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=2,
        DatapointsToAlarm=2,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="missing",
    )
    alarm = MetricAlarm(NAME, cloudwatch)
    alarm.created()
    assert (alarm.state, alarm.describe()["StateReason"]) == ("INSUFFICIENT_DATA", INITIAL_REASON)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)

    def publish(minute: int, *values: float) -> None:  # a minute published more than once: Maximum counts
        for value in values:
            cloudwatch.put_metric_data(
                Namespace="Detour",
                MetricData=[
                    {
                        "MetricName": "TargetErrorRate",
                        "Dimensions": [{"Name": "Site", "Value": "detour-site-shop"}],
                        "Timestamp": start + timedelta(minutes=minute),
                        "Value": value,
                        "Unit": "Percent",
                    }
                ],
            )

    nothing = alarm.evaluate_at(start + timedelta(minutes=2))
    assert (nothing.new_state, nothing.changed) == ("INSUFFICIENT_DATA", False)
    assert nothing.periods == ((start, None), (start + timedelta(minutes=1), None))

    publish(0, 0.0)
    publish(1, 5.0, 28.5)
    first = alarm.evaluate_at(start + timedelta(minutes=2))
    assert (first.old_state, first.new_state) == ("INSUFFICIENT_DATA", "OK")
    assert [value for _, value in first.periods] == [0.0, 28.5]

    publish(2, 30.0)
    alarmed = alarm.evaluate_at(start + timedelta(minutes=3))
    assert (alarmed.old_state, alarmed.new_state) == ("OK", "ALARM")
    described = alarm.describe()
    assert described["StateValue"] == "ALARM"
    assert described["StateReason"] == alarmed.reason
    assert alarmed.reason.startswith(
        f"Threshold Crossed: 2 out of the last 2 datapoints [30.0 ({start + timedelta(minutes=2):%d/%m/%y %H:%M:%S}), "
        f"28.5 ({start + timedelta(minutes=1):%d/%m/%y %H:%M:%S})] were greater than the threshold (10.0)"
    )
    assert alarmed.reason.endswith("(minimum 2 datapoints for OK -> ALARM transition).")

    again = alarm.evaluate_at(start + timedelta(minutes=3))
    assert (again.new_state, again.changed) == ("ALARM", False)

    publish(3, 0.0)
    recovered = alarm.evaluate_at(start + timedelta(minutes=4))
    assert (recovered.old_state, recovered.new_state) == ("ALARM", "OK")
    assert "1 out of the last 2 datapoints [0.0 (" in recovered.reason
    assert "was not greater than the threshold (10.0)" in recovered.reason

    stopped = alarm.evaluate_at(start + timedelta(minutes=10))  # error_rate stopped: no data in the range
    assert (stopped.new_state, stopped.reason) == ("INSUFFICIENT_DATA", "Insufficient Data: 2 datapoints were unknown.")
    assert alarm.state == "INSUFFICIENT_DATA"

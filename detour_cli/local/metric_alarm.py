"""A CloudWatch metric alarm, evaluated locally: the emulator stores alarms and datapoints but never
evaluates one. Used for a site's error-rate alarm (`<hub>/<site stack>/error-rate` on Detour
TargetErrorRate), which backs its 5xx-rate health check.

At an evaluation time T the alarm reads its metric's statistic for its last EvaluationPeriods
periods before T from the emulator (GetMetricStatistics), then, as CloudWatch does:
- ALARM when at least DatapointsToAlarm of those periods breach the threshold (a missing period
  counts as TreatMissingData says: breaching, notBreaching, or not at all for missing and ignore);
- otherwise OK when any period has data (for `ignore`: a datapoint within the threshold), or when
  missing data counts as breaching or not;
- otherwise INSUFFICIENT_DATA for `missing` (no data at all), the current state for `ignore`.
A change of state is written with SetAlarmState, with a reason worded as CloudWatch words it.

Simplification: CloudWatch evaluates every period on its own clock, and looks further back when
data is missing; here the caller says when (the rehearsal's back-dated minutes), and the range is
exactly the alarm's evaluation periods.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
INITIAL_REASON = "Unchecked: Initial alarm creation"  # CloudWatch's reason for a new alarm

COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": ("greater than", operator.gt),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", operator.ge),
    "LessThanThreshold": ("less than", operator.lt),
    "LessThanOrEqualToThreshold": ("less than or equal to", operator.le),
}


def breaches(value: float, threshold: float, comparison: str) -> bool:
    return COMPARISONS[comparison][1](value, threshold)


def evaluate(
    values: Sequence[float | None],
    *,
    threshold: float,
    comparison: str,
    datapoints_to_alarm: int,
    treat_missing: str = "missing",
    current: str = INSUFFICIENT_DATA,
) -> str:
    """The state for these periods' values (oldest first; None: no data in that period)."""
    present = [value for value in values if value is not None]
    missing = len(values) - len(present)
    breaching = sum(1 for value in present if breaches(value, threshold, comparison))
    if treat_missing == "breaching":
        breaching += missing
    if breaching >= datapoints_to_alarm:
        return ALARM
    if treat_missing == "ignore":  # skipped: only a datapoint within the threshold makes it OK
        return OK if breaching < len(present) else current
    if present or treat_missing in ("breaching", "notBreaching"):
        return OK
    return INSUFFICIENT_DATA


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluation: the periods read (start, value or None), oldest first, and the states."""

    at: datetime
    periods: tuple[tuple[datetime, float | None], ...]
    old_state: str
    new_state: str
    reason: str

    @property
    def changed(self) -> bool:
        return self.old_state != self.new_state


class MetricAlarm:
    """One alarm of the emulator, evaluated when told (`evaluate_at`)."""

    def __init__(self, alarm_name: str, cloudwatch: Any) -> None:
        self.alarm_name = alarm_name
        self._cloudwatch = cloudwatch

    def describe(self) -> dict[str, Any]:
        alarms = self._cloudwatch.describe_alarms(AlarmNames=[self.alarm_name])["MetricAlarms"]
        if not alarms:
            raise LookupError(f"no alarm {self.alarm_name} in the emulator")
        alarm: dict[str, Any] = alarms[0]
        return alarm

    @property
    def state(self) -> str:
        return str(self.describe()["StateValue"])

    def created(self) -> None:
        """Put the alarm in the state CloudWatch gives a new alarm (the emulator starts it OK)."""
        self._cloudwatch.set_alarm_state(
            AlarmName=self.alarm_name, StateValue=INSUFFICIENT_DATA, StateReason=INITIAL_REASON
        )

    def evaluate_at(self, at: datetime) -> Evaluation:
        """Evaluate the alarm as at `at` (its last EvaluationPeriods periods before it), and write a
        change of state to the emulator."""
        alarm = self.describe()
        period = timedelta(seconds=int(alarm["Period"]))
        count = int(alarm["EvaluationPeriods"])
        starts = [at - period * (count - i) for i in range(count)]
        statistic = str(alarm["Statistic"])
        points = self._cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm.get("Dimensions", []),
            StartTime=starts[0],
            EndTime=at,
            Period=int(period.total_seconds()),
            Statistics=[statistic],
        )["Datapoints"]
        by_start = {point["Timestamp"].astimezone(UTC): float(point[statistic]) for point in points}
        periods = tuple((start, by_start.get(start)) for start in starts)
        threshold = float(alarm["Threshold"])
        comparison = str(alarm["ComparisonOperator"])
        to_alarm = int(alarm.get("DatapointsToAlarm") or count)
        old = str(alarm["StateValue"])
        new = evaluate(
            [value for _, value in periods],
            threshold=threshold,
            comparison=comparison,
            datapoints_to_alarm=to_alarm,
            treat_missing=str(alarm.get("TreatMissingData", "missing")),
            current=old,
        )
        reason = reason_for(new, old, periods, threshold=threshold, comparison=comparison, datapoints_to_alarm=to_alarm)
        if new != old:
            self._cloudwatch.set_alarm_state(AlarmName=self.alarm_name, StateValue=new, StateReason=reason)
        return Evaluation(at, periods, old, new, reason)


def reason_for(
    new: str,
    old: str,
    periods: Sequence[tuple[datetime, float | None]],
    *,
    threshold: float,
    comparison: str,
    datapoints_to_alarm: int,
) -> str:
    """The StateReason CloudWatch writes, newest datapoint first."""
    present = [(start, value) for start, value in reversed(periods) if value is not None]
    if new == INSUFFICIENT_DATA:
        unknown = len(periods) - len(present)
        return f"Insufficient Data: {unknown} datapoint{'s were' if unknown != 1 else ' was'} unknown."
    words = COMPARISONS[comparison][0]
    if new == ALARM:
        shown = [(s, v) for s, v in present if breaches(v, threshold, comparison)]
        relation, needed = f"{'were' if len(shown) != 1 else 'was'} {words}", datapoints_to_alarm
    else:
        shown = [(s, v) for s, v in present if not breaches(v, threshold, comparison)]
        relation, needed = f"{'were' if len(shown) != 1 else 'was'} not {words}", 1
    listed = ", ".join(f"{float(value)} ({start:%d/%m/%y %H:%M:%S})" for start, value in shown)
    return (
        f"Threshold Crossed: {len(shown)} out of the last {len(periods)} datapoints [{listed}] {relation} the "
        f"threshold ({float(threshold)}) (minimum {needed} datapoint{'s' if needed != 1 else ''} for {old} -> {new} "
        "transition)."
    )

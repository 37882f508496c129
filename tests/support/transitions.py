"""Transitions built directly (no SNS round trip), `minute` minutes after T0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detour.incidents.transition import AlarmState, Transition

T0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def transition(
    state: AlarmState | str,
    minute: float,
    site: str = "hc-1",
    reason: str | None = None,
    old_state: AlarmState | str = AlarmState.OK,
) -> Transition:
    return Transition(
        site_id=site,
        alarm_name="detour-primary-health",
        alarm_arn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:detour-primary-health",
        alarm_description="Detour: primary failing",
        account_id="123456789012",
        region="us-east-1",
        new_state=AlarmState(state),
        old_state=AlarmState(old_state),
        reason=reason if reason is not None else f"{state} at {minute}",
        changed_at=T0 + timedelta(minutes=minute),
    )


def chain(states: list[tuple[str, float]], site: str = "hc-1", first_old: str = "OK") -> list[Transition]:
    """Transitions as CloudWatch sends them for one alarm: each one's old state is the one before."""
    olds = [first_old, *(state for state, _ in states[:-1])]
    return [transition(state, minute, site, old_state=old) for (state, minute), old in zip(states, olds, strict=True)]

"""Transitions and page inputs for the maintenance-page tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detour.incidents.transition import AlarmState, Transition
from detour.incidents.updates import Source, Stage, Timeline, Update
from detour.page.render import PageSettings
from tests.support.events import ACCOUNT, ALARM_NAME, SITE_ID

T0 = datetime(2026, 11, 21, 2, 14, 27, 123000, tzinfo=UTC)
SETTINGS = PageSettings(
    site_name="Example Shop",
    default_message="We are working to restore the service.",
    contact_url="mailto:support@example.com",
)
# Everything a browser could take for markup or script, in one string.
HOSTILE = (
    '<script>alert(1)</script><img src=x onerror=alert(2)>"\'></p><a href="javascript:alert(3)">x</a>'
    "</script><!-- {{ 7*7 }} ${alert(4)}"
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def transition(state: str, minutes: float, *, reason: str = "Threshold Crossed", description: str = "") -> Transition:
    old = {"ALARM": "OK", "OK": "ALARM", "INSUFFICIENT_DATA": "ALARM"}[state]
    return Transition(
        site_id=SITE_ID,
        alarm_name=ALARM_NAME,
        alarm_arn=f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{ALARM_NAME}",
        alarm_description=description,
        account_id=ACCOUNT,
        region="us-east-1",
        new_state=AlarmState(state),
        old_state=AlarmState(old),
        reason=reason,
        changed_at=at(minutes),
    )


def update(
    stage: str, minutes: float, message: str = "We found the cause.", *, source: str = "slack", author: str = "U0SECRET"
) -> Update:
    """A timeline entry posted `minutes` after T0 (by a person unless `source` says otherwise)."""
    return Update(
        site_id=SITE_ID,
        stage=Stage(stage),
        message=message,
        posted_at=at(minutes),
        source=Source(source),
        author=author,
        update_id=f"test-{stage}-{minutes}-{source}",
    )


def timeline(*updates: Update, earlier: int = 0) -> Timeline:
    """Newest first, as UpdateLog.timeline reads it."""
    return Timeline(updates=sorted(updates, key=lambda u: u.posted_at, reverse=True), earlier=earlier)

"""Bring the published maintenance page up to date with what the incident store knows.

record the transition being handled, read the site's transitions and notice -> decide the status -> render the
page and status.json -> publish them. Shared by refresh_page (on every alarm transition) and
page_setup (at deploy).
"""

from __future__ import annotations

from datetime import datetime

from detour.incident_store import IncidentStore
from detour.page import HISTORY_LENGTH, PageSettings, render_page, render_status
from detour.page_publisher import PagePublisher
from detour.page_status import PageStatus, SiteHistory, page_status
from detour.site_notice import NoticeBoard, during_maintenance
from detour.transition import Transition


def refresh(
    site_id: str,
    *,
    store: IncidentStore,
    notices: NoticeBoard,
    publisher: PagePublisher,
    settings: PageSettings,
    now: datetime,
    transition: Transition | None = None,
) -> PageStatus:
    """`transition` is the one being handled. It is recorded here too (recording is idempotent and
    shared with the other functions), so the page never depends on another function having recorded
    it: a retried, older event still sees every newer transition this function handled."""
    if transition is not None:
        recorded = store.record(during_maintenance(transition, notices)).transitions
    else:
        recorded = store.transitions(site_id)
    history = SiteHistory.of(recorded)
    status = page_status(history, notices.current(site_id, now), settings.default_message, now)
    page = render_page(status, history.recent_windows(HISTORY_LENGTH), settings)
    publisher.publish(page, render_status(status))
    return status

"""Bring the published maintenance page up to date with what the incident store knows.

record the transition being handled, read the newest transition and windows and the notice ->
decide the status -> render the page and status.json -> publish them over any older page. Shared
by refresh_page (on every alarm transition) and page_setup (at deploy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from detour.incident_store import IncidentStore
from detour.page import HISTORY_LENGTH, PageSettings, render_page, render_status
from detour.page_publisher import PagePublisher
from detour.page_status import PageStatus, SiteHistory, page_status
from detour.site_notice import NoticeBoard, during_maintenance
from detour.transition import Transition, format_time


def refresh(
    site_id: str,
    *,
    store: IncidentStore,
    notices: NoticeBoard,
    publisher: PagePublisher,
    settings: PageSettings,
    now: datetime,
    transition: Transition | None = None,
) -> Refreshed:
    """`transition` is the one being handled. It is recorded here too (recording is idempotent and
    shared with the other functions), so the page never depends on another function having recorded
    it. The page is rendered from one version of the site's windows and published only over an
    older page, so a late or slow refresh never takes the page back in time."""
    if transition is not None:
        store.record(during_maintenance(transition, notices))
    snapshot = store.snapshot(site_id, HISTORY_LENGTH)
    history = SiteHistory(latest=snapshot.latest, recent=snapshot.recent_windows)
    status = page_status(history, notices.current(site_id, now), settings.default_message, now)
    page = render_page(status, history.recent_windows(HISTORY_LENGTH), settings)
    published = publisher.publish(page, render_status(status), order=f"{snapshot.version:012d}|{format_time(now)}")
    return Refreshed(status=status, published=published)


@dataclass(frozen=True, slots=True)
class Refreshed:
    status: PageStatus
    published: bool  # False: a newer page was already there

"""Bring the published maintenance page up to date with what the incidents table knows.

record the transition being handled (if any), read the newest transition and windows, the notice
and the current incident's timeline -> decide the status -> render the page and status.json ->
publish them over any older page, unless they are what is already published. Shared by
refresh_page (on every alarm transition, every posted update, and every few minutes) and
site_setup (when a site is added or changed, and when the hub's page template changes).

Also here: which refresh an event to refresh_page asks for (`refresh_request`), so the handler reads
as the story and the event shapes live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from detour.incidents.notices import NoticeBoard, during_maintenance
from detour.incidents.sites import RegisteredSite
from detour.incidents.store import IncidentStore
from detour.incidents.transition import Transition, format_time
from detour.incidents.updates import UpdateLog, current_span
from detour.page.publisher import PagePublisher
from detour.page.render import HISTORY_LENGTH, MAX_UPDATES, PageSettings, render
from detour.page.status import PageStatus, SiteHistory, page_status, with_cause
from detour.runtime import direct_events
from detour.signals.causes import CauseLog, OutageCauses

if TYPE_CHECKING:
    from detour.signals.states import SignalReading

SCHEDULE_REASON = "schedule"


class InvalidRefreshRequest(ValueError):
    """An event refresh_page cannot act on: the text says which and why."""


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """A refresh not caused by an alarm transition: a posted update, an operator, or the schedule."""

    site_id: str | None  # None: every registered site (the schedule)
    reason: str


def refresh_request(event: Any) -> RefreshRequest | None:
    """The refresh a direct or scheduled event asks for; None for any other event (the SNS alarm
    path parses those). The schedule asks for every registered site (`site_id` None); a direct
    event names one, which the handler then finds in the registry or refuses."""
    if direct_events.kind_of(event) is not None:
        kind = direct_events.kind_of(event)
        if kind != direct_events.REFRESH:
            raise InvalidRefreshRequest(f"refresh_page takes {direct_events.REFRESH!r} events, not {kind!r}")
        return RefreshRequest(
            site_id=direct_events.field(event, "site_id"), reason=direct_events.field(event, "reason")
        )
    if (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    ):
        return RefreshRequest(site_id=None, reason=SCHEDULE_REASON)
    return None


@dataclass(frozen=True, slots=True)
class SitePages:
    """The hub's maintenance pages, one per registered site, each under its own prefix of the one
    bucket and served by its own distribution: what refresh_page and site_setup publish with."""

    table_name: str
    bucket: str
    dynamodb: Any
    s3: Any
    cloudfront: Any

    def publisher(self, site: RegisteredSite) -> PagePublisher:
        return PagePublisher(
            self.bucket,
            site.distribution_id,
            self.s3,
            self.cloudfront,
            prefix=site.page_prefix,
            retry_after_s=site.retry_after_s,
        )

    def refresh(
        self,
        site: RegisteredSite,
        now: datetime,
        transition: Transition | None = None,
        cause: SignalReading | None = None,
    ) -> Refreshed:
        """`cause`: the handled ALARM's recorded cause, when the caller has it already."""
        return refresh(
            site.site_id,
            transition=transition,
            causes=OutageCauses(CauseLog(self.table_name, self.dynamodb), site, transition, cause),
            store=IncidentStore(self.table_name, self.dynamodb),
            notices=NoticeBoard(self.table_name, self.dynamodb),
            updates=UpdateLog(self.table_name, self.dynamodb),
            publisher=self.publisher(site),
            settings=page_settings(site),
            now=now,
        )

    def refresh_every_site(self, sites: list[RegisteredSite], now: datetime) -> Sweep:
        """Every site's page, each uploaded only if it changed. Whatever fails for one site (S3,
        CloudFront, DynamoDB, a setting a newer layer refuses) holds up no other: it is collected
        for the caller to report."""
        sweep = Sweep()
        for site in sites:
            try:
                sweep.refreshed[site.site_id] = self.refresh(site, now)
            except Exception as error:  # reported by the caller, never swallowed
                sweep.failed[site.site_id] = f"{site.domain}: {type(error).__name__}: {error}"
        return sweep


@dataclass(frozen=True, slots=True)
class Sweep:
    """What refreshing every site did: each site's page, or why it failed."""

    refreshed: dict[str, Refreshed] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # site id -> "<domain>: <error>"

    @property
    def published(self) -> int:
        return sum(refreshed.published for refreshed in self.refreshed.values())

    def failure_summary(self) -> str:
        return f"{len(self.failed)} of {len(self.failed) + len(self.refreshed)} pages failed: " + "; ".join(
            self.failed.values()
        )


def page_settings(site: RegisteredSite) -> PageSettings:
    return PageSettings(site_name=site.site_name, default_message=site.default_message, contact_url=site.contact_url)


def refresh(
    site_id: str,
    *,
    store: IncidentStore,
    notices: NoticeBoard,
    updates: UpdateLog,
    publisher: PagePublisher,
    settings: PageSettings,
    now: datetime,
    transition: Transition | None = None,
    causes: OutageCauses | None = None,
) -> Refreshed:
    """`transition` is the one being handled. It is recorded here too (recording is idempotent and
    shared with the other functions), so the page never depends on another function having recorded
    it. The page is rendered from one version of the site's windows and published only over an
    older page, and not at all when it is what is already published, so a refresh that learns
    nothing new writes and invalidates nothing, and a late or slow one never takes the page back."""
    if transition is not None:
        store.record(during_maintenance(transition, notices))
    snapshot = store.snapshot(site_id, HISTORY_LENGTH)
    history = SiteHistory(latest=snapshot.latest, recent=snapshot.recent_windows)
    timeline = updates.timeline(site_id, span=current_span(snapshot.recent_windows, now), limit=MAX_UPDATES)
    status = page_status(history, notices.current(site_id, now), settings.default_message, now, timeline)
    if causes is not None and status.started_at is not None and not status.planned:
        status = with_cause(status, causes.reading(status.started_at))
    rendered = render(status, history.recent_windows(HISTORY_LENGTH), settings)
    published = publisher.publish(
        rendered.page, rendered.status_json, order=f"{snapshot.version:012d}|{format_time(now)}"
    )
    return Refreshed(status=rendered.status, published=published)


@dataclass(frozen=True, slots=True)
class Refreshed:
    status: PageStatus  # as published: the updates shown, the others counted as earlier
    published: bool  # False: the same page, or a newer one, was already there

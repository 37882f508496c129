"""The rules for an update a person posts, the same from Slack (`/detour update [stage] <message>`)
and from a terminal (`detour update [--stage STAGE] "message"`).

- The stage is one of `Stage`; without one, the incident's current stage: the newest entry of its
  timeline, else `in_progress` while planned maintenance is under way, else `investigating`.
- The message is 1..500 characters (`Update` refuses anything else, in words fit for the poster).
- Pressing enter twice is harmless: the id is a hash of the source, author, stage, message and the
  minute, so a second post within the minute finds the first (the table keeps one); one in the next
  minute is caught by `recent_duplicate`, which looks back a minute.
- Which incident it joins is decided by its time and stage (see `incidents.updates`): `IncidentContext`
  says it in words for the poster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from detour.incidents.notices import NoticeBoard
from detour.incidents.store import IncidentStore
from detour.incidents.transition import format_time
from detour.incidents.updates import (
    LEAD,
    RESOLVED_FOR,
    Source,
    Span,
    Stage,
    Timeline,
    Update,
    UpdateLog,
    current_span,
    incident_window,
    parse_stage,
)
from detour.incidents.windows import FailoverWindow

AGAIN_WITHIN = timedelta(minutes=1)  # the same update by the same person this soon is the same post
STAGE_NAMES = ", ".join(stage.value for stage in Stage)


@dataclass(frozen=True, slots=True)
class IncidentContext:
    """What an update posted `now` would join: the incident's window (None: news for the next one),
    where its timeline starts, its newest entries, and whether planned maintenance is under way."""

    site_id: str
    now: datetime
    before: FailoverWindow | None  # the last window that started by now
    span: Span
    timeline: Timeline
    maintenance: bool

    @property
    def start(self) -> datetime:
        return self.span.since

    @property
    def default_stage(self) -> Stage:
        """The incident's current stage; never a closing one (an update after the recovery that says
        nothing of its stage is news, not the old incident's closing word: say `resolved` to close)."""
        current = self.timeline.stage
        if current is not None and not current.closing:
            return current
        return Stage.IN_PROGRESS if self.planned else Stage.INVESTIGATING

    @property
    def planned(self) -> bool:
        """Planned maintenance: under way by the notice, or the window says so."""
        return self.maintenance or (self.before is not None and self.before.ended_at is None and self.before.planned)

    def window_for(self, stage: Stage) -> FailoverWindow | None:
        """The window an update of this stage posted now joins (None: news for the next incident)."""
        return incident_window(self.now, self.before, closing=stage.closing)

    @property
    def window(self) -> FailoverWindow | None:
        """The window an update with the default stage joins."""
        return self.window_for(self.default_stage)


def read_context(
    site_id: str, *, store: IncidentStore, log: UpdateLog, notices: NoticeBoard, now: datetime, limit: int = 10
) -> IncidentContext:
    """Four reads: the two newest windows, the timeline since it starts, and the notice."""
    recent = store.windows(site_id, limit=2)
    span = current_span(recent, now)
    before = next((w for w in recent if w.started_at <= now), None)
    notice = notices.current(site_id, now)
    maintenance = notice is not None and notice.planned and (notice.since is None or notice.since <= now)
    return IncidentContext(
        site_id=site_id,
        now=now,
        before=before,
        span=span,
        timeline=log.timeline(site_id, span=span, limit=limit),
        maintenance=maintenance,
    )


def choose_stage(text: str | None, context: IncidentContext) -> Stage:
    """The stage asked for (InvalidUpdate listing the stages if it is not one), or the default."""
    return parse_stage(text) if text and text.strip() else context.default_stage


def derived_update_id(source: Source, author: str, stage: Stage, message: str, at: datetime) -> str:
    minute = format_time(at)[:16]  # 2026-11-29T18:05
    digest = hashlib.sha256("\n".join((source.value, author, stage.value, message, minute)).encode()).hexdigest()
    return f"{source.value}:{digest[:40]}"


def compose(site_id: str, *, stage: Stage, message: str, author: str, source: Source, now: datetime) -> Update:
    """The update to post (InvalidUpdate if the message is empty or too long)."""
    message = message.strip()
    return Update(
        site_id=site_id,
        stage=stage,
        message=message,
        posted_at=now,
        source=source,
        author=author,
        update_id=derived_update_id(source, author, stage, message, now),
    )


def recent_duplicate(update: Update, log: UpdateLog) -> Update | None:
    """The same update by the same person, posted less than a minute before it (across a minute's
    boundary, where the ids differ): posting it again would only repeat it on the page and in Slack."""
    recent = log.timeline(update.site_id, since=update.posted_at - AGAIN_WITHIN, limit=50).updates
    return next(
        (
            u
            for u in recent
            if (u.source, u.author, u.stage, u.message) == (update.source, update.author, update.stage, update.message)
            and u.posted_at <= update.posted_at
        ),
        None,
    )


def joins(window: FailoverWindow | None, *, maintenance: bool = False, closing: bool = False) -> str:
    """Which incident an update belongs to, for the person who posted it (after "It belongs to")."""
    if window is None and closing:
        minutes = int(RESOLVED_FOR.total_seconds() // 60)
        return (
            f"no incident: a resolved or completed update closes an incident only within {minutes} minutes of "
            "its recovery, so the page does not show this one (it is kept in the timeline, `--list --all`)"
        )
    if window is None and maintenance:
        return (
            "the planned maintenance under way: the page shows it now, and its failover window opens when the "
            "alarm follows the inverted health check"
        )
    if window is None:
        return (
            "no incident open yet: the page shows it now and it joins the next incident if one opens within "
            f"{int(LEAD.total_seconds() // 60)} minutes"
        )
    kind = "planned maintenance" if window.planned else "incident"
    started = _utc(window.started_at)
    if window.ended_at is None:
        return f"the {kind} open since {started}"
    minutes = int(RESOLVED_FOR.total_seconds() // 60)
    return (
        f"the {kind} of {started} to {_utc(window.ended_at)}, over (a resolved or completed update up to {minutes} "
        "minutes after the end is its closing word)"
    )


def _utc(moment: datetime) -> str:
    return format_time(moment)[:19].replace("T", " ") + " UTC"

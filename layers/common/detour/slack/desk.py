"""The work behind a `/detour` request, once acknowledged: do what was asked, for the site it was
asked for, and say what changed. `status` without a site, among several, answers for every site.

Every answer names exactly what changed, or that nothing did and why. Operator text is escaped
before it is echoed back, so a message can neither mention nor link anyone in Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from detour.incidents import maintenance as planned_maintenance
from detour.incidents.notices import NoticeBoard, NoticeError, SiteNotice
from detour.incidents.operator_updates import IncidentContext, compose, joins, read_context
from detour.incidents.posting import PostedUpdate, UpdateTargets, post_update
from detour.incidents.sites import RegisteredSite
from detour.incidents.store import IncidentStore
from detour.incidents.transition import format_time
from detour.incidents.updates import INCIDENT_STAGES, MAINTENANCE_STAGES, Source, Update, UpdateLog
from detour.runtime.aws import dynamodb_client, lambda_client, route53_client
from detour.slack.commands import USAGE, Command, Verb
from detour.slack.message import escape, human_duration, truncate
from detour.slack.request import SlackAsk


@dataclass(frozen=True, slots=True)
class Desk:
    """One site's incident desk: its store, timeline and notice, the functions that follow an
    update, and how to change planned maintenance (its health check)."""

    site: RegisteredSite
    store: IncidentStore
    log: UpdateLog
    notices: NoticeBoard
    lambda_client: object
    targets: UpdateTargets
    maintenance: planned_maintenance.Maintenance

    @property
    def site_id(self) -> str:
        return self.site.site_id

    @property
    def domain(self) -> str:
        return self.site.domain

    def answer(self, ask: SlackAsk, command: Command, now: datetime) -> str:
        """Do it; return the answer for the person who asked (Slack mrkdwn)."""
        if command.verb is Verb.STATUS:
            return self._status(now)
        if command.verb is Verb.UPDATE:
            return self._update(ask, command, now)
        if command.verb is Verb.MAINTENANCE_ON:
            return self._maintenance_on(ask, command, now)
        if command.verb is Verb.MAINTENANCE_OFF:
            return self._maintenance_off(ask, now)
        return USAGE

    def _context(self, now: datetime) -> IncidentContext:
        return read_context(self.site_id, store=self.store, log=self.log, notices=self.notices, now=now, limit=1)

    def status_line(self, now: datetime) -> str:
        """The site in one line: on the page since when, planned maintenance, or its primary."""
        return self._head(self._context(now), now)

    def _status(self, now: datetime) -> str:
        context = self._context(now)
        head = self._head(context, now)
        latest = context.timeline.updates[0] if context.timeline.updates else None
        if latest is None:
            return head
        return (
            f"{head} Stage: *{latest.stage.label}*. Latest ({_utc(latest.posted_at)}): "
            f"“{escape(truncate(latest.message, 300))}”"
        )

    def _head(self, context: IncidentContext, now: datetime) -> str:
        site = f"*{escape(self.domain)}*"
        last = context.before
        if last is not None and last.ended_at is None:
            kind = "planned maintenance" if last.planned else "an outage"
            head = (
                f"{site} is on the maintenance page ({kind}) since {_utc(last.started_at)}, "
                f"{human_duration((now - last.started_at).total_seconds())} so far."
            )
        elif context.maintenance:
            head = (
                f"{site}: planned maintenance is on (the health check is inverted); Route 53 moves visitors to the "
                "maintenance page within a minute or two."
            )
        elif last is not None and last.ended_at is not None:
            head = f"{site} is served by its primary; the last incident ended {_utc(last.ended_at)}."
        else:
            head = f"{site} is served by its primary: no incident is open."
        return head

    def _update(self, ask: SlackAsk, command: Command, now: datetime) -> str:
        context = self._context(now)
        command = command.fitting(MAINTENANCE_STAGES if context.planned else INCIDENT_STAGES)
        stage = command.stage or context.default_stage
        update = compose(
            self.site_id, stage=stage, message=command.message, author=ask.user_id, source=Source.SLACK, now=now
        )
        posted = self._post(replace(update, update_id=_request_id(ask)))
        return self._posted_answer(posted, context)

    def _post(self, update: Update) -> PostedUpdate:
        return post_update(update, log=self.log, lambda_client=self.lambda_client, targets=self.targets)

    def _posted_answer(self, posted: PostedUpdate, context: IncidentContext) -> str:
        update = posted.update
        quoted = f"“{escape(truncate(update.message, 300))}”"
        if not posted.new:
            return f"Already posted at {_utc(update.posted_at)} ({update.stage.label}): {quoted}. Nothing changed."
        return (
            f"Posted to the {escape(self.domain)} maintenance page as *{update.stage.label}*: {quoted}. It belongs to "
            f"{self._joins(update, context)}. The page shows it within seconds, and the incident thread gets it "
            "too."
        )

    def _joins(self, update: Update, context: IncidentContext) -> str:
        window = context.window_for(update.stage)
        return joins(window, maintenance=context.maintenance, closing=update.stage.closing)

    def _maintenance_on(self, ask: SlackAsk, command: Command, now: datetime) -> str:
        try:
            until = planned_maintenance.parse_until(command.until, now)
            notice = SiteNotice(command.message, planned=True, until=until, since=now)
            posted = planned_maintenance.start(
                self.maintenance, notice, author=ask.user_id, source=Source.SLACK, now=now, update_id=_request_id(ask)
            )
        except (NoticeError, ValueError) as error:  # MaintenanceRefused among them: nothing changed
            return f"Nothing changed: {escape(str(error))}."
        back = f", expected back {_utc(until)}" if until else ""
        return (
            f"Planned maintenance of {escape(self.domain)} is on{back}: the health check is inverted, so Route 53 "
            f"sends visitors to the maintenance page within a minute or two, where they read "
            f"“{escape(truncate(posted.update.message, 300))}”. Slack stays quiet (planned). "
            "`/detour maintenance off` ends it."
        )

    def _maintenance_off(self, ask: SlackAsk, now: datetime) -> str:
        ended = planned_maintenance.end(
            self.maintenance, author=ask.user_id, source=Source.SLACK, now=now, update_id=_request_id(ask)
        )
        if not ended.was_on:
            return f"No planned maintenance of {escape(self.domain)} was on. Nothing changed."
        return (
            f"Planned maintenance of {escape(self.domain)} is off: the health check is no longer inverted, and "
            "Route 53 sends visitors back once the primary passes its checks (`/detour status` shows when)."
        )


def overview(desks: Sequence[Desk], now: datetime) -> str:
    """`/detour status` for every site: one line each."""
    lines = "\n".join(f"• {desk.status_line(now)}" for desk in desks)
    return (
        f"Detour protects {len(desks)} sites:\n{lines}\n`/detour <site> status` gives a site's stage and latest update."
    )


def _request_id(ask: SlackAsk) -> str:
    """Slack's trigger_id, the same in its own retries and in Lambda's retries of the work: one
    request, one update, however often it is done."""
    return f"slack:{ask.trigger_id}"


def _utc(moment: datetime) -> str:
    return format_time(moment)[:16].replace("T", " ") + " UTC"


def desk_for(table_name: str, site: RegisteredSite, targets: UpdateTargets) -> Desk:
    """The registered site's desk, on the function's clients."""
    dynamodb = dynamodb_client()
    return Desk(
        site=site,
        store=IncidentStore(table_name, dynamodb),
        log=UpdateLog(table_name, dynamodb),
        notices=NoticeBoard(table_name, dynamodb),
        lambda_client=lambda_client(),
        targets=targets,
        maintenance=planned_maintenance.Maintenance(
            site_id=site.site_id,
            failover_check_id=site.failover_check,  # what planned maintenance inverts
            endpoint_check_id=site.endpoint_check,
            table_name=table_name,
            targets=targets,
            dynamodb=dynamodb,
            route53=route53_client(),
            lambda_client=lambda_client(),
        ),
    )

"""Planned maintenance on and off: the same steps from `detour maintenance` and `/detour maintenance`.

`start` posts the site's notice (planned, since now, until the expected end), inverts the health
check so Route 53 fails over to the maintenance page, and posts an `in_progress` update with the
message to the incident timeline, through `post_update`, so the page and the Slack thread follow at
once. The notice goes first: the ALARM the inversion causes must find it, or the window would be
logged as an outage and people paged. If the inversion fails the notice is taken back (a stray
planned notice would mark the next real outage planned) and nothing was posted. The update goes
last, once the maintenance is really on, so the timeline never announces maintenance that did not
start; failover takes at least interval x threshold seconds, so visitors meet the update anyway.

`end` un-inverts the check, removes the notice, and posts a `completed` update, unless nothing was
on (a second `off` changes nothing).

Clients and the author are passed in: the CLI passes its session's, the Slack command its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from detour.incidents.notices import NoticeBoard, SiteNotice
from detour.incidents.operator_updates import compose, recent_duplicate
from detour.incidents.posting import PostedUpdate, UpdateTargets, post_update
from detour.incidents.store import IncidentStore
from detour.incidents.transition import format_time
from detour.incidents.updates import Source, Stage, Update, UpdateLog

RELATIVE = re.compile(r"^\+?(\d+(?:\.\d+)?)\s*([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
ENDED_MESSAGE = (
    "Planned maintenance is over: visitors are sent back to the site as soon as it passes its health checks."
)


class MaintenanceRefused(ValueError):
    """Not done, and nothing changed: the text says why, for the person who asked."""


class MaintenanceError(RuntimeError):
    """A step failed after others had changed something: the text says what is on, what is not,
    and what to do about it."""


@dataclass(frozen=True, slots=True)
class Maintenance:
    """Where the site's planned maintenance is done: its health check, its table, the functions
    that follow a posted update, and the clients to use (low-level boto3 clients)."""

    site_id: str
    table_name: str
    targets: UpdateTargets
    dynamodb: Any
    route53: Any
    lambda_client: Any
    # The check inverted: the one the failover records watch (the calculated check when the site
    # has signals, so that maintenance fails over whatever SignalsToFailOver says). Empty: the site id.
    failover_check_id: str = ""
    endpoint_check_id: str = ""  # also un-inverted at the end: signals may have come or gone meanwhile

    @property
    def check_id(self) -> str:
        return self.failover_check_id or self.site_id

    @property
    def check_ids(self) -> tuple[str, ...]:
        """The checks `end` puts right: the one inverted now, and the other one an earlier start may
        have inverted (before the site gained or lost its calculated check)."""
        return tuple(dict.fromkeys([self.check_id, self.endpoint_check_id or self.site_id]))

    @property
    def notices(self) -> NoticeBoard:
        return NoticeBoard(self.table_name, self.dynamodb)

    @property
    def log(self) -> UpdateLog:
        return UpdateLog(self.table_name, self.dynamodb)


@dataclass(frozen=True, slots=True)
class Ended:
    was_on: bool  # False: the check was not inverted and no planned notice was up
    posted: PostedUpdate | None  # the `completed` update, when something was on


def start(
    maintenance: Maintenance,
    notice: SiteNotice,
    *,
    author: str,
    source: Source,
    now: datetime,
    update_id: str | None = None,
) -> PostedUpdate:
    """Notice, inversion, `in_progress` update. `notice` must be planned, with `since` set.

    `update_id` names the request (Slack's trigger_id): a retry of a request that got as far as its
    update changes nothing. Refused (MaintenanceRefused, nothing changed) while an outage is open:
    inverting a failing check makes Route 53 see the primary as healthy and send visitors to it."""
    if not notice.planned or notice.since is None:
        raise ValueError("planned maintenance needs a planned notice with its start (since)")
    update = compose(
        maintenance.site_id, stage=Stage.IN_PROGRESS, message=notice.message, author=author, source=source, now=now
    )  # built first: a message the timeline refuses changes nothing
    if update_id is not None:
        done = maintenance.log.posted(maintenance.site_id, update_id)
        if done is not None:
            return PostedUpdate(update=done, new=False)
        update = replace(update, update_id=update_id)
    outage = IncidentStore(maintenance.table_name, maintenance.dynamodb).open_window(maintenance.site_id)
    if outage is not None and not outage.planned:
        raise MaintenanceRefused(
            f"an outage is open since {format_time(outage.started_at)}: inverting the health check now would make "
            "Route 53 see the failing primary as healthy and send visitors back to it. Post updates instead, and "
            "turn maintenance on once the site has recovered"
        )
    board = maintenance.notices
    board.post(maintenance.site_id, notice)
    try:
        maintenance.route53.update_health_check(HealthCheckId=maintenance.check_id, Inverted=True)
    except Exception:
        board.clear(maintenance.site_id)
        raise
    return _post(
        maintenance,
        update,
        state=f"planned maintenance is on (notice posted, health check {maintenance.check_id} inverted)",
    )


def end(
    maintenance: Maintenance,
    *,
    author: str,
    source: Source,
    now: datetime,
    message: str = ENDED_MESSAGE,
    update_id: str | None = None,
) -> Ended:
    """Un-invert, remove the notice, post `completed` (if anything was on). `update_id` as in `start`."""
    if update_id is not None:
        done = maintenance.log.posted(maintenance.site_id, update_id)
        if done is not None:
            return Ended(was_on=True, posted=PostedUpdate(update=done, new=False))
    board = maintenance.notices
    notice = board.current(maintenance.site_id, now)
    inverted = [
        check_id
        for check_id in maintenance.check_ids
        if maintenance.route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]
        .get("HealthCheckConfig", {})
        .get("Inverted")
    ]
    was_on = bool(inverted) or (notice is not None and notice.planned)
    update = compose(maintenance.site_id, stage=Stage.COMPLETED, message=message, author=author, source=source, now=now)
    if update_id is not None:
        update = replace(update, update_id=update_id)
    for check_id in dict.fromkeys([maintenance.check_id, *inverted]):
        maintenance.route53.update_health_check(HealthCheckId=check_id, Inverted=False)
    try:
        board.clear(maintenance.site_id)
    except Exception as error:
        raise MaintenanceError(
            f"the health check is no longer inverted, but the planned notice could not be removed ({error}): "
            "remove it now or the next real outage is logged as planned: `detour maintenance off` again, or "
            f"aws dynamodb delete-item --table-name {maintenance.table_name} --key "
            f'\'{{"pk": {{"S": "SITE#{maintenance.site_id}"}}, "sk": {{"S": "NOTICE"}}}}\''
        ) from error
    if not was_on:
        return Ended(was_on=False, posted=None)
    posted = _post(
        maintenance,
        update,
        state=(f"planned maintenance is off (health check {maintenance.check_id} no longer inverted, notice removed)"),
    )
    return Ended(was_on=True, posted=posted)


def _post(maintenance: Maintenance, update: Update, *, state: str) -> PostedUpdate:
    """Post the step's update; if that fails, say what is on, whether the update is stored, and how to
    finish (the same update again: it is stored once)."""
    log = maintenance.log
    try:
        update = recent_duplicate(update, log) or update  # the same step again within a minute: one update
        return post_update(update, log=log, lambda_client=maintenance.lambda_client, targets=maintenance.targets)
    except Exception as error:
        try:
            stored = log.get(update.site_id, update.key) is not None
        except Exception:
            stored = False
        what = (
            "its timeline update is stored, but the page and Slack could not be asked to show it"
            if stored
            else "its timeline update could not be stored"
        )
        raise MaintenanceError(
            f"{state}, but {what} ({type(error).__name__}: {error}); post it again with "
            f"`detour update --stage {update.stage.value} ...` or `/detour update {update.stage.value} ...`"
        ) from error


def parse_until(text: str | None, now: datetime) -> datetime | None:
    """When maintenance is expected to end: `2h`, `30m`, `1.5d`, or an ISO 8601 time with an offset.
    ValueError, in words fit for the operator, for anything else or a time already past."""
    if not text or not text.strip():
        return None
    relative = RELATIVE.match(text.strip())
    if relative:
        try:
            return now + timedelta(**{UNITS[relative.group(2)]: float(relative.group(1))})
        except OverflowError:
            raise ValueError(f"until {text!r} is further than a date can go") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"until {text!r} is not 2h, 30m, 1d or an ISO time such as 2026-11-21T04:30+00:00") from None
    if moment.tzinfo is None:
        raise ValueError(f"until {text!r} needs a UTC offset (e.g. 2026-11-21T04:30+00:00), or say 2h")
    if moment <= now:
        raise ValueError(f"until {text!r} is in the past")
    return moment.astimezone(UTC)

"""`detour update`: tell visitors and the team what is happening, from the terminal.

    detour update [--stage STAGE] "message"    post an update to the current incident's timeline
    detour update --list [--all]               the current incident's timeline (--all: every update)

The same rules as `/detour update [stage] <message>` in Slack (detour.incidents.operator_updates): the stage
defaults to the incident's current one; the message is 1..500 characters; the author is your AWS
caller identity; the same update posted again within a minute is harmless. The update is stored in
the incidents table, then refresh_page and notify_slack are invoked (asynchronously) with its key:
the page shows it and the Slack thread gets it as a reply within seconds.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from detour.incidents.items import IncidentStoreError
from detour.incidents.notices import NoticeBoard, NoticeError
from detour.incidents.operator_updates import (
    STAGE_NAMES,
    IncidentContext,
    choose_stage,
    compose,
    joins,
    read_context,
    recent_duplicate,
)
from detour.incidents.posting import PostedUpdate, UpdateTargets, post_update
from detour.incidents.store import IncidentStore
from detour.incidents.updates import (
    LEAD,
    MAX_MESSAGE_CHARS,
    RESOLVED_FOR,
    InvalidUpdate,
    Source,
    Stage,
    Update,
    UpdateLog,
    parse_stage,
)
from detour_cli.output import EXIT_OK, paragraphs, printable, run_reporting_errors, utc_text
from detour_cli.sites import SiteView, add_site_argument, resolve_site
from detour_cli.stack_outputs import DetourError, add_stack_arguments, session_for

LIST_LIMIT = 100  # --list: the current incident's newest updates
ALL_LIMIT = 1000  # --all
EPILOG = paragraphs(
    f"Stages: {STAGE_NAMES}. Without --stage: the incident's current stage (its newest update's) unless "
    "that closes it (resolved, completed: after a recovery an update without a stage is news), or "
    "in_progress during planned maintenance, or investigating.",
    "Which incident an update joins is decided by time: the open failover window; a window closed less "
    "than 10 minutes ago, for a resolved or completed update (a closing word); otherwise the next incident, "
    "if one opens within "
    f"{int(LEAD.total_seconds() // 60)} minutes (the page shows the update at once all the same).",
    "Needs dynamodb:PutItem/GetItem/Query on the incidents table, lambda:InvokeFunction on refresh_page "
    "and notify_slack, and the hub stack's outputs (NotifySlackFunctionName: deploy the current template.yaml).",
    "--site picks the site (its domain, health check id, site name or site stack); with one site, it is that one.",
    "Exit codes: 0 done (or already posted); 2 usage error (a message too long, an unknown stage), missing "
    "stack or output, or AWS error.",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="detour update",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    add_site_argument(parser)
    parser.add_argument(
        "message", nargs="?", help=f"what visitors and the team read (1..{MAX_MESSAGE_CHARS} characters)"
    )
    parser.add_argument("--stage", help=f"one of: {STAGE_NAMES} (default: the incident's current stage)")
    parser.add_argument("--list", action="store_true", help="print the current incident's timeline, newest first")
    parser.add_argument("--all", action="store_true", help="with --list: every update of the site")
    args = parser.parse_args(argv)
    if args.list or args.all:
        if args.message is not None or args.stage:
            parser.error("--list takes no message or --stage")
        return run_reporting_errors(parser.prog, lambda: _run_list(args))
    if args.message is None:
        parser.error('say what to post: detour update [--stage STAGE] "message" (or --list)')
    stage: Stage | None = None
    try:
        if args.stage:
            stage = parse_stage(args.stage)
        # The timeline's own rules, checked before anything is read or written.
        compose(
            "-",
            stage=stage or Stage.INVESTIGATING,
            message=args.message,
            author="-",
            source=Source.CLI,
            now=datetime.now(UTC),
        )
    except InvalidUpdate as error:
        parser.error(str(error))
    return run_reporting_errors(parser.prog, lambda: _run_post(args, stage))


class _Site:
    """The site's pieces an update needs (from the hub and the registry), and the clients to reach them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.session = session_for(args)
        self.view: SiteView = resolve_site(args, self.session)
        self.site_id = self.view.site_id
        self.table = self.view.table
        self.domain = self.view.domain
        self.dynamodb = self.session.client("dynamodb")
        self.log = UpdateLog(self.table, self.dynamodb)

    def targets(self) -> UpdateTargets:
        """The functions a posted update goes to next (read only when posting)."""
        return update_targets(self.view)

    def context(self, now: datetime, limit: int = 10) -> IncidentContext:
        return read_context(
            self.site_id,
            store=IncidentStore(self.table, self.dynamodb),
            log=self.log,
            notices=NoticeBoard(self.table, self.dynamodb),
            now=now,
            limit=limit,
        )


def _run_post(args: argparse.Namespace, stage: Stage | None) -> int:
    with _store_problems():
        site = _Site(args)
        targets = site.targets()
        author = caller_arn(site.session)
        now = _now()
        context = site.context(now)
        chosen = stage or choose_stage(None, context)
        update = compose(site.site_id, stage=chosen, message=args.message, author=author, source=Source.CLI, now=now)
        chosen_update = recent_duplicate(update, site.log) or update
        try:
            posted = post_update(
                chosen_update, log=site.log, lambda_client=site.session.client("lambda"), targets=targets
            )
        except ClientError as error:
            if site.log.get(site.site_id, chosen_update.key) is None:
                raise
            details = error.response.get("Error", {})
            raise DetourError(
                f"the update is stored (`detour update --list` shows it), but the page and Slack could not be "
                f"asked to show it: AWS error: {details.get('Code', '?')}: {details.get('Message', error)}. Once "
                "that is fixed, run the same command again within a minute (it is not stored twice)."
            ) from error
    print(_posted_text(site.domain, posted, context, defaulted=stage is None))
    return EXIT_OK


def _posted_text(domain: str, posted: PostedUpdate, context: IncidentContext, *, defaulted: bool) -> str:
    update = posted.update
    window = context.window_for(update.stage)
    if not posted.new:
        return paragraphs(
            f"Already posted at {utc_text(update.posted_at)} (stage {update.stage.value}, by {update.author}): "
            "nothing new was stored, and the page and the Slack thread show it once. They were asked to catch "
            "up again, in case the first post stopped half-way.",
        )
    why = (
        " (the incident's current stage; --stage changes it)"
        if defaulted and context.timeline.stage is not None
        else " (the default during planned maintenance; --stage changes it)"
        if defaulted and context.maintenance
        else " (the default; --stage changes it)"
        if defaulted
        else ""
    )
    return "\n".join(
        [
            *paragraphs(
                f"Posted to {domain}'s timeline at {utc_text(update.posted_at)}, stage {update.stage.value}{why}:"
            ).splitlines(),
            f"  {printable(update.message)}",
            *paragraphs(
                f"It belongs to {joins(window, maintenance=context.maintenance, closing=update.stage.closing)}."
            ).splitlines(),
            *paragraphs(
                "The maintenance page and status.json show it within seconds (refresh_page republishes now), "
                "and the incident's Slack thread gets it as a reply (notify_slack). "
                "`detour update --list` shows the timeline."
            ).splitlines(),
        ]
    )


def _run_list(args: argparse.Namespace) -> int:
    with _store_problems():
        site = _Site(args)
        now = _now()
        if args.all:
            timeline = site.log.timeline(site.site_id, limit=ALL_LIMIT)
            header = f"Every update of {site.domain}, newest first:"
        else:
            context = site.context(now, limit=LIST_LIMIT)
            timeline = context.timeline
            header = paragraphs(
                f"{site.domain}: {_current(context)}. Its timeline since {utc_text(context.start)}, newest first "
                "(--all: every update):"
            )
    print(header)
    print(timeline_table(timeline.updates))
    if timeline.earlier:
        print(f"... and {timeline.earlier} earlier (not shown)")
    return EXIT_OK


def _current(context: IncidentContext) -> str:
    """The incident --list shows, in words."""
    window = context.before
    recent = window is not None and (window.ended_at is None or context.now - window.ended_at <= RESOLVED_FOR)
    if window is not None and recent:
        kind = "planned maintenance" if window.planned else "incident"
        if window.ended_at is None:
            return f"{kind} open since {utc_text(window.started_at)}"
        return f"{kind} of {utc_text(window.started_at)} to {utc_text(window.ended_at)}, over"
    if context.maintenance:
        return "planned maintenance under way, its failover window not open yet"
    return "no incident open; updates posted now are news for the next one"


def timeline_table(updates: Sequence[Update]) -> str:
    if not updates:
        return "  (no updates)"
    rows = [("TIME (UTC)", "STAGE", "SOURCE", "AUTHOR", "MESSAGE")]
    rows += [
        (
            u.posted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            u.stage.value,
            u.source.value,
            printable(u.author),
            " ".join(printable(u.message).split()),
        )
        for u in updates
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    )


def update_targets(site: SiteView) -> UpdateTargets:
    """The hub's functions that show a posted update: refresh_page (the page) and notify_slack."""
    return UpdateTargets(
        refresh_page=site.hub.output("RefreshPageFunctionName"),
        notify_slack=site.hub.output("NotifySlackFunctionName"),
    )


def caller_arn(session: Any) -> str:
    """Who is posting: the AWS caller identity (a user, a role session)."""
    return str(session.client("sts").get_caller_identity()["Arn"])


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _store_problems() -> Iterator[None]:
    """The layer's own errors (the table or a notice failed, an update refused) as DetourError."""
    try:
        yield
    except (IncidentStoreError, NoticeError, InvalidUpdate) as error:
        raise DetourError(str(error)) from error

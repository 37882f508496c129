"""`detour maintenance on|off`: planned maintenance through the same path as an outage.

`on` posts the operator's notice for the site (marked planned, with the message the page shows),
inverts the health check the failover records watch (the endpoint check, or the calculated
failover check of a site with signals, so that it fails over whatever SignalsToFailOver says), so
Route 53 fails over to the maintenance page, and posts the message to the incident timeline as
`in_progress`. The alarm that follows reaches the functions as usual:
Slack announces planned maintenance (pinging no one), the page shows the message, and the failover
window is recorded as planned, which `detour report` leaves out of availability. `off` un-inverts
the check, removes the notice and posts `completed`. The steps are the layer's
(detour.incidents.maintenance), shared with `/detour maintenance` in Slack; the plan, the
confirmation and the warnings are this verb's."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from detour.incidents import maintenance as planned_maintenance
from detour.incidents.items import IncidentStoreError
from detour.incidents.notices import NoticeError, SiteNotice
from detour.incidents.updates import InvalidUpdate, Source
from detour_cli.output import EXIT_ERROR, EXIT_OK, paragraphs, run_reporting_errors, utc_text
from detour_cli.sites import SiteView, add_site_argument, resolve_site
from detour_cli.stack_outputs import DetourError, add_stack_arguments, session_for
from detour_cli.update import caller_arn, update_targets

ALARM_DELAY = timedelta(minutes=5)  # the one-minute metric, the alarm's period and SNS, with margin
HEALTHY_SHARE = 0.18  # Route 53: healthy while more than 18% of checkers say so
EPILOG = paragraphs(
    "Exit codes: 0 done; 2 usage error, refused confirmation, missing stack or output, or AWS error.",
    "--site picks the site (its domain, health check id, site name or site stack); with one site, it is that one.",
    "--until is what the page and Slack say; it does not end the maintenance: run `detour maintenance "
    "off` when you are done (after --until the notice is dropped and the page falls back to the "
    "default message while the check stays inverted).",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="detour maintenance",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    add_site_argument(parser)
    parser.add_argument("action", choices=["on", "off"])
    parser.add_argument("--message", help="what the maintenance page says (on; at most 500 characters)")
    parser.add_argument("--until", help="when you expect to be back: 2h, 30m, or an ISO time with an offset")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    notice: SiteNotice | None = None
    if args.action == "on":
        if not args.message:
            parser.error("maintenance on needs --message (what visitors will read)")
        try:
            notice = SiteNotice(
                args.message.strip(), planned=True, until=planned_maintenance.parse_until(args.until, now), since=now
            )
        except (NoticeError, ValueError) as error:
            parser.error(str(error))
    elif args.message or args.until:
        parser.error("maintenance off takes no --message or --until")
    return run_reporting_errors(parser.prog, lambda: _run(args, notice))


def _run(args: argparse.Namespace, notice: SiteNotice | None) -> int:
    session = session_for(args)
    site = resolve_site(args, session)
    # The check inverted is the one the failover records watch; the site's records are keyed by its id.
    check_id, table, domain = site.failover_check, site.table, site.domain
    targets = update_targets(site)  # read before anything changes: an older hub lacks NotifySlackFunctionName
    plan = _plan(site, domain, check_id, notice)
    print(plan)
    if not args.yes and not _confirmed():
        print("nothing changed", file=sys.stderr)
        return EXIT_ERROR
    route53 = session.client("route53")
    maintenance = planned_maintenance.Maintenance(
        site_id=site.site_id,
        table_name=table,
        targets=targets,
        dynamodb=session.client("dynamodb"),
        route53=route53,
        lambda_client=session.client("lambda"),
        failover_check_id=check_id,
        endpoint_check_id=site.endpoint_check,
    )
    with _layer_errors():
        author = caller_arn(session)
        if notice is not None:
            _minimum_until(site, notice)
            posted = planned_maintenance.start(
                maintenance, notice, author=author, source=Source.CLI, now=notice.since or datetime.now(UTC)
            )
            timeline = (
                f"timeline update posted ({posted.update.stage.value})"
                if posted.new
                else f"timeline update already posted at {utc_text(posted.update.posted_at)}"
            )
            print(
                f"maintenance on: notice posted, health check {check_id} inverted, {timeline}; the page and the "
                "Slack thread follow within seconds."
            )
            print("Run `detour status` to follow the failover; `detour maintenance off` ends it.")
            return EXIT_OK
        ended = planned_maintenance.end(maintenance, author=author, source=Source.CLI, now=datetime.now(UTC))
    if not ended.was_on:
        print(f"maintenance off: nothing was on (health check {check_id} not inverted, no planned notice).")
        return EXIT_OK
    print(
        f"maintenance off: health check {check_id} no longer inverted, notice removed, timeline update posted "
        "(completed); the page and the Slack thread follow within seconds."
    )
    _warn_if_still_failing(route53, site.endpoint_check)  # the probe's checkers (a calculated check has none)
    print("Route 53 fails back once the primary passes its checks; `detour status` shows when.")
    return EXIT_OK


@contextmanager
def _layer_errors() -> Iterator[None]:
    """The layer's errors, which say what state things are in, as one line on stderr (exit 2)."""
    try:
        yield
    except (
        planned_maintenance.MaintenanceError,
        planned_maintenance.MaintenanceRefused,
        NoticeError,
        IncidentStoreError,
        InvalidUpdate,
    ) as error:
        raise DetourError(str(error)) from error


def _minimum_until(site: SiteView, notice: SiteNotice) -> None:
    """An --until before the alarm can even fire would leave the window unplanned (and ping people)."""
    if notice.until is None or notice.since is None:
        return
    interval = int(site.stack.parameters.get("HealthCheckInterval", "10"))
    threshold = int(site.stack.parameters.get("HealthCheckFailureThreshold", "3"))
    needed = timedelta(seconds=interval * threshold) + ALARM_DELAY
    if notice.until - notice.since < needed:
        minutes = int(needed.total_seconds() // 60) + 1
        raise DetourError(
            f"--until is too soon: failover takes about {interval * threshold} s and the alarm up to "
            f"{int(ALARM_DELAY.total_seconds() // 60)} min more; give it at least {minutes} min"
        )


def _warn_if_still_failing(route53: Any, check_id: str) -> None:
    """Maintenance that broke the primary keeps the (planned) window open and Slack quiet: say so."""
    observations = route53.get_health_check_status(HealthCheckId=check_id).get("HealthCheckObservations", [])
    failing = [o for o in observations if not o.get("StatusReport", {}).get("Status", "").startswith("Success")]
    if observations and len(failing) / len(observations) >= 1 - HEALTHY_SHARE:
        print(
            f"WARNING: {len(failing)} of {len(observations)} checkers still see the primary failing. Visitors stay "
            "on the maintenance page, and until it recovers the window stays planned and Slack stays quiet: "
            "look at the primary now.",
            file=sys.stderr,
        )


def _plan(site: SiteView, domain: str, check_id: str, notice: SiteNotice | None) -> str:
    interval = site.stack.parameters.get("HealthCheckInterval", "10")
    threshold = site.stack.parameters.get("HealthCheckFailureThreshold", "3")
    if notice is None:
        return paragraphs(
            f"Planned maintenance of {domain} ends: health check {check_id} will no longer be inverted, "
            "the notice will be removed, and the timeline gets a completed update. DNS returns to the primary "
            "once it passes its checks."
        )
    until = f", back by {utc_text(notice.until)}" if notice.until else ""
    which = "Health check" if check_id == site.endpoint_check else "The failover check (calculated)"
    return paragraphs(
        f"Planned maintenance of {domain}{until}: the page will say {notice.message!r}.",
        f"{which} {check_id} will be inverted: Route 53 moves {domain} to the maintenance page in "
        f"about {int(interval) * int(threshold)} s (interval {interval} s x threshold {threshold}), then "
        "resolvers follow within the record's TTL (60 s). Slack announces it as planned maintenance, and "
        "the window is logged as planned (not counted against availability).",
        "The message is posted to the incident timeline (stage in_progress): the page and the Slack thread "
        "show it within seconds; `detour maintenance off` posts completed.",
    )


def _confirmed(stdin: Any = None) -> bool:
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        raise DetourError("not a terminal: pass --yes to confirm")
    return input("Go ahead? [y/N] ").strip().lower() in ("y", "yes")

"""The Slack messages of an incident, as Block Kit plus the top-level `text` Slack requires
(notifications and screen readers read it). Everything from the alarm is escaped for mrkdwn and
truncated within Block Kit's limits, so alarm text can neither mention, link nor break a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from detour.incidents.sites import RegisteredSite
from detour.incidents.transition import AlarmState, Transition
from detour.incidents.updates import Source, Update
from detour.incidents.windows import FailoverWindow

HEADER_MAX = 150  # Block Kit: header text
FIELD_MAX = 2000  # section field
TEXT_MAX = 3000  # section / context text
REASON_MAX = 1500  # keeps a reason readable, far inside the limits
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
MENTIONS = {"here": "<!here>", "channel": "<!channel>"}


@dataclass(frozen=True, slots=True)
class Site:
    """What the messages say about the protected site."""

    domain: str
    page_url: str
    mention: str = ""  # "", "here", "channel", or a user group id such as S0123ABCD

    @classmethod
    def registered(cls, site: RegisteredSite) -> Site:
        return cls(domain=site.domain, page_url=site.page_url, mention=site.slack_mention)

    @property
    def mention_markup(self) -> str:
        if not self.mention:
            return ""
        return MENTIONS.get(self.mention, f"<!subteam^{escape(self.mention)}>")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]


def failing_over(site: Site, transition: Transition, planned: bool = False, cause: str = "") -> SlackMessage:
    if planned:  # announced by the operator's notice: no one needs paging
        title, lead, emoji = f"Planned maintenance of {site.domain} has begun", "", ":construction:"
        body = "The health check is inverted for planned maintenance; visitors get the maintenance page."
    else:
        title, emoji = f"{site.domain} is failing over to the maintenance page", ":rotating_light:"
        lead = f"{site.mention_markup} " if site.mention_markup else ""
        body = "The primary is failing its Route 53 health check; visitors now get the maintenance page."
    return SlackMessage(
        text=f"{lead}{emoji} {escape(title)}",
        blocks=[
            _header(f"{emoji} {title}"),
            _section(f"{lead}{body}"),
            _state_change(transition),
            *([_cause(cause)] if cause and not planned else []),
            _reason(transition),
            _links(site, transition),
        ],
    )


def resolved(site: Site, window: FailoverWindow, transition: Transition, cause: str = "") -> SlackMessage:
    """The incident's root message once it is over (chat.update), or its one message in webhook mode."""
    assert window.ended_at is not None  # noqa: S101 - callers pass closed windows only
    took = human_duration(window.duration_s or 0)
    title = (
        f"Planned maintenance of {site.domain} ended after {took}"
        if window.planned
        else (f"{site.domain} recovered after {took}")
    )
    return SlackMessage(
        text=f":white_check_mark: {escape(title)}",
        blocks=[
            _header(f":white_check_mark: {title}"),
            _section("The primary passes its health check again; DNS sends visitors back to it."),
            _fields(
                ("Outage began", slack_date(window.started_at)),
                ("Recovered", slack_date(window.ended_at)),
                ("Duration", took),
            ),
            *([_cause(cause)] if cause and not window.planned else []),
            *([_reason(transition)] if transition.reason else []),
            _links(site, transition),
        ],
    )


def recovered_reply(site: Site, window: FailoverWindow) -> SlackMessage:
    """The thread's recovery line. The root message above it carries the times: a late transition
    can still correct those, and a reply cannot be corrected quietly."""
    text = (
        f":white_check_mark: Resolved: {escape(site.domain)} is back on its primary. "
        "Resolvers may take up to a minute (the record's TTL) to follow."
    )
    return SlackMessage(text=text, blocks=[_section(text)])


def still_failing(site: Site, transition: Transition) -> SlackMessage:
    since = slack_date(transition.changed_at)
    text = f":rotating_light: {escape(site.domain)} is still failing its health check ({since})."
    return SlackMessage(text=text, blocks=[_section(text), _reason(transition)])


def health_data_missing(site: Site, transition: Transition, during_incident: bool) -> SlackMessage:
    title = f"Health data for {site.domain} is missing"
    detail = (
        "Failover state is unknown: the page stays up until the health check reports OK."
        if during_incident
        else "Failover state is unknown. Check the health check and its alarm."
    )
    return SlackMessage(
        text=f":warning: {escape(title)}. {detail}",
        blocks=[
            _header(f":warning: {title}"),
            _section(detail),
            _state_change(transition),
            _reason(transition),
            _links(site, transition),
        ],
    )


def healthy_without_known_outage(site: Site, transition: Transition) -> SlackMessage:
    """An OK whose ALARM Detour has not seen (yet): say what is known, claim no duration."""
    title = f"{site.domain} passes its health check"
    return SlackMessage(
        text=f":white_check_mark: {escape(title)}",
        blocks=[
            _header(f":white_check_mark: {title}"),
            _state_change(transition),
            _links(site, transition),
        ],
    )


def update_posted(site: Site, update: Update) -> SlackMessage:
    """An operator's update, in its incident's thread: who posted it to the page, and its words,
    escaped (a message can neither mention, link nor break the thread)."""
    if update.source is Source.SLACK and SLACK_USER.match(update.author):
        who = f"<@{update.author}>"
    else:
        who = f"`{escape(truncate(update.author, 200))}` (detour update)"
    text = (
        f":memo: Posted to the {escape(site.domain)} maintenance page by {who} ({update.stage.label}): "
        f"{escape(truncate(update.message, REASON_MAX))}"
    )
    return SlackMessage(text=text, blocks=[_section(text)])


def message_for_state(
    site: Site, transition: Transition, window: FailoverWindow | None, cause: str = ""
) -> SlackMessage:
    """Webhook mode: one self-contained message per transition, true when it is read. `cause`: the
    recorded cause of `window` (or of this ALARM's outage)."""
    if transition.new_state is AlarmState.ALARM:
        if window is not None and window.ended_at is not None:  # delivered after its recovery
            return resolved(site, window, transition, cause)
        if window is not None and window.started_at != transition.changed_at:  # the same incident
            return still_failing(site, transition)
        return failing_over(site, transition, planned=window is not None and window.planned, cause=cause)
    if transition.new_state is AlarmState.OK:
        if window is not None and window.ended_at is not None:
            return resolved(site, window, transition, cause)
        return healthy_without_known_outage(site, transition)
    return health_data_missing(site, transition, during_incident=window is not None)


# -- formatting -------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn (and in `text`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_date(moment: datetime) -> str:
    """Rendered in each reader's time zone by Slack; the fallback is UTC."""
    fallback = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time_secs}}|{fallback}>"


def human_duration(seconds: float) -> str:
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_MAX), "emoji": True}}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(mrkdwn, TEXT_MAX)}}


def _fields(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": truncate(f"*{label}*\n{value}", FIELD_MAX)} for label, value in pairs],
    }


def _state_change(transition: Transition) -> dict[str, Any]:
    return _fields(
        ("State", f"{transition.old_state} → {transition.new_state}"), ("Since", slack_date(transition.changed_at))
    )


def _cause(cause: str) -> dict[str, Any]:
    return _section(f"*Why it failed over*\n{escape(truncate(cause, REASON_MAX))}")


def _reason(transition: Transition) -> dict[str, Any]:
    reason = escape(truncate(transition.reason or "(no reason given)", REASON_MAX))
    return _section(f"*Reason*\n{reason}")


def _links(site: Site, transition: Transition) -> dict[str, Any]:
    links = [
        f"<{transition.alarm_console_url}|CloudWatch alarm>",
        f"<{transition.health_check_console_url}|Route 53 health check>",
        f"<{site.page_url}|Maintenance page>",
    ]
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]}

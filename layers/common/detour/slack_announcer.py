"""What to say in Slack for a transition, and where: the incident's story as one thread (bot mode)
or as one message per transition (webhook mode)."""

from __future__ import annotations

from typing import Protocol

from detour import slack_message as say
from detour.slack_thread import SlackThread
from detour.slack_transport import Slack
from detour.transition import AlarmState, Transition
from detour.windows import FailoverWindow, window_for


class Threads(Protocol):
    """Where incidents' Slack threads are remembered (the incident store)."""

    def slack_thread(self, window: FailoverWindow) -> SlackThread | None: ...

    def attach_slack_thread(self, window: FailoverWindow, thread: SlackThread) -> bool: ...


def announce(
    transition: Transition, windows: list[FailoverWindow], slack: Slack, threads: Threads, site: say.Site
) -> str:
    """Post what this transition means; return a short description of what was done (for logs)."""
    window = window_for(transition, windows)
    if not slack.threads:
        slack.post(say.message_for_state(site, transition, window))
        return "posted a message"
    if transition.new_state is AlarmState.ALARM:
        return _alarm(transition, window, slack, threads, site)
    if transition.new_state is AlarmState.OK:
        return _ok(transition, window, slack, threads, site)
    return _missing_data(transition, window, slack, threads, site)


def _alarm(
    transition: Transition, window: FailoverWindow | None, slack: Slack, threads: Threads, site: say.Site
) -> str:
    if window is None:  # an ALARM always has a window once recorded; refuse to guess
        raise LookupError(f"no failover window holds the ALARM of {transition.key}")
    thread = threads.slack_thread(window)
    if thread is not None:
        if transition.changed_at == window.started_at:
            return "already announced"
        slack.post(say.still_failing(site, transition), thread)
        return "replied: still failing"
    # A late ALARM whose OK was recorded first is announced as the finished incident it is.
    if window.is_open:
        message = say.failing_over(site, transition, planned=window.planned)
    else:
        message = say.resolved(site, window, transition)
    posted = slack.post(message)
    if posted is not None:
        threads.attach_slack_thread(window, posted)
    return "opened the incident thread"


def _ok(transition: Transition, window: FailoverWindow | None, slack: Slack, threads: Threads, site: say.Site) -> str:
    if window is None:
        slack.post(say.healthy_without_known_outage(site, transition))
        return "posted: healthy, no known outage"
    thread = threads.slack_thread(window)
    if thread is None:  # the ALARM's announcement has not happened (yet): tell the whole story at once
        posted = slack.post(say.resolved(site, window, transition))
        if posted is not None:
            threads.attach_slack_thread(window, posted)
        return "posted the resolved incident"
    slack.update(thread, say.resolved(site, window, transition))
    slack.post(say.recovered_reply(site, window), thread)
    return "resolved the incident thread"


def _missing_data(
    transition: Transition, window: FailoverWindow | None, slack: Slack, threads: Threads, site: say.Site
) -> str:
    thread = threads.slack_thread(window) if window is not None else None
    slack.post(say.health_data_missing(site, transition, during_incident=window is not None), thread)
    return "warned in the incident thread" if thread else "warned: health data missing"

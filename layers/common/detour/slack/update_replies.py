"""An operator's update, replied once in its incident's Slack thread.

The incident is the one the update belongs to by time and stage (`incidents.updates.incident_window`). Its
thread gets one line per update, claimed like the alarm's own notes, so a retried or duplicated
event never posts it twice. An update with no incident yet (posted before the alarm) goes to the
channel as a message of its own: the thread does not exist yet. An update whose incident is not
announced yet fails, and is retried once the thread is there.
"""

from __future__ import annotations

import os

from detour.incidents.store import IncidentStore
from detour.incidents.updates import Update, incident_window
from detour.slack import message as say
from detour.slack.announcer import ThreadPoster
from detour.slack.thread import SlackThread
from detour.slack.threads import ThreadStore, new_claim
from detour.slack.transport import Slack, SlackDeliveryError


class ThreadNotReady(RuntimeError):
    """The update's incident has no thread yet: the event is retried until the alarm's announcement
    has made one."""


def reply_update(
    update: Update, *, slack: Slack, store: IncidentStore, threads: ThreadStore, site: say.Site, request_id: str
) -> str:
    """Reply the update in its incident's thread (or the channel); return what was done."""
    message = say.update_posted(site, update)
    if not slack.threads:
        return _post_to_webhook_once(update, message, slack=slack, threads=threads, request_id=request_id)
    poster = ThreadPoster(
        slack=slack, store=store, threads=threads, site=site, site_id=update.site_id, request_id=request_id
    )
    before = store.window_before(update.site_id, update.posted_at)
    window = incident_window(update.posted_at, before, closing=update.stage.closing)
    if window is None:
        posted = poster.post_note(update.key, message, None, update.posted_at)
        return "posted the update in the channel (no incident yet)" if posted else "already posted"
    record = threads.thread_of(window)
    if record is None or record.ts is None or record.channel is None:
        raise ThreadNotReady(
            f"the incident of {window.started_at:%Y-%m-%d %H:%M} UTC has no Slack thread yet; the update is "
            "replied there once the alarm's announcement has made it (this event is retried)"
        )
    posted = poster.post_note(update.key, message, SlackThread(record.channel, record.ts), record.origin)
    return "replied the update in the incident thread" if posted else "already replied"


def _post_to_webhook_once(
    update: Update, message: say.SlackMessage, *, slack: Slack, threads: ThreadStore, request_id: str
) -> str:
    """Claimed like a thread's line. A webhook cannot read the channel back, so a post whose answer
    was lost is posted again (at least once, rather than perhaps never)."""
    note = threads.claim_note(update.site_id, update.key, new_claim(request_id, "note", os.urandom(12).hex()))
    if note is None:
        return "already posted"
    try:
        slack.post(message)
    except SlackDeliveryError:
        threads.give_up_note(note, set())
        raise
    threads.finish_note(note, ts="")
    return "posted the update"

"""Post an incident update: store it, then have the page and the Slack thread follow at once.

The same path for `/detour update` in Slack and `detour update` in a terminal: the update is
stored (a second post of the same id is harmless and changes nothing), then refresh_page and
notify_slack are invoked asynchronously with its key. Each reads the update from the table, so the
page shows it within seconds without waiting for an alarm transition, and the thread gets one reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detour.incidents.updates import Update, UpdateLog
from detour.runtime import direct_events


@dataclass(frozen=True, slots=True)
class UpdateTargets:
    """Where a posted update goes next: the functions' names (or ARNs)."""

    refresh_page: str
    notify_slack: str


@dataclass(frozen=True, slots=True)
class PostedUpdate:
    update: Update  # as stored: the first post's, for a duplicate
    new: bool  # False: this id was posted before; the page and thread are asked to catch up anyway


def post_update(update: Update, *, log: UpdateLog, lambda_client: Any, targets: UpdateTargets) -> PostedUpdate:
    stored, new = log.post(update)
    # Asked again for a duplicate too: the first poster may have died between storing and asking.
    direct_events.invoke_async(lambda_client, targets.refresh_page, direct_events.refresh(stored.site_id, "update"))
    direct_events.invoke_async(
        lambda_client, targets.notify_slack, direct_events.update_posted(stored.site_id, stored.key)
    )
    return PostedUpdate(update=stored, new=new)

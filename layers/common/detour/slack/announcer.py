"""What Slack should show for the site's incidents, brought about whatever order events arrive in.

Bot mode keeps one thread per incident, reconciled against the stored windows the way the windows
are reconciled against the transitions: for each window an event touches, compare what its thread
shows with what the window says, and do the one missing step (announce it, resolve it, correct
the resolution), claiming the thread first and releasing it with the result, then read the
window again: it may have moved on meanwhile.

- An open window is announced as failing over (or planned maintenance); a closed one that nobody
  announced yet is announced once, already resolved (an OK that overtook its ALARM).
- A window is resolved only when it is settled: an ALARM that CloudWatch says came straight from
  OK, inside a window, means an OK between is still on its way, and resolving now would tell the
  wrong duration. The missing OK splits the window, and each part is told right.
- An OK with no window posts nothing: its ALARM is late, and will tell the whole story. So does
  missing data straight after an ALARM that has no window yet.
- A transition's own line (missing data, still failing) goes into its incident's thread once, and
  is left out while its incident cannot be told apart from an earlier one (a gap before it).
- If a post fails in a way that Slack may have acted on (a timeout, a 5xx, `internal_error`), the
  thread keeps the claim as uncertain until a later attempt succeeds; every later attempt looks the
  messages up by their claims (message metadata) before posting again. A crash between a post and
  its record is the same case, after the claim's lease (or at once for Lambda's retry of the same
  invocation). A root found that way tells the story as it was when posted: it is brought up to
  date like any other. So a thread never gets a second root, and an incident is never left
  unannounced.
- A step another invocation is doing is waited for, then checked: an event succeeds only once its
  incidents' threads are right, so the dead-letter queue keeps any event whose effect is missing.

Webhook mode cannot edit or thread: one self-contained message per transition.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from detour.incidents.store import IncidentStore
from detour.incidents.transition import AlarmState, Transition, format_time
from detour.incidents.windows import FailoverWindow
from detour.slack import message as say
from detour.slack.thread import SlackThread
from detour.slack.threads import Claim, ThreadRecord, ThreadStore, new_claim
from detour.slack.transport import Slack, SlackDeliveryError

EVENT_TYPE = "detour_incident"
Causes = Callable[[datetime], str]  # an outage's start -> why it failed over, "" if not recorded
MAX_STEPS = 8  # announce, resolve, a correction or two, and lost races
BUSY_WAITS_S = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # waiting out another invocation's step, then retried
BUSY = object()


class ThreadBusy(RuntimeError):
    """Another invocation kept the incident's thread claimed: retried, so the effect is confirmed."""


def announce(
    transition: Transition,
    window: FailoverWindow | None,
    *,
    slack: Slack,
    store: IncidentStore,
    threads: ThreadStore,
    site: say.Site,
    request_id: str,
    causes: Causes | None = None,
) -> str:
    """Bring Slack up to date for this transition, recorded and applied, in `window` (the one it
    belongs to, as recording it found); return what was done (for the logs). `causes` tells why
    the outage that began at a moment failed over ("" when not recorded)."""
    causes = causes or _no_causes
    if not slack.threads:
        cause = causes(window.started_at if window is not None else transition.changed_at)
        slack.post(say.message_for_state(site, transition, window, cause))
        return "posted a message"
    incidents = Incidents(
        slack=slack,
        store=store,
        threads=threads,
        site=site,
        transition=transition,
        request_id=request_id,
        causes=causes,
    )
    done = [incidents.reconcile(w) for w in _windows_touched_by(transition, window, store)]
    note = incidents.note(window)
    return "; ".join(step for step in [*done, note] if step) or "nothing to do"


def _windows_touched_by(
    transition: Transition, window: FailoverWindow | None, store: IncidentStore
) -> list[FailoverWindow]:
    """The transition's own window and the one after it (an OK may have split it off, an ALARM
    merged it in): every window a transition can change."""
    following = store.window_after(transition.site_id, transition.changed_at)
    return [w for w in (window, following) if w is not None]


class ThreadPoster:
    """Posting into an incident's threads at most once per claim: what an event's reconciliation
    and an operator's update reply share."""

    def __init__(
        self, *, slack: Slack, store: IncidentStore, threads: ThreadStore, site: say.Site, site_id: str, request_id: str
    ) -> None:
        self.slack, self.store, self.threads, self.site = slack, store, threads, site
        self.site_id, self.request_id = site_id, request_id
        self._posting = ""  # the claim under which a post is being sent, once it is

    def post_note(self, key: str, message: say.SlackMessage, thread: SlackThread | None, incident: datetime) -> bool:
        """Post `message` once for `key` (a transition's, an update's): claimed first, and looked up
        instead of posted again if an earlier attempt may have posted it. False if it already was."""
        note = self.threads.claim_note(self.site_id, key, self._claim("note"))
        if note is None:
            return False  # posted already, or being posted
        self._posting = ""
        try:
            found = self.slack.find(note.unsure, thread, incident) if note.unsure else None
            posted = found or self._post(message, thread, "note", incident, note.claim.token)
        except SlackDeliveryError as error:
            self.threads.give_up_note(note, self._unsure(note.abandoned, note.claim, error))
            raise
        self.threads.finish_note(note, ts=posted.ts if posted else "")
        return True

    def _unsure(self, abandoned: str, claim: Claim, error: SlackDeliveryError) -> set[str]:
        """A lookup or an edit that failed posted nothing; a post that failed may have."""
        mine = {claim.token} if error.maybe_delivered and self._posting == claim.token else set()
        return ({abandoned} | mine) - {""}

    # -- posting -------------------------------------------------------------------------------------

    def _adopt(self, record: ThreadRecord, thread: SlackThread | None) -> SlackThread | None:
        """The message an earlier attempt may have posted (it failed or died without knowing)."""
        return self.slack.find(record.unsure, thread, record.origin) if record.unsure else None

    def _posted(
        self, message: say.SlackMessage, thread: SlackThread | None, kind: str, record: ThreadRecord, claim: Claim
    ) -> SlackThread:
        posted = self._post(message, thread, kind, record.origin, claim.token)
        if posted is None:
            raise SlackDeliveryError("Slack accepted the post but returned no message")
        return posted

    def _post(
        self,
        message: say.SlackMessage,
        thread: SlackThread | None,
        kind: str,
        incident: datetime,
        claim: str = "",
    ) -> SlackThread | None:
        self._posting = claim  # from here on, a failure may hide a post that landed
        return self.slack.post(message, thread, metadata=self._metadata(kind, incident, claim))

    def _metadata(self, kind: str, incident: datetime, claim: str) -> dict[str, Any]:
        payload = {"site_id": self.site_id, "incident": format_time(incident), "kind": kind}
        return {"event_type": EVENT_TYPE, "event_payload": payload | ({"claim": claim} if claim else {})}

    def _claim(self, step: str) -> Claim:
        return new_claim(self.request_id, step, os.urandom(12).hex())  # uuid and secrets cost imports


class Incidents(ThreadPoster):
    """Reconciles incident threads for one event."""

    def __init__(
        self,
        *,
        slack: Slack,
        store: IncidentStore,
        threads: ThreadStore,
        site: say.Site,
        transition: Transition,
        request_id: str,
        causes: Causes | None = None,
    ) -> None:
        super().__init__(
            slack=slack, store=store, threads=threads, site=site, site_id=transition.site_id, request_id=request_id
        )
        self.transition = transition
        self.causes = causes or _no_causes

    def reconcile(self, window: FailoverWindow) -> str:
        """Steps until the window's thread shows what the window says. A step in another
        invocation's hands is waited for (it usually takes a second), not assumed done: success
        means the thread is right, and a holder that fails leaves the step to this event."""
        done: list[str] = []
        waits = iter(BUSY_WAITS_S)
        for _ in range(MAX_STEPS + len(BUSY_WAITS_S)):
            record = self.threads.thread_of(window)
            step = self._step(window, record)
            if step is None:
                return ", ".join(filter(None, done))
            if step is BUSY:
                pause = next(waits, None)
                if pause is None:
                    raise ThreadBusy(
                        f"the Slack thread of the incident from {format_time(window.started_at)} stayed claimed "
                        f"by another invocation for {sum(BUSY_WAITS_S):g} s; the event will be retried"
                    )
                time.sleep(pause)
            elif isinstance(step, tuple):
                outcome, record = step
                done.append(outcome)
            # Whatever happened, look again: the window may have moved on meanwhile.
            origin = record.origin if record else window.started_at
            current = self.store.window_before(window.site_id, origin)
            if current is None or not current.holds(origin):
                return ", ".join(filter(None, done))
            window = current
        raise ThreadBusy(f"the incident from {format_time(window.started_at)} kept changing; the event will be retried")

    def note(self, window: FailoverWindow | None) -> str:
        """The transition's own line in its incident's thread, if it adds anything: once."""
        t = self.transition
        if window is None:
            if t.new_state is not AlarmState.INSUFFICIENT_DATA or t.old_state is AlarmState.ALARM:
                return ""  # (missing data straight after an ALARM not recorded yet: that ALARM is late)
            missing = say.health_data_missing(self.site, t, during_incident=False)
            posted = self.post_note(t.key, missing, None, t.changed_at)
            return "warned: health data missing" if posted else ""
        if any(gap <= t.changed_at for gap in window.gaps):
            return ""  # an OK before it is missing: which incident it belongs to is not known yet
        record = self.threads.thread_of(window)
        if record is None or record.ts is None or record.channel is None:
            return ""  # the root is not posted yet: it will tell the incident as it is then
        thread = SlackThread(record.channel, record.ts)
        again = t.new_state is AlarmState.ALARM and t.old_state is AlarmState.INSUFFICIENT_DATA
        if t.new_state is AlarmState.INSUFFICIENT_DATA and window.is_open:
            message = say.health_data_missing(self.site, t, during_incident=True)
        elif again and window.is_open and t.changed_at != window.started_at:
            message = say.still_failing(self.site, t)
        else:
            return ""
        posted = self.post_note(t.key, message, thread, record.origin)
        return "replied in the incident thread" if posted else ""

    # -- one step ------------------------------------------------------------------------------------

    def _step(self, window: FailoverWindow, record: ThreadRecord | None) -> tuple[str, ThreadRecord | None] | object:
        """Do the next missing step for this window. None when Slack already shows the window (or
        must wait for a missing transition), BUSY when another invocation holds the thread."""
        telling_resolved = window.ended_at is not None
        if telling_resolved and not window.settled and (record is None or record.ts is None):
            return None  # wait for the missing OK: then each part is told right
        if record is None:
            claim = self._claim("announce")
            opened = self.threads.open_thread(window, claim)
            return ("", None) if opened is None else (self._claimed(window, opened, claim), opened)
        if not record.claimable_by(self.request_id, datetime.now(UTC)):
            return BUSY
        wanted = _resolution(window)
        if record.ts is not None and (wanted is None or wanted == record.resolved):
            return None
        claim = self._claim("announce" if record.ts is None else "resolve")
        taken = self.threads.claim(record, claim)
        if taken is None:
            return "", record  # lost the race for the claim: look again
        if record.claim is not None:  # taken over from an attempt that died: it may have posted
            taken = replace(taken, abandoned=record.claim.token)
        return self._claimed(window, taken, claim), taken

    def _claimed(self, window: FailoverWindow, record: ThreadRecord, claim: Claim) -> str:
        """Do the claimed step; if Slack fails, give the claim up, keeping every claim whose post
        may have landed, so the next attempt looks before it posts."""
        self._posting = ""
        try:
            if record.ts is None:
                return self._announce(window, record, claim)
            return self._resolve(window, record, claim, _resolution(window) or "")
        except SlackDeliveryError as error:
            self.threads.give_up(record, claim.token, self._unsure(record.abandoned, claim, error))
            raise

    def _announce(self, window: FailoverWindow, record: ThreadRecord, claim: Claim) -> str:
        resolution = _resolution(window)
        message = (
            say.resolved(self.site, window, self._closing(window), self.causes(window.started_at))
            if resolution is not None
            else say.failing_over(
                self.site, self._opening(window), planned=window.planned, cause=self.causes(window.started_at)
            )
        )
        told = resolution  # what the root says: resolved at once, or None for "failing over"
        adopted = self._adopt(record, None)
        root = adopted or self._posted(message, None, "root", record, claim)
        if adopted is not None:  # posted by an attempt that never learned it had: the story as it was then
            told = None
            if resolution is None:
                self.slack.update(root, message)
            # else: the resolve step, next, edits it and replies, as for any resolution
        self.threads.finish(
            record,
            claim.token,
            channel=root.channel,
            ts=root.ts,
            announced=told or "open",
            resolved=told or "",
            replied=told is not None,  # told resolved at once: no recovery reply to add
        )
        if adopted is not None:
            return "adopted the incident thread"
        return "posted the resolved incident" if told else "opened the incident thread"

    def _resolve(self, window: FailoverWindow, record: ThreadRecord, claim: Claim, resolution: str) -> str:
        root = SlackThread(str(record.channel), str(record.ts))  # _step resolves announced threads only
        self.slack.update(root, say.resolved(self.site, window, self._closing(window), self.causes(window.started_at)))
        if not record.replied and self._adopt(record, root) is None:
            self._posted(say.recovered_reply(self.site, window), root, "reply", record, claim)
        self.threads.finish(record, claim.token, resolved=resolution, replied=True)
        return "corrected the resolved incident" if record.resolved else "resolved the incident thread"

    def _opening(self, window: FailoverWindow) -> Transition:
        """The ALARM that opened the window, as far as the message needs it."""
        t = self.transition
        if t.new_state is AlarmState.ALARM and t.changed_at == window.started_at:
            return t
        return replace(
            t,
            new_state=AlarmState.ALARM,
            old_state=window.opened_from,
            reason=window.reason,
            changed_at=window.started_at,
            planned=window.planned,
        )

    def _closing(self, window: FailoverWindow) -> Transition:
        t = self.transition
        if t.new_state is AlarmState.OK and t.changed_at == window.ended_at:
            return t
        assert window.ended_at is not None  # noqa: S101 - only closed windows are resolved
        return replace(t, new_state=AlarmState.OK, old_state=AlarmState.ALARM, reason="", changed_at=window.ended_at)


def _no_causes(_started_at: datetime) -> str:
    return ""


def _resolution(window: FailoverWindow) -> str | None:
    """What a resolved root message tells, once the window is over and nothing is missing in it."""
    if window.ended_at is None or not window.settled:
        return None
    return f"{format_time(window.started_at)}|{format_time(window.ended_at)}"

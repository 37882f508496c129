"""IncidentStore against DynamoDB on moto's server, with the table template.yaml defines."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detour.incidents.store import IncidentStore, IncidentStoreError
from detour.incidents.transition import Transition
from detour.incidents.windows import derive_windows
from tests.support.aws import CountingClient, OneRequestAtATime, seed_history, store_for
from tests.support.events import REASONS
from tests.support.transitions import T0, chain
from tests.support.transitions import transition as make


def transition(state: str, minute: float, site: str) -> Transition:
    return make(state, minute, site, reason=f"{state} <at> {minute} & more")


@pytest.fixture
def store(incidents_table: Any) -> IncidentStore:
    return store_for(incidents_table)


@pytest.fixture
def site() -> str:
    return f"hc-{uuid.uuid4()}"


def test_a_full_incident_records_transitions_and_one_closed_window(store: IncidentStore, site: str) -> None:
    opened = store.record(transition("ALARM", 0, site))
    assert opened.window is not None
    assert opened.window.is_open
    assert store.open_window(site) == opened.window

    during = store.record(transition("INSUFFICIENT_DATA", 5, site))
    assert during.window == opened.window  # missing data neither ends nor starts anything

    closed = store.record(transition("OK", 17.25, site))
    assert closed.window is not None
    assert closed.window.duration_s == 17.25 * 60
    assert store.windows(site) == [closed.window]
    assert store.open_window(site) is None
    assert [t.new_state for t in store.transitions(site)] == ["ALARM", "INSUFFICIENT_DATA", "OK"]
    assert next(t.reason for t in store.transitions(site)) == "ALARM <at> 0 & more"


def test_window_items_carry_iso_times_and_a_numeric_duration(
    store: IncidentStore, incidents_table: Any, site: str
) -> None:
    store.record(transition("ALARM", 0, site))
    store.record(transition("OK", 2.5, site))
    (item,) = incidents_table.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
        ExpressionAttributeValues={":pk": f"SITE#{site}", ":w": "WINDOW#"},
    )["Items"]
    assert item["started_at"] == "2026-11-21T02:00:00.000Z"
    assert item["ended_at"] == "2026-11-21T02:02:30.000Z"
    assert item["duration_s"] == 150
    assert item["status"] == "closed"


def test_a_duplicate_is_recorded_once_and_reports_no_change(store: IncidentStore, site: str) -> None:
    first = store.record(transition("ALARM", 0, site))
    again = store.record(transition("ALARM", 0, site))
    assert (first.recorded, again.recorded) == (True, False)
    assert again.window == first.window
    assert len(store.transitions(site)) == 1
    assert store.version(site) == 1  # applied once


def test_ok_before_alarm_still_closes_the_window(store: IncidentStore, site: str) -> None:
    early_ok = store.record(transition("OK", 10, site))
    assert early_ok.window is None
    assert store.windows(site) == []
    late_alarm = store.record(transition("ALARM", 3, site))
    assert late_alarm.window is not None
    assert (late_alarm.window.duration_s, late_alarm.window.is_open) == (420, False)
    assert store.open_window(site) is None


def test_a_late_ok_splits_a_merged_window_and_drops_the_superseded_one(store: IncidentStore, site: str) -> None:
    for state, minute in [("ALARM", 0), ("ALARM", 10), ("OK", 20)]:
        store.record(transition(state, minute, site))
    assert [w.duration_s for w in store.windows(site)] == [1200]
    store.record(transition("OK", 5, site))  # the OK between the two alarms arrives last
    assert [(w.started_at, w.duration_s) for w in store.windows(site)] == [
        (T0 + timedelta(minutes=10), 600),
        (T0, 300),
    ]


def test_recent_windows_are_newest_first_and_limited(store: IncidentStore, site: str) -> None:
    for n in range(4):
        store.record(transition("ALARM", n * 10, site))
        store.record(transition("OK", n * 10 + 1, site))
    recent = store.windows(site, limit=2)
    assert [w.started_at for w in recent] == [T0 + timedelta(minutes=30), T0 + timedelta(minutes=20)]


sequences = st.lists(
    st.tuples(st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"]), st.integers(1, 4)),
    min_size=1,
    max_size=7,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=sequences, data=st.data())
def test_any_delivery_order_with_duplicates_stores_the_same_windows(
    store: IncidentStore, steps: list[tuple[str, int]], data: st.DataObject
) -> None:
    site = f"hc-{uuid.uuid4()}"  # a fresh site per example; the table is shared
    minutes = [sum(gap for _, gap in steps[: i + 1]) for i in range(len(steps))]
    seq = [transition(state, minute, site) for (state, _), minute in zip(steps, minutes, strict=True)]
    deliveries = data.draw(st.permutations(seq + data.draw(st.lists(st.sampled_from(seq), max_size=3))))

    for delivery in deliveries:
        store.record(delivery)

    assert sorted(store.windows(site), key=lambda w: w.started_at) == derive_windows(seq)


def test_two_deliveries_at_once_converge(incidents_table: Any, site: str) -> None:
    store = IncidentStore(incidents_table.name, OneRequestAtATime())
    barrier = threading.Barrier(2)

    results = []

    def deliver(t: Transition) -> None:
        barrier.wait()
        results.append(store.record(t))

    for round_ in range(5):
        base = round_ * 10
        threads = [
            threading.Thread(target=deliver, args=(transition(s, base + m, site),))
            for s, m in (("ALARM", 0), ("OK", 3))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    windows = sorted(store.windows(site), key=lambda w: w.started_at)
    assert [(w.duration_s, w.is_open) for w in windows] == [(180, False)] * 5
    assert len(results) == 10


class StallBeforeWriting:
    """A DynamoDB client that lets its caller read everything it needs, then holds its first write of
    the windows until released: the window in which another writer can overtake it."""

    def __init__(self) -> None:
        self._client = boto3.client("dynamodb")
        self.has_read = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **request: Any) -> Any:
        if not self.has_read.is_set():
            self.has_read.set()
            assert self.release.wait(10)
        return self._client.transact_write_items(**request)


def run_stalled(table: Any, delivery: Transition) -> tuple[threading.Thread, StallBeforeWriting]:
    """Start recording `delivery` in another writer that stops right before it writes the windows."""
    stalled = StallBeforeWriting()
    writer = threading.Thread(target=IncidentStore(table.name, stalled).record, args=(delivery,))
    writer.start()
    assert stalled.has_read.wait(10)
    return writer, stalled


def finish(writer: threading.Thread, stalled: StallBeforeWriting) -> None:
    stalled.release.set()
    writer.join(10)
    assert not writer.is_alive()


def spans(store: IncidentStore, site: str) -> list[tuple[float, float | None]]:
    def minute(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - T0).total_seconds() / 60

    return sorted((minute(w.started_at), minute(w.ended_at)) for w in store.windows(site))  # type: ignore[type-var]


def test_a_stale_derivation_never_overwrites_a_fresher_one(
    store: IncidentStore, incidents_table: Any, site: str
) -> None:
    writer, stalled = run_stalled(incidents_table, transition("ALARM", 0, site))  # sees only its ALARM
    store.record(transition("OK", 4, site))  # sees ALARM + OK and closes the window
    finish(writer, stalled)  # the stale writer must not reopen it
    assert spans(store, site) == [(0, 4)]


def test_a_stale_writer_cannot_delete_a_window_it_did_not_see_change(
    store: IncidentStore, incidents_table: Any, site: str
) -> None:
    store.record(transition("ALARM", 10, site))  # an open incident since t10
    writer, stalled = run_stalled(incidents_table, transition("ALARM", 0, site))  # sees A0, A10: one window
    store.record(transition("OK", 5, site))  # sees A0, O5, A10: two windows, t10 unchanged
    finish(writer, stalled)  # its derivation would drop t10
    assert spans(store, site) == [(0, 5), (10, None)]


def test_a_stale_first_write_cannot_leave_two_open_windows(
    store: IncidentStore, incidents_table: Any, site: str
) -> None:
    writer, stalled = run_stalled(incidents_table, transition("ALARM", 10, site))  # sees only A10
    store.record(transition("ALARM", 0, site))  # sees A0, A10: one window from t0
    finish(writer, stalled)  # would add a window at t10
    assert spans(store, site) == [(0, None)]


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_dynamodb_failures_raise_a_clear_error(incidents_table: Any, site: str, code: str) -> None:
    client = boto3.client("dynamodb")
    store = IncidentStore(incidents_table.name, client)
    with Stubber(client) as stub:
        stub.add_client_error(
            "put_item", service_error_code=code, service_message="Rate exceeded", http_status_code=400
        )
        with pytest.raises(IncidentStoreError) as raised:
            store.record(transition("ALARM", 0, site))
    message = str(raised.value)
    assert incidents_table.name in message
    assert f"recording transition 2026-11-21T02:00:00.000Z#detour-primary-health of site {site}" in message
    assert f"{code}: Rate exceeded" in message


def flapping(site: str, incidents: int, start: float = 0) -> list[Transition]:
    """`incidents` outages of a minute, every three minutes, as CloudWatch sends them (with its
    reasons' real length: 600 incidents make a partition of over 1 MB, more than one query reads)."""
    states: list[tuple[str, float]] = []
    for n in range(incidents):
        states += [("ALARM", start + 3 * n), ("OK", start + 3 * n + 1)]
    return [replace(t, reason=REASONS[t.new_state]) for t in chain(states, site)]


def test_an_event_reads_the_same_few_items_whatever_the_history(incidents_table: Any, site: str) -> None:
    """Per-event work is bounded: one more incident costs the same on 10 or 2,400 transitions."""
    costs = []
    for history in (5, 1200):
        here = f"{site}-{history}"
        seed_history(incidents_table.name, flapping(here, history))
        counting = CountingClient()
        store = IncidentStore(incidents_table.name, counting)
        for t in flapping(here, 1, start=3 * history):
            store.record(t)
        costs.append((counting.requests, counting.items_read))
    assert costs[0] == costs[1], costs
    assert costs[1][1] <= 12, costs  # two transitions' worth of neighbourhood


def test_late_transitions_land_in_a_long_history_exactly(incidents_table: Any, site: str) -> None:
    """Transitions missing from the middle of a long history (a redrive from a dead-letter queue)
    still land in the right windows, reading only their neighbourhood."""
    story = flapping(site, 600)
    late = [story[401], story[402], story[800], story[1199]]  # an OK, the next ALARM, one inside, the last OK
    seed_history(incidents_table.name, [t for t in story if t not in late])
    store = IncidentStore(incidents_table.name, boto3.client("dynamodb"))
    for t in reversed(late):
        store.record(t)
    assert store.windows(site)[::-1] == derive_windows(story)


def test_a_transition_recorded_but_not_applied_is_applied_by_its_next_delivery(incidents_table: Any, site: str) -> None:
    class DiesBeforeApplying(CountingClient):
        def transact_write_items(self, **request: Any) -> Any:
            raise RuntimeError("the Lambda runtime was killed")

    alarm, ok = chain([("ALARM", 0), ("OK", 4)], site)
    with pytest.raises(RuntimeError):
        IncidentStore(incidents_table.name, DiesBeforeApplying()).record(alarm)
    store = IncidentStore(incidents_table.name, boto3.client("dynamodb"))
    store.record(ok)  # the unapplied ALARM is invisible to the OK's neighbourhood
    assert store.windows(site) == []
    again = store.record(alarm)  # its retry: already recorded, now applied
    assert again.recorded is False
    assert spans(store, site) == [(0, 4)]


def test_transaction_conflicts_are_retried_inside_the_store(incidents_table: Any, site: str) -> None:
    """Real DynamoDB cancels a transaction that touches items another one is writing; moto never does."""

    class Conflicting(CountingClient):
        conflicts = 3

        def transact_write_items(self, **request: Any) -> Any:
            if self.conflicts:
                self.conflicts -= 1
                reasons = [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}]
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                        "CancellationReasons": reasons,
                    },
                    "TransactWriteItems",
                )
            return self._client.transact_write_items(**request)

    client = Conflicting()
    store = IncidentStore(incidents_table.name, client)
    for t in chain([("ALARM", 0), ("OK", 4)], site):
        store.record(t)
    assert client.conflicts == 0
    assert spans(store, site) == [(0, 4)]


def test_catching_up_after_refused_transactions_needs_no_big_transaction(incidents_table: Any, site: str) -> None:
    """Transactions refused for a whole flapping spell (the puts still succeeding), then redelivered:
    each catch-up is one small transaction, never a derivation of everything at once."""

    class Refusing(CountingClient):
        largest = 0
        refusing = True

        def transact_write_items(self, **request: Any) -> Any:
            if self.refusing:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Transact")
            self.largest = max(self.largest, len(request["TransactItems"]))
            return self._client.transact_write_items(**request)

    story = flapping(site, 40)
    client = Refusing()
    store = IncidentStore(incidents_table.name, client)
    for t in story:
        with pytest.raises(IncidentStoreError, match="ThrottlingException"):
            store.record(t)
    client.refusing = False
    for t in story:  # Lambda's retries, or a redrive
        store.record(t)
    assert store.windows(site)[::-1] == derive_windows(story)
    assert client.largest <= 5


def test_a_writer_that_applies_between_the_reads_is_a_lost_race_not_an_inconsistency(
    incidents_table: Any, site: str
) -> None:
    """The neighbourhood is read in separate requests. If another writer merges windows between
    them (here: ALARM 7 absorbs the window from 10 after ALARM 5 read it), the reads contradict
    each other: that is a race to retry, not stored windows to complain about."""
    other = IncidentStore(incidents_table.name, boto3.client("dynamodb"))

    class ApplyingBetweenReads(CountingClient):
        done = False

        def query(self, **request: Any) -> Any:
            low = request["ExpressionAttributeValues"][":low"]["S"]
            if low.startswith("EDGE#") and not self.done:
                self.done = True
                other.record(transition("ALARM", 7, site))
            return self._client.query(**request)

    for t in (transition("OK", 0, site), transition("ALARM", 10, site)):
        other.record(t)
    client = ApplyingBetweenReads()
    IncidentStore(incidents_table.name, client).record(transition("ALARM", 5, site))
    assert client.done
    assert spans(other, site) == [(5, None)]


def test_a_period_reads_its_windows_and_the_one_running_into_it_only(incidents_table: Any, site: str) -> None:
    """`detour report` over a period reads the windows that overlap it, not the site's history."""
    seed_history(incidents_table.name, flapping(site, 300))  # outages at minutes 0-1, 3-4, 6-7, ...
    counting = CountingClient()
    store = IncidentStore(incidents_table.name, counting)
    since, until = T0 + timedelta(minutes=300.5), T0 + timedelta(minutes=310)
    found = store.windows(site, since=since, until=until)
    assert [(w.started_at - T0).total_seconds() / 60 for w in found] == [309, 306, 303, 300]
    assert counting.items_read <= 6

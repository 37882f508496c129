"""AWS for the tests: moto's server on loopback (a real HTTP endpoint) and the template's table."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import ThreadedMotoServer

from detour.incidents.store import IncidentStore
from detour_cli.local.fake_slack import free_port
from tests.support.template import source


class _OneRequestAtATime:
    """moto's server applies a request in steps (a transaction item by item, an S3 If-Match check
    then the write), so concurrent requests can see or overwrite each other's halves; DynamoDB and
    S3 never allow that. Serving one request at a time gives the emulator the atomicity the real
    services have. Requests still interleave freely, which is where Detour's own races are."""

    _lock = threading.Lock()
    _serve = DomainDispatcherApplication.__call__

    @classmethod
    def install(cls) -> None:
        if getattr(DomainDispatcherApplication, "_one_at_a_time", False):
            return

        def serve(app: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Any:
            with cls._lock:
                return list(cls._serve(app, environ, start_response))

        DomainDispatcherApplication.__call__ = serve  # type: ignore[method-assign]
        DomainDispatcherApplication._one_at_a_time = True  # type: ignore[attr-defined]


def start_moto() -> tuple[ThreadedMotoServer, str]:
    _OneRequestAtATime.install()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def create_incidents_table(name: str | None = None) -> Any:
    """Create the incidents table from template.yaml's own IncidentsTable properties."""
    props = source()["Resources"]["IncidentsTable"]["Properties"]
    name = name or f"incidents-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props["BillingMode"],
        SSESpecification={"Enabled": props["SSESpecification"]["SSEEnabled"]},
    )
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
    return boto3.resource("dynamodb").Table(name)


def store_for(table: Any) -> IncidentStore:
    """An IncidentStore on the same table, through its own low-level client (as the functions use)."""
    return IncidentStore(table.name, boto3.client("dynamodb"))


class OneRequestAtATime:
    """A DynamoDB client whose requests are each applied atomically, as DynamoDB applies them.

    moto's server builds an updated item in steps, so a concurrent query can see half an item; real
    DynamoDB never shows that. Threads sharing this client still interleave freely *between*
    requests, which is where Detour's own races are.
    """

    _lock = threading.Lock()

    def __init__(self) -> None:
        self._client = boto3.client("dynamodb")

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def atomic(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return atomic


class CountingClient:
    """A DynamoDB client that counts its requests and the items they read (as DynamoDB bills them:
    a query's scanned items, a get's one item)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client or boto3.client("dynamodb")
        self.requests = 0
        self.items_read = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith("_") or name in ("get_paginator", "get_waiter"):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.requests += 1
            answer = attribute(*args, **kwargs)
            if name == "query":
                self.items_read += int(answer.get("ScannedCount", answer.get("Count", 0)))
            elif name == "get_item":
                self.items_read += 1 if answer.get("Item") else 0
            return answer

        return counted


def seed_history(table_name: str, transitions: list[Any]) -> None:
    """Write a long, already applied history in bulk (what years of recording would leave), with its
    windows and version, without recording each transition one by one."""
    from detour.incidents.items import encode, site_key  # noqa: PLC0415
    from detour.incidents.store import EDGE, TRANSITION, VERSION, _transition_item, _window_item  # noqa: PLC0415
    from detour.incidents.windows import derive_windows, ordered  # noqa: PLC0415

    client = boto3.client("dynamodb")
    items = [_transition_item(t) | {"applied": True} for t in transitions]
    items += [_transition_item(t) | {"sk": EDGE + t.key} for t in transitions if t.new_state != "INSUFFICIENT_DATA"]
    items += [_window_item(w) for w in derive_windows(transitions)]
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": encode(item)}} for item in items[start : start + 25]]
        while batch:
            answer = client.batch_write_item(RequestItems={table_name: batch})
            batch = answer.get("UnprocessedItems", {}).get(table_name, [])
    site = transitions[0].site_id
    latest = TRANSITION + ordered(transitions)[-1].key
    client.put_item(
        TableName=table_name, Item=site_key(site, VERSION) | encode({"version": len(transitions), "latest": latest})
    )

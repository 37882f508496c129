"""AWS for the tests: moto's server on loopback (a real HTTP endpoint) and the template's table."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from detour.incident_store import IncidentStore
from detour_cli.local.fake_slack import free_port
from tests.support.template import source


def start_moto() -> tuple[ThreadedMotoServer, str]:
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

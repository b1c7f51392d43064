"""The nodes table (schema step 11): each box's heartbeat, written at start and on a
timer, read back in name order."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from storehelpers import T0

from gateway import nodes
from gateway.storage import queries
from gateway.storage.db import Store
from tests.gateway.gwhelpers import eventually


async def test_a_heartbeat_creates_then_moves_the_nodes_row(store: Store) -> None:
    await store.run(queries.heartbeat, "pi-b", pid=7, started_at=T0, now=T0)
    await store.run(queries.heartbeat, "pi-a", pid=3, started_at=T0, now=T0)
    later = T0 + timedelta(seconds=10)
    await store.run(queries.heartbeat, "pi-b", pid=7, started_at=T0, now=later)
    listed = await store.run(queries.list_nodes)
    assert [(n.name, n.pid, n.heartbeat_at) for n in listed] == [
        ("pi-a", 3, T0),
        ("pi-b", 7, later),
    ]
    assert all(n.started_at == T0 for n in listed)


async def test_a_node_beats_at_start_and_then_on_its_timer(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nodes, "HEARTBEAT_INTERVAL_S", 0.01)
    times = iter(T0 + timedelta(seconds=s) for s in range(1000))

    def clock() -> datetime:
        return next(times)

    heartbeat = nodes.NodeHeartbeat(store, "pi-a", clock=clock)
    await heartbeat.start()
    try:
        (first,) = await store.run(queries.list_nodes)
        assert (first.name, first.pid, first.started_at) == ("pi-a", os.getpid(), T0)

        async def moved() -> bool:
            (node,) = await store.run(queries.list_nodes)
            return node.heartbeat_at > first.heartbeat_at

        await eventually(moved, what="a second heartbeat")
    finally:
        await heartbeat.stop()
